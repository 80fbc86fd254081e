#include "python/routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

namespace leakfix::python {
namespace {

constexpr std::string_view kRouteMethods[] = {"get", "post", "put", "delete", "patch"};

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The value of a plain string literal, without prefix and quotes; empty for anything else.
std::string string_value(const ParsedFile& file, TSNode n) {
  if (!is(n, "string")) return {};
  std::string out;
  for_each_named_child(n, [&](TSNode c) {
    if (is(c, "string_content")) out += file.text(c);
    if (is(c, "interpolation")) out += "{}";
  });
  return out;
}

// Whether a decorator's first argument can be a URL rule: Flask's start with a slash (or are
// empty, under a blueprint's prefix). `@mock.patch("os.getcwd")` names no route.
bool rule_like(const ParsedFile& file, TSNode first) {
  if (!is(first, "string")) return true;  // a rule held in a name: it may be one
  const auto value = string_value(file, first);
  return value.empty() || value.front() == '/';
}

TSNode keyword(TSNode args, std::string_view name, const ParsedFile& file) {
  TSNode out{};
  for (TSNode a : code_children(args)) {
    if (is(a, "keyword_argument") && file.text(field(a, "name")) == name) out = field(a, "value");
  }
  return out;
}

TSNode first_positional(TSNode args) {
  for (TSNode a : code_children(args)) {
    if (!is(a, "keyword_argument")) return a;
  }
  return TSNode{};
}

std::string_view last_part(std::string_view dotted) {
  const auto dot = dotted.rfind('.');
  return dot == std::string_view::npos ? dotted : dotted.substr(dot + 1);
}

void function_facts(const ParsedFile& file, TSNode def, const std::string& prefix, bool calls, FileRoutes& out) {
  const TSNode fn = is(def, "decorated_definition") ? field(def, "definition") : def;
  if (is(fn, "class_definition")) {
    const std::string cls(file.text(field(fn, "name")));
    for (TSNode s : code_children(field(fn, "body"))) function_facts(file, s, prefix + cls + ".", calls, out);
    return;
  }
  if (!is(fn, "function_definition")) return;
  FunctionFacts facts;
  facts.name = prefix + std::string(file.text(field(fn, "name")));
  if (is(def, "decorated_definition")) {
    for (TSNode d : code_children(def)) {
      if (!is(d, "decorator")) continue;
      TSNode e{};
      for (TSNode c : code_children(d)) e = c;
      const TSNode callee = is(e, "call") ? field(e, "function") : e;
      const std::string_view method = is(callee, "attribute") ? file.text(field(callee, "attribute")) : file.text(callee);
      const std::string owner = is(callee, "attribute") ? std::string(file.text(field(callee, "object"))) : "";
      const TSNode args = is(e, "call") ? field(e, "arguments") : TSNode{};
      const TSNode rule = first_positional(args);
      if (is(e, "call") && !owner.empty() &&
          (method == "route" || std::find(std::begin(kRouteMethods), std::end(kRouteMethods), method) != std::end(kRouteMethods)) &&
          rule_like(file, rule)) {
        RouteDecl r;
        r.owner = owner;
        r.path = string_value(file, rule);
        if (method == "route") {
          const TSNode methods = keyword(args, "methods", file);
          for (TSNode m : code_children(methods)) r.methods.push_back(upper(string_value(file, m)));
          if (r.methods.empty()) r.methods.push_back("GET");
        } else {
          r.methods.push_back(upper(method));
        }
        facts.routes.push_back(std::move(r));
      } else if (!owner.empty() && (method == "before_request" || method == "before_app_request")) {
        RouteDecl r;
        r.owner = owner;
        r.every_request = true;
        r.app_wide = method == "before_app_request";
        facts.routes.push_back(std::move(r));
      } else {
        facts.decorators.emplace_back(last_part(method));
      }
    }
  }
  if (calls) preorder(field(fn, "body"), [&](TSNode n) {
    if (is(n, "call")) {
      const TSNode callee = field(n, "function");
      if (is(callee, "identifier")) facts.calls.emplace(file.text(callee));
      else if (is(callee, "attribute")) facts.calls.emplace(file.text(field(callee, "attribute")));
    }
    return true;
  });
  out.functions.push_back(std::move(facts));
}

enum class Level { Internal = 0, Admin = 1, Authenticated = 2, Public = 3 };

std::string_view name_of(Level l) {
  switch (l) {
    case Level::Public: return "public";
    case Level::Authenticated: return "authenticated";
    case Level::Admin: return "admin";
    case Level::Internal: return "internal";
  }
  return "internal";
}

bool under(std::string_view path, std::string_view prefix) {
  if (prefix.empty() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/' || prefix.back() == '/';
}

std::string join_path(std::string_view prefix, std::string_view path) {
  std::string p(prefix);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (path.empty()) return p.empty() ? "/" : p;
  if (path.front() != '/') p += '/';
  return p + std::string(path);
}

struct Reach {
  Level level = Level::Internal;
  std::vector<std::string> routes;   // "GET /api/branding/<tenant>"
  std::string via;                   // the route function a helper is reached from
};

}  // namespace

bool mentions_routes(std::string_view text) {
  return text.find("register_blueprint") != std::string_view::npos || text.find("Blueprint(") != std::string_view::npos ||
         text.find(".route(") != std::string_view::npos || text.find("_request") != std::string_view::npos;
}

FileRoutes extract_routes(const ParsedFile& file, bool calls) {
  const Navigator nav(file);
  FileRoutes out;
  out.file = file.source().path();
  for (TSNode s : code_children(file.root())) {
    if (is(s, "decorated_definition") || is(s, "function_definition") || is(s, "class_definition")) {
      function_facts(file, s, "", calls, out);
      continue;
    }
    if (!is(s, "expression_statement")) continue;
    const auto kids = code_children(s);
    if (kids.size() != 1 || !is(kids[0], "assignment")) continue;
    const TSNode left = field(kids[0], "left"), right = field(kids[0], "right");
    if (!is(left, "identifier") || !is(right, "call")) continue;
    const auto callee = last_part(file.text(field(right, "function")));
    if (callee != "Blueprint" && callee != "Flask") continue;
    BlueprintDecl b;
    b.variable = std::string(file.text(left));
    b.is_app = callee == "Flask";
    b.url_prefix = string_value(file, keyword(field(right, "arguments"), "url_prefix", file));
    out.blueprints.push_back(std::move(b));
  }
  const auto text = file.source().text();
  for (auto pos = text.find("register_blueprint"); pos != std::string_view::npos; pos = text.find("register_blueprint", pos + 1)) {
    const auto at = static_cast<uint32_t>(pos);
    TSNode n = ts_node_descendant_for_byte_range(file.root(), at, at + 18);
    while (!ts_node_is_null(n) && !is(n, "call")) n = file.parent(n);
    if (ts_node_is_null(n)) continue;
    const TSNode args = field(n, "arguments");
    const TSNode bp = first_positional(args);
    if (!is(bp, "identifier") && !is(bp, "attribute")) continue;
    Registration r;
    r.variable = std::string(last_part(file.text(bp)));
    const TSNode prefix = keyword(args, "url_prefix", file);
    r.has_prefix = !ts_node_is_null(prefix);
    r.url_prefix = string_value(file, prefix);
    out.registrations.push_back(std::move(r));
  }
  return out;
}

void annotate_exposure(std::vector<Finding>& findings, const std::vector<FileRoutes>& files, const Exposure& config) {
  std::map<std::string, std::string> prefix;  // blueprint variable -> url_prefix
  std::set<std::string> apps;
  for (const auto& f : files) {
    for (const auto& b : f.blueprints) {
      prefix.emplace(b.variable, b.url_prefix);
      if (b.is_app) apps.insert(b.variable);
    }
  }
  for (const auto& f : files) {
    for (const auto& r : f.registrations) {
      if (r.has_prefix) prefix[r.variable] = r.url_prefix;
    }
  }
  auto listed = [](const std::vector<std::string>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };

  // Functions with routes first; then helpers take the most exposed of their callers. A function
  // is known by its file and dotted name, numbered in the order first met.
  std::unordered_map<std::string, int> id_of;  // file + '\0' + function
  auto key = [](std::string_view file, std::string_view function) {
    std::string k(file);
    k += '\0';
    k += function;
    return k;
  };
  std::vector<std::optional<Reach>> reach;
  std::unordered_map<std::string_view, std::vector<int>> by_simple_name;
  std::vector<std::vector<int>> ids(files.size());  // of each file's functions, in order
  for (std::size_t fi = 0; fi < files.size(); ++fi) {
    const auto& f = files[fi];
    for (const auto& fn : f.functions) {
      const auto [it, added] = id_of.try_emplace(key(f.file, fn.name), static_cast<int>(reach.size()));
      if (added) reach.emplace_back();
      const int id = it->second;
      ids[fi].push_back(id);
      by_simple_name[last_part(fn.name)].push_back(id);
      if (fn.routes.empty()) continue;
      Reach r;
      const bool admin_decorated = std::any_of(fn.decorators.begin(), fn.decorators.end(),
                                               [&](const std::string& d) { return listed(config.admin_decorators, d); });
      const bool login_decorated = std::any_of(fn.decorators.begin(), fn.decorators.end(),
                                               [&](const std::string& d) { return listed(config.login_decorators, d); });
      for (const auto& route : fn.routes) {
        Level level = Level::Public;
        if (route.every_request && (route.app_wide || apps.contains(route.owner) || !prefix.count(route.owner) ||
                                    prefix[route.owner].empty())) {
          r.routes.push_back("every request");
        } else if (route.every_request) {
          const std::string& p = prefix[route.owner];
          r.routes.push_back("every request under " + p);
          if (std::any_of(config.admin_paths.begin(), config.admin_paths.end(), [&](const std::string& a) { return under(p, a); }))
            level = Level::Admin;
        } else {
          const std::string path = join_path(prefix.count(route.owner) ? prefix[route.owner] : "", route.path);
          std::string methods;
          for (const auto& m : route.methods) methods += (methods.empty() ? "" : ",") + m;
          r.routes.push_back(methods + " " + path);
          if (std::any_of(config.admin_paths.begin(), config.admin_paths.end(), [&](const std::string& p) { return under(path, p); }))
            level = Level::Admin;
        }
        if (admin_decorated) level = Level::Admin;
        else if (login_decorated && level == Level::Public) level = Level::Authenticated;
        r.level = std::max(r.level, level);
      }
      reach[static_cast<std::size_t>(id)] = std::move(r);
    }
  }
  // Propagate to callees, a few levels deep, keeping the most exposed caller (the first met
  // among equals). A caller's own entry never changes while it passes it on: it would have to
  // be less exposed than itself.
  for (int round = 0; round < 6; ++round) {
    bool changed = false;
    for (std::size_t fi = 0; fi < files.size(); ++fi) {
      for (std::size_t j = 0; j < files[fi].functions.size(); ++j) {
        const auto& caller = files[fi].functions[j];
        const auto& from_entry = reach[static_cast<std::size_t>(ids[fi][j])];
        if (!from_entry) continue;
        const Reach& from = *from_entry;
        for (const auto& callee : caller.calls) {
          const auto targets = by_simple_name.find(callee);
          if (targets == by_simple_name.end()) continue;
          for (const int target : targets->second) {
            auto& have = reach[static_cast<std::size_t>(target)];
            const bool routed = have && have->via.empty() && !have->routes.empty();
            if (routed) continue;  // a route keeps its own exposure
            if (!have || have->level < from.level) {
              Reach r = from;
              if (r.via.empty()) r.via = caller.name;
              have = std::move(r);
              changed = true;
            }
          }
        }
      }
    }
    if (!changed) break;
  }
  std::set<std::string> known_files;
  for (const auto& f : files) known_files.insert(f.file);
  for (auto& finding : findings) {
    if (!known_files.contains(finding.file)) continue;
    // The finding's function, or the outermost function holding it (a nested function or lambda).
    std::string name = finding.function;
    auto reach_of = [&](const std::string& function) -> const std::optional<Reach>* {
      const auto it = id_of.find(key(finding.file, function));
      return it == id_of.end() || !reach[static_cast<std::size_t>(it->second)] ? nullptr : &reach[static_cast<std::size_t>(it->second)];
    };
    auto found = reach_of(name);
    while (!found && name.find('.') != std::string::npos) {
      name = name.substr(0, name.rfind('.'));
      found = reach_of(name);
    }
    if (!found) {
      finding.exposure = std::string(name_of(Level::Internal));
      continue;
    }
    const Reach& r = **found;
    finding.exposure = std::string(name_of(r.level));
    std::string routes;
    for (const auto& route : r.routes) routes += (routes.empty() ? "" : ", ") + route;
    if (!routes.empty()) finding.route = routes;
    if (!r.via.empty()) finding.route_via = r.via;
  }
}

}  // namespace leakfix::python
