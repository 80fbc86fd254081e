#pragma once
// What fixing one file gives, whichever front end rewrote it, and how a review decides.
#include <functional>
#include <string>
#include <vector>

#include "core/finding.h"

namespace leakfix {

enum class Decision { Apply, Skip, ApplyRestOfFile, Quit };

struct FileFixResult {
  std::string before;  // the file's text as read (UTF-8, with its BOM if any)
  std::string after;   // the rewritten text
  std::vector<Finding> applied;  // as found before each was applied
  std::vector<Finding> skipped;  // fixable, declined
  std::vector<Finding> failed;   // fixable, but the rewrite failed verification (reason says so)
  std::vector<Finding> left;     // what a scan of the result still reports
  bool quit = false;             // the reviewer chose to stop
};

// `decide` sees each candidate with the text before and after its rewrite, and may edit `after`
// (the review's [e]dit); it is not called again for a file once the reviewer said "all in this
// file".
using Decide = std::function<Decision(const Finding& finding, const std::string& before, std::string& after)>;

}  // namespace leakfix
