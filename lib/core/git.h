#pragma once
// What leakfix asks git: the top of the work tree, and the lines changed since a merge base.
// git runs as a child process; nothing in the work tree or the index is touched.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"

namespace leakfix {

// Runs `git -C dir args...` and returns its standard output; an error carries git's message.
Result<std::string> run_git(const std::string& dir, const std::vector<std::string>& args);

// The top folder of the work tree holding `dir`, or an error when it is not in one.
Result<std::string> git_toplevel(const std::string& dir);

// Lines (1-based, of the file as it is now) added or changed since the merge base of `ref` and
// HEAD, by absolute path. Files git does not track yet count as changed everywhere: their set
// holds 0.
using ChangedLines = std::map<std::string, std::set<int>>;
Result<ChangedLines> changed_since(const std::string& dir, const std::string& ref);

// The unified diff of `git diff -U0` as changed lines, paths joined to `top`.
ChangedLines parse_zero_context_diff(std::string_view diff, const std::string& top);

}  // namespace leakfix
