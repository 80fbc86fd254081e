#include "python/analyzer.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <unordered_map>

#include "python/callee.h"
#include "python/cfg.h"
#include "python/flow.h"
#include "python/locate.h"
#include "python/outline.h"
#include "python/statements.h"
#include "python/suppression.h"
#include "python/rewrite.h"
#include "python/use.h"
#include "python/verdict.h"

namespace leakfix::python {

Knowledge Knowledge::from_rules(std::vector<Rule> rules) {
  Knowledge k;
  k.rules = std::move(rules);
  auto add_all = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const auto& x : from) {
      if (std::find(to.begin(), to.end(), x) == to.end()) to.push_back(x);
    }
  };
  for (const auto& r : k.rules) {
    if (r.language != "python") continue;
    add_all(k.exposure.admin_decorators, r.exposure.admin_decorators);
    add_all(k.exposure.login_decorators, r.exposure.login_decorators);
    add_all(k.exposure.admin_paths, r.exposure.admin_paths);
    for (const auto& m : r.release_methods) {
      if (std::find(k.release_methods.begin(), k.release_methods.end(), m) == k.release_methods.end()) k.release_methods.push_back(m);
    }
    for (const auto& f : r.release_functions) k.release_functions.push_back(ReleaseSpec{f.pattern, f.argument, {}, {}, {}});
  }
  return k;
}

std::vector<std::string> Knowledge::call_names() const {
  std::vector<std::string> names = trigger_names();
  for (const auto& m : release_methods) names.push_back(m);
  for (const auto& f : release_functions) names.emplace_back(last_segment(f.pattern));
  names.push_back("teardown_appcontext");
  names.push_back("teardown_request");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> Knowledge::trigger_names() const {
  std::vector<std::string> names;
  for (const auto& r : rules) {
    if (r.language != "python") continue;
    for (const auto& a : r.acquirers) names.emplace_back(last_segment(a.pattern));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

namespace {

class FileAnalyzer {
 public:
  FileAnalyzer(const ParsedFile& file, const Knowledge& k)
      : file_(file), k_(k), imports_(Imports::of(file)), module_(module_name(file.source().path())) {}

  FileResult run() {
    collect();
    for (std::size_t i = 0; i < acquisitions_.size(); ++i) analyze(static_cast<int>(i));
    discover_releases();
    parse_errors();
    if (!out_.findings.empty()) out_.routes = extract_routes(file_, false);
    out_.imports.assign(imports_.bindings().begin(), imports_.bindings().end());
    return std::move(out_);
  }

 private:
  struct ScopeData {
    Cfg cfg;
    ScopeFacts facts;
    bool too_complex = false;
  };

  // A factory that caches on g is called, not owned: but only names can be such factories,
  // never a driver's module path (sqlite3.connect).
  bool request_scoped(const Callee& c, const Acquirer& a) const {
    const bool by_name = a.pattern.starts_with("*.") || a.pattern.find('.') == std::string::npos;
    return by_name && k_.request_scoped.contains(std::string(c.last()));
  }

  void collect() {
    auto names = k_.call_names();
    for (auto& alias : imports_.aliases_of(names)) names.push_back(std::move(alias));
    for (TSNode call : query_calls(file_, names)) {
      const auto callee = callee_of(file_, imports_, call);
      const auto last = callee.last();
      if (last == "teardown_appcontext" || last == "teardown_request") {
        for (auto a : code_children(field(call, "arguments"))) {
          if (is(a, "identifier")) teardown_names_.emplace_back(file_.text(a));
        }
      }
      // What discovery learned of the project's own functions beats a rule's name for them: a
      // get_db_connection() that returns mysql.connector.connect() is closed by its with.
      std::optional<std::string_view> cls;  // computed only for discovered methods
      for (int pass = 0; pass < 2; ++pass) {
        const bool discovered = pass == 0;
        bool found = false;
        for (const auto& r : k_.rules) {
          if (r.language != "python" || found) continue;
          for (const auto& a : r.acquirers) {
            if (a.discovered_from.empty() == discovered) continue;
            if (!a.owner_class.empty() && !cls) cls = enclosing_class(file_, call);
            if (!matches(a.pattern, a.module, a.owner_class, callee, CallSite{module_, cls.value_or("")})) continue;
            if (a.pattern.starts_with("builtins.") && callee.bare && shadows_builtin(callee.path)) continue;
            found = true;
            if (request_scoped(callee, a)) break;
            acquisitions_.push_back(Acquisition{call, &r, &a, std::string(file_.text(field(call, "function")))});
            break;
          }
        }
        if (found) break;
      }
      if (const TSNode name = released_name(call, callee); !ts_node_is_null(name)) note_release(call, name);
    }
    // Teardown handlers that close something make what is cached on g request-scoped.
    for (const auto& [id, def] : closing_functions_) {
      (void)id;
      if (std::find(teardown_names_.begin(), teardown_names_.end(), file_.text(field(def, "name"))) != teardown_names_.end()) {
        out_.teardown_closes = true;
      }
      const TSNode parent = file_.parent(def);
      if (!is(parent, "decorated_definition")) continue;
      for_each_named_child(parent, [&](TSNode d) {
        const auto text = is(d, "decorator") ? file_.text(d) : std::string_view();
        if (text.find("teardown_appcontext") != std::string_view::npos || text.find("teardown_request") != std::string_view::npos) {
          out_.teardown_closes = true;
        }
      });
    }
  }

  // Whether `name` in this file may not be the builtin: the module defines it (webbrowser's
  // open), or imports everything from a module that has its own (os does `from posix import
  // *`, whose open returns a descriptor).
  bool shadows_builtin(std::string_view name) {
    if (!top_level_functions_) top_level_functions_ = top_level_functions(file_);
    if (top_level_functions_->contains(name)) return true;
    static constexpr std::string_view kOwnOpen[] = {"os", "posix", "nt", "codecs", "gzip", "bz2", "lzma", "webbrowser",
                                                    "dbm", "shelve", "wave", "aifc", "sunau", "tarfile", "tokenize"};
    if (star_import_shadows_) return *star_import_shadows_;
    bool star = false;
    // Module-level imports, also under `if sys.platform ...:` and `try:`.
    preorder(file_.root(), [&](TSNode st) {
      if (star) return false;
      if (is(st, "import_from_statement")) {
        bool wildcard = false;
        for_each_named_child(st, [&](TSNode c) { wildcard = wildcard || is(c, "wildcard_import"); });
        const auto module = file_.text(field(st, "module_name"));
        if (wildcard && std::find(std::begin(kOwnOpen), std::end(kOwnOpen), module) != std::end(kOwnOpen)) star = true;
        return false;
      }
      return is(st, "module") || is(st, "block") || is(st, "if_statement") || is(st, "elif_clause") || is(st, "else_clause") ||
             is(st, "try_statement") || is(st, "except_clause") || is(st, "finally_clause");
    });
    star_import_shadows_ = star;
    return star;
  }

  // For a call that releases a handle held in a plain name (`h.close()`, `pool.putconn(h)`),
  // that name; null otherwise.
  TSNode released_name(TSNode call, const Callee& callee) const {
    const TSNode fn = field(call, "function");
    if (is(fn, "attribute") && is(field(fn, "object"), "identifier")) {
      const auto method = file_.text(field(fn, "attribute"));
      if (std::find(k_.release_methods.begin(), k_.release_methods.end(), method) != k_.release_methods.end()) {
        return field(fn, "object");
      }
    }
    for (const auto& r : k_.release_functions) {
      const CallSite site{module_, r.owner_class.empty() ? std::string_view() : enclosing_class(file_, call)};
      if (!matches(r.pattern, r.module, r.owner_class, callee, site)) continue;
      int i = 0;
      TSNode found{};
      for_each_named_child(field(call, "arguments"), [&](TSNode a) {
        if (is(a, "comment") || is(a, "keyword_argument")) return;
        if (i++ == r.argument && is(unwrap(a), "identifier")) found = unwrap(a);
      });
      if (!ts_node_is_null(found)) return found;
    }
    return TSNode{};
  }

  // Remembers the function around a release: it may be a teardown, or release its parameter.
  void note_release(TSNode call, TSNode name) {
    TSNode def = file_.parent(call);
    while (!ts_node_is_null(def) && !is(def, "function_definition")) {
      if (is(def, "lambda") || is(def, "class_definition")) return;
      def = file_.parent(def);
    }
    if (ts_node_is_null(def)) return;
    closing_functions_.emplace(node_id(def), def);
    const auto params = parameters(def);
    if (std::find(params.begin(), params.end(), file_.text(name)) != params.end()) {
      releasing_param_functions_.emplace(node_id(def), def);
    }
  }

  std::vector<std::string_view> parameters(TSNode def) const {
    std::vector<std::string_view> params;
    for_each_named_child(field(def, "parameters"), [&](TSNode p) {
      if (is(p, "identifier")) params.push_back(file_.text(p));
      else if (is(p, "typed_parameter")) params.push_back(file_.text(ts_node_named_child(p, 0)));
      else if (is(p, "default_parameter") || is(p, "typed_default_parameter")) params.push_back(file_.text(field(p, "name")));
      else if (!is(p, "comment")) params.emplace_back();
    });
    return params;
  }

  ScopeData* scope_data(TSNode scope) {
    auto& slot = scopes_[node_id(scope)];
    if (!slot) {
      slot = std::make_unique<ScopeData>();
      try {
        slot->cfg = build_cfg(file_, scope);
        if (acquisition_index_.size() != acquisitions_.size()) {
          for (std::size_t i = 0; i < acquisitions_.size(); ++i) acquisition_index_[node_id(acquisitions_[i].call)] = static_cast<int>(i);
        }
        const EventContext ctx{file_, imports_, k_.release_methods, k_.release_functions, acquisitions_, acquisition_index_, module_,
                               outline(scope)};
        slot->facts = extract_events(ctx, slot->cfg);
      } catch (const CfgTooComplex&) {
        slot->too_complex = true;
      }
    }
    return slot.get();
  }

  // The tests (ScopeFacts::Test) of the if/elif statements the acquisition sits under, with the
  // outcome that leads to it: the branch taken, and every earlier condition of the chain false.
  // A test whose name is mentioned between it and the acquisition is left out: it may have been
  // bound again.
  std::vector<std::pair<int, bool>> tests_above(TSNode call, TSNode scope, const ScopeFacts& facts) const {
    std::vector<std::pair<int, bool>> out;
    if (facts.test_of.empty()) return out;
    const auto text = file_.source().text();
    const auto at = ts_node_start_byte(call);
    auto add = [&](TSNode cond, bool taken) {
      const auto t = facts.test_of.find(node_id(cond));
      if (t == facts.test_of.end()) return;
      const std::string_view word = facts.names[static_cast<std::size_t>(facts.test_names[static_cast<std::size_t>(t->second.key)])];
      const auto between = text.substr(ts_node_end_byte(cond), at - ts_node_end_byte(cond));
      for (auto p = between.find(word); p != std::string_view::npos; p = between.find(word, p + 1)) {
        if (whole_name_at(between, p, word.size())) return;
      }
      out.emplace_back(t->second.key, taken == t->second.equal_on_true);
    };
    TSNode child = call;
    for (TSNode p = file_.parent(call); !ts_node_is_null(p) && !same(p, scope); child = p, p = file_.parent(p)) {
      if (is(p, "if_statement")) {
        const TSNode cond = field(p, "condition");
        if (same(field(p, "consequence"), child)) {
          add(cond, true);
          continue;
        }
        // In an elif or else: the if's condition and the elifs before were false.
        add(cond, false);
        for (TSNode alt : code_children(p)) {
          if (same(alt, child)) break;
          if (is(alt, "elif_clause")) add(field(alt, "condition"), false);
        }
      } else if (is(p, "elif_clause") && same(field(p, "consequence"), child)) {
        add(field(p, "condition"), true);
      }
    }
    return out;
  }

  // CFG nodes standing for the statement (or condition) that holds `n`.
  const std::vector<int>* nodes_holding(const Cfg& cfg, TSNode n) const {
    for (TSNode p = n; !ts_node_is_null(p) && !same(p, cfg.scope); p = file_.parent(p)) {
      const auto& nodes = cfg.nodes_of(p);
      if (!nodes.empty()) return &nodes;
    }
    return nullptr;
  }

  // What the scope declares, from one walk of its body, shared by the use, the events and the
  // verdict.
  const ScopeOutline& outline(TSNode scope) {
    auto& slot = outlines_[node_id(scope)];
    if (!slot) slot = std::make_unique<ScopeOutline>(outline_scope(file_, scope));
    return *slot;
  }

  bool is_rule_acquirer_name(const Rule& r, std::string_view name) const {
    for (const auto& a : r.acquirers) {
      if (!a.discovered_from.empty()) continue;
      if (last_segment(a.pattern) == name) return true;
    }
    return false;
  }

  void analyze(int index) {
    const Acquisition& a = acquisitions_[static_cast<std::size_t>(index)];
    if (inside_error(file_, a.call)) return;
    const TSNode scope = enclosing_scope(file_, a.call);
    const std::string fn = function_name(file_, scope);
    const ScopeOutline& declared = outline(scope);
    const bool cm = declared.context_manager();
    const bool function = is(scope, "function_definition");
    const UseInfo use = use_of(file_, imports_, a, scope, cm, [&](std::string_view name) {
      return function && declared.globals.contains(name);
    });
    const std::string what = fmt::format("{} from {}()", a.rule->resource, a.callee_text);
    const std::string def_name = is(scope, "function_definition") ? std::string(file_.text(field(scope, "name"))) : "";

    Finding f;
    f.rule = a.rule->id;
    f.file = file_.source().path();
    const auto sp = ts_node_start_point(a.call), ep = ts_node_end_point(a.call);
    f.span = span_of(sp, ep);
    f.function = fn;
    f.reason = fmt::format("the {} is not held in a name", a.rule->resource);

    auto escape = [&](std::string message, int line) {
      f.kind = Kind::Escapes;
      f.message = what + " escapes: " + std::move(message);
      f.reason = "ownership leaves the function; review by hand";
      set_exit(f, line, "ownership leaves here");
    };
    switch (use.use) {
      case Use::Managed:
      case Use::ClosedAtOnce:
        return;
      case Use::Returned:
        discover_acquirer(scope, a);
        if (!def_name.empty() && is_rule_acquirer_name(*a.rule, def_name)) return;
        escape(fmt::format("it is returned at line {}; the function is treated as an acquirer", f.span.line), f.span.line);
        break;
      case Use::Yielded:
        escape(fmt::format("it is yielded at line {}", f.span.line), f.span.line);
        break;
      case Use::Stored:
        if (owner_closes(scope, use.detail)) return;
        escape(fmt::format("it is stored on `{}`", use.detail), f.span.line);
        break;
      case Use::StoredOnG:
        if (!def_name.empty()) out_.request_scoped.push_back(def_name);
        if (k_.teardown_closes) return;
        escape(fmt::format("it is stored on `{}`, but no teardown_appcontext/teardown_request handler closes it", use.detail), f.span.line);
        break;
      case Use::Container:
        escape(use.detail == "the returned value" ? fmt::format("it is returned inside a tuple or another value at line {}", f.span.line)
                                                  : fmt::format("it is stored in `{}`", use.detail),
               f.span.line);
        break;
      case Use::Global:
        escape(fmt::format("it is stored in the global `{}`", use.detail), f.span.line);
        break;
      case Use::Temporary:
        f.kind = Kind::NeverClosed;
        f.message = what + " is never closed: it is not bound to a name, so nothing can close it";
        break;
      case Use::InLambda:
        f.kind = Kind::NeverClosed;
        f.message = what + " is never closed: it is opened inside a lambda, once per call";
        f.reason = "inside a lambda";
        break;
      case Use::InComprehension:
        f.kind = Kind::NeverClosed;
        f.message = what + " is never closed: the comprehension opens one per item";
        break;
      case Use::Bound:
        if (!follow_bound(index, scope, what, cm, def_name, f)) return;
        plan_fix(a, scope, f);
        break;
    }
    if (suppressed(file_, a.call, f.rule, f.kind)) return;
    out_.findings.push_back(std::move(f));
  }

  void plan_fix(const Acquisition& a, TSNode scope, Finding& f) {
    if (f.kind == Kind::Escapes || f.kind == Kind::ParseError) return;
    const RewriteContext ctx{*a.rule, *a.acquirer, k_.release_methods, k_.release_functions, imports_, k_.fix_edits,
                             k_.targets.get(), &module_facts_, &outline(scope)};
    auto planned = plan_rewrite(file_, a.call, f.variable, ctx);
    if (auto* fix = std::get_if<Fix>(&planned)) {
      f.fixable = true;
      f.reason.reset();
      f.fix = std::move(*fix);
    } else {
      f.fixable = false;
      f.reason = std::get<std::string>(planned);
    }
  }

  void set_exit(Finding& f, int line, std::string label) const {
    if (line <= 0) return;
    const auto text = file_.source().line(line);
    const auto start = text.find_first_not_of(" \t");
    if (start == std::string_view::npos) return;
    f.exit = Span{line, file_.source().character_column(line, static_cast<uint32_t>(start)), line,
                  file_.source().character_column(line, static_cast<uint32_t>(text.size()))};
    f.exit_label = std::move(label);
  }

  bool follow_bound(int index, TSNode scope, const std::string& what, bool cm, const std::string& def_name, Finding& f) {
    const Acquisition& a = acquisitions_[static_cast<std::size_t>(index)];
    if (ts_node_has_error(scope) && !is(scope, "module")) return false;
    ScopeData* data = scope_data(scope);
    if (data->too_complex) {
      f.kind = Kind::ParseError;
      f.message = fmt::format("{} not analysed: the function is too large or nests too deeply", what);
      return true;
    }
    const auto* nodes = nodes_holding(data->cfg, a.call);
    if (!nodes) return false;
    Outcome merged;
    FlowStart start;
    start.acquisition = index;
    start.with_closes = a.rule->acquirer_with_closes(*a.acquirer);
    start.scope_end_line = file_.end_line(scope);
    start.tests = tests_above(a.call, scope, data->facts);
    for (int node : *nodes) {
      start.node = node;
      Outcome o = follow(data->cfg, data->facts, start);
      if (o.untracked || o.truncated) return false;
      merged.released_manual |= o.released_manual;
      merged.released_managed |= o.released_managed;
      merged.normal.insert(merged.normal.end(), o.normal.begin(), o.normal.end());
      merged.exceptional.insert(merged.exceptional.end(), o.exceptional.begin(), o.exceptional.end());
      merged.escapes.insert(merged.escapes.end(), o.escapes.begin(), o.escapes.end());
    }
    const auto verdict = decide(merged, VerdictContext{what, cm, start.scope_end_line, is(scope, "class_definition")});
    if (!verdict) return false;
    if (verdict->returned) {
      discover_acquirer(scope, a);
      if (!def_name.empty() && is_rule_acquirer_name(*a.rule, def_name)) return false;
    }
    if (!verdict->stored_on.empty() && owner_closes(scope, verdict->stored_on)) return false;
    if (verdict->stored_on_g) {
      if (!def_name.empty()) out_.request_scoped.push_back(def_name);
      if (k_.teardown_closes) return false;
    }
    f.kind = verdict->kind;
    f.message = verdict->message;
    if (const auto& names = data->facts.names; true) {
      for (const auto& e : data->facts.events[static_cast<std::size_t>(nodes->front())]) {
        if (e.kind == EventKind::Acquire && e.acquisition == index && e.name >= 0) f.variable = names[static_cast<std::size_t>(e.name)];
      }
    }
    if (f.kind == Kind::Escapes) f.reason = "ownership leaves the function; review by hand";
    set_exit(f, verdict->exit_line, verdict->exit_label);
    return true;
  }

  void discover_acquirer(TSNode scope, const Acquisition& a) {
    if (!is(scope, "function_definition")) return;
    const auto name = std::string(file_.text(field(scope, "name")));
    if (name.starts_with("__")) return;
    // A wrapper that returns closing(handle) hands out something that `with` closes.
    bool returns_closing = false;
    preorder(field(scope, "body"), [&](TSNode n) {
      if (is(n, "return_statement")) {
        const auto kids = code_children(n);
        if (!kids.empty() && is(unwrap(kids[0]), "call")) {
          if (is_closing(callee_of(file_, imports_, unwrap(kids[0])))) returns_closing = true;
        }
        return false;
      }
      return !(is(n, "function_definition") || is(n, "lambda") || is(n, "class_definition"));
    });
    const bool with_closes = returns_closing || a.rule->acquirer_with_closes(*a.acquirer);
    // A path that gives None: `return`, `return None`, or the end of the body.
    bool none = false;
    preorder(field(scope, "body"), [&](TSNode n) {
      if (is(n, "return_statement")) {
        const auto kids = code_children(n);
        if (kids.empty() || is(unwrap(kids[0]), "none")) none = true;
        return false;
      }
      return !(is(n, "function_definition") || is(n, "lambda") || is(n, "class_definition"));
    });
    const auto body = code_children(field(scope, "body"));
    if (body.empty() || !(is(body.back(), "return_statement") || is(body.back(), "raise_statement"))) none = true;
    out_.acquirers.push_back(DiscoveredAcquirer{name, a.rule->id, a.callee_text, with_closes,
                                                a.acquirer->context_manager, module_, std::string(method_class(scope)),
                                                a.acquirer->fix, none});
  }

  // A function that releases one of its parameters on every normal path is a release function.
  // A function that releases one of its parameters on every normal path is a release function.
  void discover_releases() {
    // In source order, so that results do not depend on addresses.
    std::vector<TSNode> defs;
    for (const auto& [id, def] : releasing_param_functions_) defs.push_back(def);
    std::sort(defs.begin(), defs.end(), [](TSNode a, TSNode b) { return ts_node_start_byte(a) < ts_node_start_byte(b); });
    for (TSNode n : defs) {
      if (ts_node_has_error(n)) continue;
      const auto name = std::string(file_.text(field(n, "name")));
      const auto params = parameters(n);
      const std::string owner(method_class(n));
      const bool method = !owner.empty();
      ScopeData* data = scope_data(n);
      if (data->too_complex) continue;
      for (std::size_t i = method ? 1 : 0; i < params.size(); ++i) {
        const int id = data->facts.find(params[i]);
        if (id < 0) continue;
        FlowStart start;
        start.node = data->cfg.entry;
        start.name = id;
        start.scope_end_line = file_.end_line(n);
        const Outcome o = follow(data->cfg, data->facts, start);
        if (!o.truncated && o.normal.empty() && o.escapes.empty() && (o.released_manual || o.released_managed)) {
          out_.releases.push_back(ReleaseSpec{name, static_cast<int>(i - (method ? 1 : 0)), module_, owner, only_method_call(n, params[i])});
        }
      }
    }
  }

  // The method the function's body only calls on `param` (`param.close()`, after a docstring), or
  // empty.
  std::string only_method_call(TSNode def, std::string_view param) const {
    std::vector<TSNode> body;
    for (TSNode s : code_children(field(def, "body"))) {
      if (!is(s, "comment")) body.push_back(s);
    }
    if (!body.empty() && is(body.front(), "expression_statement") && code_children(body.front()).size() == 1 &&
        is(code_children(body.front())[0], "string"))
      body.erase(body.begin());
    if (body.size() != 1 || !is(body[0], "expression_statement")) return {};
    const auto kids = code_children(body[0]);
    if (kids.size() != 1 || !is(kids[0], "call") || !code_children(field(kids[0], "arguments")).empty()) return {};
    const TSNode fn = field(kids[0], "function");
    if (!is(fn, "attribute") || file_.text(field(fn, "object")) != param) return {};
    const auto method = file_.text(field(fn, "attribute"));
    if (std::find(k_.release_methods.begin(), k_.release_methods.end(), method) == k_.release_methods.end()) return {};
    return std::string(method);
  }

  // Whether a handle stored on `self.attr` by a method is released by a method of the same class
  // (close(), __exit__, __del__...): the object owns it then, like a context manager.
  bool owner_closes(TSNode scope, const std::string& target) const {
    if (!target.starts_with("self.") || !is(scope, "function_definition")) return false;
    TSNode cls = file_.parent(scope);
    if (is(cls, "decorated_definition")) cls = file_.parent(cls);
    cls = file_.parent(cls);
    if (!is(cls, "class_definition")) return false;
    const auto body = file_.text(cls);
    for (const auto& m : k_.release_methods) {
      if (body.find(target + "." + m + "(") != std::string_view::npos) return true;
    }
    for (const auto& r : k_.release_functions) {
      const auto name = std::string(last_segment(r.pattern));
      for (auto pos = body.find(name + "("); pos != std::string_view::npos; pos = body.find(name + "(", pos + 1)) {
        const auto close = body.find(')', pos);
        if (body.substr(pos, close - pos).find(target) != std::string_view::npos) return true;
      }
    }
    return false;
  }

  // Findings count columns in characters, as editors and SARIF (unicodeCodePoints) do.
  Span span_of(TSPoint start, TSPoint end) const {
    const int l1 = static_cast<int>(start.row) + 1, l2 = static_cast<int>(end.row) + 1;
    return Span{l1, file_.source().character_column(l1, start.column), l2, file_.source().character_column(l2, end.column)};
  }

  // The class a function is a method of (its def sits directly in the class body), or empty.
  std::string_view method_class(TSNode def) const {
    TSNode p = file_.parent(def);
    if (is(p, "decorated_definition")) p = file_.parent(p);
    if (!is(p, "block")) return {};
    p = file_.parent(p);
    return is(p, "class_definition") ? file_.text(field(p, "name")) : std::string_view();
  }

  void parse_errors() {
    if (!ts_node_has_error(file_.root())) return;
    int reported = 0;
    // MISSING nodes are anonymous tokens, so walk every child, not only the named ones.
    std::vector<TSNode> stack{file_.root()};
    while (!stack.empty() && reported < 5) {
      TSNode n = stack.back();
      stack.pop_back();
      if (!ts_node_has_error(n)) continue;
      if (is(n, "ERROR") || ts_node_is_missing(n)) {
        Finding f;
        f.rule = "syntax";
        f.kind = Kind::ParseError;
        f.file = file_.source().path();
        const auto sp = ts_node_start_point(n), ep = ts_node_end_point(n);
        f.span = span_of(sp, ep);
        TSNode scope = enclosing_scope(file_, n);
        f.function = function_name(file_, scope);
        f.message = ts_node_is_missing(n)
                        ? fmt::format("syntax error: missing `{}`; this function is not analysed", type(n))
                        : fmt::format("syntax error: lines {}-{} do not parse; the code there is not analysed",
                                      f.span.line, f.span.end_line);
        f.reason = "the code does not parse";
        out_.findings.push_back(std::move(f));
        ++reported;
        continue;
      }
      for (uint32_t i = ts_node_child_count(n); i-- > 0;) stack.push_back(ts_node_child(n, i));
    }
  }

  const ParsedFile& file_;
  const Knowledge& k_;
  Imports imports_;
  std::string module_;
  std::vector<Acquisition> acquisitions_;
  std::unordered_map<const void*, int> acquisition_index_;
  std::vector<std::string> teardown_names_;
  std::unordered_map<const void*, std::unique_ptr<ScopeOutline>> outlines_;  // per scope
  std::map<const void*, TSNode> closing_functions_;          // functions that release something
  std::map<const void*, TSNode> releasing_param_functions_;  // ... a parameter, maybe
  std::unordered_map<const void*, std::unique_ptr<ScopeData>> scopes_;
  FileResult out_;
  std::optional<std::set<std::string, std::less<>>> top_level_functions_;
  LazyModuleFacts module_facts_{file_};
  std::optional<bool> star_import_shadows_;
};

}  // namespace

namespace {

// Where a syntax error swallowed the rest of a file (an unclosed bracket), the definitions that
// start at column 0 after it are analysed on their own, with the module's imports: the first
// line of each, 0-based, and the row the next one (or the error's end) starts at.
std::vector<std::pair<int, int>> definitions_after_errors(const ParsedFile& file) {
  std::vector<std::pair<int, int>> out;
  if (!ts_node_has_error(file.root())) return out;
  const auto& src = file.source();
  std::vector<TSNode> stack{file.root()};
  while (!stack.empty()) {
    const TSNode n = stack.back();
    stack.pop_back();
    if (!ts_node_has_error(n)) continue;
    if (is(n, "ERROR") && ts_node_end_point(n).row > ts_node_start_point(n).row) {
      const int first = static_cast<int>(ts_node_start_point(n).row) + 1;  // rows after the error's first
      // To the end of the top-level statement the error sits in.
      TSNode top = n;
      while (!ts_node_is_null(file.parent(top)) && !is(file.parent(top), "module")) top = file.parent(top);
      const int last = static_cast<int>(ts_node_end_point(top).row) - (ts_node_end_point(top).column == 0 ? 1 : 0);
      std::vector<int> starts;
      for (int r = first; r <= last; ++r) {
        const auto line = src.line(r + 1);
        if (line.starts_with("def ") || line.starts_with("async def ") || line.starts_with("class ") || line.starts_with("@"))
          starts.push_back(r);
      }
      // A definition right below a decorator belongs to the decorator's chunk.
      std::vector<int> chunk;
      for (std::size_t i = 0; i < starts.size(); ++i) {
        if (i > 0 && starts[i - 1] + 1 == starts[i] && src.line(starts[i - 1] + 1).starts_with("@")) continue;
        chunk.push_back(starts[i]);
      }
      for (std::size_t i = 0; i < chunk.size(); ++i) out.emplace_back(chunk[i], i + 1 < chunk.size() ? chunk[i + 1] : last + 1);
      continue;
    }
    for (uint32_t i = ts_node_child_count(n); i-- > 0;) stack.push_back(ts_node_child(n, i));
  }
  return out;
}

}  // namespace

FileResult analyze_file(const ParsedFile& file, const Knowledge& knowledge) {
  FileResult out;
  std::vector<TSRange> imports;
  std::vector<std::pair<int, int>> chunks;
  {
    const Navigator nav(file);
    out = FileAnalyzer(file, knowledge).run();
    chunks = definitions_after_errors(file);
    if (chunks.empty()) return out;
    const auto& src = file.source();
    // Whole lines, so that what is parsed together stays apart.
    for_each_named_child(file.root(), [&](TSNode s) {
      if (!(is(s, "import_statement") || is(s, "import_from_statement")) || ts_node_has_error(s)) return;
      const auto row = ts_node_start_point(s).row, end_row = ts_node_end_point(s).row + 1;
      // Statements that share a line (`import a; import b`) share its range: ranges must not overlap.
      if (!imports.empty() && row < imports.back().end_point.row) {
        imports.back().end_point.row = std::max(imports.back().end_point.row, end_row);
        imports.back().end_byte = src.line_offset(static_cast<int>(imports.back().end_point.row) + 1);
        return;
      }
      imports.push_back(TSRange{TSPoint{row, 0}, TSPoint{end_row, 0}, src.line_offset(static_cast<int>(row) + 1),
                                src.line_offset(static_cast<int>(end_row) + 1)});
    });
    for (const auto& [first, end] : chunks) {
      const auto begin = src.line_offset(first + 1), stop = src.line_offset(end + 1);
      std::vector<TSRange> ranges;
      for (const auto& r : imports) {
        if (r.end_byte <= begin) ranges.push_back(r);
      }
      ranges.push_back(TSRange{TSPoint{static_cast<uint32_t>(first), 0}, TSPoint{static_cast<uint32_t>(end), 0}, begin, stop});
      const ParsedFile part = ParsedFile::selective(file.shared_source(), Selection{ranges, {}});
      if (part.parsed_ranges().empty()) continue;  // the definition does not parse on its own either
      const Navigator part_nav(part);
      auto found = FileAnalyzer(part, knowledge).run();
      // What the parse of the whole file made of these lines (swallowed into the error's
      // statement: `fh = open(p)` seen at module level) gives way to the definition's own parse.
      std::erase_if(out.findings, [lo = first, hi = end](const Finding& f) {
        return f.kind != Kind::ParseError && f.span.line > lo && f.span.line <= hi;
      });
      for (auto& f : found.findings) {
        if (f.kind == Kind::ParseError || f.span.line <= first || f.span.line > end) continue;
        // Reported, but not rewritten: the file does not parse as a whole.
        if (f.kind != Kind::Escapes) {
          f.fixable = false;
          f.fix.reset();
          f.reason = "the file has a syntax error above it; fix that first";
        }
        out.findings.push_back(std::move(f));
      }
    }
  }
  // The syntax error no longer claims the definitions analysed after it.
  for (auto& f : out.findings) {
    if (f.kind != Kind::ParseError || f.span.end_line <= f.span.line) continue;
    for (const auto& [first, end] : chunks) {
      (void)end;
      if (first + 1 > f.span.line && first + 1 <= f.span.end_line) {
        f.message = fmt::format("syntax error: lines {}-{} do not parse; the code there is not analysed", f.span.line, first);
        f.span.end_line = first;
        break;
      }
    }
  }
  sort_findings(out.findings);
  return out;
}

}  // namespace leakfix::python
