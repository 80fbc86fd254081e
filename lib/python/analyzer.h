#pragma once
// The analysis of one Python file: a pure function of its parse and what is known project-wide.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/result.h"
#include "core/rule.h"
#include "python/events.h"
#include "python/routes.h"
#include "python/targets.h"
#include "python/tree.h"

namespace leakfix::python {

// What the rules say plus what wrapper discovery found in the scanned files.
struct Knowledge {
  std::vector<Rule> rules;                      // discovered wrappers are appended to their rule's acquirers
  std::vector<std::string> release_methods;     // union over the rules
  std::vector<ReleaseSpec> release_functions;   // the rules' and discovered ones
  std::set<std::string> request_scoped;         // factories that cache on flask.g: not acquirers
  bool teardown_closes = false;                 // a teardown handler closes what is cached on g
  Exposure exposure;                            // union over the rules
  bool fix_edits = false;                       // findings carry the text of their fixes
  // Where rewrites' context managers come from; shared by the copies of this knowledge.
  std::shared_ptr<TargetResolver> targets = std::make_shared<TargetResolver>();

  static Knowledge from_rules(std::vector<Rule> rules);
  // Every name whose presence makes a file worth parsing.
  std::vector<std::string> trigger_names() const;
  // Names whose calls the analysis looks at: acquirers, releases, teardown registrations.
  std::vector<std::string> call_names() const;
};

struct DiscoveredAcquirer {
  std::string function;  // bare name of the wrapper
  std::string rule;
  std::string wraps;     // the acquirer it returns the result of
  bool with_closes = false;
  std::string context_manager;
  std::string module;       // where it is defined (see Acquirer::module)
  std::string owner_class;  // for methods
  bool fix = true;          // the wrapped acquirer's: false for a pool's getconn()
  bool may_return_none = false;
};

struct FileResult {
  std::vector<Finding> findings;
  std::vector<DiscoveredAcquirer> acquirers;
  std::vector<ReleaseSpec> releases;
  std::vector<std::string> request_scoped;
  bool teardown_closes = false;
  FileRoutes routes;  // set when the file has findings (without calls)
  // What the file's imports bind, local name to what it stands for: which later discoveries
  // the file can call (see may_call).
  std::vector<std::pair<std::string, std::string>> imports;
};

FileResult analyze_file(const ParsedFile& file, const Knowledge& knowledge);

}  // namespace leakfix::python
