#pragma once
// Fixing C++ files: the rewrites the C++ pass planned, applied from the bottom of a file up (so
// that each one's offsets still hold), each checked with the translation unit's own compile
// command before it is offered or written. Clang is reached through the module's Api (loaded at
// run time); this library does not link it.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/fixing.h"
#include "core/source_file.h"
#include "cxx/analyze.h"
#include "core/frontend.h"

namespace leakfix {

struct CxxFixer {
  const cxx::Api& api;
  cxx::Options options;  // the compile commands: -p, or the flags after --
};

// The fixes of one file that `want` selects. Without a review (`reviewed` false) they are applied
// together and compiled once; when that fails, or in a review, one at a time, each compiled.
// A fix whose lines overlap one already applied is left for the next run.
FileFixResult fix_cxx_file(const CxxFixer& fixer, const SourceFile& source, const std::string& display,
                           const std::vector<Finding>& findings, const std::function<bool(const Finding&)>& want,
                           const Decide& decide, bool reviewed);

// The C++ front end's fixing: fixes from one analysis of the file as read, bottom-up, compiled.
class CxxFrontend : public Frontend {
 public:
  explicit CxxFrontend(CxxFixer fixer) : fixer_(std::move(fixer)) {}
  std::optional<std::string> apply(const SourceFile& source, const Fix& fix) const override;
  FileFixResult fix_file(const SourceFile& source, const std::string& display, const std::vector<Finding>& findings,
                         const std::function<bool(const Finding&)>& want, const Decide& decide, bool reviewed) override {
    return fix_cxx_file(fixer_, source, display, findings, want, decide, reviewed);
  }
  bool reports_rewritten_lines() const override { return false; }

 private:
  CxxFixer fixer_;
};

// A scan's C++ findings, fixable only when their rewrites compile: per file, all at once, then
// one at a time for a file whose fixes do not compile together. A rewrite that does not compile
// loses its fix, and its reason names Clang's first error.
void verify_cxx_fixes(const CxxFixer& fixer, std::vector<Finding>& findings, const std::map<std::string, SourceFile>& sources,
                      int jobs);

}  // namespace leakfix
