#include "python/callee.h"

#include <algorithm>

namespace leakfix::python {

Imports Imports::of(const ParsedFile& file) {
  Imports imports;
  auto record = [&](TSNode n) {
    if (is(n, "import_statement")) {
      for_each_named_child(n, [&](TSNode c) {
        if (is(c, "aliased_import")) {
          imports.alias_[std::string(file.text(field(c, "alias")))] = std::string(file.text(field(c, "name")));
        } else if (is(c, "dotted_name")) {
          const auto full = std::string(file.text(c));
          const auto first = full.substr(0, full.find('.'));
          imports.alias_[first] = first;
        }
      });
    } else if (is(n, "import_from_statement")) {
      const TSNode module = field(n, "module_name");
      const auto from = std::string(file.text(module));
      for_each_named_child(n, [&](TSNode c) {
        if (same(c, module)) return;
        if (is(c, "aliased_import")) {
          imports.alias_[std::string(file.text(field(c, "alias")))] = from + "." + std::string(file.text(field(c, "name")));
        } else if (is(c, "dotted_name")) {
          const auto name = std::string(file.text(c));
          imports.alias_[name] = from + "." + name;
        }
      });
    }
  };
  // Only where the word is written: an import statement holds the `import` keyword.
  const auto text = file.source().text();
  for (auto pos = text.find("import"); pos != std::string_view::npos; pos = text.find("import", pos + 6)) {
    const auto at = static_cast<uint32_t>(pos);
    TSNode n = ts_node_descendant_for_byte_range(file.root(), at, at + 6);
    for (int up = 0; up < 2 && !ts_node_is_null(n); ++up) {
      if (is(n, "import_statement") || is(n, "import_from_statement")) {
        record(n);
        break;
      }
      n = file.parent(n);
    }
  }
  return imports;
}

std::string Imports::resolve(std::string_view first) const {
  auto it = alias_.find(first);
  return it == alias_.end() ? std::string(first) : it->second;
}

std::vector<std::string> Imports::aliases_of(const std::vector<std::string>& names) const {
  std::vector<std::string> out;
  for (const auto& [local, full] : alias_) {
    const auto last = last_segment(full);
    if (local != last && std::find(names.begin(), names.end(), last) != names.end()) out.push_back(local);
  }
  return out;
}

Callee name_of(const ParsedFile& file, const Imports& imports, TSNode fn) {
  Callee c;
  if (is(fn, "identifier")) {
    c.bare = true;
    c.path = imports.resolve(file.text(fn));
    return c;
  }
  // Walk an attribute chain a.b.c down to its base.
  std::string suffix;
  TSNode cur = fn;
  while (is(cur, "attribute")) {
    suffix = "." + std::string(file.text(field(cur, "attribute"))) + suffix;
    cur = field(cur, "object");
  }
  if (is(cur, "identifier")) {
    c.path = imports.resolve(file.text(cur)) + suffix;
  } else {
    c.path = "?" + suffix;
  }
  return c;
}

Callee callee_of(const ParsedFile& file, const Imports& imports, TSNode call) {
  return name_of(file, imports, field(call, "function"));
}

bool matches(std::string_view pattern, const Callee& callee) {
  if (callee.path.empty()) return false;
  if (pattern.starts_with("*.")) {
    const auto name = pattern.substr(2);
    const auto& p = callee.path;
    return !callee.bare && p.size() > name.size() && p.ends_with(name) && p[p.size() - name.size() - 1] == '.';
  }
  if (pattern.find('.') == std::string_view::npos) {
    // A bare name matches a plain call of it, also when it was imported (under any alias).
    return callee.bare && callee.last() == pattern;
  }
  // A builtin: a plain call of the name that no import binds (`from os import open` is not it).
  if (pattern.starts_with("builtins.")) {
    const auto name = pattern.substr(9);
    if (callee.bare && callee.path == name) return true;
  }
  // A module re-exported by a package (`from flask_mysqldb import MySQLdb`) is the module.
  const auto& p = callee.path;
  return p == pattern || (p.size() > pattern.size() && p.ends_with(pattern) && p[p.size() - pattern.size() - 1] == '.');
}

bool matches(std::string_view pattern, std::string_view module, std::string_view owner_class, const Callee& callee,
             const CallSite& site) {
  if (module.empty()) return matches(pattern, callee);
  if (callee.last() != pattern) return false;
  const auto& p = callee.path;
  if (!owner_class.empty()) {
    return site.enclosing_class == owner_class && site.module == module &&
           (p == "self." + std::string(pattern) || p == "cls." + std::string(pattern));
  }
  if (p == pattern) return site.module == module;  // a plain call of a name not imported: defined here
  const std::string suffix = std::string(module) + "." + std::string(pattern);
  return p.ends_with(suffix) && (p.size() == suffix.size() || p[p.size() - suffix.size() - 1] == '.');
}

namespace {

// Past blanks, line breaks, backslash continuations and comments.
std::size_t skip_space(std::string_view text, std::size_t i) {
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\\') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else {
      break;
    }
  }
  return i;
}

bool ends_with_segments(std::string_view path, std::string_view tail) {
  return path == tail || (path.size() > tail.size() && path.ends_with(tail) && path[path.size() - tail.size() - 1] == '.');
}

}  // namespace

bool may_call(std::string_view text, std::string_view file_module, const std::vector<std::pair<std::string, std::string>>& bindings,
              std::string_view module, std::string_view name) {
  if (file_module == module) return true;
  for (auto pos = text.find(module); pos != std::string_view::npos; pos = text.find(module, pos + 1)) {
    if (pos > 0 && identifier_char(text[pos - 1])) continue;
    std::size_t i = skip_space(text, pos + module.size());
    if (i >= text.size() || text[i] != '.') continue;
    i = skip_space(text, i + 1);
    if (text.substr(i, name.size()) == name && (i + name.size() == text.size() || !identifier_char(text[i + name.size()]))) return true;
  }
  const std::string function = std::string(module) + "." + std::string(name);
  for (const auto& [local, full] : bindings) {
    if (ends_with_segments(full, function)) return true;                // `from module import name [as x]`
    if (local != module && ends_with_segments(full, module)) return true;  // `import module as x`: `x.name()`
  }
  return false;
}

bool exit_stack_open(const ParsedFile& file, TSNode call) {
  const TSNode fn = field(call, "function");
  if (!is(fn, "attribute") || !is(field(fn, "object"), "identifier")) return true;
  const auto stack = file.text(field(fn, "object"));
  auto binds_stack = [&](TSNode with) {
    bool binds = false;
    preorder(ts_node_named_child(with, 0), [&](TSNode n) {  // the with_clause
      if (binds) return false;
      if (is(n, "as_pattern")) {
        if (file.text(field(n, "alias")) == stack) binds = true;
        return false;
      }
      return !is(n, "block");
    });
    return binds;
  };
  TSNode scope{};
  for (TSNode p = file.parent(call); !ts_node_is_null(p); p = file.parent(p)) {
    if (is(p, "with_statement") && binds_stack(p)) return true;
    if (is(p, "function_definition") || is(p, "lambda") || is(p, "module")) {
      scope = p;
      break;
    }
  }
  if (ts_node_is_null(scope)) return true;
  // Bound by a with elsewhere in the function: closed (or not yet open) where this call is.
  bool elsewhere = false;
  preorder(scope, [&](TSNode n) {
    if (elsewhere) return false;
    if (!same(n, scope) && (is(n, "function_definition") || is(n, "lambda") || is(n, "class_definition"))) return false;
    if (is(n, "with_statement") && binds_stack(n)) elsewhere = true;
    return true;
  });
  return !elsewhere;
}

bool is_constructor(std::string_view callee) {
  if (callee == "cls" || callee.ends_with("__class__") || callee == "type(self)") return true;
  // A private class is a class too: `_ProxyFile(f)`.
  auto last = last_segment(callee);
  while (!last.empty() && last[0] == '_') last.remove_prefix(1);
  return !last.empty() && last[0] >= 'A' && last[0] <= 'Z';
}

std::string module_name(std::string_view path) {
  auto slash = path.find_last_of("/\\");
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (name.ends_with(".py")) name.remove_suffix(3);
  if (name == "__init__" && slash != std::string_view::npos) return module_name(path.substr(0, slash));
  return std::string(name);
}

std::string_view enclosing_class(const ParsedFile& file, TSNode n) {
  for (TSNode p = file.parent(n); !ts_node_is_null(p); p = file.parent(p)) {
    if (is(p, "class_definition")) return file.text(field(p, "name"));
  }
  return {};
}

}  // namespace leakfix::python
