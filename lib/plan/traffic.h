#pragma once
// Request counts from an access log (common, combined, or gunicorn's default format), matched
// against Flask route rules.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace leakfix::plan {

struct Request {
  std::string method;
  std::string path;  // without the query string
};

struct AccessLog {
  std::vector<Request> requests;
  std::size_t lines = 0;
  std::size_t unreadable = 0;                  // lines that are not in a known format
  std::vector<std::size_t> unreadable_lines;   // the first few, 1-based
};

// Reads a log; a line it cannot read is counted, never fatal.
AccessLog parse_access_log(std::string_view text);
Result<AccessLog> read_access_log(const std::string& path);

// Whether a request path matches a Flask rule ("/api/<int:id>/x"), converters included. A
// rule ending in "/" also matches the path without it (Flask redirects there).
bool route_matches(std::string_view rule, std::string_view path);

// Requests per route ("GET /api/x/<id>" as leakfix writes routes; several joined by ", "), and
// how many requests matched none of them.
struct TrafficCounts {
  std::map<std::string, long> by_route;
  long unmatched = 0;
};
TrafficCounts count_traffic(const AccessLog& log, const std::vector<std::string>& routes);
// The requests of the log that reach at least one of `routes`, each counted once (a phase's or
// a file's impact: an every-request hook already counts every request its routes served).
long count_reaching(const AccessLog& log, const std::set<std::string>& routes);

}  // namespace leakfix::plan
