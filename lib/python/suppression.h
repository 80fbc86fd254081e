#pragma once
// `# leakfix: ignore` and `# leakfix: ignore[rule-or-kind, ...]` comments.
#include <string>

#include "core/finding.h"
#include "python/tree.h"

namespace leakfix::python {

// Whether the statement holding `n` carries a suppression for `rule` or `kind`: on any of its
// lines (up to its body for compound statements, so also after a wrapped call's closing
// parenthesis) or on a comment-only line just above it.
bool suppressed(const ParsedFile& file, TSNode n, const std::string& rule, Kind kind);

}  // namespace leakfix::python
