#include "rules/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/embedded.h"

namespace fs = std::filesystem;

namespace leakfix {
namespace {

// Thrown inside this file only, turned into an Error at the boundary.
struct RuleError {
  int line;
  std::string message;
};

int line_of(const YAML::Node& n) { return n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

[[noreturn]] void fail(const YAML::Node& n, std::string message) { throw RuleError{line_of(n), std::move(message)}; }

void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed, std::string_view what) {
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
      fail(kv.first, fmt::format("unknown key `{}` in {} (expected one of: {})", key, what, list));
    }
  }
}

std::string scalar(const YAML::Node& n, std::string_view what) {
  if (!n.IsScalar()) fail(n, fmt::format("`{}` must be a string", what));
  return n.as<std::string>();
}

bool boolean(const YAML::Node& n, std::string_view what) {
  if (!n.IsScalar()) fail(n, fmt::format("`{}` must be true or false", what));
  const auto s = n.as<std::string>();
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  fail(n, fmt::format("`{}` must be true or false, not `{}`", what, s));
}

// A call pattern: identifiers separated by dots, optionally starting with "*."; in C++ rules
// the separator is "::" ("*::acquire", "std::mutex::lock").
std::string pattern(const YAML::Node& n, std::string_view what) {
  auto p = scalar(n, what);
  std::string dotted = p;
  for (auto at = dotted.find("::"); at != std::string::npos; at = dotted.find("::", at + 1)) dotted.replace(at, 2, ".");
  std::string_view body = dotted;
  if (body.starts_with("*.")) body.remove_prefix(2);
  bool ok = !body.empty();
  bool segment_start = true;
  for (char c : body) {
    if (c == '.') {
      if (segment_start) ok = false;
      segment_start = true;
      continue;
    }
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && !segment_start)) ok = false;
    segment_start = false;
  }
  if (segment_start) ok = false;
  if (!ok) {
    fail(n, fmt::format("`{}` is not a call pattern; write a name (`get_db_connection`), a dotted path "
                        "(`sqlite3.connect`) or `*.method`",
                        p));
  }
  return p;
}

Acquirer parse_acquirer(const YAML::Node& n) {
  Acquirer a;
  if (n.IsScalar()) {
    a.pattern = pattern(n, "acquirers");
    return a;
  }
  if (!n.IsMap()) fail(n, "each acquirer must be a call pattern or a map with `call:`");
  check_keys(n, {"call", "with-closes", "with-commits", "context-manager", "fix", "handle", "async-with"}, "an acquirer");
  if (!n["call"]) fail(n, "an acquirer needs `call:` (the call pattern that acquires)");
  a.pattern = pattern(n["call"], "call");
  if (n["with-closes"]) a.with_closes = boolean(n["with-closes"], "with-closes");
  if (n["context-manager"]) {
    a.context_manager = scalar(n["context-manager"], "context-manager");
    // It is imported and called by that name: `from <module> import <name>`.
    const auto& cm = a.context_manager;
    const bool identifier = !cm.empty() && !std::isdigit(static_cast<unsigned char>(cm[0])) &&
                            std::all_of(cm.begin(), cm.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!identifier)
      fail(n["context-manager"], fmt::format("`context-manager` must be a plain name (`connection_ctx`), not `{}`; it is "
                                             "imported from the module that defines the acquirer", cm));
  }
  if (n["fix"]) a.fix = boolean(n["fix"], "fix");
  if (n["with-commits"]) a.with_commits = boolean(n["with-commits"], "with-commits");
  if (n["async-with"]) {
    a.async_with = scalar(n["async-with"], "async-with");
    if (a.async_with != "call" && a.async_with != "await")
      fail(n["async-with"], fmt::format("`async-with` is `call` (async with f() as x) or `await` (async with await f() as x), not `{}`",
                                        a.async_with));
    // Its async with gives it back: that is what naming the form says.
    if (!a.with_closes) a.with_closes = true;
  }
  if (n["handle"]) {
    const auto h = scalar(n["handle"], "handle");
    if (h != "result" && h != "receiver") fail(n["handle"], fmt::format("`handle` is `result` or `receiver`, not `{}`", h));
    a.receiver_handle = h == "receiver";
  }
  return a;
}

void parse_releases(const YAML::Node& n, Rule& rule) {
  if (!n.IsMap()) fail(n, "`releases` must be a map with `methods:` and/or `functions:`");
  check_keys(n, {"methods", "functions"}, "releases");
  if (const auto m = n["methods"]) {
    if (!m.IsSequence()) fail(m, "`releases.methods` must be a list of method names, e.g. [close]");
    for (const auto& item : m) rule.release_methods.push_back(pattern(item, "releases.methods"));
  }
  if (const auto f = n["functions"]) {
    if (!f.IsSequence()) fail(f, "`releases.functions` must be a list");
    for (const auto& item : f) {
      ReleaseFunction r;
      if (item.IsScalar()) {
        r.pattern = pattern(item, "releases.functions");
      } else if (item.IsMap()) {
        check_keys(item, {"call", "argument"}, "a release function");
        if (!item["call"]) fail(item, "a release function needs `call:`");
        r.pattern = pattern(item["call"], "call");
        if (const auto arg = item["argument"]) {
          try {
            r.argument = arg.as<int>();
          } catch (const YAML::Exception&) {
            fail(arg, "`argument` must be a number (0 for the first argument)");
          }
          if (r.argument < 0) fail(arg, "`argument` must be 0 or more");
        }
      } else {
        fail(item, "each release function must be a call pattern or a map with `call:`");
      }
      rule.release_functions.push_back(std::move(r));
    }
  }
}

Rule parse_rule(const YAML::Node& n, const std::string& file) {
  if (!n.IsMap()) fail(n, "a rule must be a map with `id`, `acquirers` and `releases`");
  check_keys(n, {"id", "language", "resource", "description", "with-closes", "acquirers", "releases", "returns-data", "exposure",
                 "guard"},
             "a rule");
  Rule rule;
  rule.file = file;
  if (!n["id"]) fail(n, "a rule needs an `id`");
  rule.id = scalar(n["id"], "id");
  if (rule.id.empty() || rule.id.find_first_of(" \t[],") != std::string::npos) {
    fail(n["id"], fmt::format("`{}` is not a valid rule id (no spaces, brackets or commas)", rule.id));
  }
  if (n["language"]) {
    rule.language = scalar(n["language"], "language");
    if (rule.language != "python" && rule.language != "cpp") {
      fail(n["language"], fmt::format("unknown language `{}` (python or cpp)", rule.language));
    }
  }
  if (n["resource"]) rule.resource = scalar(n["resource"], "resource");
  if (n["description"]) rule.description = scalar(n["description"], "description");
  if (n["with-closes"]) rule.with_closes = boolean(n["with-closes"], "with-closes");
  if (n["guard"]) {
    if (rule.language != "cpp") fail(n["guard"], "`guard` is for C++ rules (language: cpp)");
    rule.guard = scalar(n["guard"], "guard");
  }
  const auto acq = n["acquirers"];
  if (!acq || !acq.IsSequence() || acq.size() == 0) {
    fail(acq ? acq : n, "a rule needs `acquirers:`, a non-empty list of call patterns");
  }
  for (const auto& item : acq) rule.acquirers.push_back(parse_acquirer(item));
  if (!n["releases"]) fail(n, "a rule needs `releases:` (e.g. `methods: [close]`)");
  parse_releases(n["releases"], rule);
  if (rule.release_methods.empty() && rule.release_functions.empty()) {
    fail(n["releases"], "`releases` names no method and no function");
  }
  if (const auto d = n["returns-data"]) {
    if (!d.IsSequence()) fail(d, "`returns-data` must be a list of method or attribute names, e.g. [fetchone, fetchall]");
    for (const auto& item : d) rule.returns_data.push_back(scalar(item, "returns-data"));
  }
  if (const auto e = n["exposure"]) {
    if (!e.IsMap()) fail(e, "`exposure` must be a map with admin-decorators, login-decorators, admin-paths");
    check_keys(e, {"admin-decorators", "login-decorators", "admin-paths"}, "exposure");
    auto list = [&](const char* key, std::vector<std::string>& out) {
      const auto l = e[key];
      if (!l) return;
      if (!l.IsSequence()) fail(l, fmt::format("`{}` must be a list", key));
      for (const auto& item : l) out.push_back(scalar(item, key));
    };
    list("admin-decorators", rule.exposure.admin_decorators);
    list("login-decorators", rule.exposure.login_decorators);
    list("admin-paths", rule.exposure.admin_paths);
  }
  return rule;
}

}  // namespace

Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& file) {
  std::vector<Rule> rules;
  bool settings_only = false;
  try {
    const auto docs = YAML::LoadAll(std::string(text));
    for (const auto& doc : docs) {
      if (doc.IsNull()) continue;
      if (doc.IsMap() && (doc["rules"] || doc["settings"])) {
        // `settings:` (exclude, select, ...) is read by the command line's settings, not here.
        check_keys(doc, {"rules", "settings"}, "a configuration file");
        settings_only = settings_only || static_cast<bool>(doc["settings"]);
        if (!doc["rules"]) continue;
        if (!doc["rules"].IsSequence()) fail(doc["rules"], "`rules` must be a list of rules");
        for (const auto& r : doc["rules"]) rules.push_back(parse_rule(r, file));
      } else {
        rules.push_back(parse_rule(doc, file));
      }
    }
  } catch (const YAML::ParserException& e) {
    return Error{file, e.mark.line + 1, fmt::format("invalid YAML: {}", e.msg)};
  } catch (const YAML::Exception& e) {
    return Error{file, e.mark.line >= 0 ? e.mark.line + 1 : 0, fmt::format("invalid rule: {}", e.msg)};
  } catch (const RuleError& e) {
    return Error{file, e.line, e.message};
  }
  std::set<std::string> ids;
  for (const auto& r : rules) {
    if (!ids.insert(r.id).second) return Error{file, 0, fmt::format("rule id `{}` is defined twice", r.id)};
  }
  if (rules.empty() && !settings_only) return Error{file, 0, "no rule in this file"};
  return rules;
}

Result<std::vector<Rule>> load_rules(const std::string& path) {
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      const auto ext = e.path().extension();
      if (ext == ".yaml" || ext == ".yml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return Error{path, 0, "no rule files (*.yaml) in this folder"};
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return Error{path, 0, "rule file or folder not found"};
  }
  std::vector<Rule> all;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return Error{f.string(), 0, "cannot read rule file"};
    std::stringstream buf;
    buf << in.rdbuf();
    auto parsed = parse_rules(buf.str(), f.string());
    if (!parsed) return parsed.error();
    for (auto& r : *parsed) {
      if (std::any_of(all.begin(), all.end(), [&](const Rule& o) { return o.id == r.id; })) {
        return Error{f.string(), 0, fmt::format("rule id `{}` is also defined in another rule file", r.id)};
      }
      all.push_back(std::move(r));
    }
  }
  return all;
}

std::vector<Rule> builtin_rules() {
  std::vector<Rule> all;
  for (const auto& f : shipped_rules()) {
    auto parsed = parse_rules(f.text, std::string("<builtin>/rules/") + std::string(f.name));
    // The shipped rules are tested; a broken one is a build defect, not a user error.
    if (!parsed) throw std::logic_error(parsed.error().to_string());
    for (auto& r : *parsed) all.push_back(std::move(r));
  }
  return all;
}

std::string find_project_config(const std::string& start) {
  std::error_code ec;
  for (fs::path d = fs::absolute(start, ec); !d.empty(); d = d.parent_path()) {
    for (const char* name : {".leakfix.yaml", "leakfix.yaml"}) {
      if (fs::is_regular_file(d / name, ec)) return (d / name).string();
    }
    if (d == d.root_path()) break;
  }
  return "";
}

void merge_rules(std::vector<Rule>& base, std::vector<Rule> extra) {
  for (auto& r : extra) {
    auto it = std::find_if(base.begin(), base.end(), [&](const Rule& b) { return b.id == r.id; });
    if (it != base.end()) *it = std::move(r);
    else base.push_back(std::move(r));
  }
}

}  // namespace leakfix
