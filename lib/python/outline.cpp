#include "python/outline.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace leakfix::python {

namespace {

// A module's or a class body's declarations sit in its statements: expressions are not entered,
// nor are functions and classes (their names are bound, but nothing in them is the scope's).
void outline_statements(const ParsedFile& file, TSNode body, ScopeOutline& out) {
  preorder(body, [&](TSNode n) {
    if (is(n, "global_statement") || is(n, "nonlocal_statement")) {
      for (const TSNode c : code_children(n)) out.globals.emplace(file.text(c));
      return false;
    }
    if (is(n, "function_definition")) {
      out.nested_defs.emplace(file.text(field(n, "name")));
      return false;
    }
    const auto t = type(n);
    return t == "module" || t == "block" || t == "decorated_definition" || t.ends_with("_statement") || t.ends_with("_clause");
  });
}

}  // namespace

ScopeOutline outline_scope(const ParsedFile& file, TSNode scope) {
  ScopeOutline out;
  if (is(scope, "module")) outline_statements(file, scope, out);
  if (is(scope, "class_definition")) outline_statements(file, field(scope, "body"), out);
  if (!is(scope, "function_definition")) return out;
  out.scope = scope;
  const TSNode parent = file.parent(scope);
  if (is(parent, "decorated_definition")) {
    for (const TSNode d : code_children(parent)) {
      if (is(d, "decorator") && file.text(d).find("contextmanager") != std::string_view::npos) out.contextmanager_decorated = true;
    }
  }
  // Names bound to a call's result (`db = Session()`), and names yielded inside a try that has
  // a finally: a name in both is lent.
  std::vector<std::string_view> from_calls, lent;
  const TSNode body = field(scope, "body");
  std::vector<uint32_t> nested;  // the ends of the nested scopes (and yields) the walk is in
  preorder(scope, [&](TSNode n) {
    const uint32_t start = ts_node_start_byte(n);
    while (!nested.empty() && start >= nested.back()) nested.pop_back();
    if (is(n, "identifier")) {
      out.identifiers.emplace_back(file.text(n), n);
      return false;
    }
    // The scope's own declarations are in its body, outside nested scopes.
    if (!nested.empty() || start < ts_node_start_byte(body)) return true;
    if (is(n, "function_definition") || is(n, "class_definition") || is(n, "lambda")) {
      if (is(n, "function_definition")) out.nested_defs.emplace(file.text(field(n, "name")));
      nested.push_back(ts_node_end_byte(n));
      return true;
    }
    if (is(n, "global_statement") || is(n, "nonlocal_statement")) {
      for (const TSNode c : code_children(n)) out.globals.emplace(file.text(c));
      return true;
    }
    if (is(n, "assignment")) {
      if (is(field(n, "left"), "identifier") && is(unwrap(field(n, "right")), "call")) from_calls.push_back(file.text(field(n, "left")));
      return true;
    }
    if (is(n, "yield")) {
      // What a yield holds declares nothing of the scope's: only its identifiers are listed.
      nested.push_back(ts_node_end_byte(n));
      const auto values = code_children(n);
      if (values.size() != 1 || !is(values.front(), "identifier")) return true;
      for (TSNode p = file.parent(n); !ts_node_is_null(p) && !same(p, scope); p = file.parent(p)) {
        if (is(p, "finally_clause") || is(p, "except_clause")) break;
        if (!is(p, "try_statement")) continue;
        const auto clauses = code_children(p);
        if (std::any_of(clauses.begin(), clauses.end(), [](TSNode c) { return is(c, "finally_clause"); }))
          lent.push_back(file.text(values.front()));
        break;
      }
      return true;
    }
    return true;
  });
  out.lends_by_yield = std::any_of(lent.begin(), lent.end(), [&](std::string_view name) {
    return std::find(from_calls.begin(), from_calls.end(), name) != from_calls.end();
  });
  // Pre-order is source order: a stable sort by text keeps each name's identifiers in order.
  std::stable_sort(out.identifiers.begin(), out.identifiers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::optional<std::vector<TSNode>> ScopeOutline::identifiers_in(TSNode n, std::string_view name) const {
  if (ts_node_is_null(scope) || ts_node_is_null(n) || n.tree != scope.tree) return std::nullopt;
  const uint32_t start = ts_node_start_byte(n), end = ts_node_end_byte(n);
  if (start < ts_node_start_byte(scope) || end > ts_node_end_byte(scope)) return std::nullopt;
  auto first = std::lower_bound(identifiers.begin(), identifiers.end(), name, [](const auto& e, std::string_view x) { return e.first < x; });
  // Then the first of them at or after n's start.
  auto last = std::upper_bound(first, identifiers.end(), name, [](std::string_view x, const auto& e) { return x < e.first; });
  first = std::lower_bound(first, last, start, [](const auto& e, uint32_t at) { return ts_node_start_byte(e.second) < at; });
  std::vector<TSNode> out;
  for (; first != last && ts_node_end_byte(first->second) <= end; ++first) out.push_back(first->second);
  return out;
}

}  // namespace leakfix::python
