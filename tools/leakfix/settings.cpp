#include "settings.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <toml++/toml.h>
#include <yaml-cpp/yaml.h>

#include "core/suggest.h"
#include "rules/loader.h"

namespace leakfix::cli {

namespace fs = std::filesystem;

namespace {

// A setting's value as either file format gives it: a string, a list of strings, or a table of
// lists (per-file-ignores); `line` for messages.
struct Value {
  enum class Kind { String, List, Table, Other } kind = Kind::Other;
  std::vector<std::string> list;  // String: one item
  std::vector<std::pair<std::string, std::vector<std::string>>> table;
  bool table_ok = true;  // every value of the table was a string or a list of strings
  int line = 0;
};

const std::vector<std::string> kKeys = {"exclude", "extend-exclude", "select", "ignore", "rules", "fail-on", "per-file-ignores"};

// Checks one setting and stores it. `where` names the table ("[tool.leakfix]", "settings:").
std::optional<Error> apply(ProjectSettings& s, const std::string& file, const std::string& where, const std::string& key,
                           const Value& v, const fs::path& dir) {
  auto error = [&](const std::string& what) { return Error{file, v.line, fmt::format("{} {}", where, what)}; };
  if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
    return Error{file, v.line, fmt::format("{} has no key `{}`{}", where, key, did_you_mean(key, kKeys))};
  if (key == "fail-on") {
    const std::string f = v.kind == Value::Kind::String ? v.list.front() : "";
    if (f != "error" && f != "warning" && f != "info") return error("`fail-on` is \"error\", \"warning\" or \"info\"");
    s.fail_on = f;
    return std::nullopt;
  }
  if (key == "per-file-ignores") {
    if (v.kind != Value::Kind::Table || !v.table_ok) return error("`per-file-ignores` maps globs to kinds or rules: \"glob\" = [\"kind or rule\", ...]");
    s.per_file_ignores.insert(s.per_file_ignores.end(), v.table.begin(), v.table.end());
    return std::nullopt;
  }
  if (v.kind != Value::Kind::String && v.kind != Value::Kind::List)
    return error(fmt::format("`{}` must be a string or a list of strings", key));
  auto list = v.list;
  if (key == "exclude") s.exclude = std::move(list);
  else if (key == "extend-exclude") s.extend_exclude = std::move(list);
  else if (key == "select") s.select = std::move(list);
  else if (key == "ignore") s.ignore = std::move(list);
  else if (key == "rules") {
    for (auto& r : list) s.rules.push_back(fs::path(r).is_absolute() ? r : (dir / r).string());
  }
  return std::nullopt;
}

Value value_of(const toml::node& node) {
  Value v;
  v.line = static_cast<int>(node.source().begin.line);
  auto strings = [](const toml::node& n, std::vector<std::string>& out) {
    if (const auto* s = n.as_string()) {
      out.push_back(s->get());
      return true;
    }
    const auto* array = n.as_array();
    if (!array) return false;
    for (const auto& item : *array) {
      const auto* s = item.as_string();
      if (!s) return false;
      out.push_back(s->get());
    }
    return true;
  };
  if (const auto* s = node.as_string()) {
    v.kind = Value::Kind::String;
    v.list.push_back(s->get());
  } else if (const auto* table = node.as_table()) {
    v.kind = Value::Kind::Table;
    for (const auto& [k, item] : *table) {
      std::vector<std::string> names;
      v.table_ok = v.table_ok && strings(item, names);
      v.table.emplace_back(std::string(k.str()), std::move(names));
    }
  } else if (node.as_array()) {
    v.kind = strings(node, v.list) ? Value::Kind::List : Value::Kind::Other;
  }
  return v;
}

Value value_of(const YAML::Node& node) {
  Value v;
  v.line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
  auto strings = [](const YAML::Node& n, std::vector<std::string>& out) {
    if (n.IsScalar()) {
      out.push_back(n.as<std::string>());
      return true;
    }
    if (!n.IsSequence()) return false;
    for (const auto& item : n) {
      if (!item.IsScalar()) return false;
      out.push_back(item.as<std::string>());
    }
    return true;
  };
  if (node.IsScalar()) {
    v.kind = Value::Kind::String;
    v.list.push_back(node.as<std::string>());
  } else if (node.IsMap()) {
    v.kind = Value::Kind::Table;
    for (const auto& kv : node) {
      std::vector<std::string> names;
      v.table_ok = v.table_ok && strings(kv.second, names);
      v.table.emplace_back(kv.first.as<std::string>(), std::move(names));
    }
  } else if (node.IsSequence()) {
    v.kind = strings(node, v.list) ? Value::Kind::List : Value::Kind::Other;
  }
  return v;
}

// [tool.leakfix] of the nearest pyproject.toml that has one, up to the repository's top.
Result<std::optional<ProjectSettings>> from_pyproject(const std::string& start) {
  std::error_code ec;
  for (fs::path d = fs::absolute(start, ec); !d.empty(); d = d.parent_path()) {
    const fs::path file = d / "pyproject.toml";
    if (fs::is_regular_file(file, ec)) {
      const std::string name = file.string();
      toml::table doc;
      try {
        doc = toml::parse_file(name);
      } catch (const toml::parse_error& e) {
        return Error{name, static_cast<int>(e.source().begin.line), fmt::format("not valid TOML: {}", e.description())};
      }
      const auto* tool = doc["tool"].as_table();
      if (const auto* mine = tool ? (*tool)["leakfix"].as_table() : nullptr) {
        ProjectSettings s;
        s.file = name;
        for (const auto& [key, value] : *mine) {
          if (auto err = apply(s, name, "[tool.leakfix]", std::string(key.str()), value_of(value), d)) return *err;
        }
        return std::optional<ProjectSettings>(std::move(s));
      }
    }
    if (fs::exists(d / ".git", ec) || d == d.root_path()) break;
  }
  return std::optional<ProjectSettings>();
}

// `settings:` of the project's .leakfix.yaml (the file whose rules are used), if it has them.
Result<std::optional<ProjectSettings>> from_leakfix_yaml(const std::string& start) {
  const std::string name = find_project_config(start);
  if (name.empty()) return std::optional<ProjectSettings>();
  try {
    for (const auto& doc : YAML::LoadAllFromFile(name)) {
      if (!doc.IsMap() || !doc["settings"]) continue;
      const auto settings = doc["settings"];
      if (!settings.IsMap()) return Error{name, settings.Mark().line + 1, "`settings` must be a map (exclude, select, ignore, ...)"};
      ProjectSettings s;
      s.file = name;
      for (const auto& kv : settings) {
        if (auto err = apply(s, name, "settings:", kv.first.as<std::string>(), value_of(kv.second), fs::path(name).parent_path()))
          return *err;
      }
      return std::optional<ProjectSettings>(std::move(s));
    }
  } catch (const YAML::Exception& e) {
    // The rule loader says what is wrong with the file when it reads its rules.
    return Error{name, e.mark.line >= 0 ? e.mark.line + 1 : 0, fmt::format("invalid YAML: {}", e.msg)};
  }
  return std::optional<ProjectSettings>();
}

}  // namespace

std::optional<ProjectSettings>& project_settings() {
  static std::optional<ProjectSettings> settings;
  return settings;
}

Result<std::optional<ProjectSettings>> load_project_settings(const std::string& start) {
  auto toml = from_pyproject(start);
  if (!toml) return toml.error();
  auto yaml = from_leakfix_yaml(start);
  if (!yaml) return yaml.error();
  if (*toml && *yaml)
    return Error{(*yaml)->file, 0,
                 fmt::format("settings are given here and in {} ([tool.leakfix]); keep them in one place", (*toml)->file)};
  return *toml ? std::move(*toml) : std::move(*yaml);
}

}  // namespace leakfix::cli
