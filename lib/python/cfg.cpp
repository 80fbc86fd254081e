#include "python/cfg.h"

#include "python/callee.h"

#include <functional>
#include <memory>

namespace leakfix::python {

const std::vector<int>& Cfg::nodes_of(TSNode n) const {
  static const std::vector<int> none;
  auto it = by_ts.find(node_id(n));
  return it == by_ts.end() ? none : it->second;
}

bool may_raise(TSNode n) {
  bool raises = false;
  preorder(n, [&](TSNode c) {
    if (raises) return false;
    const auto t = type(c);
    if (t == "call" || t == "subscript" || t == "await" || t == "yield" || t == "assert_statement" ||
        t == "raise_statement") {
      raises = true;
      return false;
    }
    // Bodies of nested functions and lambdas do not run here.
    return !(t == "lambda" || t == "function_definition" || t == "class_definition" || t == "block");
  });
  return raises;
}

namespace {

constexpr int kMaxDepth = 150;
constexpr std::size_t kMaxNodes = 400000;

// A target built on first use: a finally body is only copied for the exits that reach it.
class Lazy {
 public:
  explicit Lazy(std::function<int()> make) : make_(std::move(make)) {}
  int get() {
    if (value_ < 0) value_ = make_();
    return value_;
  }

 private:
  std::function<int()> make_;
  int value_ = -1;
};
using Target = std::shared_ptr<Lazy>;

Target fixed(int node) {
  return std::make_shared<Lazy>([node] { return node; });
}

struct Targets {
  Target ret, brk, cont, raise;
};

bool is_noreturn_call(const ParsedFile& file, TSNode stmt) {
  if (!is(stmt, "expression_statement")) return false;
  const auto kids = code_children(stmt);
  if (kids.size() != 1 || !is(kids[0], "call")) return false;
  const auto fn = file.text(field(kids[0], "function"));
  return fn == "abort" || fn == "flask.abort" || fn == "sys.exit" || fn == "os._exit" || fn == "exit" ||
         fn == "quit";
}

bool is_truthy_literal(const ParsedFile& file, TSNode cond) {
  const auto c = unwrap(cond);
  if (is(c, "true")) return true;
  if (is(c, "integer")) return file.text(c) != "0";
  return false;
}

bool catches_everything(const ParsedFile& file, TSNode handler) {
  TSNode value = field(handler, "value");
  if (ts_node_is_null(value)) {
    // `except:` has no value; tree-sitter may also put the type as the first named child.
    for (auto c : code_children(handler)) {
      if (!is(c, "block")) { value = c; break; }
    }
  }
  if (ts_node_is_null(value)) return true;
  if (is(value, "as_pattern")) value = ts_node_named_child(value, 0);
  bool all = false;
  auto check = [&](TSNode t) {
    const auto s = file.text(t);
    if (s == "Exception" || s == "BaseException" || s == "builtins.Exception" || s == "builtins.BaseException") all = true;
  };
  value = unwrap(value);
  if (is(value, "tuple")) {
    for (auto c : code_children(value)) check(c);
  } else {
    check(value);
  }
  return all;
}

class Builder {
 public:
  Builder(const ParsedFile& file, Cfg& g) : file_(file), g_(g) {}

  int add(CfgKind kind, TSNode ts) {
    if (g_.nodes.size() >= kMaxNodes) throw CfgTooComplex{};
    CfgNode n;
    n.kind = kind;
    n.ts = ts;
    n.line = ts_node_is_null(ts) ? 0 : file_.line(ts);
    g_.nodes.push_back(std::move(n));
    const int id = static_cast<int>(g_.nodes.size()) - 1;
    if (!ts_node_is_null(ts) && kind != CfgKind::WithExit && kind != CfgKind::LoopBack && kind != CfgKind::Dispatch &&
        kind != CfgKind::Join) {
      g_.by_ts[node_id(ts)].push_back(id);
    }
    return id;
  }
  void edge(int from, int to, EdgeKind kind) { g_.nodes[static_cast<std::size_t>(from)].succ.push_back(Edge{to, kind}); }
  void raising(int node, TSNode expr, const Targets& t) {
    if (!ts_node_is_null(expr) && may_raise(expr)) {
      g_.nodes[static_cast<std::size_t>(node)].may_raise = true;
      edge(node, t.raise->get(), EdgeKind::Exception);
    }
  }

  int block(TSNode blk, int next, const Targets& t, int depth) {
    if (depth > kMaxDepth) throw CfgTooComplex{};
    if (ts_node_is_null(blk)) return next;
    auto stmts = code_children(blk);
    for (auto it = stmts.rbegin(); it != stmts.rend(); ++it) next = stmt(*it, next, t, depth + 1);
    return next;
  }

  int stmt(TSNode s, int next, const Targets& t, int depth) {
    const auto ty = type(s);
    if (ty == "if_statement") return if_stmt(s, next, t, depth);
    if (ty == "while_statement") return while_stmt(s, next, t, depth);
    if (ty == "for_statement") return for_stmt(s, next, t, depth);
    if (ty == "try_statement") return try_stmt(s, next, t, depth);
    if (ty == "with_statement") return with_stmt(s, next, t, depth);
    if (ty == "match_statement") return match_stmt(s, next, t, depth);
    if (ty == "return_statement") {
      const int n = add(CfgKind::Return, s);
      edge(n, t.ret->get(), EdgeKind::Normal);
      raising(n, s, t);
      return n;
    }
    if (ty == "raise_statement" || is_noreturn_call(file_, s)) {
      const int n = add(CfgKind::Raise, s);
      edge(n, t.raise->get(), EdgeKind::Explicit);
      return n;
    }
    if (ty == "break_statement") {
      const int n = add(CfgKind::Break, s);
      edge(n, t.brk->get(), EdgeKind::Normal);
      return n;
    }
    if (ty == "continue_statement") {
      const int n = add(CfgKind::Continue, s);
      edge(n, t.cont->get(), EdgeKind::Normal);
      return n;
    }
    const int n = add(CfgKind::Stmt, s);
    edge(n, next, EdgeKind::Normal);
    if (ty == "decorated_definition" || ty == "function_definition" || ty == "class_definition") {
      // Only decorators and defaults run when a def executes.
      TSNode def = ty == "decorated_definition" ? field(s, "definition") : s;
      bool raises = false;
      for (auto c : code_children(s)) {
        if (is(c, "decorator") && may_raise(c)) raises = true;
      }
      if (!ts_node_is_null(field(def, "parameters")) && may_raise(field(def, "parameters"))) raises = true;
      if (raises) {
        g_.nodes[static_cast<std::size_t>(n)].may_raise = true;
        edge(n, t.raise->get(), EdgeKind::Exception);
      }
    } else {
      raising(n, s, t);
    }
    return n;
  }

  int if_stmt(TSNode s, int next, const Targets& t, int depth) {
    // Build the else/elif chain from the end.
    std::vector<TSNode> elifs;
    TSNode else_body{};
    for (auto c : code_children(s)) {
      if (is(c, "elif_clause")) elifs.push_back(c);
      if (is(c, "else_clause")) else_body = field(c, "body");
    }
    int false_target = ts_node_is_null(else_body) ? next : block(else_body, next, t, depth);
    for (auto it = elifs.rbegin(); it != elifs.rend(); ++it) {
      false_target = cond(field(*it, "condition"), block(field(*it, "consequence"), next, t, depth), false_target, t);
    }
    return cond(field(s, "condition"), block(field(s, "consequence"), next, t, depth), false_target, t);
  }

  int cond(TSNode c, int on_true, int on_false, const Targets& t) {
    const int n = add(CfgKind::Cond, c);
    edge(n, on_true, EdgeKind::True);
    if (!is_truthy_literal(file_, c)) edge(n, on_false, EdgeKind::False);
    raising(n, c, t);
    return n;
  }

  struct LoopParts {
    int body;   // entry of the body
    int after;  // where the loop goes when it ends without break: the else clause, or next
  };

  // The body and else clause of a loop whose head is `head`: the end of the body and `continue`
  // go round again (through a LoopBack node), `break` leaves past the else clause.
  LoopParts loop_parts(TSNode s, int head, int next, const Targets& t, int depth) {
    const int back = add(CfgKind::LoopBack, s);
    edge(back, head, EdgeKind::Normal);
    TSNode else_body{};
    for (auto c : code_children(s)) {
      if (is(c, "else_clause")) else_body = field(c, "body");
    }
    const int after = ts_node_is_null(else_body) ? next : block(else_body, next, t, depth);
    const Targets inner{t.ret, fixed(next), fixed(back), t.raise};
    return LoopParts{block(field(s, "body"), back, inner, depth), after};
  }

  int while_stmt(TSNode s, int next, const Targets& t, int depth) {
    const TSNode condition = field(s, "condition");
    const int head = add(CfgKind::Cond, condition);
    const auto parts = loop_parts(s, head, next, t, depth);
    edge(head, parts.body, EdgeKind::True);
    if (!is_truthy_literal(file_, condition)) edge(head, parts.after, EdgeKind::False);
    raising(head, condition, t);
    return head;
  }

  int for_stmt(TSNode s, int next, const Targets& t, int depth) {
    const int head = add(CfgKind::LoopHead, s);
    const auto parts = loop_parts(s, head, next, t, depth);
    edge(head, parts.body, EdgeKind::Normal);
    edge(head, parts.after, EdgeKind::Normal);
    // Taking the next item runs the iterator's code.
    g_.nodes[static_cast<std::size_t>(head)].may_raise = true;
    edge(head, t.raise->get(), EdgeKind::Exception);
    return head;
  }

  // Wraps every exit of `t` so that it first runs `through(continuation)`.
  Targets wrap(const Targets& t, const std::function<int(int, bool)>& through) {
    Targets w;
    w.ret = std::make_shared<Lazy>([t, through] { return through(t.ret->get(), false); });
    w.brk = std::make_shared<Lazy>([t, through] { return through(t.brk->get(), false); });
    w.cont = std::make_shared<Lazy>([t, through] { return through(t.cont->get(), false); });
    w.raise = std::make_shared<Lazy>([t, through] { return through(t.raise->get(), true); });
    return w;
  }

  int try_stmt(TSNode s, int next, const Targets& t, int depth) {
    std::vector<TSNode> handlers;
    TSNode else_body{}, finally_body{};
    for (auto c : code_children(s)) {
      if (is(c, "except_clause") || is(c, "except_group_clause")) handlers.push_back(c);
      if (is(c, "else_clause")) else_body = field(c, "body");
      if (is(c, "finally_clause")) {
        for (auto b : code_children(c)) {
          if (is(b, "block")) finally_body = b;
        }
      }
    }
    // Every way out of the try statement passes through a copy of the finally body.
    auto through_finally = [this, finally_body, t, depth](int continuation, bool exceptional) {
      if (ts_node_is_null(finally_body)) return continuation;
      int cont = continuation;
      if (exceptional) {
        cont = add(CfgKind::Join, TSNode{});
        edge(cont, continuation, EdgeKind::Propagate);
      }
      return block(finally_body, cont, t, depth);
    };
    const Targets after_try = wrap(t, through_finally);
    const int normal_exit = through_finally(next, false);

    const int after_body = ts_node_is_null(else_body) ? normal_exit : block(else_body, normal_exit, after_try, depth);
    Targets body_targets = after_try;
    if (!handlers.empty()) {
      const int dispatch = add(CfgKind::Dispatch, s);
      bool caught_all = false;
      for (auto h : handlers) {
        TSNode hbody{};
        for (auto c : code_children(h)) {
          if (is(c, "block")) hbody = c;
        }
        const int entry = block(hbody, normal_exit, after_try, depth);
        edge(dispatch, entry, EdgeKind::Normal);
        if (catches_everything(file_, h)) caught_all = true;
      }
      if (!caught_all) edge(dispatch, after_try.raise->get(), EdgeKind::Propagate);
      body_targets.raise = fixed(dispatch);
    }
    return block(field(s, "body"), after_body, body_targets, depth);
  }

  int with_stmt(TSNode s, int next, const Targets& t, int depth) {
    const int enter = add(CfgKind::WithEnter, s);
    auto through_exit = [this, s](int continuation, bool exceptional) {
      const int n = add(CfgKind::WithExit, s);
      edge(n, continuation, exceptional ? EdgeKind::Propagate : EdgeKind::Normal);
      return n;
    };
    const Targets inner = wrap(t, through_exit);
    const int body = block(field(s, "body"), through_exit(next, false), inner, depth);
    edge(enter, body, EdgeKind::Normal);
    TSNode clause{};
    for (auto c : code_children(s)) {
      if (is(c, "with_clause")) clause = c;
    }
    // Evaluating the items may raise; `with conn:` and `with closing(conn):` are taken not to.
    bool raises = false;
    for (auto item : code_children(clause)) {
      TSNode value = field(item, "value");
      if (is(value, "as_pattern")) value = ts_node_named_child(value, 0);
      value = unwrap(value);
      if (is(value, "identifier")) continue;
      if (is(value, "call") && code_children(field(value, "arguments")).size() == 1 &&
          is(unwrap(code_children(field(value, "arguments"))[0]), "identifier")) {
        const auto fn = file_.text(field(value, "function"));
        if (is_closing_text(fn)) continue;
      }
      if (may_raise(value)) raises = true;
    }
    if (raises) {
      g_.nodes[static_cast<std::size_t>(enter)].may_raise = true;
      edge(enter, t.raise->get(), EdgeKind::Exception);
    }
    return enter;
  }

  int match_stmt(TSNode s, int next, const Targets& t, int depth) {
    const int head = add(CfgKind::Stmt, field(s, "subject"));
    raising(head, field(s, "subject"), t);
    bool irrefutable = false;
    TSNode body = field(s, "body");
    for (auto c : code_children(body)) {
      if (!is(c, "case_clause")) continue;
      const int blk = block(field(c, "consequence"), next, t, depth);
      const TSNode guard = field(c, "guard");
      int entry = blk;
      if (!ts_node_is_null(guard)) {
        entry = cond(guard, blk, next, t);
      } else {
        // `case _:` and a bare capture pattern match everything.
        for (auto p : code_children(c)) {
          if (is(p, "case_pattern")) {
            const auto text = file_.text(p);
            const bool simple_name = !text.empty() && text.find_first_of(".([{|'\"0123456789") == std::string_view::npos;
            if (text == "_" || simple_name) irrefutable = true;
          }
        }
      }
      edge(head, entry, EdgeKind::Normal);
    }
    if (!irrefutable) edge(head, next, EdgeKind::Normal);
    return head;
  }

 private:
  const ParsedFile& file_;
  Cfg& g_;
};

}  // namespace

Cfg build_cfg(const ParsedFile& file, TSNode scope) {
  Cfg g;
  g.scope = scope;
  Builder b(file, g);
  g.entry = b.add(CfgKind::Entry, TSNode{});
  g.exit_normal = b.add(CfgKind::ExitNormal, TSNode{});
  g.exit_raise = b.add(CfgKind::ExitRaise, TSNode{});
  const Targets top{fixed(g.exit_normal), fixed(g.exit_normal), fixed(g.exit_normal), fixed(g.exit_raise)};
  int first = g.exit_normal;
  const auto t = type(scope);
  if (t == "module") {
    first = b.block(scope, g.exit_normal, top, 0);
  } else if (t == "function_definition" || t == "class_definition") {
    first = b.block(field(scope, "body"), g.exit_normal, top, 0);
  }
  b.edge(g.entry, first, EdgeKind::Normal);
  return g;
}

}  // namespace leakfix::python
