#include "python/tree.h"

#include <stdexcept>

namespace leakfix::python {

ParsedFile::ParsedFile(SourceFile source) : ParsedFile(std::make_shared<const SourceFile>(std::move(source))) {}

ParsedFile::ParsedFile(std::shared_ptr<const SourceFile> source) : source_(std::move(source)) {
  // A parser per call: parsers are cheap and not thread-safe.
  std::unique_ptr<TSParser, void (*)(TSParser*)> parser(ts_parser_new(), ts_parser_delete);
  if (!ts_parser_set_language(parser.get(), tree_sitter_python())) {
    throw std::logic_error("tree-sitter-python's ABI does not match the tree-sitter runtime");
  }
  const auto t = source_->text();
  tree_.reset(ts_parser_parse_string(parser.get(), nullptr, t.data(), static_cast<uint32_t>(t.size())));
  if (!tree_) throw std::runtime_error("tree-sitter could not parse the file");
}

namespace {

struct CursorPool {
  std::vector<TSTreeCursor> free;
  ~CursorPool() {
    for (auto& c : free) ts_tree_cursor_delete(&c);
  }
};
thread_local CursorPool cursor_pool;

}  // namespace

PooledCursor::PooledCursor(TSNode n) {
  if (cursor_pool.free.empty()) {
    cursor_ = ts_tree_cursor_new(n);
  } else {
    cursor_ = cursor_pool.free.back();
    cursor_pool.free.pop_back();
    ts_tree_cursor_reset(&cursor_, n);
  }
}

PooledCursor::~PooledCursor() { cursor_pool.free.push_back(cursor_); }

void ParsedFile::index_parents(TSNode top) const {
  parents_.try_emplace(top.id, root());
  PooledCursor pc(top);
  TSTreeCursor* c = pc.get();
  std::vector<TSNode> path{top};
  for (;;) {
    if (ts_tree_cursor_goto_first_child(c)) {
      const TSNode child = ts_tree_cursor_current_node(c);
      parents_.try_emplace(child.id, path.back());
      path.push_back(child);
      continue;
    }
    for (;;) {
      if (path.size() > 1 && ts_tree_cursor_goto_next_sibling(c)) {
        path.pop_back();
        const TSNode sibling = ts_tree_cursor_current_node(c);
        parents_.try_emplace(sibling.id, path.back());
        path.push_back(sibling);
        break;
      }
      if (path.size() <= 1 || !ts_tree_cursor_goto_parent(c)) return;
      path.pop_back();
    }
  }
}

TSNode ParsedFile::parent(TSNode n) const {
  if (ts_node_is_null(n)) return n;
  auto [it, inserted] = parents_.try_emplace(n.id, TSNode{});
  if (inserted) it->second = ts_node_parent(n);
  return it->second;
}

std::vector<TSNode> named_children(TSNode n) {
  std::vector<TSNode> out;
  for_each_named_child(n, [&](TSNode c) { out.push_back(c); });
  return out;
}

std::vector<TSNode> code_children(TSNode n) {
  std::vector<TSNode> out;
  for_each_named_child(n, [&](TSNode c) {
    if (!is(c, "comment")) out.push_back(c);
  });
  return out;
}

TSNode unwrap(TSNode n) {
  while (!ts_node_is_null(n)) {
    const auto t = type(n);
    if (t != "parenthesized_expression" && t != "await") return n;
    TSNode inner{};
    for_each_named_child(n, [&](TSNode c) {
      if (!is(c, "comment")) inner = c;
    });
    if (ts_node_is_null(inner)) return n;
    n = inner;
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
