#include "python/events.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace leakfix::python {

int ScopeFacts::intern(std::string_view name) {
  if (auto it = index.find(name); it != index.end()) return it->second;
  if (static_cast<int>(names.size()) >= kMaxNames) return -1;
  names.emplace_back(name);
  const int id = static_cast<int>(names.size()) - 1;
  index.emplace(std::string(name), id);
  return id;
}

int ScopeFacts::find(std::string_view name) const {
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

namespace {



std::vector<TSNode> call_args(TSNode call) {
  std::vector<TSNode> out;
  const TSNode args = field(call, "arguments");
  if (ts_node_is_null(args)) return out;
  for (auto a : code_children(args)) out.push_back(a);
  return out;
}

TSNode positional(TSNode call, int index) {
  int i = 0;
  for (auto a : call_args(call)) {
    if (is(a, "keyword_argument") || is(a, "dictionary_splat")) continue;
    if (i++ == index) return a;
  }
  return TSNode{};
}

const std::set<std::string_view>& thread_calls() {
  static const std::set<std::string_view> s = {"Thread", "Process", "Timer", "submit", "run_in_executor",
                                               "apply_async", "start_new_thread", "map_async", "start_soon"};
  return s;
}

const std::set<std::string_view>& container_calls() {
  static const std::set<std::string_view> s = {"append", "appendleft", "add", "extend", "insert", "put",
                                               "put_nowait", "setdefault"};
  return s;
}

class Extractor {
 public:
  Extractor(const EventContext& ctx, const Cfg& cfg, ScopeFacts& facts)
      : ctx_(ctx), cfg_(cfg), f_(facts), acq_index_(ctx.acquisition_index), outline_(ctx.outline) {}

  void run() {
    class_name_ = std::string(is(cfg_.scope, "class_definition") ? file().text(field(cfg_.scope, "name"))
                                                                   : enclosing_class(file(), cfg_.scope));
    site_ = CallSite{ctx_.module, class_name_};
    prepass();
    f_.events.resize(cfg_.nodes.size());
    struct Resolve {
      Extractor& x;
      ~Resolve() { x.resolve_captures(); }
    } resolve{*this};
    f_.release_only.assign(cfg_.nodes.size(), false);
    for (std::size_t i = 0; i < cfg_.nodes.size(); ++i) {
      out_ = &f_.events[i];
      const auto& n = cfg_.nodes[i];
      switch (n.kind) {
        case CfgKind::Stmt:
          statement(n.ts);
          f_.release_only[i] = is(n.ts, "expression_statement") && code_children(n.ts).size() == 1 &&
                               is(code_children(n.ts)[0], "call") && !out_->empty() &&
                               std::all_of(out_->begin(), out_->end(), [](const Event& e) {
                                 return e.kind == EventKind::Release || e.kind == EventKind::WithExit;
                               });
          break;
        case CfgKind::Cond:
          expr(n.ts);
          guard(static_cast<int>(i), n.ts);
          test(static_cast<int>(i), n.ts);
          break;
        case CfgKind::Return: returned(n.ts); break;
        case CfgKind::Raise: expr(n.ts); break;
        case CfgKind::LoopHead:
          expr(field(n.ts, "right"));
          bind(field(n.ts, "left"), TSNode{}, n.line);
          break;
        case CfgKind::WithEnter: with_enter(n.ts); break;
        case CfgKind::WithExit: with_exit(n.ts, n.line); break;
        default: break;
      }
    }
    finish_tests();
  }

 private:
  const ParsedFile& file() const { return ctx_.file; }
  int line(TSNode n) const { return file().line(n); }

  void emit(Event e) { out_->push_back(std::move(e)); }

  int name_of(TSNode ident) { return f_.intern(file().text(ident)); }

  // Parameters first, so that they have the lowest indices; what the scope declares comes from
  // its outline (one walk of the body, shared with the analyzer).
  void prepass() {
    const TSNode scope = cfg_.scope;
    const auto st = type(scope);
    f_.module_like = st == "module" || st == "class_definition";
    if (st == "function_definition") {
      if (outline_.context_manager()) f_.context_manager = true;
      preorder(field(scope, "parameters"), [&](TSNode n) {
        if (is(n, "identifier")) f_.intern(file().text(n));
        return !is(n, "type");
      });
    }
  }

  // Captured names are resolved once every binding of the scope has been seen: the CFG nodes
  // are not visited in source order.
  void resolve_captures() {
    for (const auto& [node, index, body] : pending_captures_) {
      f_.events[static_cast<std::size_t>(node)][index].captured = free_names(body);
    }
  }

  // The operator of a comparison of two operands (`==`, `!=`, `is`, `isnot`, ...), as written
  // between them, blanks and brackets left out; empty for a chained comparison.
  std::string comparison_operator(TSNode c, TSNode* left, TSNode* right) const {
    const auto kids = code_children(c);
    if (kids.size() != 2) return {};
    *left = unwrap(kids[0]);
    *right = unwrap(kids[1]);
    std::string op;
    for (char ch : file().source().text().substr(ts_node_end_byte(kids[0]), ts_node_start_byte(kids[1]) - ts_node_end_byte(kids[0]))) {
      if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\\' && ch != '(' && ch != ')') op += ch;
    }
    return op;
  }

  // `if conn:`, `if not conn:`, `if conn is None:`, `if conn is not None:`, `if conn != None:`,
  // `if conn is not sys.stdout:`
  void guard(int node, TSNode cond) {
    TSNode c = unwrap(cond);
    if (is(c, "named_expression")) c = field(c, "name");
    bool truthy = true;
    if (is(c, "not_operator")) {
      truthy = false;
      c = unwrap(field(c, "argument"));
    }
    if (is(c, "identifier")) {
      f_.guards[node] = ScopeFacts::Guard{name_of(c), truthy, true};
      return;
    }
    // `if not f.closed: f.close()`: an open handle is not closed.
    if (is(c, "attribute") && is(field(c, "object"), "identifier") && file().text(field(c, "attribute")) == "closed") {
      f_.guards[node] = ScopeFacts::Guard{name_of(field(c, "object")), !truthy, false};
      return;
    }
    if (!is(c, "comparison_operator")) return;
    TSNode a{}, b{};
    const auto op = comparison_operator(c, &a, &b);
    if (is(a, "none") || is(a, "attribute")) std::swap(a, b);
    if (!is(a, "identifier")) return;
    const bool negated = op == "isnot" || op == "!=";
    // `if f is not sys.stdin.buffer: f.close()`: a handle just acquired is no object that an
    // attribute already held, so the identity is decided while the name holds it.
    if (is(b, "attribute") && (op == "is" || op == "isnot")) {
      f_.guards[node] = ScopeFacts::Guard{name_of(a), negated == truthy, false};
      return;
    }
    if (!is(b, "none") || !(negated || op == "is" || op == "==")) return;
    f_.guards[node] = ScopeFacts::Guard{name_of(a), negated == truthy, false};
  }

  // A test written once decides nothing later on a path (but where the acquisition sits under
  // it, which test_of keeps): remembering its outcome would only split the paths followed.
  // Copies of one condition (a finally block copied per way out) count once.
  void finish_tests() {
    std::vector<int> written(f_.test_texts.size(), 0);
    for (const auto& [cond, test] : f_.test_of) ++written[static_cast<std::size_t>(test.key)];
    std::erase_if(f_.tests, [&](const auto& entry) { return written[static_cast<std::size_t>(entry.second.key)] < 2; });
    for (std::size_t k = 0; k < f_.test_names.size(); ++k) f_.tests_of_name[f_.test_names[k]].set(k);
  }

  // See ScopeFacts::Test.
  void test(int node, TSNode cond) {
    TSNode c = unwrap(cond);
    bool negated = false;
    if (is(c, "not_operator")) {
      negated = true;
      c = unwrap(field(c, "argument"));
    }
    TSNode name{};
    std::string constant;
    bool equal = true;
    if (is(c, "identifier")) {
      name = c;
    } else if (is(c, "comparison_operator")) {
      TSNode a{}, b{};
      const auto op = comparison_operator(c, &a, &b);
      auto constant_node = [](TSNode n) {
        return is(n, "string") || is(n, "integer") || is(n, "float") || is(n, "none") || is(n, "true") || is(n, "false");
      };
      if (constant_node(a)) std::swap(a, b);
      if (!is(a, "identifier") || !constant_node(b)) return;
      if (op == "==" || op == "is") equal = true;
      else if (op == "!=" || op == "isnot") equal = false;
      else return;
      if (is(b, "string") && file().text(b).find('{') != std::string_view::npos) return;  // an f-string
      constant = std::string(file().text(b));
      name = a;
    } else {
      return;
    }
    const auto text = file().text(name);
    const int name_id = name_of(name);
    if (name_id < 0 || outline_.globals.contains(text)) return;
    const std::string key_text = fmt::format("{} == {}", text, constant);
    auto it = std::find(f_.test_texts.begin(), f_.test_texts.end(), key_text);
    int key = static_cast<int>(it - f_.test_texts.begin());
    if (it == f_.test_texts.end()) {
      if (f_.test_texts.size() >= ScopeFacts::kMaxTests) return;
      f_.test_texts.push_back(key_text);
      f_.test_names.push_back(name_id);
    }
    const ScopeFacts::Test test{key, equal != negated};
    f_.tests[node] = test;
    f_.test_of[node_id(cond)] = test;
  }

  bool is_nested_def(std::string_view name) const { return outline_.nested_defs.contains(name); }

  void statement(TSNode s) {
    const auto t = type(s);
    if (t == "expression_statement") {
      for (auto c : code_children(s)) {
        if (is(c, "assignment")) assignment(c);
        else if (is(c, "augmented_assignment")) {
          expr(field(c, "right"));
          bind(field(c, "left"), TSNode{}, line(c));
        } else expr(c);
      }
    } else if (t == "delete_statement") {
      preorder(s, [&](TSNode n) {
        if (is(n, "identifier")) emit(Event{EventKind::Del, name_of(n), -1, -1, false, false, false, {}, {}, {}, line(n)});
        return is(n, "delete_statement") || is(n, "expression_list") || is(n, "tuple") || is(n, "parenthesized_expression");
      });
    } else if (t == "function_definition" || t == "decorated_definition") {
      nested_def(s);
    } else if (t == "class_definition") {
      bind(field(s, "name"), TSNode{}, line(s));
    } else if (t == "global_statement" || t == "nonlocal_statement" || t == "import_statement" ||
               t == "import_from_statement" || t == "pass_statement") {
      // nothing for handles
    } else {
      expr(s);
    }
  }

  void assignment(TSNode a) {
    // a = b = value: every target gets the innermost value.
    std::vector<TSNode> targets{field(a, "left")};
    TSNode right = field(a, "right");
    while (is(right, "assignment")) {
      targets.push_back(field(right, "left"));
      right = field(right, "right");
    }
    if (ts_node_is_null(right)) return;  // annotation only
    expr(right);
    for (auto t : targets) bind(t, right, line(a));
  }

  // What a value holds, as far as handles go.
  struct Source {
    enum { Other, Acquire, Alias } what = Other;
    int acquisition = -1;
    int alias = -1;
  };

  Source source_of(TSNode value) {
    TSNode v = unwrap(value);
    if (ts_node_is_null(v)) return {};
    if (is(v, "identifier")) return {Source::Alias, -1, name_of(v)};
    if (is(v, "conditional_expression")) {
      // `conn if ok else None`
      const auto kids = code_children(v);
      for (std::size_t i = 0; i < kids.size(); i += 2) {
        auto s = source_of(kids[i]);
        if (s.what != Source::Other) return s;
      }
      return {};
    }
    if (is(v, "call")) {
      if (auto it = acq_index_.find(node_id(v)); it != acq_index_.end()) return {Source::Acquire, it->second, -1};
      const auto callee = callee_of(file(), ctx_.imports, v);
      if (is_closing(callee)) return source_of(positional(v, 0));
      if (is_constructor(file().text(field(v, "function")))) {
        std::vector<TSNode> names;
        for (auto a : call_args(v)) value_names(file(), is(a, "keyword_argument") ? field(a, "value") : a, names);
        for (auto n : names) {
          if (is(n, "identifier")) return {Source::Alias, -1, name_of(n)};
        }
      }
    }
    return {};
  }

  void escape_values(TSNode value, EscapeWhy why, std::string detail, int at) {
    std::vector<TSNode> names;
    value_names(file(), value, names);
    for (auto n : names) {
      if (is(n, "identifier")) emit(Event{EventKind::Escape, name_of(n), -1, -1, false, false, false, why, {}, detail, at});
    }
  }

  void bind(TSNode target, TSNode value, int at) {
    if (ts_node_is_null(target)) return;
    const auto t = type(target);
    if (t == "identifier") {
      const int name = name_of(target);
      const auto src = ts_node_is_null(value) ? Source{} : source_of(value);
      if (outline_.globals.contains(file().text(target)) && src.what == Source::Alias) {
        emit(Event{EventKind::Escape, src.alias, -1, -1, false, false, false, EscapeWhy::Global, {},
                   std::string(file().text(target)), at});
      }
      const TSNode literal = ts_node_is_null(value) ? value : unwrap(value);
      if (is(literal, "true") || is(literal, "false")) {
        Event e{EventKind::BindFlag, name, -1, -1, false, false, false, {}, {}, {}, at};
        e.flag = is(literal, "true");
        emit(std::move(e));
      } else if (src.what == Source::Acquire) {
        emit(Event{EventKind::Acquire, name, -1, src.acquisition, false, false, false, {}, {}, {}, at});
      } else if (src.what == Source::Alias) {
        emit(Event{EventKind::BindAlias, name, src.alias, -1, false, false, false, {}, {}, {}, at});
      } else {
        emit(Event{EventKind::BindOther, name, -1, -1, false, false, false, {}, {}, {}, at});
      }
      return;
    }
    if (t == "attribute") {
      if (ts_node_is_null(value)) return;
      const auto object = file().text(field(target, "object"));
      const bool on_g = object == "g" || object == "flask.g";
      escape_values(value, on_g ? EscapeWhy::StoredOnG : EscapeWhy::Stored, std::string(file().text(target)), at);
      return;
    }
    if (t == "subscript") {
      if (!ts_node_is_null(value)) escape_values(value, EscapeWhy::Container, std::string(file().text(target)), at);
      return;
    }
    if (t == "pattern_list" || t == "tuple_pattern" || t == "list_pattern" || t == "tuple" || t == "list" ||
        t == "parenthesized_expression" || t == "expression_list") {
      const auto targets = code_children(target);
      const TSNode v = ts_node_is_null(value) ? value : unwrap(value);
      const bool pairwise = !ts_node_is_null(v) && (is(v, "expression_list") || is(v, "tuple") || is(v, "list")) &&
                            code_children(v).size() == targets.size();
      const auto values = pairwise ? code_children(v) : std::vector<TSNode>{};
      for (std::size_t i = 0; i < targets.size(); ++i) bind(targets[i], pairwise ? values[i] : TSNode{}, at);
      return;
    }
    if (t == "list_splat_pattern" || t == "list_splat") {
      for (auto c : code_children(target)) bind(c, TSNode{}, at);
    }
  }

  void returned(TSNode ret) {
    const auto kids = code_children(ret);
    if (kids.empty()) return;
    expr(kids[0]);
    // Returned as it is, or inside an object that takes it over, the function hands out the
    // handle (a wrapper); inside a tuple or a list, something `with` cannot take.
    TSNode v = unwrap(kids[0]);
    while (is(v, "conditional_expression")) v = unwrap(code_children(v)[0]);
    const bool as_is = !(is(v, "tuple") || is(v, "list") || is(v, "set") || is(v, "dictionary") || is(v, "expression_list"));
    escape_values(kids[0], as_is ? EscapeWhy::Returned : EscapeWhy::Container, as_is ? "" : "return", line(ret));
  }

  void with_enter(TSNode w) {
    for (auto clause : code_children(w)) {
      if (!is(clause, "with_clause")) continue;
      for (auto item : code_children(clause)) {
        TSNode value = field(item, "value");
        if (is(value, "as_pattern")) {
          const TSNode inner = ts_node_named_child(value, 0);
          expr(inner);
          TSNode alias = field(value, "alias");
          if (!ts_node_is_null(alias) && ts_node_named_child_count(alias) > 0) alias = ts_node_named_child(alias, 0);
          bind(alias, inner, line(item));
        } else {
          expr(value);
        }
      }
    }
  }

  void with_exit(TSNode w, int at) {
    for (auto clause : code_children(w)) {
      if (!is(clause, "with_clause")) continue;
      for (auto item : code_children(clause)) {
        TSNode value = field(item, "value");
        if (is(value, "as_pattern")) value = ts_node_named_child(value, 0);
        value = unwrap(value);
        if (is(value, "identifier")) {
          emit(Event{EventKind::WithExit, name_of(value), -1, -1, true, false, false, {}, {}, {}, at});
        } else if (is(value, "call") && is_closing(callee_of(file(), ctx_.imports, value))) {
          const TSNode arg = unwrap(positional(value, 0));
          if (is(arg, "identifier")) {
            emit(Event{EventKind::WithExit, name_of(arg), -1, -1, true, true, false, {}, {}, {}, at});
          }
        }
      }
    }
  }

  // The next event emitted captures the names of `body`, resolved at the end.
  void defer_captures(TSNode body) {
    const int node = static_cast<int>(out_ - f_.events.data());
    pending_captures_.emplace_back(node, out_->size(), body);
  }

  NameSet free_names(TSNode body) {
    NameSet s;
    preorder(body, [&](TSNode n) {
      if (is(n, "identifier")) {
        const int id = f_.find(file().text(n));
        if (id >= 0) s.set(static_cast<std::size_t>(id));
      }
      return true;
    });
    return s;
  }

  bool releases_in(TSNode body, NameSet& released) {
    bool any = false;
    preorder(body, [&](TSNode n) {
      if (is(n, "call")) {
        const TSNode fn = field(n, "function");
        if (is(fn, "attribute") && is(field(fn, "object"), "identifier")) {
          const auto method = file().text(field(fn, "attribute"));
          if (std::find(ctx_.release_methods.begin(), ctx_.release_methods.end(), method) != ctx_.release_methods.end()) {
            const int id = f_.find(file().text(field(fn, "object")));
            if (id >= 0) { released.set(static_cast<std::size_t>(id)); any = true; }
          }
        }
      }
      return true;
    });
    return any;
  }

  void nested_def(TSNode s) {
    TSNode def = is(s, "decorated_definition") ? field(s, "definition") : s;
    std::vector<std::string> decorators;
    for (auto c : code_children(s)) {
      if (is(c, "decorator")) {
        expr(c);
        decorators.emplace_back(file().text(c));
      }
    }
    if (!is(def, "function_definition")) {
      bind(field(def, "name"), TSNode{}, line(s));
      return;
    }
    const TSNode body = field(def, "body");
    // Captured names must be known to this scope; intern the ones bound before use.
    const int name = name_of(field(def, "name"));
    if (!decorators.empty()) {
      defer_captures(body);
      emit(Event{EventKind::CaptureEscape, name, -1, -1, false, false, false, EscapeWhy::Callback, {}, decorators.front(),
                 line(s)});
    }
    bool generator = false;
    preorder(body, [&](TSNode n) {
      if (is(n, "yield")) generator = true;
      return !(is(n, "function_definition") || is(n, "lambda") || is(n, "class_definition"));
    });
    if (name >= 0) {
      f_.closure_is_generator[name] = generator;
      NameSet released;
      if (releases_in(body, released)) f_.closure_releases[name] = released;
    }
    defer_captures(body);
    emit(Event{EventKind::BindClosure, name, -1, -1, false, false, false, {}, {}, {}, line(s)});
  }

  void call(TSNode c) {
    const TSNode fn = field(c, "function");
    // A plain name goes through the imports (it may be an alias); a method's name is as written.
    const bool bare = is(fn, "identifier");
    std::optional<Callee> resolved;
    if (bare) resolved = callee_of(file(), ctx_.imports, c);
    const std::string_view last = bare ? resolved->last()
                                  : is(fn, "attribute") ? file().text(field(fn, "attribute")) : std::string_view();
    if (last.empty()) return;
    const int at = line(c);
    const auto args = call_args(c);
    // handle.close()
    if (is(fn, "attribute") && is(field(fn, "object"), "identifier") &&
        std::find(ctx_.release_methods.begin(), ctx_.release_methods.end(), last) != ctx_.release_methods.end()) {
      emit(Event{EventKind::Release, name_of(field(fn, "object")), -1, -1, false, false, false, {}, {}, {}, at});
    }
    // release(handle)
    for (const auto& r : ctx_.release_functions) {
      if (last_segment(r.pattern) != last) continue;
      if (!resolved) resolved = callee_of(file(), ctx_.imports, c);
      if (!matches(r.pattern, r.module, r.owner_class, *resolved, site_)) continue;
      const TSNode arg = unwrap(positional(c, r.argument));
      if (is(arg, "identifier")) emit(Event{EventKind::Release, name_of(arg), -1, -1, false, false, false, {}, {}, {}, at});
    }
    if (is_enter_context(last) && exit_stack_open(file(), c)) {
      const TSNode arg = unwrap(positional(c, 0));
      if (is(arg, "identifier")) {
        emit(Event{EventKind::WithExit, name_of(arg), -1, -1, true, false, false, {}, {}, {}, at});
      } else if (is(arg, "call") && is_closing(callee_of(file(), ctx_.imports, arg))) {
        const TSNode inner = unwrap(positional(arg, 0));
        if (is(inner, "identifier")) emit(Event{EventKind::Release, name_of(inner), -1, -1, true, false, false, {}, {}, {}, at});
      }
    }
    // Bound close methods handed to someone else: ExitStack.callback/push close it for us,
    // anything else (call_on_close, atexit.register, weakref.finalize) defers the close.
    for (auto a : args) {
      const TSNode v = unwrap(is(a, "keyword_argument") ? field(a, "value") : a);
      if (!is(v, "attribute") || !is(field(v, "object"), "identifier")) continue;
      const auto method = file().text(field(v, "attribute"));
      if (std::find(ctx_.release_methods.begin(), ctx_.release_methods.end(), method) == ctx_.release_methods.end()) continue;
      const int handle = name_of(field(v, "object"));
      // ExitStack.callback/push and unittest's addCleanup run it when the block or test ends.
      if ((last == "callback" || last == "push") && !exit_stack_open(file(), c)) continue;
      if (last == "callback" || last == "push" || last == "addCleanup" || last == "addAsyncCleanup") {
        emit(Event{EventKind::Release, handle, -1, -1, true, false, false, {}, {}, {}, at});
      } else {
        emit(Event{EventKind::Escape, handle, -1, -1, false, false, false, EscapeWhy::Callback, {},
                   std::string(file().text(fn)), at});
      }
    }
    // self.initfp(f), where initfp keeps its parameter on the object (`self._file = file`): the
    // object owns the handle from here, as if it had been stored in this function.
    if (is(fn, "attribute") && is(field(fn, "object"), "identifier") && file().text(field(fn, "object")) == "self") {
      for (const auto& [index, attribute] : stored_parameters(last)) {
        const TSNode arg = unwrap(positional(c, index));
        if (is(arg, "identifier")) {
          emit(Event{EventKind::Escape, name_of(arg), -1, -1, false, false, false, EscapeWhy::Stored, {}, attribute, at});
        }
      }
    }
    const bool thread = thread_calls().contains(last);
    const bool container = !bare && container_calls().contains(last);
    const bool set_attr = bare && last == "setattr";
    if (thread || container || set_attr) {
      const auto why = thread ? EscapeWhy::Thread : set_attr ? EscapeWhy::Stored : EscapeWhy::Container;
      for (auto a : args) {
        const TSNode v = is(a, "keyword_argument") ? field(a, "value") : a;
        escape_values(v, why, std::string(file().text(fn)), at);
      }
    }
    if (is(fn, "identifier") && is_nested_def(file().text(fn))) {
      emit(Event{EventKind::ClosureUse, name_of(fn), -1, -1, false, false, true, {}, {}, {}, at});
    }
  }

  // For a method of the class around this scope: the parameters (by position after `self`) that
  // its body stores on the object as they are (`self._file = file`), with the attribute.
  const std::vector<std::pair<int, std::string>>& stored_parameters(std::string_view method) {
    const auto emplaced = stored_parameters_.try_emplace(std::string(method));
    const auto it = emplaced.first;  // not a structured binding: the lambda below captures it
    if (!emplaced.second) return it->second;
    TSNode cls = file().parent(cfg_.scope);
    if (is(cls, "decorated_definition")) cls = file().parent(cls);
    cls = file().parent(cls);
    if (!is(cls, "class_definition")) return it->second;
    for (TSNode member : code_children(field(cls, "body"))) {
      const TSNode def = is(member, "decorated_definition") ? field(member, "definition") : member;
      if (!is(def, "function_definition") || file().text(field(def, "name")) != method) continue;
      std::vector<std::string_view> params;
      for (TSNode p : code_children(field(def, "parameters"))) {
        const TSNode id = is(p, "identifier") ? p : is(p, "default_parameter") || is(p, "typed_default_parameter") ? field(p, "name")
                          : is(p, "typed_parameter") ? ts_node_named_child(p, 0) : TSNode{};
        params.push_back(is(id, "identifier") ? file().text(id) : std::string_view());
      }
      preorder(field(def, "body"), [&](TSNode n) {
        if (is(n, "function_definition") || is(n, "lambda") || is(n, "class_definition")) return false;
        if (!is(n, "assignment")) return true;
        const TSNode left = field(n, "left"), right = unwrap(field(n, "right"));
        if (!is(left, "attribute") || file().text(field(left, "object")) != "self" || !is(right, "identifier")) return true;
        for (std::size_t i = 1; i < params.size(); ++i) {
          if (!params[i].empty() && params[i] == file().text(right)) {
            it->second.emplace_back(static_cast<int>(i - 1), std::string(file().text(left)));
          }
        }
        return true;
      });
      break;
    }
    return it->second;
  }

  void expr(TSNode e) {
    if (ts_node_is_null(e)) return;
    preorder(e, [&](TSNode n) {
      const auto t = type(n);
      if (t == "call") {
        call(n);
        return true;
      }
      if (t == "named_expression") {
        expr(field(n, "value"));
        bind(field(n, "name"), field(n, "value"), line(n));
        return false;
      }
      if (t == "assignment") {
        assignment(n);
        return false;
      }
      if (t == "lambda") {
        const TSNode parent = file().parent(n);
        const bool key = is(parent, "keyword_argument") && file().text(field(parent, "name")) == "key";
        if (!key) {
          defer_captures(field(n, "body"));
          emit(Event{EventKind::CaptureEscape, -1, -1, -1, false, false, false, EscapeWhy::Callback, {}, "a lambda",
                     line(n)});
        }
        return false;
      }
      if (t == "yield") {
        if (!f_.context_manager) {
          for (auto c : code_children(n)) escape_values(c, EscapeWhy::Yielded, "", line(n));
        }
        return true;
      }
      if (t == "identifier" && is_nested_def(file().text(n))) {
        const TSNode parent = file().parent(n);
        const bool callee = is(parent, "call") && same(field(parent, "function"), n);
        const bool attr_name = is(parent, "attribute") && same(field(parent, "attribute"), n);
        if (!callee && !attr_name) emit(Event{EventKind::ClosureUse, name_of(n), -1, -1, false, false, false, {}, {}, {}, line(n)});
        return false;
      }
      return !(t == "function_definition" || t == "class_definition");
    });
  }

  const EventContext& ctx_;
  const Cfg& cfg_;
  ScopeFacts& f_;
  std::vector<Event>* out_ = nullptr;
  const std::unordered_map<const void*, int>& acq_index_;
  const ScopeOutline& outline_;
  std::vector<std::tuple<int, std::size_t, TSNode>> pending_captures_;  // node, event index, body
  std::string class_name_;
  std::map<std::string, std::vector<std::pair<int, std::string>>, std::less<>> stored_parameters_;
  CallSite site_;
};

}  // namespace

void value_names(const ParsedFile& file, TSNode expr, std::vector<TSNode>& out) {
  std::vector<TSNode> stack{expr};
  while (!stack.empty()) {
    TSNode n = unwrap(stack.back());
    stack.pop_back();
    if (ts_node_is_null(n)) continue;
    const auto t = type(n);
    if (t == "identifier") {
      out.push_back(n);
    } else if (t == "tuple" || t == "list" || t == "set" || t == "expression_list" || t == "list_splat" ||
               t == "dictionary_splat" || t == "pair") {
      for (auto c : code_children(n)) stack.push_back(c);
    } else if (t == "dictionary") {
      for (auto c : code_children(n)) stack.push_back(is(c, "pair") ? field(c, "value") : c);
    } else if (t == "conditional_expression") {
      const auto kids = code_children(n);
      for (std::size_t i = 0; i < kids.size(); i += 2) stack.push_back(kids[i]);
    } else if (t == "keyword_argument") {
      stack.push_back(field(n, "value"));
    } else if (t == "call") {
      const auto fn = file.text(field(n, "function"));
      if (is_constructor(fn) || is_closing_text(fn)) {
        const TSNode args = field(n, "arguments");
        if (!ts_node_is_null(args)) {
          for (auto c : code_children(args)) stack.push_back(c);
        }
      }
    }
  }
}

ScopeFacts extract_events(const EventContext& ctx, const Cfg& cfg) {
  ScopeFacts facts;
  Extractor(ctx, cfg, facts).run();
  return facts;
}

}  // namespace leakfix::python
