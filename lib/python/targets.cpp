#include "python/targets.h"
#include "core/safe_write.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "python/rewrite.h"

namespace leakfix::python {
namespace fs = std::filesystem;

namespace {

std::vector<TSNode> body_statements(TSNode def) {
  std::vector<TSNode> out;
  for (TSNode s : code_children(field(def, "body"))) {
    if (is(s, "comment")) continue;
    out.push_back(s);
  }
  // A docstring does nothing.
  if (!out.empty() && is(out.front(), "expression_statement")) {
    const auto kids = code_children(out.front());
    if (kids.size() == 1 && is(kids[0], "string")) out.erase(out.begin());
  }
  return out;
}

// The single expression of an expression statement, or null.
TSNode expression_of(TSNode stmt) {
  if (!is(stmt, "expression_statement")) return TSNode{};
  const auto kids = code_children(stmt);
  return kids.size() == 1 ? kids[0] : TSNode{};
}

// `name = call(...)`: the call, or null.
TSNode assigned_call(const ParsedFile& file, TSNode stmt, std::string* name) {
  const TSNode a = expression_of(stmt);
  if (!is(a, "assignment") || !ts_node_is_null(field(a, "type"))) return TSNode{};
  const TSNode left = field(a, "left"), right = field(a, "right");
  if (!(is(left, "identifier") || is(left, "attribute")) || !is(right, "call")) return TSNode{};
  *name = std::string(file.text(left));
  return right;
}

// `x.close()` or `release(x)` / `pool.putconn(x)` as a whole statement, about `handle`.
std::optional<ReleaseUse> release_of(const ParsedFile& file, TSNode stmt, std::string_view handle) {
  const TSNode c = expression_of(stmt);
  if (!is(c, "call")) return std::nullopt;
  const TSNode fn = field(c, "function");
  const auto args = code_children(field(c, "arguments"));
  if (is(fn, "attribute") && file.text(field(fn, "object")) == handle && args.empty()) {
    return ReleaseUse{std::string(file.text(field(fn, "attribute"))), ""};
  }
  if (args.size() == 1 && file.text(args[0]) == handle && (is(fn, "identifier") || is(fn, "attribute"))) {
    return ReleaseUse{"", std::string(file.text(fn))};
  }
  return std::nullopt;
}

// How a function's parameters reach the call it makes.
bool forwarding(const ParsedFile& file, TSNode def, TSNode call, ProjectContextManager& cm) {
  std::vector<TSNode> params;
  for_each_named_child(field(def, "parameters"), [&](TSNode p) {
    if (!is(p, "comment")) params.push_back(p);
  });
  std::vector<TSNode> args;
  for_each_named_child(field(call, "arguments"), [&](TSNode a) {
    if (!is(a, "comment")) args.push_back(a);
  });
  if (params.empty() && args.empty()) {
    cm.params = ProjectContextManager::Params::None;
    return true;
  }
  if (params.size() == args.size()) {
    bool plain = true, splat = true;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (!is(params[i], "identifier") || file.text(params[i]) != file.text(args[i])) plain = false;
      const bool same_splat = (is(params[i], "list_splat_pattern") && is(args[i], "list_splat")) ||
                              (is(params[i], "dictionary_splat_pattern") && is(args[i], "dictionary_splat"));
      if (!same_splat || file.text(params[i]) != file.text(args[i])) splat = false;
    }
    if (plain) {
      cm.params = ProjectContextManager::Params::Positional;
      cm.positional = static_cast<int>(params.size());
      return true;
    }
    if (splat) {
      cm.params = ProjectContextManager::Params::Forward;
      return true;
    }
  }
  return false;
}

bool decorated_contextmanager(const ParsedFile& file, TSNode decorated) {
  bool found = false;
  for (TSNode d : code_children(decorated)) {
    if (!is(d, "decorator")) continue;
    const auto t = file.text(d);
    if (t == "@contextmanager" || t == "@contextlib.contextmanager") found = true;
  }
  return found;
}

// @contextmanager def cm(...): h = acquire(...); try: yield h; finally: release(h)
std::optional<ProjectContextManager> generator_cm(const ParsedFile& file, TSNode decorated) {
  const TSNode def = field(decorated, "definition");
  if (!is(def, "function_definition") || !decorated_contextmanager(file, decorated)) return std::nullopt;
  const auto body = body_statements(def);
  if (body.size() < 2) return std::nullopt;
  std::string handle;
  const TSNode call = assigned_call(file, body[0], &handle);
  if (ts_node_is_null(call) || handle.find('.') != std::string::npos) return std::nullopt;
  ProjectContextManager cm;
  cm.name = std::string(file.text(field(def, "name")));
  cm.acquirer = std::string(last_segment(file.text(field(call, "function"))));
  cm.acquirer_path = name_of(file, Imports::of(file), field(call, "function")).path;
  if (!forwarding(file, def, call, cm)) return std::nullopt;
  const TSNode t = body[1];
  if (!is(t, "try_statement")) return std::nullopt;
  const auto tbody = body_statements(t);
  const auto yielded = code_children(field(t, "body"));
  bool yields = false;
  for (TSNode s : yielded) {
    const TSNode y = expression_of(s);
    if (is(y, "yield")) {
      const auto v = code_children(y);
      if (v.size() == 1 && file.text(v[0]) == handle) yields = true;
      else return std::nullopt;
    } else if (!is(s, "comment")) {
      cm.pure = false;
      cm.impure = fmt::format("`{}` at line {}", file.text(s).substr(0, 40), file.line(s));
    }
  }
  if (!yields) return std::nullopt;
  bool released = false;
  for_each_named_child(t, [&](TSNode clause) {
    if (is(clause, "finally_clause")) {
      TSNode block{};
      for_each_named_child(clause, [&](TSNode b) {
        if (is(b, "block")) block = b;
      });
      for (TSNode s : code_children(block)) {
        if (is(s, "comment")) continue;
        if (auto r = release_of(file, s, handle); r && !released) {
          cm.release = *r;
          released = true;
        } else if (cm.pure) {
          cm.pure = false;
          cm.impure = fmt::format("`{}` at line {}", file.text(s).substr(0, 40), file.line(s));
        }
      }
    } else if (is(clause, "except_clause") || is(clause, "else_clause") || is(clause, "except_group_clause")) {
      if (cm.pure) {
        cm.pure = false;
        cm.impure = fmt::format("the `{}` clause at line {}", is(clause, "else_clause") ? "else" : "except", file.line(clause));
      }
    }
  });
  if (!released) return std::nullopt;
  if (body.size() > 2 && cm.pure) {
    cm.pure = false;
    cm.impure = fmt::format("`{}` at line {}", file.text(body[2]).substr(0, 40), file.line(body[2]));
  }
  return cm;
}

// class C: def __enter__(self): self.h = acquire(); return self.h   def __exit__(...): self.h.close()
std::optional<ProjectContextManager> class_cm(const ParsedFile& file, TSNode cls) {
  TSNode enter{}, exit{}, init{};
  for (TSNode s : code_children(field(cls, "body"))) {
    const TSNode d = is(s, "decorated_definition") ? field(s, "definition") : s;
    if (!is(d, "function_definition")) continue;
    const auto n = file.text(field(d, "name"));
    if (n == "__enter__") enter = d;
    if (n == "__exit__") exit = d;
    if (n == "__init__") init = d;
  }
  if (ts_node_is_null(enter) || ts_node_is_null(exit)) return std::nullopt;
  // Only a class built with no arguments: the with then calls `C()`.
  if (!ts_node_is_null(init) && code_children(field(init, "parameters")).size() > 1) return std::nullopt;
  if (!ts_node_is_null(init) && !body_statements(init).empty()) return std::nullopt;
  const auto eb = body_statements(enter);
  if (eb.size() != 2) return std::nullopt;
  std::string handle;
  const TSNode call = assigned_call(file, eb[0], &handle);
  if (ts_node_is_null(call) || !handle.starts_with("self.") || !code_children(field(call, "arguments")).empty()) return std::nullopt;
  if (!is(eb[1], "return_statement")) return std::nullopt;
  const auto ret = code_children(eb[1]);
  if (ret.size() != 1 || file.text(ret[0]) != handle) return std::nullopt;
  const auto xb = body_statements(exit);
  if (xb.empty()) return std::nullopt;
  auto r = release_of(file, xb[0], handle);
  if (!r) return std::nullopt;
  ProjectContextManager cm;
  cm.name = std::string(file.text(field(cls, "name")));
  cm.is_class = true;
  cm.params = ProjectContextManager::Params::None;
  cm.acquirer = std::string(last_segment(file.text(field(call, "function"))));
  cm.acquirer_path = name_of(file, Imports::of(file), field(call, "function")).path;
  cm.release = *r;
  for (std::size_t i = 1; i < xb.size(); ++i) {
    const auto t = file.text(xb[i]);
    if (t == "return False" || t == "return None" || t == "pass") continue;
    cm.pure = false;
    cm.impure = fmt::format("`{}` at line {}", t.substr(0, 40), file.line(xb[i]));
    break;
  }
  return cm;
}

}  // namespace

std::vector<ProjectContextManager> context_managers_in(const ParsedFile& file) {
  const Navigator nav(file);
  std::vector<ProjectContextManager> out;
  for_each_named_child(file.root(), [&](TSNode s) {
    std::optional<ProjectContextManager> cm;
    if (is(s, "decorated_definition")) cm = generator_cm(file, s);
    else if (is(s, "class_definition")) cm = class_cm(file, s);
    if (cm) {
      cm->file = file.source().path();
      out.push_back(std::move(*cm));
    }
  });
  return out;
}

// ---- the facts of one module ----------------------------------------------------------------

namespace {

void top_level_bindings(const ParsedFile& file, std::set<std::string, std::less<>>& functions,
                        std::set<std::string, std::less<>>& names) {
  for_each_named_child(file.root(), [&](TSNode s) {
    const TSNode d = is(s, "decorated_definition") ? field(s, "definition") : s;
    if (is(d, "function_definition")) {
      functions.emplace(file.text(field(d, "name")));
      names.emplace(file.text(field(d, "name")));
    } else if (is(d, "class_definition")) {
      names.emplace(file.text(field(d, "name")));
    } else if (const TSNode a = expression_of(s); is(a, "assignment") && is(field(a, "left"), "identifier")) {
      names.emplace(file.text(field(a, "left")));
    }
  });
  const Imports imports = Imports::of(file);
  for (const auto& [local, full] : imports.bindings()) names.insert(local);
}


}  // namespace

ModuleFacts module_facts(const ParsedFile& file) {
  const Navigator nav(file);
  ModuleFacts f;
  f.path = file.source().path();
  top_level_bindings(file, f.functions, f.names);
  for (const auto& name : file.skipped_functions()) {
    f.functions.insert(name);
    f.names.insert(name);
  }
  f.cms = context_managers_in(file);
  f.imports = Imports::of(file);
  return f;
}

std::string TargetResolver::canonical(const std::string& path) const {
  {
    std::lock_guard lock(lock_);
    if (auto it = canonical_.find(path); it != canonical_.end()) return it->second;
  }
  std::error_code ec;
  auto p = fs::weakly_canonical(fs::absolute(path, ec), ec).generic_string();
  std::lock_guard lock(lock_);
  return canonical_.emplace(path, std::move(p)).first->second;
}

std::shared_ptr<const ModuleFacts> TargetResolver::facts_of_text(const std::string& path, std::string text) const {
  try {
    const ParsedFile parsed(SourceFile(path, std::move(text)));
    return std::make_shared<ModuleFacts>(module_facts(parsed));
  } catch (const std::exception&) {
    // A file that cannot be parsed defines nothing leakfix can rely on.
    auto f = std::make_shared<ModuleFacts>();
    f->path = path;
    return f;
  }
}

std::shared_ptr<const ModuleFacts> TargetResolver::facts(const std::string& path) const {
  {
    std::lock_guard lock(lock_);
    if (auto it = cache_.find(path); it != cache_.end()) return it->second;
  }
  auto f = facts_of_text(path, read_all(path).value_or(""));
  std::lock_guard lock(lock_);
  return cache_.emplace(path, std::move(f)).first->second;
}

void TargetResolver::add_known(std::vector<ProjectContextManager> cms) {
  std::lock_guard lock(lock_);
  for (auto& c : cms) known_.push_back(std::move(c));
}

void TargetResolver::commit(const Creation& c) {
  std::lock_guard lock(lock_);
  if (std::find(committed_.begin(), committed_.end(), c) == committed_.end()) committed_.push_back(c);
}

std::vector<Creation> TargetResolver::committed() const {
  std::lock_guard lock(lock_);
  return committed_;
}

std::shared_ptr<TargetResolver> TargetResolver::fresh() const {
  auto out = std::make_shared<TargetResolver>();
  std::lock_guard lock(lock_);
  out->known_ = known_;
  return out;
}

std::optional<std::string> TargetResolver::module_file(const std::string& from_file, std::string_view module) const {
  if (module.empty()) return std::nullopt;
  // The answer depends on the importing file's folder only; every acquisition asks it, and the
  // search builds absolute paths and asks the file system.
  const auto slash = from_file.rfind('/');
  std::string key = slash == std::string::npos ? std::string() : from_file.substr(0, slash);
  key.push_back('\0');
  key.append(module);
  {
    std::lock_guard lock(lock_);
    if (auto it = module_files_.find(key); it != module_files_.end()) return it->second;
  }
  auto found = search_module_file(from_file, module);
  std::lock_guard lock(lock_);
  module_files_.emplace(std::move(key), found);
  return found;
}

std::optional<std::string> TargetResolver::search_module_file(const std::string& from_file, std::string_view module) const {
  std::error_code ec;
  const fs::path from = fs::absolute(fs::path(from_file), ec).lexically_normal();
  auto exists = [&](const fs::path& p) {
    const auto key = p.generic_string();
    {
      std::lock_guard lock(lock_);
      if (auto it = exists_.find(key); it != exists_.end()) return it->second;
    }
    std::error_code e;
    const bool yes = fs::is_regular_file(p, e);
    std::lock_guard lock(lock_);
    exists_.emplace(key, yes);
    return yes;
  };
  auto in = [&](const fs::path& dir, std::string_view dotted) -> std::optional<std::string> {
    fs::path rel;
    std::size_t start = 0;
    while (start <= dotted.size()) {
      const auto dot = dotted.find('.', start);
      rel /= std::string(dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    for (const fs::path& candidate : {fs::path(dir / rel).concat(".py"), dir / rel / "__init__.py"}) {
      if (exists(candidate)) return fs::proximate(candidate, ec).generic_string();
    }
    return std::nullopt;
  };
  if (module.front() == '.') {
    std::size_t dots = 0;
    while (dots < module.size() && module[dots] == '.') ++dots;
    fs::path dir = from.parent_path();
    for (std::size_t i = 1; i < dots; ++i) dir = dir.parent_path();
    const auto rest = module.substr(dots);
    if (rest.empty()) {
      if (exists(dir / "__init__.py")) return fs::proximate(dir / "__init__.py", ec).generic_string();
      return std::nullopt;
    }
    return in(dir, rest);
  }
  int up = 0;
  for (fs::path dir = from.parent_path(); up < 16; dir = dir.parent_path(), ++up) {
    if (auto found = in(dir, module)) return found;
    if (dir == dir.root_path()) break;
  }
  return std::nullopt;
}

// ---- resolving ------------------------------------------------------------------------------

namespace {

// The import statement that binds `local`, if any, and whether it is at the module's top level.
TSNode import_binding(const ParsedFile& file, std::string_view local, bool* top_level) {
  TSNode found{};
  preorder(file.root(), [&](TSNode n) {
    if (!ts_node_is_null(found)) return false;
    if (is(n, "function_definition") || is(n, "class_definition") || is(n, "lambda")) return false;
    if (is(n, "import_from_statement") || is(n, "import_statement")) {
      const TSNode module = field(n, "module_name");
      for_each_named_child(n, [&](TSNode c) {
        if (same(c, module)) return;
        const TSNode name = is(c, "aliased_import") ? field(c, "alias") : c;
        auto text = file.text(name);
        if (is(n, "import_statement") && !is(c, "aliased_import")) text = text.substr(0, text.find('.'));
        if (text == local) found = n;
      });
      return false;
    }
    return true;
  });
  if (!ts_node_is_null(found)) *top_level = is(file.parent(found), "module");
  return found;
}

bool params_fit(const ProjectContextManager& cm, TSNode call) {
  std::vector<TSNode> args;
  for_each_named_child(field(call, "arguments"), [&](TSNode a) {
    if (!is(a, "comment")) args.push_back(a);
  });
  switch (cm.params) {
    case ProjectContextManager::Params::Forward:
      return true;
    case ProjectContextManager::Params::None:
      return args.empty();
    case ProjectContextManager::Params::Positional:
      return static_cast<int>(args.size()) == cm.positional &&
             std::none_of(args.begin(), args.end(), [](TSNode a) {
               return is(a, "keyword_argument") || is(a, "list_splat") || is(a, "dictionary_splat");
             });
  }
  return false;
}

bool same_release(const ReleaseUse& a, const ReleaseUse& b) {
  if (!a.method.empty() || !b.method.empty()) return a.method == b.method;
  return last_segment(a.function) == last_segment(b.function);
}

}  // namespace

// One resolution: where the acquirer comes from, and the four steps of targets.h in turn. Each
// step that passes over a candidate says why, for the reason given when none fits.
class TargetResolver::Lookup {
 public:
  Lookup(const TargetResolver& r, const Site& site)
      : r_(r), site_(site), file_(site.file), site_path_(file_.source().path()), fn_(field(site.call, "function")),
        acq_(last_segment(file_.text(fn_))), here_(site.facts.get()) {
    locate();
    std::lock_guard lock(r_.lock_);
    created_ = r_.committed_;
  }

  // 1. A context manager the project already has (or one created earlier in this run).
  std::optional<Target> existing() {
    std::vector<ProjectContextManager> candidates = here_.cms;
    if (acq_file_ && !r_.same_file(*acq_file_, site_path_)) {
      const auto f = r_.facts(*acq_file_);
      candidates.insert(candidates.end(), f->cms.begin(), f->cms.end());
    }
    {
      std::lock_guard lock(r_.lock_);
      candidates.insert(candidates.end(), r_.known_.begin(), r_.known_.end());
    }
    for (const auto& c : created_) {
      ProjectContextManager cm;
      cm.name = c.name;
      cm.file = c.file;
      cm.acquirer = c.acquirer;
      cm.release = c.release;
      cm.params = ProjectContextManager::Params::Forward;
      candidates.push_back(cm);
    }
    std::set<std::string> tried;
    for (const auto& cm : candidates) {
      if (cm.acquirer != acq_ || !tried.insert(r_.canonical(cm.file) + ":" + cm.name).second || !same_acquirer(cm)) continue;
      if (auto why = unfit_for(cm)) {
        passed_.push_back(*why);
        unfit_.insert(cm.name);
        continue;
      }
      auto ref = reference(cm.file, cm.name);
      if (auto* why = std::get_if<std::string>(&ref)) {
        passed_.push_back(*why);
        continue;
      }
      Target t = std::get<Target>(ref);
      if (was_created(cm.name, cm.file)) {
        t.kind = Target::Kind::Created;
        t.note = fmt::format("{}(), created next to {}() in {}", cm.name, acq_, cm.file);
      } else {
        t.kind = Target::Kind::ProjectContextManager;
        t.note = fmt::format("the project's {}() in {}, which acquires with {}() and gives back with {}", cm.name, cm.file, acq_,
                             cm.release.describe("conn"));
      }
      return t;
    }
    return std::nullopt;
  }

  // 2. The rule's context manager, where the module that defines the acquirer defines it.
  std::optional<Target> rule_context_manager() {
    const std::string cm(site_.rule_context_manager);
    if (cm.empty() || !defines(cm) || unfit_.contains(cm)) return std::nullopt;
    auto ref = reference(*acq_file_, cm);
    if (auto* t = std::get_if<Target>(&ref)) {
      t->kind = Target::Kind::RuleContextManager;
      t->note = fmt::format("the rule's {}(), which {} defines", cm, *acq_file_);
      return *t;
    }
    passed_.push_back(std::get<std::string>(ref));
    return std::nullopt;
  }

  // 3. One created next to the acquirer's definition; why_not_created_ says why not.
  std::optional<Target> created() {
    if (site_.driver) return std::nullopt;  // a library's acquirer: nothing of the project's to put it beside
    const ReleaseUse release = release_();
    if (!acq_file_) {
      why_not_created_ = import_module_.empty() ? fmt::format("cannot tell where {}() is defined", acq_)
                                                : fmt::format("{}() comes from {}, which is not in the project", acq_, import_module_);
      return std::nullopt;
    }
    if (!defines_function(acq_)) {
      // A module of the project that only imports the acquirer (a driver's package): nothing to say.
      if (!(acq_facts_ ? acq_facts_->names : here_.names).contains(acq_))
        why_not_created_ = fmt::format("{} does not define {}() at its top level", *acq_file_, acq_);
      return std::nullopt;
    }
    if (release.empty()) {
      why_not_created_ = fmt::format("the code gives the {} back nowhere, so the way to give it back is unknown", site_.variable);
      return std::nullopt;
    }
    const std::string name = site_.rule_context_manager.empty() ? acq_ + "_ctx" : std::string(site_.rule_context_manager);
    if (defines(name)) {
      why_not_created_ = fmt::format("{} already defines {}, which does not acquire and give back as this code does", *acq_file_, name);
    } else if (!release_resolves(release)) {
      why_not_created_ = fmt::format("{} gives it back with {}, which {} does not define", site_path_, release.describe(site_.variable),
                                     *acq_file_);
    } else if (was_created(name, *acq_file_)) {
      why_not_created_ = fmt::format("{}() created in {} gives it back in another way than this code", name, *acq_file_);
    } else {
      auto ref = reference(*acq_file_, name);
      if (auto* t = std::get_if<Target>(&ref)) {
        t->kind = Target::Kind::Created;
        t->creation = Creation{*acq_file_, name, acq_, site_.variable.empty() ? "conn" : std::string(site_.variable), release};
        t->note = fmt::format("{}(), created next to {}() in {}: the project has no context manager for it", name, acq_, *acq_file_);
        return *t;
      }
      why_not_created_ = std::get<std::string>(ref);
    }
    return std::nullopt;
  }

  // 4. contextlib.closing() where the release is close(); otherwise why nothing fits.
  std::variant<Target, std::string> closing_or_why() const {
    const ReleaseUse release = release_();
    if (release.method == "close") {
      Target t{};
      t.kind = Target::Kind::Closing;
      t.note = why_not_created_.empty() ? "contextlib.closing(): the release is close()"
                                        : fmt::format("contextlib.closing(): {}", why_not_created_);
      return t;
    }
    std::string why = fmt::format("no context manager gives it back with {}",
                                  release.empty() ? "what the project uses" : release.describe(site_.variable));
    if (!why_not_created_.empty()) why += ", and none can be created: " + why_not_created_;
    if (site_.driver && !release.function.empty()) why += fmt::format(", and the with of {}() would only close it", acq_);
    for (const auto& p : passed_) why += "; " + p;
    return why;
  }

 private:
  // Where the acquirer is defined, and the module the code imports it from.
  void locate() {
    if (is(fn_, "identifier")) {
      if (here_.functions.contains(acq_) && !site_.imports.has(acq_)) {
        acq_file_ = site_path_;
      } else if (site_.imports.has(file_.text(fn_))) {
        const std::string resolved = site_.imports.resolve(file_.text(fn_));
        if (const auto dot = resolved.rfind('.'); dot != std::string::npos) {
          import_module_ = resolved.substr(0, dot);
          acq_file_ = r_.module_file(site_path_, import_module_);
        }
      }
    } else if (is(fn_, "attribute") && is(field(fn_, "object"), "identifier")) {
      receiver_ = std::string(file_.text(field(fn_, "object")));
      if (site_.imports.has(receiver_)) {
        import_module_ = site_.imports.resolve(receiver_);
        acq_file_ = r_.module_file(site_path_, import_module_);
      }
    }
    if (acq_file_ && !r_.same_file(*acq_file_, site_path_)) acq_facts_ = r_.facts(*acq_file_);
  }

  ReleaseUse release_() const {
    ReleaseUse release = site_.release;
    if (release.empty() && site_.close_ok) release.method = "close";
    return release;
  }

  // The candidate acquires with the code's acquirer: defined in the same file, when both are known.
  bool same_acquirer(const ProjectContextManager& cm) const {
    if (!acq_file_) return true;
    const auto& path = cm.acquirer_path;
    std::optional<std::string> cm_acq_file;
    if (path == acq_ || path.empty()) cm_acq_file = cm.file;
    else if (const auto dot = path.rfind('.'); dot != std::string::npos) cm_acq_file = r_.module_file(cm.file, path.substr(0, dot));
    return !cm_acq_file || r_.same_file(*cm_acq_file, *acq_file_);
  }

  // Why a context manager of the project's would not do what this code does, or nullopt.
  std::optional<std::string> unfit_for(const ProjectContextManager& cm) const {
    if (!cm.pure)
      return fmt::format("{}() in {} does more than give the {} back ({})", cm.name, cm.file,
                         site_.variable.empty() ? "handle" : "connection", cm.impure);
    if (!params_fit(cm, site_.call))
      return fmt::format("{}() in {} takes other arguments than {}{}", cm.name, cm.file, acq_, file_.text(field(site_.call, "arguments")));
    if (!site_.release.empty() && !same_release(cm.release, site_.release))
      return fmt::format("{}() in {} gives it back with {}, this code with {}", cm.name, cm.file, cm.release.describe("conn"),
                         site_.release.describe(site_.variable));
    return std::nullopt;
  }

  bool was_created(const std::string& name, const std::string& file) const {
    return std::any_of(created_.begin(), created_.end(), [&](const Creation& c) { return c.name == name && r_.same_file(c.file, file); });
  }

  bool defines(const std::string& name) const {
    if (!acq_file_) return false;
    return (acq_facts_ ? acq_facts_->names : here_.names).contains(name);
  }

  bool defines_function(const std::string& name) const {
    if (!acq_file_) return false;
    return (acq_facts_ ? acq_facts_->functions : here_.functions).contains(name);
  }

  // A release function the acquirer's module can call: a name it defines or imports.
  bool release_resolves(const ReleaseUse& release) const {
    if (release.function.empty()) return true;
    const std::string first = release.function.substr(0, release.function.find('.'));
    return (acq_facts_ ? acq_facts_->names : here_.names).contains(first);
  }

  // How the code here names `name` defined in `def_file`: as it is, on the module it calls the
  // acquirer on, or imported next to the acquirer (or from the module path the file's other
  // imports give).
  std::variant<Target, std::string> reference(const std::string& def_file, const std::string& name) const {
    Target t{};
    const bool acquirers_module = acq_file_ && r_.same_file(*acq_file_, def_file);
    if (r_.same_file(def_file, site_path_)) {
      t.callee = name;
      return t;
    }
    if (!receiver_.empty() && acquirers_module) {
      t.callee = receiver_ + "." + name;
      return t;
    }
    if (here_.functions.contains(name) ||
        (site_.imports.has(name) && !(acquirers_module && site_.imports.resolve(name) == import_module_ + "." + name)))
      return fmt::format("`{}` already means something else in {}", name, site_path_);
    if (!import_module_.empty() && acquirers_module) {
      bool top = true;
      const TSNode imp = import_binding(file_, file_.text(fn_), &top);
      if (!ts_node_is_null(imp) && !top)
        return fmt::format("the import of {}() at line {} is guarded (inside a try or an if); import {} beside it by hand", acq_,
                           file_.line(imp), name);
      t.callee = name;
      t.import = ImportNeed{import_module_, name};
      return t;
    }
    if (auto dotted = module_path_of(def_file)) {
      t.callee = name;
      t.import = ImportNeed{*dotted, name};
      return t;
    }
    return fmt::format("cannot tell how {} would import {} from {}", site_path_, name, def_file);
  }

  // The dotted module path of `def_file` from the import root that the file's imports of the
  // project's modules show.
  std::optional<std::string> module_path_of(const std::string& def_file) const {
    for (const auto& [local, full] : site_.imports.bindings()) {
      (void)local;
      for (std::string m = full; !m.empty(); m = m.rfind('.') == std::string::npos ? "" : m.substr(0, m.rfind('.'))) {
        if (m.front() == '.') break;
        const auto f = r_.module_file(site_path_, m);
        if (!f) continue;
        std::error_code ec;
        fs::path root = fs::absolute(*f, ec).parent_path();
        if (fs::path(*f).filename() == "__init__.py") root = root.parent_path();
        for (auto i = std::count(m.begin(), m.end(), '.'); i > 0; --i) root = root.parent_path();
        const fs::path rel = fs::absolute(def_file, ec).lexically_relative(root);
        if (rel.empty() || *rel.begin() == "..") break;
        std::string dotted;
        for (const auto& part : rel) {
          std::string s = part.string();
          if (s == "__init__.py") break;
          if (s.ends_with(".py")) s.resize(s.size() - 3);
          dotted += (dotted.empty() ? "" : ".") + s;
        }
        return dotted;
      }
    }
    return std::nullopt;
  }

  const TargetResolver& r_;
  const Site& site_;
  const ParsedFile& file_;
  const std::string site_path_;
  const TSNode fn_;
  const std::string acq_;
  const ModuleFacts& here_;
  std::optional<std::string> acq_file_;
  std::shared_ptr<const ModuleFacts> acq_facts_;  // null when the acquirer is defined here
  std::string import_module_;  // `from M import acq`, or M of `import M as x` with `x.acq()`
  std::string receiver_;       // x of `x.acq()`
  std::vector<Creation> created_;
  std::vector<std::string> passed_;
  std::set<std::string> unfit_;  // recognised, but not right for this code
  std::string why_not_created_;
};

std::variant<Target, std::string> TargetResolver::resolve(const Site& site) const {
  Lookup lookup(*this, site);
  if (auto t = lookup.existing()) return *t;
  if (auto t = lookup.rule_context_manager()) return *t;
  if (auto t = lookup.created()) return *t;
  return lookup.closing_or_why();
}

// ---- creating -------------------------------------------------------------------------------

std::optional<std::string> add_context_manager(const std::string& path, std::string_view file_text, const Creation& c,
                                               std::string* why) {
  const SourceFile source(path, std::string(file_text));
  const ParsedFile parsed(source);
  const Navigator nav(parsed);
  TSNode def{};
  std::string unit = "    ";
  for_each_named_child(parsed.root(), [&](TSNode s) {
    const TSNode d = is(s, "decorated_definition") ? field(s, "definition") : s;
    if (is(d, "function_definition") && parsed.text(field(d, "name")) == c.acquirer) {
      def = s;
      const auto kids = code_children(field(d, "body"));
      if (!kids.empty() && ts_node_start_point(kids.front()).row > ts_node_start_point(d).row) {
        const auto line = source.line(static_cast<int>(ts_node_start_point(kids.front()).row) + 1);
        unit = std::string(line.substr(0, line.find_first_not_of(" \t")));
      }
    }
  });
  if (ts_node_is_null(def)) {
    if (why) *why = fmt::format("{} no longer defines {}()", path, c.acquirer);
    return std::nullopt;
  }
  const Imports imports = Imports::of(parsed);
  std::string decorator = "contextlib.contextmanager";
  std::vector<Edit> edits;
  if (imports.has("contextmanager") && imports.resolve("contextmanager") == "contextlib.contextmanager") {
    decorator = "contextmanager";
  } else if (!(imports.has("contextlib") && imports.resolve("contextlib") == "contextlib")) {
    edits = import_edits(parsed, {ImportNeed{"", "contextlib"}}, {});
  }
  const std::string eol = source.crlf() ? "\r\n" : "\n";
  const std::string& v = c.variable;
  const std::string block = fmt::format(
      "@{1}{0}def {2}(*args, **kwargs):{0}"
      "{3}\"\"\"Yields {4}(...) and gives it back with {6}, also on an exception.\"\"\"{0}"
      "{3}{5} = {4}(*args, **kwargs){0}{3}try:{0}{3}{3}yield {5}{0}{3}finally:{0}{3}{3}{6}{0}",
      eol, decorator, c.name, unit, c.acquirer, v, c.release.describe(v));
  const auto text_size = static_cast<std::uint32_t>(source.text().size());
  const auto end_row = static_cast<int>(ts_node_end_point(def).row);
  const std::uint32_t at = source.line_offset(end_row + 2);
  // The blank lines after the definition are replaced: two before the new function, two after it
  // when more follows.
  std::uint32_t skip = at;
  for (int r = end_row + 2; r <= source.line_count(); ++r) {
    if (source.line(r).find_first_not_of(" \t\r\f") != std::string_view::npos) break;
    skip = source.line_offset(r + 1);
  }
  std::string insert;
  if (at == text_size && text_size > 0 && source.text().back() != '\n') insert = eol;
  insert += eol + eol + block;
  if (skip < text_size) insert += eol + eol;
  edits.push_back(Edit{at, skip, insert});
  return apply_edits(source.text(), edits);
}

}  // namespace leakfix::python
