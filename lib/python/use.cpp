#include "python/use.h"

#include <algorithm>

namespace leakfix::python {

// Names a function declares `global` or `nonlocal` (statements only: they cannot sit in expressions).
UseInfo use_of(const ParsedFile& file, const Imports& imports, const Acquisition& a, TSNode scope,
               bool in_context_manager, const std::function<bool(std::string_view)>& is_global) {
  const bool with_closes = a.rule->acquirer_with_closes(*a.acquirer);
  for (TSNode p = file.parent(a.call); !ts_node_is_null(p) && !same(p, scope); p = file.parent(p)) {
    if (is_comprehension(p)) {
      // [stack.enter_context(open(p)) for p in paths]: each one goes to the stack.
      const TSNode args = file.parent(a.call);
      const TSNode call = file.parent(args);
      if (is(args, "argument_list") && is(call, "call") && is_enter_context(callee_of(file, imports, call).last()) &&
          exit_stack_open(file, call) && with_closes)
        return {Use::Managed, {}};
      return {Use::InComprehension, {}};
    }
    if (is(p, "block")) break;
  }
  if (is(scope, "lambda")) return {Use::InLambda, {}};
  TSNode node = a.call;
  bool closing_wrapped = false;
  bool contained = false;  // inside a tuple, list or constructor call
  bool in_literal = false; // inside a tuple, list, set or dict
  TSNode parent = file.parent(node);
  for (;; parent = file.parent(node)) {
    const auto t = type(parent);
    if (t == "parenthesized_expression" || t == "await") {
      node = parent;
      continue;
    }
    if (t == "conditional_expression" && !same(code_children(parent).size() > 1 ? code_children(parent)[1] : parent, node)) {
      node = parent;
      continue;
    }
    if (t == "argument_list") {
      const TSNode call = file.parent(parent);
      const auto callee = callee_of(file, imports, call);
      if (is_closing(callee)) {
        closing_wrapped = true;
        node = call;
        continue;
      }
      if (is_enter_context(callee.last())) {
        if (!exit_stack_open(file, call)) return {Use::Temporary, {}};
        return (closing_wrapped || with_closes) ? UseInfo{Use::Managed, {}} : UseInfo{Use::Temporary, {}};
      }
      if (is_constructor(file.text(field(call, "function")))) {
        contained = true;
        node = call;
        continue;
      }
      break;
    }
    if (t == "expression_list" || t == "tuple" || t == "list" || t == "pair" || t == "dictionary" || t == "set" ||
        t == "keyword_argument") {
      contained = true;
      in_literal = in_literal || t != "keyword_argument";
      node = parent;
      continue;
    }
    break;
  }
  const auto t = type(parent);
  if (t == "attribute" && same(field(parent, "object"), node)) {
    const TSNode call = file.parent(parent);
    if (is(call, "call") && same(field(call, "function"), parent)) {
      const auto method = file.text(field(parent, "attribute"));
      const auto& rm = a.rule->release_methods;
      if (std::find(rm.begin(), rm.end(), method) != rm.end()) return {Use::ClosedAtOnce, {}};
    }
    return {Use::Temporary, {}};
  }
  if (t == "with_item" || t == "as_pattern") {
    if (closing_wrapped || with_closes) return {Use::Managed, {}};
    if (t == "as_pattern" && !contained) return {Use::Bound, {}};
    return {Use::Temporary, {}};
  }
  if (t == "return_statement") return in_literal ? UseInfo{Use::Container, "the returned value"} : UseInfo{Use::Returned, {}};
  if (t == "yield") return in_context_manager ? UseInfo{Use::Temporary, {}} : UseInfo{Use::Yielded, {}};
  if (t == "named_expression") return {Use::Bound, {}};
  if (t == "assignment" && same(field(parent, "right"), node)) {
    const TSNode left = field(parent, "left");
    const auto lt = type(left);
    if (lt == "attribute") {
      const auto object = file.text(field(left, "object"));
      return {object == "g" || object == "flask.g" ? Use::StoredOnG : Use::Stored, std::string(file.text(left))};
    }
    if (lt == "subscript") return {Use::Container, std::string(file.text(left))};
    if (lt == "identifier" && is_global(file.text(left))) return {Use::Global, std::string(file.text(left))};
    if (contained && lt == "identifier") return {Use::Temporary, {}};
    return {Use::Bound, {}};
  }
  return {Use::Temporary, {}};
}

}  // namespace leakfix::python
