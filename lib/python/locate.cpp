#include "python/locate.h"

#include <algorithm>

#include "python/statements.h"

namespace leakfix::python {
namespace {

// The call around a mention of a name at `byte` in the top-level statement `stmt`: the name is its
// callee, the callee's last attribute or an argument, so the call is at most three steps above
// the smallest node holding the byte (counting an anonymous token, such as a keyword, as a step).
TSNode call_around(const ParsedFile& file, TSNode stmt, uint32_t byte) {
  TreeIndex& ix = file.index();
  if (const int32_t d = ix.deepest_at(byte); d != TreeIndex::kNone && ts_node_child_count(ix[d].node) == 0) {
    // The statement is indexed now (the analysis walks it next); a name is a leaf of it.
    int32_t i = d;
    for (int up = 0; up < 4 && i != TreeIndex::kNone; ++up, i = ix[i].parent) {
      if (is(ix[i].node, "call")) return ix[i].node;
    }
    return TSNode{};
  }
  // The byte falls in a token the index does not keep, or outside the statements it covers.
  const auto path = file.path_to(stmt, byte);
  for (std::size_t up = 0; up < 4 && up < path.size(); ++up) {
    if (is(path[path.size() - 1 - up], "call")) return path[path.size() - 1 - up];
  }
  return TSNode{};
}

}  // namespace

std::vector<TSNode> query_calls(const ParsedFile& file, const std::vector<std::string>& names) {
  const auto text = file.source().text();
  std::vector<uint32_t> hits;
  for (const auto& [name, pos] : name_mentions(text, names)) hits.push_back(static_cast<uint32_t>(pos));
  std::sort(hits.begin(), hits.end());
  std::vector<TSNode> calls;
  if (hits.empty()) return calls;
  std::size_t next = 0;
  uint32_t skip_until = 0;  // a mention inside a callee already found ("connect" in "get_db_connection")
  for_each_named_child(file.root(), [&](TSNode stmt) {
    const auto end = ts_node_end_byte(stmt);
    while (next < hits.size() && hits[next] < ts_node_start_byte(stmt)) ++next;
    if (next == hits.size() || hits[next] >= end) return;
    // Within the statement, only around each mention.
    for (; next < hits.size() && hits[next] < end; ++next) {
      if (hits[next] < skip_until) continue;
      const TSNode n = call_around(file, stmt, hits[next]);
      if (ts_node_is_null(n)) continue;
      skip_until = ts_node_end_byte(field(n, "function"));
      calls.push_back(n);
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
