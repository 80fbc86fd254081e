#include "python/tree.h"

#include <stdexcept>

namespace leakfix::python {

ParsedFile::ParsedFile(SourceFile source) : source_(std::move(source)) {
  // A parser per call: parsers are cheap and not thread-safe.
  std::unique_ptr<TSParser, void (*)(TSParser*)> parser(ts_parser_new(), ts_parser_delete);
  if (!ts_parser_set_language(parser.get(), tree_sitter_python())) {
    throw std::logic_error("tree-sitter-python's ABI does not match the tree-sitter runtime");
  }
  const auto t = source_.text();
  tree_.reset(ts_parser_parse_string(parser.get(), nullptr, t.data(), static_cast<uint32_t>(t.size())));
  if (!tree_) throw std::runtime_error("tree-sitter could not parse the file");
}

TSNode ParsedFile::parent(TSNode n) const {
  if (parents_.empty()) {
    // One walk over every node, named or not, with a cursor.
    TSTreeCursor cursor = ts_tree_cursor_new(root());
    std::vector<TSNode> path{root()};
    bool done = false;
    while (!done) {
      if (ts_tree_cursor_goto_first_child(&cursor)) {
        TSNode child = ts_tree_cursor_current_node(&cursor);
        parents_.emplace(child.id, path.back());
        path.push_back(child);
        continue;
      }
      while (true) {
        if (ts_tree_cursor_goto_next_sibling(&cursor)) {
          path.pop_back();
          TSNode sibling = ts_tree_cursor_current_node(&cursor);
          parents_.emplace(sibling.id, path.back());
          path.push_back(sibling);
          break;
        }
        if (!ts_tree_cursor_goto_parent(&cursor)) {
          done = true;
          break;
        }
        path.pop_back();
      }
    }
    ts_tree_cursor_delete(&cursor);
    parents_.emplace(nullptr, TSNode{});
  }
  auto it = parents_.find(n.id);
  return it == parents_.end() ? TSNode{} : it->second;
}

std::vector<TSNode> named_children(TSNode n) {
  std::vector<TSNode> out;
  if (ts_node_is_null(n)) return out;
  const uint32_t count = ts_node_named_child_count(n);
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) out.push_back(ts_node_named_child(n, i));
  return out;
}

std::vector<TSNode> code_children(TSNode n) {
  std::vector<TSNode> out;
  if (ts_node_is_null(n)) return out;
  const uint32_t count = ts_node_named_child_count(n);
  for (uint32_t i = 0; i < count; ++i) {
    TSNode c = ts_node_named_child(n, i);
    if (!is(c, "comment")) out.push_back(c);
  }
  return out;
}

TSNode unwrap(TSNode n) {
  while (!ts_node_is_null(n)) {
    const auto t = type(n);
    if (t == "parenthesized_expression" || t == "await") {
      TSNode inner{};
      for (auto c : code_children(n)) inner = c;
      if (ts_node_is_null(inner)) return n;
      n = inner;
    } else {
      return n;
    }
  }
  return n;
}

bool is_scope(TSNode n) {
  const auto t = type(n);
  return t == "function_definition" || t == "lambda" || t == "class_definition" || t == "module";
}

bool is_comprehension(TSNode n) {
  const auto t = type(n);
  return t == "list_comprehension" || t == "set_comprehension" || t == "dictionary_comprehension" ||
         t == "generator_expression";
}

}  // namespace leakfix::python
