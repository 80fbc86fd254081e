#include "settings.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <toml++/toml.h>

#include "core/suggest.h"

namespace leakfix::cli {

namespace fs = std::filesystem;

namespace {

Error error_at(const std::string& file, const toml::source_region& where, const std::string& what) {
  return Error{file, static_cast<int>(where.begin.line), what};
}

// A string, or an array of strings.
Result<std::vector<std::string>> strings(const std::string& file, const std::string& key, const toml::node& node) {
  std::vector<std::string> out;
  if (const auto* s = node.as_string()) {
    out.push_back(s->get());
    return out;
  }
  const auto* array = node.as_array();
  if (!array) return error_at(file, node.source(), fmt::format("[tool.leakfix] `{}` must be a string or an array of strings", key));
  for (const auto& item : *array) {
    const auto* s = item.as_string();
    if (!s) return error_at(file, item.source(), fmt::format("[tool.leakfix] `{}` must hold strings", key));
    out.push_back(s->get());
  }
  return out;
}

}  // namespace

std::optional<ProjectSettings>& project_settings() {
  static std::optional<ProjectSettings> settings;
  return settings;
}

Result<std::optional<ProjectSettings>> load_project_settings(const std::string& start) {
  std::error_code ec;
  for (fs::path d = fs::absolute(start, ec); !d.empty(); d = d.parent_path()) {
    const fs::path file = d / "pyproject.toml";
    if (fs::is_regular_file(file, ec)) {
      const std::string name = file.string();
      toml::table doc;
      try {
        doc = toml::parse_file(name);
      } catch (const toml::parse_error& e) {
        return error_at(name, e.source(), fmt::format("not valid TOML: {}", e.description()));
      }
      const auto* tool = doc["tool"].as_table();
      const auto* mine = tool ? (*tool)["leakfix"].as_table() : nullptr;
      if (mine) {
        ProjectSettings s;
        s.file = name;
        static const std::vector<std::string> keys = {"exclude", "extend-exclude", "select", "ignore", "rules", "fail-on",
                                                      "per-file-ignores"};
        for (const auto& [key_node, value] : *mine) {
          const std::string key(key_node.str());
          if (std::find(keys.begin(), keys.end(), key) == keys.end())
            return error_at(name, value.source(), fmt::format("[tool.leakfix] has no key `{}`{}", key, did_you_mean(key, keys)));
          if (key == "fail-on") {
            const auto* v = value.as_string();
            if (!v || (v->get() != "error" && v->get() != "warning" && v->get() != "info"))
              return error_at(name, value.source(), "[tool.leakfix] `fail-on` is \"error\", \"warning\" or \"info\"");
            s.fail_on = v->get();
            continue;
          }
          if (key == "per-file-ignores") {
            const auto* table = value.as_table();
            if (!table) return error_at(name, value.source(), "[tool.leakfix] `per-file-ignores` is a table: \"glob\" = [\"kind or rule\", ...]");
            for (const auto& [glob, names] : *table) {
              auto list = strings(name, "per-file-ignores", names);
              if (!list) return list.error();
              s.per_file_ignores.emplace_back(std::string(glob.str()), std::move(*list));
            }
            continue;
          }
          auto list = strings(name, key, value);
          if (!list) return list.error();
          if (key == "exclude") s.exclude = std::move(*list);
          else if (key == "extend-exclude") s.extend_exclude = std::move(*list);
          else if (key == "select") s.select = std::move(*list);
          else if (key == "ignore") s.ignore = std::move(*list);
          else if (key == "rules") {
            for (auto& r : *list) s.rules.push_back(fs::path(r).is_absolute() ? r : (d / r).string());
          }
        }
        return std::optional<ProjectSettings>(std::move(s));
      }
    }
    if (fs::exists(d / ".git", ec) || d == d.root_path()) break;
  }
  return std::optional<ProjectSettings>();
}

}  // namespace leakfix::cli
