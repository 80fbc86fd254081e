#pragma once
// Runs the Python analysis over a set of files: prefilter, parallel parse and analysis, and
// wrapper discovery across files to a fixpoint.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/result.h"
#include "core/source_file.h"
#include "core/sources.h"
#include "core/rule.h"
#include "core/walk.h"
#include "python/analyzer.h"

namespace leakfix::python {

class SummaryCache;

struct ProjectOptions {
  int jobs = 0;  // 0: one per core
  // Called after each file is analysed, from worker threads but never two at a time.
  std::function<void(std::size_t done, std::size_t total, std::size_t findings)> progress;
  bool fix_edits = false;  // findings carry the edits of their fixes (fix, SARIF), not only `fixable`
  // Parse every statement of a file, not only those that name a call of interest. The findings
  // are the same either way; this is for checking that they are.
  bool whole_files = false;
  // Where what was learned of each file is kept between runs (see cache.h); null: nothing is
  // kept. Not used when findings carry their fixes' text (fix_edits).
  SummaryCache* cache = nullptr;
  // The files are a shard's share of a tree (--shard): each gets an entry in the cache, found by
  // its bytes by the run that joins the shards, and no index is written (see docs/scaling.md).
  bool shard = false;
};

struct ProjectResult {
  std::vector<Finding> findings;  // sorted
  std::vector<Error> errors;      // files that could not be read or parsed
  std::size_t files = 0;          // files considered
  std::size_t parsed = 0;         // files that passed the prefilter and were parsed
  std::size_t cached = 0;         // files whose analysis came from the cache unchanged
  std::size_t dependants = 0;     // of those, analysed again because what they call changed
  bool warm = false;              // the cache gave every file that did not change
  std::vector<std::string> discovered_acquirers;  // "name (wraps x)" for --verbose output
  std::vector<std::string> discovered_releases;
  Sources sources;                             // files with findings, for code frames (read again when asked)
  std::map<std::string, std::string> paths;   // display path -> path to open, for those files
  Knowledge knowledge;                        // the rules plus what discovery found, for fix
};

ProjectResult analyze_project(const std::vector<InputFile>& files, const std::vector<Rule>& rules,
                              const ProjectOptions& options);

}  // namespace leakfix::python
