#pragma once
// Applies the rewrites of one file, one finding at a time, each re-checked on the new text.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/fixing.h"
#include "core/source_file.h"
#include "core/frontend.h"
#include "python/analyzer.h"

namespace leakfix::python {

// The result and the review's decisions are the same for every front end (core/fixing.h).
using leakfix::Decide;
using leakfix::Decision;
using leakfix::FileFixResult;

// Called the first time a fix needs a context manager created in another place: nullopt to go
// ahead (the caller adds it to that file), or why not (declined in the review, cannot be added).
// Without it, such fixes are not made.
using Prepare = std::function<std::optional<std::string>(const Creation& creation)>;

// `want` filters the findings to consider (--only, --kind).
FileFixResult fix_file(const SourceFile& source, const Knowledge& knowledge,
                       const std::function<bool(const Finding&)>& want, const Decide& decide, const Prepare& prepare = {});

// Why the rewritten text `after` cannot be kept for `fixed` (found in `before_findings`, the
// findings of the text before), or nullopt: it must not leave a new finding, and must release
// what it fixed.
std::optional<std::string> verify_rewrite(const Finding& fixed, const std::vector<Finding>& before_findings,
                                          const std::vector<Finding>& after_findings);

// The ERROR and MISSING nodes of a parse: a rewrite must not parse worse than its input.
int error_count(const ParsedFile& file);

// Applies one fix (body and imports) to a text; nullopt with `why` set when the result does not
// parse as cleanly as the input.
std::optional<std::string> apply_fix(const SourceFile& source, const Fix& fix, std::string* why);

// The Python front end's fixing: each fix applied to the text left by the one before, parsed
// and analysed again before it is offered.
class PythonFrontend : public Frontend {
 public:
  PythonFrontend(const Knowledge& knowledge, Prepare prepare) : knowledge_(knowledge), prepare_(std::move(prepare)) {}
  std::optional<std::string> apply(const SourceFile& source, const Fix& fix) const override { return apply_fix(source, fix, nullptr); }
  FileFixResult fix_file(const SourceFile& source, const std::string& display, const std::vector<Finding>& findings,
                         const std::function<bool(const Finding&)>& want, const Decide& decide, bool reviewed) override;
  bool reports_rewritten_lines() const override { return true; }

 private:
  const Knowledge& knowledge_;
  Prepare prepare_;
};

}  // namespace leakfix::python
