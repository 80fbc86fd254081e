#pragma once
// Unified diffs that `git apply` and `patch -p1` accept.
#include <string>
#include <string_view>
#include <vector>

#include "core/edit.h"

namespace leakfix {

struct DiffOptions {
  int context = 3;
  bool color = false;
};

// "--- a/PATH\n+++ b/PATH\n@@ ... @@\n..." between two versions of one file; empty when equal.
// Lines keep their own endings (a CRLF file diffs as CRLF); a last line without a newline is
// marked "\ No newline at end of file".
std::string unified_diff(std::string_view path, std::string_view before, std::string_view after,
                         const DiffOptions& options = {});

// The same change as edits against `before`: one per run of changed lines, each replacing whole
// lines. Applying them to `before` gives `after`.
std::vector<Edit> line_edits(std::string_view before, std::string_view after);

}  // namespace leakfix
