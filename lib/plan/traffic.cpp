#include "plan/traffic.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace leakfix::plan {
namespace {

// host ident user [time] "METHOD target PROTOCOL" status size ["referer" "agent"]
const std::regex& line_format() {
  static const std::regex re(R"re(^\S+ \S+ \S+ \[[^\]]+\] "([A-Z]+) (\S+)(?: [^"]*)?" \d{3} (?:\d+|-)(?: .*)?$)re");
  return re;
}

// One route of leakfix's form, "GET,POST /path", split in its methods and its rule.
std::pair<std::vector<std::string>, std::string> split_route(std::string_view route) {
  const auto space = route.find(' ');
  if (space == std::string_view::npos) return {{}, std::string(route)};
  std::vector<std::string> methods;
  std::string_view m = route.substr(0, space);
  while (!m.empty()) {
    const auto comma = m.find(',');
    methods.emplace_back(m.substr(0, comma));
    if (comma == std::string_view::npos) break;
    m.remove_prefix(comma + 1);
  }
  return {methods, std::string(route.substr(space + 1))};
}

}  // namespace

AccessLog parse_access_log(std::string_view text) {
  AccessLog log;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    ++log.lines;
    std::smatch m;
    if (line.size() > 16384 || !std::regex_match(line, m, line_format())) {
      ++log.unreadable;
      if (log.unreadable_lines.size() < 5) log.unreadable_lines.push_back(log.lines);
      continue;
    }
    std::string target = m[2].str();
    // An absolute URI (proxies log them): keep the path.
    if (const auto scheme = target.find("://"); scheme != std::string::npos) {
      const auto slash = target.find('/', scheme + 3);
      target = slash == std::string::npos ? "/" : target.substr(slash);
    }
    target = target.substr(0, target.find_first_of("?#"));
    log.requests.push_back(Request{m[1].str(), std::move(target)});
  }
  return log;
}

Result<AccessLog> read_access_log(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path, 0, fmt::format("cannot read the access log: {}", std::strerror(errno))};
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_access_log(buf.view());
}

bool route_matches(std::string_view rule, std::string_view path) {
  std::size_t r = 0, p = 0;
  while (r < rule.size()) {
    if (rule[r] == '<') {
      const auto close = rule.find('>', r);
      if (close == std::string_view::npos) return false;
      const auto spec = rule.substr(r + 1, close - r - 1);
      const auto colon = spec.find(':');
      const auto converter = colon == std::string_view::npos ? std::string_view("string") : spec.substr(0, colon);
      r = close + 1;
      // The variable part runs to the next '/' (to the end for path), checked by converter.
      const auto next = converter == "path" ? path.size() : std::min(path.find('/', p), path.size());
      // A path converter gives back what the rest of the rule needs.
      std::size_t stop = next;
      if (converter == "path") {
        const auto rest = rule.substr(r);
        if (!rest.empty()) {
          if (path.size() < rest.size() || path.substr(path.size() - rest.size()) != rest) return false;
          stop = path.size() - rest.size();
        }
      }
      const auto value = path.substr(p, stop - p);
      if (value.empty()) return false;
      if (converter == "int") {
        if (value.find_first_not_of("0123456789") != std::string_view::npos) return false;
      } else if (converter == "float") {
        const auto dot = value.find('.');
        if (dot == std::string_view::npos || dot == 0 || dot + 1 == value.size() ||
            value.find_first_not_of("0123456789.") != std::string_view::npos || value.find('.', dot + 1) != std::string_view::npos)
          return false;
      } else if (converter == "uuid") {
        if (value.size() != 36 || value.find_first_not_of("0123456789abcdefABCDEF-") != std::string_view::npos) return false;
      }
      p = stop;
      continue;
    }
    if (p >= path.size() || rule[r] != path[p]) {
      // "/leaderboard/" also takes "/leaderboard".
      return r + 1 == rule.size() && rule[r] == '/' && p == path.size();
    }
    ++r;
    ++p;
  }
  return p == path.size();
}

TrafficCounts count_traffic(const AccessLog& log, const std::vector<std::string>& routes) {
  TrafficCounts out;
  for (const auto& route : routes) out.by_route.emplace(route, 0);
  for (const auto& req : log.requests) {
    bool matched = false;
    for (const auto& route : routes) {
      // A finding's route may list several: "GET /a, POST /b".
      std::string_view rest = route;
      while (!rest.empty()) {
        const auto comma = rest.find(", ");
        const auto one = rest.substr(0, comma);
        const auto [methods, rule] = split_route(one);
        const bool method_ok = methods.empty() || std::find(methods.begin(), methods.end(), req.method) != methods.end();
        const bool every = one == "every request" ||
                           (one.substr(0, 20) == "every request under " && route_matches(std::string(one.substr(20)) + "/<path:rest>", req.path + "/x"));
        if (every || (method_ok && route_matches(rule, req.path))) {
          ++out.by_route[route];
          matched = true;
          break;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 2);
      }
    }
    if (!matched) ++out.unmatched;
  }
  return out;
}

}  // namespace leakfix::plan
