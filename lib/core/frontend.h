#pragma once
// A language's front end, as the fix driver and every output of a fix see it. The driver asks
// the front end of each file for that file's fixes; it never asks which language a file is.
//
//   analyse  each front end's pass (python::analyze_project, the C++ module's analyze), which
//            gives Findings whose Fix is planned: edits, and the imports or #includes it needs;
//   apply    one fix to the file as read: the text a diff, JSON or SARIF shows;
//   verify   inside fix_file, before a fix is offered: Python analyses the rewritten text again
//            (no new finding, the fixed one gone), C++ compiles it with the file's command;
//   fix_file the fixes of one file, applied and verified one after another (or all at once),
//            each offered to the review.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/fixing.h"
#include "core/source_file.h"

namespace leakfix {

class Frontend {
 public:
  virtual ~Frontend() = default;

  // The file's bytes after one fix (edits and what it needs added); nullopt when it cannot be
  // applied cleanly.
  virtual std::optional<std::string> apply(const SourceFile& source, const Fix& fix) const = 0;

  // The fixes among `findings` of the file `display` that `want` selects, verified and decided.
  virtual FileFixResult fix_file(const SourceFile& source, const std::string& display, const std::vector<Finding>& findings,
                                 const std::function<bool(const Finding&)>& want, const Decide& decide, bool reviewed) = 0;

  // Whether what fix_file leaves (failed, left) carries the lines of the rewritten text, which
  // the driver maps back to the file on disk, or already those of the file as read.
  virtual bool reports_rewritten_lines() const = 0;
};

}  // namespace leakfix
