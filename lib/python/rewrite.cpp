#include "python/rewrite.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "python/locate.h"
#include "python/rewrite_common.h"

namespace leakfix::python {
namespace {

using Outcome = std::variant<Fix, std::string>;

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\f\r") == std::string_view::npos; }

std::string_view leading_ws(std::string_view line) { return line.substr(0, line.find_first_not_of(" \t\f")); }

bool is_loop(TSNode n) { return is(n, "for_statement") || is(n, "while_statement"); }

bool is_statement_list(TSNode n) { return is(n, "block") || is(n, "module"); }

bool is_jump(TSNode n) {
  const auto t = type(n);
  return t == "return_statement" || t == "raise_statement" || t == "break_statement" || t == "continue_statement";
}

// One line of the region being rewritten and what happens to it.
struct LinePlan {
  enum Act { Keep, Delete, Shift, Replace } act = Shift;
  std::string strip;  // Shift: indentation taken off ...
  std::string add;    // ... and put in its place
  std::string text;   // Replace: the new line, without its ending
};

class Rewriter {
 public:
  Rewriter(const ParsedFile& file, TSNode call, std::string_view name, const RewriteContext& ctx)
      : file_(file), src_(file.source()), call_(call), name_(name), ctx_(ctx),
        module_(module_name(file.source().path())) {}

  Outcome run() {
    if (auto why = shape()) return *why;
    if (auto why = references()) return *why;
    if (auto why = derived_escapes()) return *why;
    if (auto why = releases()) return *why;
    if (auto why = swallowed_release()) return *why;
    if (auto why = nesting()) return *why;
    if (auto why = managed_form()) return *why;
    return build();
  }

 private:
  // ---- rows and indentation -------------------------------------------------------------

  int row(TSNode n) const { return static_cast<int>(ts_node_start_point(n).row); }
  int end_row(TSNode n) const { return static_cast<int>(ts_node_end_point(n).row); }
  std::string_view line_text(int r) const { return src_.line(r + 1); }
  std::string indent_of(TSNode n) const { return std::string(leading_ws(line_text(row(n)))); }

  // Whether n is alone on its lines: only indentation before it, only a comment after it.
  bool alone(TSNode n) const {
    const auto start_col = ts_node_start_point(n).column;
    if (leading_ws(line_text(row(n))).size() != start_col) return false;
    const auto last = line_text(end_row(n));
    const auto rest = last.substr(std::min<std::size_t>(ts_node_end_point(n).column, last.size()));
    const auto pos = rest.find_first_not_of(" \t\f\r");
    return pos == std::string_view::npos || rest[pos] == '#';
  }

  // The file's indentation step, read from the block around the acquisition or any block.
  std::string indent_unit() const {
    auto step = [&](TSNode block) -> std::optional<std::string> {
      if (!is(block, "block")) return std::nullopt;
      const auto kids = code_children(block);
      if (kids.empty()) return std::nullopt;
      const TSNode owner = parent(block);
      if (row(kids.front()) == row(owner)) return std::nullopt;
      const auto outer = indent_of(owner), inner = indent_of(kids.front());
      if (inner.size() <= outer.size() || inner.compare(0, outer.size(), outer) != 0) return std::nullopt;
      return inner.substr(outer.size());
    };
    if (auto s = step(block_)) return *s;
    std::optional<std::string> found;
    preorder(file_.root(), [&](TSNode n) {
      if (found) return false;
      if (is(n, "block")) found = step(n);
      return !found.has_value();
    });
    return found.value_or("    ");
  }

  // ---- the tree -------------------------------------------------------------------------

  TSNode parent(TSNode n) const { return file_.parent(n); }

  // ---- names ----------------------------------------------------------------------------

  bool is_name_ref(TSNode id) const { return is_ref_to(id, name_); }

  bool is_ref_to(TSNode id, std::string_view name) const {
    if (!is(id, "identifier") || file_.text(id) != name) return false;
    const TSNode p = parent(id);
    if (is(p, "attribute") && same(field(p, "attribute"), id)) return false;
    if (is(p, "keyword_argument") && same(field(p, "name"), id)) return false;
    return true;
  }

  // Every reference to the name inside n.
  std::vector<TSNode> refs_in(TSNode n) const { return refs_to(n, name_); }

  std::vector<TSNode> refs_to(TSNode n, std::string_view name) const {
    std::vector<TSNode> out;
    // The scope's outline lists where each name is written (one walk for every question).
    if (ctx_.outline && same(ctx_.outline->scope, scope_)) {
      if (auto ids = ctx_.outline->identifiers_in(n, name)) {
        for (const TSNode id : *ids) {
          if (is_ref_to(id, name)) out.push_back(id);
        }
        return out;
      }
    }
    // Only subtrees whose text holds the name are entered (a node as long as the name may hold
    // it: `conn` alone as a statement, `x: conn`).
    preorder(n, [&](TSNode c) {
      const auto len = ts_node_end_byte(c) - ts_node_start_byte(c);
      if (len < name.size()) return false;
      if (len == name.size()) {
        if (is_ref_to(c, name)) {
          out.push_back(c);
          return false;
        }
        return !is(c, "identifier") && file_.text(c) == name;
      }
      return file_.text(c).find(name) != std::string_view::npos;
    });
    return out;
  }

  // ---- values derived from the handle -------------------------------------------------------
  // A cursor, an alias, the result of a call on the handle or on them, an iterator: a value that
  // needs the handle open. Plain data (the rule's returns-data: fetchone(), rowcount) does not.

  bool returns_data(std::string_view member) const {
    const auto& d = ctx_.rule.returns_data;
    return std::find(d.begin(), d.end(), member) != d.end();
  }

  // Whether the value of `expr` may need the handle: some reference in it to a tracked name
  // reaches the top of `expr` without passing a data member, a call that takes it as an
  // argument (a helper that reads rows) or an eager comprehension.
  bool is_live(TSNode expr) const {
    for (const auto& name : tracked_) {
      if (file_.text(expr).find(name) == std::string_view::npos) continue;
      for (TSNode id : refs_to(expr, name)) {
        if (!materialised(id, expr)) return true;
      }
    }
    return false;
  }

  bool materialised(TSNode id, TSNode top) const {
    static constexpr std::string_view kLazy[] = {"iter", "enumerate", "zip", "map", "filter", "reversed", "closing",
                                                 "contextlib.closing", "memoryview", "weakref.proxy", "functools.partial"};
    TSNode p = id;
    while (!same(p, top)) {
      const TSNode up = parent(p);
      if (ts_node_is_null(up)) return false;
      if (is(up, "attribute") && same(field(up, "object"), p)) {
        if (returns_data(file_.text(field(up, "attribute")))) return true;
      } else if (is(up, "call") && same(field(up, "function"), p)) {
      } else if (is(up, "argument_list") || is(up, "keyword_argument")) {
        TSNode call = is(up, "keyword_argument") ? parent(parent(up)) : parent(up);
        if (!is(call, "call")) return false;
        const auto callee = file_.text(field(call, "function"));
        if (std::find(std::begin(kLazy), std::end(kLazy), callee) == std::end(kLazy) && !is_constructor(callee)) return true;
        p = call;
        continue;
      } else if (is(up, "for_in_clause")) {
        const TSNode comp = parent(up);
        return !is(comp, "generator_expression");
      } else if (is(up, "lambda") || is(up, "generator_expression")) {
        return false;
      } else if (!(is(up, "parenthesized_expression") || is(up, "subscript") || is(up, "await") || is(up, "boolean_operator") ||
                   is(up, "conditional_expression") || is(up, "tuple") || is(up, "list") || is(up, "set") ||
                   is(up, "dictionary") || is(up, "pair") || is(up, "expression_list") || is(up, "list_splat") ||
                   is(up, "starred_expression"))) {
        return true;  // a comparison, an operator, a test: plain data
      }
      p = up;
    }
    return false;
  }

  // Names bound in `stmt` (outside nested scopes) to values derived from a tracked name.
  void learn_derived(TSNode stmt) {
    preorder(stmt, [&](TSNode n) {
      if (is(n, "function_definition") || is(n, "class_definition") || is(n, "lambda")) return false;
      TSNode target{}, value{};
      if (is(n, "assignment") || is(n, "augmented_assignment")) {
        target = field(n, "left");
        value = field(n, "right");
      } else if (is(n, "named_expression")) {
        target = field(n, "name");
        value = field(n, "value");
      } else if (is(n, "as_pattern")) {
        value = ts_node_named_child(n, 0);
        target = field(n, "alias");
      }
      if (ts_node_is_null(target) || ts_node_is_null(value)) return true;
      // `a, b = cur` iterates it: rows, or a file's lines, are data. `x, y = conn.cursor(), 1`
      // does not.
      const bool unpacks = (is(target, "pattern_list") || is(target, "tuple_pattern") || is(target, "list_pattern")) &&
                           !(is(value, "expression_list") || is(value, "tuple") || is(value, "list"));
      const bool live = !unpacks && is_live(value);
      preorder(target, [&](TSNode t) {
        if (is(t, "identifier")) {
          const std::string bound(file_.text(t));
          if (live && bound != name_ && std::find(tracked_.begin(), tracked_.end(), bound) == tracked_.end()) {
            tracked_.push_back(bound);
            derived_.push_back(bound);
          }
          return false;
        }
        return !(is(t, "attribute") || is(t, "subscript"));
      });
      return true;
    });
  }

  bool mentions_tracked(TSNode n) const {
    for (const auto& name : tracked_) {
      if (file_.text(n).find(name) != std::string_view::npos && !refs_to(n, name).empty()) return true;
    }
    return false;
  }

  // A derived value that would outlive the block: returned, yielded, stored, captured, used after.
  std::optional<std::string> derived_escapes() const {
    const TSNode body = is(scope_, "module") ? scope_ : field(scope_, "body");
    for (const auto& name : derived_) {
      for (TSNode id : refs_to(body, name)) {
        if (ts_node_start_byte(id) < ts_node_start_byte(stmt_)) continue;
        // Bound again after the block: later uses are of the new value.
        if (binds(id) && !in_region(id)) break;
        for (TSNode p = parent(id); !ts_node_is_null(p) && !same(p, scope_); p = parent(p)) {
          if (is(p, "function_definition") || is(p, "lambda") || is(p, "class_definition"))
            return fmt::format("`{}`, which needs `{}` open, is captured by a closure at line {}", name, name_, file_.line(id));
          if (is(p, "generator_expression"))
            return fmt::format("`{}`, which needs `{}` open, is used by a generator expression at line {}, which may run after the block",
                               name, name_, file_.line(p));
          if (is(p, "return_statement") || is(p, "yield")) {
            TSNode value{};
            for_each_named_child(p, [&](TSNode c) {
              if (!is(c, "comment")) value = c;
            });
            if (!ts_node_is_null(value) && is_live(value))
              return fmt::format("line {} {} `{}`, which needs `{}` open after the block would close it", file_.line(p),
                                 is(p, "yield") ? "yields" : "returns", file_.text(value).substr(0, 60), name_);
            break;
          }
          if (is(p, "assignment") && within(id, field(p, "right"))) {
            const TSNode left = field(p, "left");
            if ((is(left, "attribute") || is(left, "subscript")) && is_live(field(p, "right")))
              return fmt::format("`{}`, which needs `{}` open, is stored in `{}` at line {}", name, name_, file_.text(left),
                                 file_.line(p));
            break;
          }
          if (is_statement_list(parent(p))) break;
        }
        if (!in_region(id) && ts_node_start_byte(id) > ts_node_end_byte(region_end()))
          return fmt::format("`{}`, which needs `{}` open, is used at line {}, after the block that would hold it", name, name_,
                             file_.line(id));
      }
    }
    return std::nullopt;
  }

  bool holds_name(TSNode n) const { return file_.text(n).find(name_) != std::string_view::npos; }

  bool binds(TSNode id) const {
    TSNode c = id;
    for (TSNode p = parent(c); !ts_node_is_null(p); c = p, p = parent(p)) {
      const auto t = type(p);
      if (t == "pattern_list" || t == "tuple_pattern" || t == "list_pattern" || t == "list_splat_pattern" ||
          t == "as_pattern_target" || t == "delete_statement" || t == "global_statement" || t == "nonlocal_statement")
        return true;
      if (t == "assignment" || t == "augmented_assignment" || t == "for_statement" || t == "for_in_clause")
        return same(field(p, "left"), c);
      if (t == "named_expression") return same(field(p, "name"), c);
      if (t == "tuple" || t == "parenthesized_expression" || t == "list") continue;
      return false;
    }
    return false;
  }

  // Whether `inner` lies inside `outer`; never inside a field a node does not have (`x: int` is
  // an assignment without a right side).
  static bool within(TSNode inner, TSNode outer) {
    if (ts_node_is_null(inner) || ts_node_is_null(outer)) return false;
    return ts_node_start_byte(inner) >= ts_node_start_byte(outer) && ts_node_end_byte(inner) <= ts_node_end_byte(outer);
  }

  // ---- the shape of the acquisition ---------------------------------------------------------

  std::optional<std::string> shape() {
    // `conn = await pool.acquire()`: an async handle, managed by an async with.
    const TSNode up = parent(call_);
    awaited_ = is(up, "await") && code_children(up).size() == 1;
    const TSNode value = awaited_ ? up : call_;
    const TSNode assign = parent(value);
    if (!is(assign, "assignment") || !same(field(assign, "right"), value) || !is(field(assign, "left"), "identifier") ||
        file_.text(field(assign, "left")) != name_ || !ts_node_is_null(field(assign, "type")))
      return fmt::format("the acquisition is not a plain `{} = {}(...)` statement", name_, file_.text(field(call_, "function")));
    stmt_ = parent(assign);
    if (!is(stmt_, "expression_statement") || code_children(stmt_).size() != 1 || !alone(stmt_))
      return std::string("the acquisition shares its line with other statements");
    block_ = parent(stmt_);
    if (!is_statement_list(block_)) return std::string("the acquisition is not a statement of a block");
    scope_ = enclosing_scope(file_, call_);
    if (ts_node_has_error(scope_)) return std::string("the function around it does not parse");
    if (is(scope_, "lambda")) return std::string("inside a lambda");
    const auto& async_with = ctx_.acquirer.async_with;
    if (awaited_ && async_with.empty())
      return fmt::format("it is awaited, and the rule names no `async with` form for {}()", file_.text(field(call_, "function")));
    if (!async_with.empty() && !(is(scope_, "function_definition") && file_.text(scope_).starts_with("async")))
      return fmt::format("{}() is managed by `async with`, which needs an async function", file_.text(field(call_, "function")));
    stmts_ = code_children(block_);
    index_ = static_cast<std::size_t>(std::find_if(stmts_.begin(), stmts_.end(), [&](TSNode s) { return same(s, stmt_); }) -
                                      stmts_.begin());
    if (index_ >= stmts_.size()) return std::string("the acquisition is not a statement of a block");

    // conn = None; try: conn = acquire() ... finally: conn.close()
    const TSNode owner = parent(block_);
    if (is(owner, "try_statement") && same(field(owner, "body"), block_) && index_ == 0) {
      if (const TSNode fin = finally_of(owner); !ts_node_is_null(fin) && !finally_releases(fin).empty()) {
        collapse_ = owner;
        const TSNode list = parent(owner);
        const auto siblings = code_children(list);
        for (std::size_t j = 1; j < siblings.size(); ++j) {
          if (same(siblings[j], owner) && is_none_assignment(siblings[j - 1])) none_stmt_ = siblings[j - 1];
        }
      }
    }

    // The block runs to the last statement that uses the handle, or up to where the name is
    // bound again (acquire/use/close repeated on one name gives one block each).
    // It covers every later use of the handle and of the values derived from it.
    last_ = index_;
    tracked_ = {name_};
    for (std::size_t j = index_ + 1; j < stmts_.size(); ++j) {
      if (rebinds(stmts_[j])) {
        rebind_ = stmts_[j];
        break;
      }
      if (mentions_tracked(stmts_[j])) {
        last_ = j;
        learn_derived(stmts_[j]);
      }
    }
    if (!ts_node_is_null(collapse_)) last_ = stmts_.size() - 1;
    return std::nullopt;
  }

  bool is_none_assignment(TSNode s) const {
    if (!is(s, "expression_statement")) return false;
    const auto kids = code_children(s);
    if (kids.size() != 1 || !is(kids[0], "assignment")) return false;
    const TSNode a = kids[0];
    return is(field(a, "left"), "identifier") && file_.text(field(a, "left")) == name_ && is(field(a, "right"), "none") &&
           alone(s);
  }

  bool rebinds(TSNode s) const {
    if (!is(s, "expression_statement")) return false;
    const auto kids = code_children(s);
    return kids.size() == 1 && is(kids[0], "assignment") && is(field(kids[0], "left"), "identifier") &&
           file_.text(field(kids[0], "left")) == name_;
  }

  static TSNode finally_of(TSNode try_stmt) {
    TSNode out{};
    for_each_named_child(try_stmt, [&](TSNode c) {
      if (is(c, "finally_clause")) out = c;
    });
    return out;
  }

  // ---- where the name is used -------------------------------------------------------------

  TSNode region_begin() const { return stmts_[index_]; }
  TSNode region_end() const { return stmts_[last_]; }
  bool in_region(TSNode n) const {
    return ts_node_start_byte(n) >= ts_node_start_byte(region_begin()) && ts_node_end_byte(n) <= ts_node_end_byte(region_end());
  }

  std::optional<std::string> references() {
    const TSNode body = is(scope_, "module") ? scope_ : field(scope_, "body");
    const auto stmt_start = ts_node_start_byte(stmt_);
    for (TSNode id : refs_in(body)) {
      if (within(id, stmt_)) continue;
      if (ts_node_start_byte(id) > stmt_start && (ts_node_is_null(rebind_) || ts_node_start_byte(id) < ts_node_start_byte(rebind_))) {
        if (auto why = tested_for_none(id)) return why;
      }
      // A use inside a nested function or class: a closure keeps the handle.
      for (TSNode p = parent(id); !same(p, scope_) && !ts_node_is_null(p); p = parent(p)) {
        if (is(p, "function_definition") || is(p, "lambda") || is(p, "class_definition"))
          return fmt::format("`{}` is captured by a closure at line {}", name_, file_.line(id));
      }
      if (!ts_node_is_null(none_stmt_) && within(id, none_stmt_)) continue;
      if (auto why = outlives_block(id)) return why;
      if (in_region(id)) {
        if (binds(id)) return fmt::format("`{}` is bound again at line {} while the {} is open", name_, file_.line(id), ctx_.rule.resource);
        continue;
      }
      if (!ts_node_is_null(collapse_) && within(id, collapse_)) {
        if (is_finally_release_ref(id)) continue;
        return fmt::format("`{}` is used at line {} by the try statement's handlers", name_, file_.line(id));
      }
      if (ts_node_start_byte(id) < stmt_start) {
        for (TSNode p = parent(stmt_); !same(p, scope_) && !ts_node_is_null(p); p = parent(p)) {
          if (is_loop(p) && within(id, p))
            return fmt::format("`{}` is used at line {}, earlier in the loop that acquires it", name_, file_.line(id));
        }
        continue;
      }
      if (!ts_node_is_null(rebind_) && ts_node_start_byte(id) >= ts_node_start_byte(rebind_)) continue;
      return fmt::format("`{}` is used at line {}, after the block that would hold it", name_, file_.line(id));
    }
    return std::nullopt;
  }

  // `if f:` / `if f is None:` around more than a release: the code expects the acquirer to give
  // None, and `with None` raises.
  std::optional<std::string> tested_for_none(TSNode id) const {
    TSNode test = id;
    TSNode up = parent(test);
    if (is(up, "not_operator")) {
      test = up;
      up = parent(up);
    } else if (is(up, "comparison_operator")) {
      const auto t = file_.text(up);
      if (!(t.ends_with("None") && (t.find(" is ") != std::string_view::npos || t.find("==") != std::string_view::npos ||
                                    t.find("!=") != std::string_view::npos)))
        return std::nullopt;
      test = up;
      up = parent(up);
    }
    while (is(up, "parenthesized_expression")) {
      test = up;
      up = parent(up);
    }
    bool condition = false;
    if (is(up, "if_statement") || is(up, "elif_clause") || is(up, "while_statement")) {
      condition = same(unwrap(field(up, "condition")), unwrap(test));
    } else if (is(up, "conditional_expression")) {
      const auto kids = code_children(up);  // value if test else other
      condition = kids.size() == 3 && same(kids[1], test);
    }
    if (!condition) return std::nullopt;
    // `if conn: conn.close()` is a guard many write whatever the acquirer gives; it says None is
    // possible only of a wrapper that has a path giving None.
    if (is(up, "if_statement") && release_statement(up) != ReleaseKind::None && !ctx_.acquirer.may_return_none) return std::nullopt;
    return fmt::format("`{}` is tested at line {} as if {}() could give None, and a with cannot take None", name_, file_.line(id),
                       file_.text(field(call_, "function")));
  }

  // A use whose result may need the connection after the block has closed it: a generator
  // expression (iterated later), or a call on the handle returned or yielded as it is
  // (`return conn.execute(q)` gives a cursor; `return conn.execute(q).fetchall()` gives rows).
  std::optional<std::string> outlives_block(TSNode id) const {
    for (TSNode p = parent(id); !ts_node_is_null(p) && !same(p, scope_); p = parent(p)) {
      if (is(p, "generator_expression"))
        return fmt::format("`{}` is used by a generator expression at line {}, which may run after the block", name_,
                           file_.line(p));
      if (is(p, "return_statement") || is(p, "yield")) {
        TSNode value = is(p, "yield") ? TSNode{} : TSNode{};
        for_each_named_child(p, [&](TSNode c) {
          if (!is(c, "comment")) value = c;
        });
        value = unwrap(value);
        if (!is(value, "call")) return std::nullopt;
        const TSNode fn = field(value, "function");
        if (!is(fn, "attribute")) return std::nullopt;
        // Only a chain of calls rooted at the handle itself.
        TSNode root = fn;
        while (is(root, "attribute") || is(root, "call")) root = is(root, "call") ? field(root, "function") : field(root, "object");
        if (!is(root, "identifier") || file_.text(root) != name_) return std::nullopt;
        const auto last = file_.text(field(fn, "attribute"));
        if (returns_data(last)) return std::nullopt;
        return fmt::format("line {} returns `{}`, which may need the {} after the block closes it", file_.line(p),
                           file_.text(value).substr(0, 60), ctx_.rule.resource);
      }
      if (is_statement_list(parent(p))) return std::nullopt;
    }
    return std::nullopt;
  }

  bool is_finally_release_ref(TSNode id) const {
    const TSNode fin = finally_of(collapse_);
    if (ts_node_is_null(fin) || !within(id, fin)) return false;
    for (TSNode r : finally_releases(fin)) {
      if (within(id, r)) return true;
    }
    return false;
  }

  // ---- releases -------------------------------------------------------------------------

  enum class ReleaseKind { None, Method, Function };

  // `name.close()`, `pool.putconn(name)`, or `if name: name.close()` as a whole statement.
  ReleaseKind release_statement(TSNode s) const {
    if (is(s, "expression_statement")) {
      const auto kids = code_children(s);
      if (kids.size() != 1) return ReleaseKind::None;
      const TSNode c = awaited_call(kids[0]);
      if (!is(c, "call")) return ReleaseKind::None;
      return release_call(c);
    }
    if (is(s, "if_statement")) {
      TSNode cond = unwrap(field(s, "condition"));
      bool guard = (is(cond, "identifier") && file_.text(cond) == name_) || file_.text(cond) == fmt::format("not {}.closed", name_);
      if (is(cond, "comparison_operator")) {
        const auto t = file_.text(cond);
        guard = t == fmt::format("{} is not None", name_) || t == fmt::format("{} != None", name_);
      }
      if (!guard) return ReleaseKind::None;
      bool extra = false;
      for_each_named_child(s, [&](TSNode c) {
        if (is(c, "elif_clause") || is(c, "else_clause")) extra = true;
      });
      const auto body = code_children(field(s, "consequence"));
      if (extra || body.size() != 1) return ReleaseKind::None;
      return release_statement(body[0]);
    }
    return ReleaseKind::None;
  }

  // The call of `await call(...)` in an async function (an async handle's `await conn.close()`);
  // any other node as it is.
  TSNode awaited_call(TSNode n) const {
    if (!is(n, "await")) return n;
    const auto kids = code_children(n);
    return kids.size() == 1 && is(kids[0], "call") ? kids[0] : n;
  }

  ReleaseKind release_call(TSNode c) const {
    const TSNode fn = field(c, "function");
    const TSNode args = field(c, "arguments");
    if (is(fn, "attribute") && is(field(fn, "object"), "identifier") && file_.text(field(fn, "object")) == name_) {
      const auto method = file_.text(field(fn, "attribute"));
      const auto& ms = ctx_.release_methods;
      if (std::find(ms.begin(), ms.end(), method) != ms.end() && code_children(args).empty()) return ReleaseKind::Method;
      return ReleaseKind::None;
    }
    const auto argv = code_children(args);
    if (std::none_of(argv.begin(), argv.end(), [&](TSNode a) { return is(a, "identifier") && file_.text(a) == name_; }))
      return ReleaseKind::None;
    const Callee callee = callee_of(file_, ctx_.imports, c);
    const CallSite site{module_, enclosing_class(file_, c)};
    for (const auto& spec : ctx_.release_functions) {
      if (spec.argument < 0 || static_cast<std::size_t>(spec.argument) >= argv.size()) continue;
      const TSNode arg = argv[static_cast<std::size_t>(spec.argument)];
      if (!is(arg, "identifier") || file_.text(arg) != name_) continue;
      if (matches(spec.pattern, spec.module, spec.owner_class, callee, site)) return ReleaseKind::Function;
    }
    return ReleaseKind::None;
  }

  std::vector<TSNode> finally_releases(TSNode fin) const {
    std::vector<TSNode> out;
    for (TSNode s : code_children(last_block(fin))) {
      if (release_statement(s) != ReleaseKind::None) out.push_back(s);
    }
    return out;
  }

  static TSNode last_block(TSNode n) {
    TSNode out{};
    for_each_named_child(n, [&](TSNode c) {
      if (is(c, "block")) out = c;
    });
    return out;
  }

  // The statements inside the region (not inside nested scopes), pre-order.
  template <typename F>
  // Only statements that mention the name: the releases this looks for all do.
  void each_statement(TSNode from, F&& f) const {
    preorder(from, [&](TSNode n) {
      if (!holds_name(n)) return false;
      if (is(n, "function_definition") || is(n, "class_definition") || is(n, "lambda")) return false;
      if (is_statement_list(parent(n)) && !is(n, "comment")) f(n);
      return true;
    });
  }

  // CPython refuses more than 20 statically nested blocks in one function (loops, try, with;
  // an except or finally body counts twice). The with adds one around the region.
  static int block_weight(TSNode n) {
    if (is(n, "for_statement") || is(n, "while_statement") || is(n, "with_statement") || is(n, "try_statement")) return 1;
    if (is(n, "except_clause") || is(n, "except_group_clause") || is(n, "finally_clause")) return 1;
    return 0;
  }

  int deepest_below(TSNode n) const {
    int deepest = 0;
    for_each_named_child(n, [&](TSNode c) {
      if (!may_hold_block(c) || is(c, "function_definition") || is(c, "class_definition")) return;
      deepest = std::max(deepest, deepest_below(c));
    });
    return deepest + block_weight(n);
  }

  std::optional<std::string> nesting() const {
    int above = 0;
    for (TSNode p = parent(stmt_); !ts_node_is_null(p) && !same(p, scope_); p = parent(p)) above += block_weight(p);
    int below = 0;
    for (std::size_t j = index_; j <= last_; ++j) below = std::max(below, deepest_below(stmts_[j]));
    if (above + below + 1 > 20)
      return fmt::format("the with block would nest {} blocks deep, past the 20 CPython allows in one function", above + below + 1);
    return std::nullopt;
  }

  // A release inside a try whose handlers catch what it raises: the with's exit would raise
  // where the code swallowed the error.
  std::optional<std::string> swallowed_release() const {
    for (TSNode r : release_nodes_) {
      for (TSNode p = parent(r); !ts_node_is_null(p) && !same(p, scope_); p = parent(p)) {
        if (!is(p, "try_statement")) continue;
        if (!within(r, field(p, "body"))) continue;
        // Only a try that guards the release itself: `try: f.close() except OSError: pass`.
        const auto guarded = code_children(field(p, "body"));
        if (std::any_of(guarded.begin(), guarded.end(), [&](TSNode s) { return !is(s, "comment") && release_statement(s) == ReleaseKind::None; }))
          break;
        bool handles = false;
        for_each_named_child(p, [&](TSNode c) {
          if (is(c, "except_clause") || is(c, "except_group_clause")) handles = true;
        });
        if (handles)
          return fmt::format("the release at line {} sits in a try whose except (line {}) catches its errors; the with would let them out",
                             file_.line(r), file_.line(p));
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> releases() {
    std::vector<TSNode> found;
    for (std::size_t j = index_ + 1; j <= last_; ++j) {
      each_statement(stmts_[j], [&](TSNode s) {
        const auto kind = release_statement(s);
        if (kind == ReleaseKind::None) return;
        // The close inside `if conn: conn.close()` belongs to the guard already found.
        if (std::any_of(found.begin(), found.end(), [&](TSNode f) { return within(s, f); })) return;
        found.push_back(s);
      });
    }
    if (!ts_node_is_null(collapse_)) {
      for (TSNode r : finally_releases(finally_of(collapse_))) {
        finally_drops_.push_back(r);
      }
    }
    // Every release call must be one of those statements: `x = conn.close()` is not rewritable.
    for (std::size_t j = index_ + 1; j <= last_; ++j) {
      std::optional<std::string> why;
      preorder(stmts_[j], [&](TSNode n) {
        if (why || !holds_name(n)) return false;
        if (!is(n, "call") || release_call(n) == ReleaseKind::None) return true;
        TSNode st = parent(n);
        if (is(st, "await")) st = parent(st);
        const TSNode owner = is(st, "expression_statement") ? st : TSNode{};
        bool ok = !ts_node_is_null(owner) && std::any_of(found.begin(), found.end(), [&](TSNode f) { return within(owner, f); });
        if (!ok) why = fmt::format("`{}` is released inside an expression at line {}", name_, file_.line(n));
        return true;
      });
      if (why) return why;
    }
    release_nodes_ = found;
    for (TSNode r : finally_drops_) release_nodes_.push_back(r);
    for (TSNode r : found) {
      if (!alone(r)) return fmt::format("the release at line {} shares its line with other statements", file_.line(r));
      // A release in a finally clause of a try inside the block: the block closes it instead.
      const TSNode list = parent(r);
      const TSNode owner = parent(list);
      if (auto why = safe_to_drop(r)) return why;
      if (is(owner, "finally_clause")) finally_drops_.push_back(r);
      else drops_.push_back(r);
    }
    return std::nullopt;
  }

  // Whether the jump leaves the block being built (return/raise always; break/continue when
  // their loop is outside it).
  bool leaves_region(TSNode jump, TSNode* inner_loop) const {
    if (is(jump, "return_statement") || is(jump, "raise_statement")) return true;
    for (TSNode p = parent(jump); !ts_node_is_null(p) && !same(p, scope_); p = parent(p)) {
      if (is_loop(p)) {
        if (in_region(p)) {
          *inner_loop = p;
          return false;
        }
        return true;
      }
    }
    return true;
  }

  // Dropping a release keeps the handle open until the block ends: nothing may use it after
  // the release on any path that stays inside the block.
  std::optional<std::string> safe_to_drop(TSNode release) const {
    const auto unsafe = [&] {
      return fmt::format("`{}` (or a value derived from it) is used after the release at line {}", name_, file_.line(release));
    };
    // A use of the handle, or of a value derived from it (a cursor used after close()).
    auto uses_besides_releases = [&](TSNode n) {
      for (TSNode id : refs_in(n)) {
        const TSNode st = enclosing_release(id);
        if (ts_node_is_null(st)) return true;
      }
      for (const auto& d : derived_) {
        if (file_.text(n).find(d) == std::string_view::npos) continue;
        // Bound again is no use of the old value.
        for (TSNode id : refs_to(n, d)) {
          if (!binds(id)) return true;
        }
      }
      return false;
    };
    TSNode c = release;
    for (int guard = 0; guard < 10000; ++guard) {
      const TSNode list = parent(c);
      if (same(list, block_)) {
        for (std::size_t j = 0; j < stmts_.size(); ++j) {
          if (ts_node_start_byte(stmts_[j]) > ts_node_start_byte(c) && j <= last_ && uses_besides_releases(stmts_[j])) return unsafe();
        }
        return std::nullopt;
      }
      const auto kids = code_children(list);
      bool after = false;
      for (TSNode k : kids) {
        if (after && uses_besides_releases(k)) return unsafe();
        // What ran after the close would run before it: os.remove(path), a second open of the
        // file, an fsync. Only leaving (return, raise, break, continue) is the same either way.
        if (after && !is_jump(k) && !is(k, "pass_statement") && !is(k, "comment") && release_statement(k) == ReleaseKind::None &&
            !order_free(k))
          return fmt::format("line {} runs after the release at line {}, and would run before the with closes it", file_.line(k),
                             file_.line(release));
        if (same(k, c)) after = true;
      }
      TSNode inner_loop{};
      if (!kids.empty() && is_jump(kids.back())) {
        if (leaves_region(kids.back(), &inner_loop)) return std::nullopt;
        if (is(kids.back(), "continue_statement")) return fmt::format("the release at line {} is inside a loop that goes on", file_.line(release));
        c = inner_loop;  // break: on after the loop
        continue;
      }
      TSNode owner = parent(list);
      if (is(owner, "else_clause") || is(owner, "elif_clause") || is(owner, "except_clause") || is(owner, "finally_clause") ||
          is(owner, "case_clause")) {
        const TSNode clause = owner;
        owner = parent(owner);
        if (is(owner, "block")) owner = parent(owner);  // match: case clauses sit in a block
        if (is(owner, "try_statement") && !is(clause, "finally_clause")) {
          const TSNode fin = finally_of(owner);
          if (!ts_node_is_null(fin) && uses_besides_releases(fin)) return unsafe();
        }
      } else if (is(owner, "try_statement")) {
        // From the body: the handlers run if something after the release raises; else and
        // finally run after it.
        const bool last_in_body = same(kids.back(), c);
        bool used = false;
        for_each_named_child(owner, [&](TSNode part) {
          if (same(part, list) || (is(part, "except_clause") && last_in_body)) return;
          if (uses_besides_releases(part)) used = true;
        });
        if (used) return unsafe();
      }
      if (is_loop(owner)) return fmt::format("the release at line {} is inside a loop that goes on", file_.line(release));
      if (ts_node_is_null(owner) || same(owner, scope_)) return unsafe();
      c = owner;
    }
    return unsafe();
  }

  // A statement whose place before or after a close makes no difference: an assignment that
  // calls nothing (`closed = True`), or a log line.
  bool order_free(TSNode s) const {
    if (!is(s, "expression_statement")) return false;
    const auto kids = code_children(s);
    if (kids.size() != 1) return false;
    const TSNode e = kids[0];
    if (is(e, "assignment") || is(e, "augmented_assignment")) {
      bool calls = false;
      preorder(e, [&](TSNode n) {
        if (is(n, "call") || is(n, "await")) calls = true;
        return !calls;
      });
      const TSNode left = field(e, "left");
      return !calls && (is(left, "identifier") || is(left, "pattern_list"));
    }
    if (is(e, "call")) {
      // Another handle's close: the order in which two handles are closed is no behaviour.
      const TSNode fn = field(e, "function");
      if (is(fn, "attribute") && is(field(fn, "object"), "identifier") && code_children(field(e, "arguments")).empty()) {
        const auto& ms = ctx_.release_methods;
        if (std::find(ms.begin(), ms.end(), file_.text(field(fn, "attribute"))) != ms.end()) return true;
      }
      const auto callee = file_.text(field(e, "function"));
      const auto root = callee.substr(0, callee.find('.'));
      static constexpr std::string_view kLog[] = {"print", "log", "logger", "logging", "LOG", "LOGGER", "_log", "_logger", "self.log",
                                                  "self.logger"};
      const auto dot2 = callee.rfind('.');
      const auto owner = dot2 == std::string_view::npos ? callee : callee.substr(0, dot2);
      return std::find(std::begin(kLog), std::end(kLog), root) != std::end(kLog) ||
             std::find(std::begin(kLog), std::end(kLog), owner) != std::end(kLog);
    }
    return false;
  }

  // The release statement (or `if name: ...` guard) around a reference, if it is one.
  TSNode enclosing_release(TSNode id) const {
    for (TSNode p = parent(id); !ts_node_is_null(p) && !same(p, scope_); p = parent(p)) {
      if (is_statement_list(parent(p))) {
        if (release_statement(p) != ReleaseKind::None) return p;
        const TSNode up = parent(parent(p));
        if (is(up, "if_statement") && release_statement(up) != ReleaseKind::None) return up;
        return TSNode{};
      }
    }
    return TSNode{};
  }

  // ---- the managed form -----------------------------------------------------------------

  // How the release statement `s` (or `if name: ...` around it) gives the handle back.
  ReleaseUse release_use(TSNode s) const {
    if (is(s, "if_statement")) return release_use(code_children(field(s, "consequence"))[0]);
    const TSNode c = awaited_call(code_children(s)[0]);
    const TSNode fn = field(c, "function");
    if (is(fn, "attribute") && is(field(fn, "object"), "identifier") && file_.text(field(fn, "object")) == name_)
      return ReleaseUse{std::string(file_.text(field(fn, "attribute"))), ""};
    // A helper that only calls the method is the method.
    const Callee callee = callee_of(file_, ctx_.imports, c);
    const CallSite site{module_, enclosing_class(file_, c)};
    for (const auto& spec : ctx_.release_functions) {
      if (!spec.same_as_method.empty() && matches(spec.pattern, spec.module, spec.owner_class, callee, site))
        return ReleaseUse{spec.same_as_method, ""};
    }
    return ReleaseUse{"", std::string(file_.text(fn))};
  }

  std::optional<std::string> managed_form() {
    const TSNode fn = field(call_, "function");
    const std::string args(file_.text(field(call_, "arguments")));
    const auto& a = ctx_.acquirer;
    ReleaseUse release;
    for (TSNode r : release_nodes_) {
      const ReleaseUse u = release_use(r);
      if (!release.empty() && !(u == release))
        return fmt::format("`{}` is given back in two ways ({} and {})", name_, release.describe(name_), u.describe(name_));
      release = u;
    }
    // An async handle: the library's own async with, whatever the code gave it back with.
    if (!a.async_with.empty()) {
      // psycopg's async with commits on exit where close() rolls back; with autocommit on,
      // there is no transaction for either to end.
      if (a.with_commits && !has_keyword(call_, "autocommit", "True"))
        return fmt::format("the async with of {}() commits on exit, where {} rolls back what was not committed; "
                           "connect with autocommit=True, or commit and close by hand in a finally",
                           file_.text(fn), release.empty() ? std::string("close()") : release.describe(name_));
      form_ = fmt::format("{}{}", a.async_with == "await" ? "await " : "", file_.text(call_));
      fix_.target = fmt::format("the {}'s own async with: {}{}() gives it back on exit", ctx_.rule.resource,
                                a.async_with == "await" ? "what await gives from " : "", file_.text(fn));
      return std::nullopt;
    }
    // The handle's own with, where it closes and does nothing else, and the code only closes
    // it: a release function may do more (mailbox's _sync_close fsyncs first).
    if (ctx_.rule.acquirer_with_closes(a) && !a.with_commits && release.function.empty()) {
      form_ = std::string(file_.text(call_));
      fix_.target = fmt::format("the {}'s own with: {}() closes it on exit", ctx_.rule.resource, file_.text(fn));
      return std::nullopt;
    }
    const bool close_ok = close_releases(ctx_);
    if (!ctx_.targets) {
      if (!a.fix) return fmt::format("the rule names no managed form for {}()", file_.text(fn));
      if (!(release.method == "close" || (release.empty() && close_ok)))
        return fmt::format("it is given back by {}, which contextlib.closing() would not call", release.describe(name_));
      form_ = fmt::format("{}({})", closing_name(), file_.text(call_));
      fix_.target = "contextlib.closing(): the release is close()";
      return std::nullopt;
    }
    std::optional<LazyModuleFacts> own;
    if (!ctx_.facts) own.emplace(file_);
    // A discovered wrapper keeps the name the rule gives a context manager for its name.
    std::string_view rule_cm = a.context_manager;
    if (!a.discovered_from.empty()) {
      rule_cm = {};  // the wrapped acquirer's name is not the wrapper's
      for (const auto& other : ctx_.rule.acquirers) {
        if (other.discovered_from.empty() && !other.context_manager.empty() && last_segment(other.pattern) == last_segment(a.pattern))
          rule_cm = other.context_manager;
      }
    }
    const bool driver = library_acquirer(a);
    const Site site{ctx_.facts ? *ctx_.facts : *own, file_, ctx_.imports, call_, rule_cm, release, close_ok, name_, driver};
    auto target = ctx_.targets->resolve(site);
    if (auto* why = std::get_if<std::string>(&target)) return *why;
    const Target& t = std::get<Target>(target);
    if (t.kind == Target::Kind::Closing) {
      if (!a.fix) return fmt::format("the rule names no managed form for {}(), and the project has none", file_.text(fn));
      form_ = fmt::format("{}({})", closing_name(), file_.text(call_));
    } else {
      form_ = t.callee + args;
      if (t.import) {
        fix_.imports.push_back(*t.import);
        if (is(fn, "identifier")) fix_.maybe_unused.emplace_back(file_.text(fn));
      }
      if (t.creation) fix_.creates.push_back(*t.creation);
      // The release function's import goes too when nothing else uses it.
      if (!release.function.empty() && release.function.find('.') == std::string::npos) fix_.maybe_unused.push_back(release.function);
    }
    fix_.target = t.note;
    return std::nullopt;
  }

  std::string closing_name() { return python::closing_name(ctx_.imports, fix_); }

  // Whether the call passes `name=value` (as written).
  bool has_keyword(TSNode call, std::string_view name, std::string_view value) const {
    bool found = false;
    for (TSNode arg : code_children(field(call, "arguments"))) {
      if (is(arg, "keyword_argument") && file_.text(field(arg, "name")) == name && file_.text(field(arg, "value")) == value) found = true;
    }
    return found;
  }

  // ---- the edit -------------------------------------------------------------------------

  std::string new_indent(int r) const {
    const auto ws = std::string(leading_ws(line_text(r)));
    auto it = plan_.find(r);
    if (it == plan_.end() || it->second.act != LinePlan::Shift) return ws;
    return shifted(ws, it->second);
  }

  static std::string shifted(std::string_view line, const LinePlan& p) {
    std::string_view rest = line;
    if (rest.substr(0, p.strip.size()) == p.strip) {
      rest.remove_prefix(p.strip.size());
    } else {
      rest.remove_prefix(std::min(leading_ws(rest).size(), p.strip.size()));
    }
    return p.add + std::string(rest);
  }

  void set_rows(int from, int to, LinePlan p) {
    for (int r = from; r <= to; ++r) plan_[r] = p;
  }

  // Interior lines of multi-line strings are never touched.
  void keep_strings(TSNode from) {
    preorder(from, [&](TSNode n) {
      if (is(n, "string") && end_row(n) > row(n)) {
        for (int r = row(n) + 1; r <= end_row(n); ++r) plan_[r] = LinePlan{LinePlan::Keep, {}, {}, {}};
        return false;
      }
      return true;
    });
  }

  void delete_statement(TSNode s) { set_rows(row(s), end_row(s), LinePlan{LinePlan::Delete, {}, {}, {}}); }

  Outcome build() {
    unit_ = indent_unit();
    const std::string eol = src_.crlf() ? "\r\n" : "\n";
    const std::string header = fmt::format("{}with {} as {}:", ctx_.acquirer.async_with.empty() ? "" : "async ", form_, name_);
    const int first = ts_node_is_null(none_stmt_) ? row(stmt_) : row(none_stmt_);
    const int acq_row = row(stmt_);
    int last = end_row(stmts_[last_]);

    // Default: the statements after the acquisition move one step in.
    set_rows(acq_row, last, LinePlan{LinePlan::Shift, "", unit_, {}});
    const bool full_collapse = !ts_node_is_null(collapse_) && collapse_unwraps();
    if (!ts_node_is_null(collapse_)) {
      last = end_row(collapse_);
      if (!ts_node_is_null(none_stmt_)) delete_statement(none_stmt_);
      if (full_collapse) {
        // try: / finally: go; the body is already one step in, where the with's body belongs.
        set_rows(row(collapse_), row(collapse_), LinePlan{LinePlan::Delete, {}, {}, {}});
        set_rows(acq_row + 1, end_row(stmts_.back()), LinePlan{LinePlan::Keep, {}, {}, {}});
      } else {
        for (int r = acq_row + 1; r <= end_row(stmts_.back()); ++r) plan_[r] = LinePlan{LinePlan::Shift, "", unit_, {}};
        for (int r = end_row(stmts_.back()) + 1; r <= last; ++r) plan_[r] = LinePlan{LinePlan::Keep, {}, {}, {}};
      }
    }
    if (ctx_.edits) {
      for (std::size_t j = index_ + 1; j <= last_; ++j) keep_strings(stmts_[j]);
    }

    // Releases and finally clauses that only released.
    for (TSNode r : drops_) delete_statement(r);
    std::set<const void*> unwrapped;
    for (TSNode r : finally_drops_) {
      delete_statement(r);
      const TSNode fin = parent(parent(r));
      const TSNode t = parent(fin);
      if (unwrapped.contains(fin.id)) continue;
      unwrapped.insert(fin.id);
      bool only_releases = true;
      for (TSNode s : code_children(parent(r))) {
        if (std::none_of(finally_drops_.begin(), finally_drops_.end(), [&](TSNode d) { return same(d, s); })) only_releases = false;
      }
      if (!only_releases) continue;
      if (!alone_keyword(fin)) return fmt::format("the finally clause at line {} is not on lines of its own", file_.line(fin));
      set_rows(row(fin), end_row(fin), LinePlan{LinePlan::Delete, {}, {}, {}});
      if (same(t, collapse_)) continue;
      if (!has_handlers(t)) {
        // try: body finally: release  ->  body
        const TSNode body = field(t, "body");
        const auto kids = code_children(body);
        if (kids.empty() || row(kids.front()) == row(t)) return fmt::format("the try at line {} is on one line", file_.line(t));
        const std::string try_indent = new_indent(row(t));
        const std::string body_indent = indent_of(kids.front());
        set_rows(row(t), row(t), LinePlan{LinePlan::Delete, {}, {}, {}});
        for (int rr = row(kids.front()); rr <= end_row(body); ++rr) {
          auto it = plan_.find(rr);
          if (it != plan_.end() && it->second.act == LinePlan::Shift) it->second = LinePlan{LinePlan::Shift, body_indent, try_indent, {}};
        }
        if (ctx_.edits) keep_strings(body);
      }
    }
    empty_blocks();

    // The header replaces the acquisition statement.
    const auto& acq_line = line_text(acq_row);
    const auto stmt_col = ts_node_start_point(stmt_).column;
    std::string indent(acq_line.substr(0, stmt_col));
    if (full_collapse) indent = indent_of(collapse_);
    const auto last_acq = line_text(end_row(stmt_));
    const std::string tail(last_acq.substr(std::min<std::size_t>(ts_node_end_point(stmt_).column, last_acq.size())));
    std::string head = indent + header + tail;
    // A with needs a body: when nothing is left in it, `pass`.
    bool body_left = false;
    for (int r = end_row(stmt_) + 1; r <= last; ++r) {
      auto it = plan_.find(r);
      if (it != plan_.end() && it->second.act != LinePlan::Delete && !is_blank(line_text(r)) &&
          leading_ws(line_text(r)).size() < line_text(r).size() && line_text(r)[leading_ws(line_text(r)).size()] != '#') {
        body_left = true;
        break;
      }
    }
    if (!body_left) {
      head += eol + indent + unit_ + "pass";
    }
    plan_[acq_row] = LinePlan{LinePlan::Replace, {}, {}, head};
    for (int r = acq_row + 1; r <= end_row(stmt_); ++r) plan_[r] = LinePlan{LinePlan::Delete, {}, {}, {}};

    fix_.summary = header;
    if (!ctx_.edits) return std::move(fix_);
    // Render rows [first, last] as one edit.
    const auto text = src_.text();
    const std::uint32_t begin = src_.line_offset(first + 1);
    const std::uint32_t end = src_.line_offset(last + 2);
    std::string out;
    for (int r = first; r <= last; ++r) {
      const std::uint32_t ls = src_.line_offset(r + 1), le = src_.line_offset(r + 2);
      const auto whole = text.substr(ls, le - ls);
      const auto content = line_text(r);
      const auto ending = whole.substr(content.size());
      auto it = plan_.find(r);
      const LinePlan p = it == plan_.end() ? LinePlan{LinePlan::Keep, {}, {}, {}} : it->second;
      switch (p.act) {
        case LinePlan::Keep:
          out.append(whole);
          break;
        case LinePlan::Delete:
          break;
        case LinePlan::Replace:
          out += p.text;
          out.append(ending);
          break;
        case LinePlan::Shift:
          if (is_blank(content)) out.append(whole);
          else out += shifted(content, p), out.append(ending);
          break;
      }
    }
    fix_.edits.push_back(Edit{begin, end, std::move(out)});
    return std::move(fix_);
  }

  bool collapse_unwraps() const {
    if (has_handlers(collapse_)) return false;
    const TSNode fin = finally_of(collapse_);
    return code_children(last_block(fin)).size() == finally_drops_.size();
  }

  static bool has_handlers(TSNode t) {
    bool any = false;
    for_each_named_child(t, [&](TSNode c) {
      if (is(c, "except_clause") || is(c, "except_group_clause") || is(c, "else_clause")) any = true;
    });
    return any;
  }

  bool alone_keyword(TSNode clause) const {
    const auto kids = code_children(last_block(clause));
    return !kids.empty() && row(kids.front()) > row(clause) &&
           leading_ws(line_text(row(clause))).size() == ts_node_start_point(clause).column;
  }

  // A block whose statements were all deleted gets `pass` where its first one was.
  void empty_blocks() {
    std::set<const void*> seen;
    auto check = [&](TSNode r) {
      const TSNode list = parent(r);
      if (!is(list, "block") || seen.contains(list.id)) return;
      seen.insert(list.id);
      const TSNode owner = parent(list);
      if (auto it = plan_.find(row(owner)); is(owner, "finally_clause") && it != plan_.end() && it->second.act == LinePlan::Delete) return;
      const auto kids = code_children(list);
      const bool all_gone = std::all_of(kids.begin(), kids.end(), [&](TSNode k) {
        auto it = plan_.find(row(k));
        return it != plan_.end() && it->second.act == LinePlan::Delete;
      });
      if (!all_gone || kids.empty()) return;
      if (row(kids.front()) == row(owner)) return;
      plan_[row(kids.front())] = LinePlan{LinePlan::Replace, {}, {}, new_indent_for_deleted(kids.front()) + "pass"};
    };
    for (TSNode r : drops_) check(r);
    for (TSNode r : finally_drops_) check(r);
  }

  std::string new_indent_for_deleted(TSNode s) const {
    // Deleted rows have no plan to shift by: use the enclosing statement's new indent plus the
    // block's own step.
    const TSNode owner = parent(parent(s));
    const std::string outer_old = indent_of(owner), inner_old = indent_of(s);
    const std::string outer_new = new_indent(row(owner));
    return outer_new + inner_old.substr(std::min(outer_old.size(), inner_old.size()));
  }

  const ParsedFile& file_;
  const SourceFile& src_;
  TSNode call_;
  std::string name_;
  const RewriteContext& ctx_;
  std::string module_;

  TSNode stmt_{}, block_{}, scope_{}, collapse_{}, none_stmt_{}, rebind_{};
  std::vector<TSNode> stmts_;
  std::size_t index_ = 0, last_ = 0;
  std::vector<TSNode> drops_, finally_drops_, release_nodes_;
  std::string form_, unit_;
  bool awaited_ = false;  // `name = await call(...)`
  std::vector<std::string> tracked_, derived_;  // the handle's name and the names derived from it
  std::map<int, LinePlan> plan_;
  Fix fix_;
};

}  // namespace

std::set<std::string, std::less<>> top_level_functions(const ParsedFile& file) {
  std::set<std::string, std::less<>> out;
  for_each_named_child(file.root(), [&](TSNode s) {
    const TSNode d = is(s, "decorated_definition") ? field(s, "definition") : s;
    if (is(d, "function_definition")) out.emplace(file.text(field(d, "name")));
  });
  // Those not parsed are named too.
  for (const auto& name : file.skipped_functions()) out.insert(name);
  return out;
}

std::variant<Fix, std::string> plan_rewrite(const ParsedFile& file, TSNode call, std::string_view variable,
                                            const RewriteContext& ctx) {
  if (variable.empty()) return fmt::format("the {} is not held in a name", ctx.rule.resource);
  const Navigator nav(file);
  if (auto with = plan_with_item(file, call, variable, ctx)) return *with;
  return Rewriter(file, call, variable, ctx).run();
}

}  // namespace leakfix::python
