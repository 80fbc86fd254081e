#pragma once
// The project's settings, as ruff reads `[tool.ruff]`: `[tool.leakfix]` of the nearest
// pyproject.toml above the working directory (not past the repository's top) that has the table,
// or `settings:` in the project's .leakfix.yaml (the file its rules come from); not both. Options
// given on the command line win over them.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace leakfix::cli {

struct ProjectSettings {
  std::string file;  // the pyproject.toml read; relative paths in it are from its folder
  std::optional<std::vector<std::string>> exclude;  // replaces the default excludes
  std::vector<std::string> extend_exclude;          // added to them
  std::vector<std::string> select, ignore;          // finding kinds and rule ids
  std::vector<std::string> rules;                   // rule files or folders, added to the shipped ones
  std::optional<std::string> fail_on;
  std::vector<std::pair<std::string, std::vector<std::string>>> per_file_ignores;  // glob -> kinds/rules
};

// nullopt when neither has settings; an error names the file, the line and what is wrong (a
// syntax error, an unknown key, a value of the wrong type, settings in both places).
Result<std::optional<ProjectSettings>> load_project_settings(const std::string& start);

// The settings loaded for this run (set by main), or none.
std::optional<ProjectSettings>& project_settings();

}  // namespace leakfix::cli
