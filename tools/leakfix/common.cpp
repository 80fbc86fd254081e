#include "common.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "rules/loader.h"

namespace leakfix::cli {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

bool use_color(bool no_color) {
  if (no_color || env_set("NO_COLOR")) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") return false;
  return isatty(STDOUT_FILENO) == 1;
}

bool show_progress(bool quiet) {
  return !quiet && !env_set("CI") && !env_set("PRE_COMMIT") && isatty(STDERR_FILENO) == 1;
}

Result<std::vector<Rule>> rules_for(const std::string& option) {
  if (!option.empty()) return load_rules(option);
  auto rules = builtin_rules();
  const auto config = find_project_config(std::filesystem::current_path().string());
  if (!config.empty()) {
    auto extra = load_rules(config);
    if (!extra) return extra.error();
    merge_rules(rules, std::move(*extra));
  }
  return rules;
}

}  // namespace leakfix::cli
