#pragma once
// Loads and validates rule files. Every error names the file and line and says what to do.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/rule.h"

namespace leakfix {

// Parses the text of one rule file: one rule per YAML document, or a map with a `rules:` list.
Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& file);

// Loads a rule file, or every *.yaml / *.yml file of a folder in name order.
Result<std::vector<Rule>> load_rules(const std::string& path);

// The rules compiled into the binary (the shipped rules/ folder).
std::vector<Rule> builtin_rules();

// Finds .leakfix.yaml or leakfix.yaml in `start` or the nearest folder above it; "" when none.
std::string find_project_config(const std::string& start);

// Adds `extra` to `base`; a rule with an id already present replaces it.
void merge_rules(std::vector<Rule>& base, std::vector<Rule> extra);

}  // namespace leakfix
