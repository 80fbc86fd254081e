#include "python/locate.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "core/embedded.h"
#include "python/statements.h"

namespace leakfix::python {
namespace {

const TSQuery* calls_query() {
  static const TSQuery* query = [] {
    const auto& q = python_queries().front().text;
    uint32_t offset = 0;
    TSQueryError err = TSQueryErrorNone;
    TSQuery* compiled = ts_query_new(tree_sitter_python(), q.data(), static_cast<uint32_t>(q.size()), &offset, &err);
    if (!compiled) throw std::logic_error(fmt::format("calls.scm does not compile at offset {}", offset));
    return compiled;
  }();
  return query;
}

// The calls in every top-level statement where one of `names` is written, in source order. The
// query runs only on those statements: a file that mentions an acquirer once is not walked whole,
// and one that mentions it everywhere is walked once.
}  // namespace

std::vector<TSNode> query_calls(const ParsedFile& file, const std::vector<std::string>& names) {
  const auto text = file.source().text();
  std::vector<uint32_t> hits;
  for (const auto& [name, pos] : name_mentions(text, names)) hits.push_back(static_cast<uint32_t>(pos));
  std::sort(hits.begin(), hits.end());
  std::vector<TSNode> calls;
  if (hits.empty()) return calls;
  std::unique_ptr<TSQueryCursor, void (*)(TSQueryCursor*)> cursor(ts_query_cursor_new(), ts_query_cursor_delete);
  std::size_t next = 0;
  uint32_t skip_until = 0;  // a mention inside a callee already found ("connect" in "get_db_connection")
  for_each_named_child(file.root(), [&](TSNode stmt) {
    const auto end = ts_node_end_byte(stmt);
    while (next < hits.size() && hits[next] < ts_node_start_byte(stmt)) ++next;
    if (next == hits.size() || hits[next] >= end) return;
    // Within the statement, only around each mention: the query descends to those bytes alone.
    for (; next < hits.size() && hits[next] < end; ++next) {
      if (hits[next] < skip_until) continue;
      // The call around the mention: the name is its callee or the callee's last attribute, so
      // the call is at most three steps above the token.
      const auto path = file.path_to(stmt, hits[next]);
      TSNode n{};
      for (std::size_t up = 0; up < 4 && up < path.size(); ++up) {
        if (is(path[path.size() - 1 - up], "call")) {
          n = path[path.size() - 1 - up];
          break;
        }
      }
      if (ts_node_is_null(n)) continue;
      skip_until = ts_node_end_byte(field(n, "function"));
      ts_query_cursor_set_byte_range(cursor.get(), hits[next], hits[next] + 1);
      ts_query_cursor_exec(cursor.get(), calls_query(), n);
      TSQueryMatch m;
      while (ts_query_cursor_next_match(cursor.get(), &m)) {
        for (uint16_t i = 0; i < m.capture_count; ++i) {
          if (is(m.captures[i].node, "call")) calls.push_back(m.captures[i].node);
        }
      }
    }
  });
  // A call around several mentions is found once per mention.
  std::sort(calls.begin(), calls.end(), [](TSNode a, TSNode b) {
    return ts_node_start_byte(a) != ts_node_start_byte(b) ? ts_node_start_byte(a) < ts_node_start_byte(b)
                                                          : ts_node_end_byte(a) > ts_node_end_byte(b);
  });
  calls.erase(std::unique(calls.begin(), calls.end(), [](TSNode a, TSNode b) { return same(a, b); }), calls.end());
  return calls;
}

TSNode enclosing_scope(const ParsedFile& file, TSNode n) {
  for (TSNode p = file.parent(n); !ts_node_is_null(p); p = file.parent(p)) {
    if (is_scope(p)) return p;
  }
  return n;
}

bool inside_error(const ParsedFile& file, TSNode n) {
  for (TSNode p = n; !ts_node_is_null(p); p = file.parent(p)) {
    if (is(p, "ERROR") || ts_node_is_missing(p)) return true;
  }
  return false;
}

std::string function_name(const ParsedFile& file, TSNode scope) {
  std::vector<std::string> parts;
  for (TSNode p = scope; !ts_node_is_null(p); p = file.parent(p)) {
    if (is(p, "function_definition") || is(p, "class_definition")) parts.emplace_back(file.text(field(p, "name")));
    else if (is(p, "lambda")) parts.emplace_back("<lambda>");
  }
  if (parts.empty()) return "<module>";
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
  return out;
}

}  // namespace leakfix::python
