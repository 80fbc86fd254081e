#include "plan/traffic.h"

#include "core/safe_write.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

namespace leakfix::plan {
namespace {

// host ident user [time] "METHOD target PROTOCOL" status size ["referer" "agent"]: the method
// and the target, or nullopt. A scan, not a regular expression: a log line may be long.
std::optional<std::pair<std::string_view, std::string_view>> request_of(std::string_view line) {
  auto word = [&]() -> std::string_view {  // a run of non-blanks, then one blank
    const auto sp = line.find(' ');
    if (sp == 0 || sp == std::string_view::npos) return {};
    const auto w = line.substr(0, sp);
    line.remove_prefix(sp + 1);
    return w;
  };
  for (int i = 0; i < 3; ++i) {
    if (word().empty()) return std::nullopt;
  }
  if (!line.starts_with('[')) return std::nullopt;
  const auto close = line.find(']');
  if (close == std::string_view::npos || close == 1 || !line.substr(close).starts_with("] \"")) return std::nullopt;
  line.remove_prefix(close + 3);
  const auto quote = line.find('"');
  if (quote == std::string_view::npos) return std::nullopt;
  std::string_view request = line.substr(0, quote);
  line.remove_prefix(quote + 1);
  const auto sp = request.find(' ');
  if (sp == 0 || sp == std::string_view::npos) return std::nullopt;
  const auto method = request.substr(0, sp);
  if (!std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) return std::nullopt;
  request.remove_prefix(sp + 1);
  const auto target = request.substr(0, request.find(' '));
  if (target.empty() || target.find_first_of("\t\f\v") != std::string_view::npos) return std::nullopt;
  // " 200 1234" or " 200 -", then anything.
  if (line.size() < 6 || line[0] != ' ' || !std::isdigit(static_cast<unsigned char>(line[1])) ||
      !std::isdigit(static_cast<unsigned char>(line[2])) || !std::isdigit(static_cast<unsigned char>(line[3])) || line[4] != ' ')
    return std::nullopt;
  line.remove_prefix(5);
  const auto size = line.substr(0, line.find(' '));
  if (size != "-" && (size.empty() || !std::all_of(size.begin(), size.end(), [](char c) { return c >= '0' && c <= '9'; })))
    return std::nullopt;
  return std::make_pair(method, target);
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
    const auto request = request_of(line);
    if (!request) {
      ++log.unreadable;
      if (log.unreadable_lines.size() < 5) log.unreadable_lines.push_back(log.lines);
      continue;
    }
    std::string target(request->second);
    // An absolute URI (proxies log them): keep the path.
    if (const auto scheme = target.find("://"); scheme != std::string::npos) {
      const auto slash = target.find('/', scheme + 3);
      target = slash == std::string::npos ? "/" : target.substr(slash);
    }
    target = target.substr(0, target.find_first_of("?#"));
    log.requests.push_back(Request{std::string(request->first), std::move(target)});
  }
  return log;
}

Result<AccessLog> read_access_log(const std::string& path) {
  const auto bytes = read_all(path);
  if (!bytes) return Error{path, 0, fmt::format("cannot read the access log: {}", std::strerror(errno))};
  return parse_access_log(*bytes);
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

namespace {
// Whether a request reaches a finding's route, which may list several: "GET /a, POST /b".
bool reaches(const Request& req, std::string_view route) {
  std::string_view rest = route;
  while (!rest.empty()) {
    const auto comma = rest.find(", ");
    const auto one = rest.substr(0, comma);
    const auto [methods, rule] = split_route(one);
    const bool method_ok = methods.empty() || std::find(methods.begin(), methods.end(), req.method) != methods.end();
    const bool every = one == "every request" ||
                       (one.substr(0, 20) == "every request under " && route_matches(std::string(one.substr(20)) + "/<path:rest>", req.path + "/x"));
    if (every || (method_ok && route_matches(rule, req.path))) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 2);
  }
  return false;
}
}  // namespace

TrafficCounts count_traffic(const AccessLog& log, const std::vector<std::string>& routes) {
  TrafficCounts out;
  for (const auto& route : routes) out.by_route.emplace(route, 0);
  for (const auto& req : log.requests) {
    bool matched = false;
    for (const auto& route : routes) {
      if (!reaches(req, route)) continue;
      ++out.by_route[route];
      matched = true;
    }
    if (!matched) ++out.unmatched;
  }
  return out;
}

long count_reaching(const AccessLog& log, const std::set<std::string>& routes) {
  long n = 0;
  for (const auto& req : log.requests) {
    n += std::any_of(routes.begin(), routes.end(), [&](const std::string& r) { return reaches(req, r); }) ? 1 : 0;
  }
  return n;
}

}  // namespace leakfix::plan
