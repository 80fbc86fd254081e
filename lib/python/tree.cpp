#include "python/tree.h"

#include <algorithm>

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

std::vector<TSNode> ParsedFile::path_to(TSNode top, uint32_t byte) const {
  std::vector<TSNode> path{top};
  parents_.try_emplace(top.id, root());
  PooledCursor pc(top);
  while (ts_tree_cursor_goto_first_child_for_byte(pc.get(), byte) >= 0) {
    const TSNode child = ts_tree_cursor_current_node(pc.get());
    if (ts_node_start_byte(child) > byte) break;
    parents_.try_emplace(child.id, path.back());
    path.push_back(child);
  }
  return path;
}

TSNode ParsedFile::parent(TSNode n) const {
  if (ts_node_is_null(n)) return n;
  if (auto it = parents_.find(n.id); it != parents_.end()) return it->second;
  const TSNode r = root();
  if (same(n, r)) return TSNode{};
  if (tops_.empty()) {
    PooledCursor pc(r);
    if (ts_tree_cursor_goto_first_child(pc.get())) {
      do tops_.push_back(ts_tree_cursor_current_node(pc.get()));
      while (ts_tree_cursor_goto_next_sibling(pc.get()));
    }
  }
  const uint32_t start = ts_node_start_byte(n), end = ts_node_end_byte(n);
  // The last top-level node starting at or before n holds it, if any does.
  auto it = std::upper_bound(tops_.begin(), tops_.end(), start,
                             [](uint32_t b, TSNode t) { return b < ts_node_start_byte(t); });
  if (it != tops_.begin() && ts_node_end_byte(*std::prev(it)) >= end) {
    TSNode cur = *std::prev(it);
    if (same(cur, n)) return parents_[n.id] = r;
    // Walk down towards n, remembering each link passed.
    for (;;) {
      TSNode next{};
      PooledCursor pc(cur);
      if (ts_tree_cursor_goto_first_child(pc.get())) {
        do {
          const TSNode c = ts_tree_cursor_current_node(pc.get());
          if (ts_node_start_byte(c) > start) break;
          if (ts_node_end_byte(c) < end) continue;
          parents_.try_emplace(c.id, cur);
          if (same(c, n)) return cur;
          if (ts_node_is_null(next)) next = c;
        } while (ts_tree_cursor_goto_next_sibling(pc.get()));
      }
      if (ts_node_is_null(next)) break;
      cur = next;
    }
  }
  // Not on that path (zero-width nodes, or nodes sharing bounds): ask tree-sitter.
  return parents_[n.id] = ts_node_parent(n);
}

std::string_view type(TSNode n) {
  static const std::vector<std::string_view> names = [] {
    const TSLanguage* lang = tree_sitter_python();
    std::vector<std::string_view> out(ts_language_symbol_count(lang));
    for (TSSymbol i = 0; i < out.size(); ++i) out[i] = ts_language_symbol_name(lang, i);
    return out;
  }();
  if (ts_node_is_null(n)) return {};
  const TSSymbol sym = ts_node_symbol(n);
  return sym < names.size() ? names[sym] : std::string_view(ts_node_type(n));
}

TSFieldId field_id(std::string_view name) {
  static const std::vector<std::pair<std::string_view, TSFieldId>> fields = [] {
    const TSLanguage* lang = tree_sitter_python();
    std::vector<std::pair<std::string_view, TSFieldId>> out;
    for (TSFieldId i = 1; i <= ts_language_field_count(lang); ++i) out.emplace_back(ts_language_field_name_for_id(lang, i), i);
    std::sort(out.begin(), out.end());
    return out;
  }();
  auto it = std::lower_bound(fields.begin(), fields.end(), name, [](const auto& f, std::string_view n) { return f.first < n; });
  return it != fields.end() && it->first == name ? it->second : 0;
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
