#include "python/outline.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace leakfix::python {

ScopeOutline outline_scope(const ParsedFile& file, TSNode scope) {
  ScopeOutline out;
  if (!is(scope, "function_definition")) return out;
  const TSNode parent = file.parent(scope);
  if (is(parent, "decorated_definition")) {
    for (const TSNode d : code_children(parent)) {
      if (is(d, "decorator") && file.text(d).find("contextmanager") != std::string_view::npos) out.contextmanager_decorated = true;
    }
  }
  // Names bound to a call's result (`db = Session()`), and names yielded inside a try that has
  // a finally: a name in both is lent.
  std::vector<std::string_view> from_calls, lent;
  preorder(field(scope, "body"), [&](TSNode n) {
    if (is(n, "function_definition")) {
      out.nested_defs.emplace(file.text(field(n, "name")));
      return false;
    }
    if (is(n, "class_definition") || is(n, "lambda")) return false;
    if (is(n, "global_statement") || is(n, "nonlocal_statement")) {
      for (const TSNode c : code_children(n)) out.globals.emplace(file.text(c));
      return false;
    }
    if (is(n, "assignment")) {
      if (is(field(n, "left"), "identifier") && is(unwrap(field(n, "right")), "call")) from_calls.push_back(file.text(field(n, "left")));
      return true;
    }
    if (is(n, "yield")) {
      const auto values = code_children(n);
      if (values.size() != 1 || !is(values.front(), "identifier")) return false;
      for (TSNode p = file.parent(n); !ts_node_is_null(p) && !same(p, scope); p = file.parent(p)) {
        if (is(p, "finally_clause") || is(p, "except_clause")) break;
        if (!is(p, "try_statement")) continue;
        const auto clauses = code_children(p);
        if (std::any_of(clauses.begin(), clauses.end(), [](TSNode c) { return is(c, "finally_clause"); }))
          lent.push_back(file.text(values.front()));
        break;
      }
      return false;
    }
    return true;
  });
  out.lends_by_yield = std::any_of(lent.begin(), lent.end(), [&](std::string_view name) {
    return std::find(from_calls.begin(), from_calls.end(), name) != from_calls.end();
  });
  return out;
}

}  // namespace leakfix::python
