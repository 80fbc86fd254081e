#pragma once
// The tree-sitter-python parse of one file and small helpers over its nodes.
#include <tree_sitter/api.h>

#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/source_file.h"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace leakfix::python {

class ParsedFile {
 public:
  explicit ParsedFile(SourceFile source);
  explicit ParsedFile(std::shared_ptr<const SourceFile> source);
  ParsedFile(ParsedFile&&) noexcept = default;
  ParsedFile& operator=(ParsedFile&&) noexcept = default;

  const SourceFile& source() const { return *source_; }
  TSNode root() const { return ts_tree_root_node(tree_.get()); }
  std::string_view text(TSNode n) const {
    return source_->text().substr(ts_node_start_byte(n), ts_node_end_byte(n) - ts_node_start_byte(n));
  }
  int line(TSNode n) const { return static_cast<int>(ts_node_start_point(n).row) + 1; }
  int end_line(TSNode n) const { return static_cast<int>(ts_node_end_point(n).row) + 1; }
  // The parent of a node. ts_node_parent walks down from the root through every statement before
  // the node, which is quadratic over a long module; this finds the top-level statement by binary
  // search, walks down from there, and remembers every link it passes.
  TSNode parent(TSNode n) const;
  // The nodes from `top` (a child of the root) down to the smallest one holding `byte`, each
  // remembered with its parent so that parent() on them is a lookup.
  std::vector<TSNode> path_to(TSNode top, uint32_t byte) const;

 private:
  struct TreeDeleter {
    void operator()(TSTree* t) const { ts_tree_delete(t); }
  };
  std::shared_ptr<const SourceFile> source_;
  std::unique_ptr<TSTree, TreeDeleter> tree_;
  mutable std::unordered_map<const void*, TSNode> parents_;
  mutable std::vector<TSNode> tops_;  // children of the root, in order
};

// The node's type name, from a table built once: ts_node_type returns a C string, and measuring
// it on every comparison showed up in profiles.
std::string_view type(TSNode n);
inline bool is(TSNode n, std::string_view t) { return type(n) == t; }
// The child in a field. Field ids are looked up once per name: ts_language_field_id_for_name
// compares the name with every field name of the grammar.
TSFieldId field_id(std::string_view name);
inline TSNode field(TSNode n, std::string_view name) {
  if (ts_node_is_null(n)) return n;
  return ts_node_child_by_field_id(n, field_id(name));
}
inline bool same(TSNode a, TSNode b) { return ts_node_eq(a, b); }
inline const void* node_id(TSNode n) { return n.id; }

// A tree cursor from a per-thread pool: ts_tree_cursor_new allocates, and traversals nest.
class PooledCursor {
 public:
  explicit PooledCursor(TSNode n);
  ~PooledCursor();
  PooledCursor(const PooledCursor&) = delete;
  PooledCursor& operator=(const PooledCursor&) = delete;
  TSTreeCursor* get() { return &cursor_; }

 private:
  TSTreeCursor cursor_;
};

// Calls f(child) for each named child, in order. Walks with a cursor: indexing children with
// ts_node_named_child is linear per call, so quadratic over a long module.
template <typename F>
void for_each_named_child(TSNode n, F&& f) {
  if (ts_node_is_null(n) || ts_node_child_count(n) == 0) return;
  PooledCursor pc(n);
  TSTreeCursor* c = pc.get();
  if (ts_tree_cursor_goto_first_child(c)) {
    do {
      TSNode child = ts_tree_cursor_current_node(c);
      if (ts_node_is_named(child)) f(child);
    } while (ts_tree_cursor_goto_next_sibling(c));
  }
}

// Children that are statements or expressions, skipping comments.
std::vector<TSNode> code_children(TSNode n);

// Unwraps parentheses and `await` around an expression.
TSNode unwrap(TSNode n);

// Visits n and its named descendants in pre-order without recursion (deep expressions are
// common in generated code). `visit` returns false to skip a node's children.
template <typename F>
void preorder(TSNode n, F&& visit) {
  if (ts_node_is_null(n)) return;
  PooledCursor pc(n);
  TSTreeCursor* c = pc.get();
  for (;;) {
    TSNode cur = ts_tree_cursor_current_node(c);
    const bool descend = !ts_node_is_named(cur) || visit(cur);
    if (descend && ts_tree_cursor_goto_first_child(c)) continue;
    bool moved = false;
    while (!moved) {
      if (ts_tree_cursor_goto_next_sibling(c)) {
        moved = true;
      } else if (!ts_tree_cursor_goto_parent(c)) {
        return;
      }
    }
  }
}

bool is_scope(TSNode n);       // function_definition, lambda, class_definition, module
bool is_comprehension(TSNode n);

}  // namespace leakfix::python
