#include "python/suppression.h"

#include <algorithm>
#include <regex>

namespace leakfix::python {

bool suppressed(const ParsedFile& file, TSNode n, const std::string& rule, Kind kind) {
  TSNode stmt = n;
  for (TSNode p = n; !ts_node_is_null(p); p = file.parent(p)) {
    const auto t = type(p);
    if (t.ends_with("_statement") || t == "decorated_definition" || t.ends_with("_definition")) {
      stmt = p;
      break;
    }
  }
  int first = file.line(stmt);
  int last = file.end_line(stmt);
  const TSNode body = field(stmt, "body");
  if (!ts_node_is_null(body)) last = std::max(first, file.line(body) - 1);
  const TSNode consequence = field(stmt, "consequence");
  if (!ts_node_is_null(consequence)) last = std::max(first, file.line(consequence) - 1);
  static const std::regex marker(R"(#\s*leakfix:\s*ignore(?:\[([^\]]*)\])?)");
  auto check = [&](std::string_view line) {
    if (line.find("leakfix") == std::string_view::npos) return false;  // the regex only where it can match
    std::cmatch m;
    if (!std::regex_search(line.begin(), line.end(), m, marker)) return false;
    if (!m[1].matched) return true;
    std::string list = m[1].str();
    std::size_t pos = 0;
    while (pos <= list.size()) {
      auto comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      auto item = list.substr(pos, comma - pos);
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (item == rule || item == to_string(kind)) return true;
      pos = comma + 1;
    }
    return false;
  };
  for (int l = first; l <= last; ++l) {
    if (check(file.source().line(l))) return true;
  }
  const auto above = file.source().line(first - 1);
  const auto trimmed = above.substr(std::min(above.size(), above.find_first_not_of(" \t")));
  return trimmed.starts_with("#") && check(trimmed);
}

}  // namespace leakfix::python
