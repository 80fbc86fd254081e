#pragma once
// The tree-sitter-python parse of one file and small helpers over its nodes.
#include <tree_sitter/api.h>

#include <cstring>
#include <memory>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "core/source_file.h"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace leakfix::python {

class ParsedFile {
 public:
  explicit ParsedFile(SourceFile source);
  ParsedFile(ParsedFile&&) noexcept = default;
  ParsedFile& operator=(ParsedFile&&) noexcept = default;

  const SourceFile& source() const { return source_; }
  TSNode root() const { return ts_tree_root_node(tree_.get()); }
  std::string_view text(TSNode n) const {
    return source_.text().substr(ts_node_start_byte(n), ts_node_end_byte(n) - ts_node_start_byte(n));
  }
  int line(TSNode n) const { return static_cast<int>(ts_node_start_point(n).row) + 1; }
  // The parent of a node. ts_node_parent walks down from the root on every call, which is
  // quadratic on long files; this indexes the tree once, on first use.
  TSNode parent(TSNode n) const;
  int end_line(TSNode n) const { return static_cast<int>(ts_node_end_point(n).row) + 1; }

 private:
  struct TreeDeleter {
    void operator()(TSTree* t) const { ts_tree_delete(t); }
  };
  SourceFile source_;
  std::unique_ptr<TSTree, TreeDeleter> tree_;
  mutable std::unordered_map<const void*, TSNode> parents_;
};

inline std::string_view type(TSNode n) { return ts_node_is_null(n) ? std::string_view() : ts_node_type(n); }
inline bool is(TSNode n, std::string_view t) { return type(n) == t; }
inline TSNode field(TSNode n, std::string_view name) {
  return ts_node_child_by_field_name(n, name.data(), static_cast<uint32_t>(name.size()));
}
inline bool same(TSNode a, TSNode b) { return ts_node_eq(a, b); }
inline const void* node_id(TSNode n) { return n.id; }

std::vector<TSNode> named_children(TSNode n);
// Children that are statements or expressions, skipping comments.
std::vector<TSNode> code_children(TSNode n);

// Unwraps parentheses, `await` and `*x` around an expression.
TSNode unwrap(TSNode n);

// Visits n and its descendants in pre-order without recursion (deep expressions are common in
// generated code). `visit` returns false to skip a node's children.
template <typename F>
void preorder(TSNode n, F&& visit) {
  std::vector<TSNode> stack{n};
  while (!stack.empty()) {
    TSNode cur = stack.back();
    stack.pop_back();
    if (ts_node_is_null(cur) || !visit(cur)) continue;
    const uint32_t count = ts_node_named_child_count(cur);
    for (uint32_t i = count; i-- > 0;) stack.push_back(ts_node_named_child(cur, i));
  }
}

bool is_scope(TSNode n);       // function_definition, lambda, class_definition, module
bool is_comprehension(TSNode n);

}  // namespace leakfix::python
