#pragma once
// Finding the calls of interest in a file, and where a node sits: its scope, its function's name.
#include <string>
#include <vector>

#include "python/tree.h"

namespace leakfix::python {

// The calls around each mention of one of `names`, in source order: only the statements that
// mention one are indexed, and within them only the path down to each mention is looked at.
std::vector<TSNode> query_calls(const ParsedFile& file, const std::vector<std::string>& names);
// The innermost function, lambda, class body or module around a node.
TSNode enclosing_scope(const ParsedFile& file, TSNode n);
// Whether a node lies in a region tree-sitter could not parse.
bool inside_error(const ParsedFile& file, TSNode n);
// The dotted name of a scope inside its file: "Repo.load", "outer.<lambda>", "<module>".
std::string function_name(const ParsedFile& file, TSNode scope);

}  // namespace leakfix::python
