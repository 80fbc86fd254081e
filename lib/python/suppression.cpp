#include "python/suppression.h"

#include <algorithm>

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
  // `# leakfix: ignore` or `# leakfix: ignore[rule-or-kind, ...]`, read by a scan (a comment
  // may be megabytes long).
  auto check = [&](std::string_view line) {
    for (auto hash = line.find('#'); hash != std::string_view::npos; hash = line.find('#', hash + 1)) {
      std::string_view rest = line.substr(hash + 1);
      auto skip = [&] { rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t\f\v\r"))); };
      auto take = [&](std::string_view word) {
        if (!rest.starts_with(word)) return false;
        rest.remove_prefix(word.size());
        return true;
      };
      skip();
      if (!take("leakfix")) continue;
      skip();
      if (!take(":")) continue;
      skip();
      if (!take("ignore")) continue;
      if (!rest.starts_with("[")) return true;
      const auto close = rest.find(']');
      if (close == std::string_view::npos) return true;  // no list: every rule
      std::string_view list = rest.substr(1, close - 1);
      while (true) {
        const auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        item.remove_prefix(std::min(item.size(), item.find_first_not_of(" \t")));
        item = item.substr(0, item.find_last_not_of(" \t") + 1);
        if (item == rule || item == to_string(kind)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
      return false;
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
