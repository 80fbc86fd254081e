#include "plan/runtime.h"

#include "core/safe_write.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace leakfix::plan {
namespace {

using json = nlohmann::json;

// The parts of a path, for matching a deployed file to one of the tree ("/srv/app/src/a.py"
// and "src/a.py" share two).
std::vector<std::string_view> parts_of(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at <= path.size()) {
    auto slash = path.find_first_of("/\\", at);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > at && path.substr(at, slash - at) != ".") out.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

std::size_t common_tail(std::string_view a, std::string_view b) {
  const auto pa = parts_of(a), pb = parts_of(b);
  std::size_t n = 0;
  while (n < pa.size() && n < pb.size() && pa[pa.size() - 1 - n] == pb[pb.size() - 1 - n]) ++n;
  return n;
}

std::string collapse(std::string_view text) { return normalise_snippet(text); }

// `site="file:line"`, `function="f"` of a Prometheus sample line.
std::optional<std::string> label(std::string_view line, std::string_view name) {
  const auto key = fmt::format("{}=\"", name);
  auto at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  at += key.size();
  std::string out;
  for (; at < line.size() && line[at] != '"'; ++at) {
    if (line[at] == '\\' && at + 1 < line.size()) {
      ++at;
      out += line[at] == 'n' ? '\n' : line[at];
    } else {
      out += line[at];
    }
  }
  return out;
}

void add(std::map<std::pair<std::string, int>, RuntimeSite>& sites, const RuntimeSite& s) {
  auto& into = sites[{s.file, s.line}];
  if (into.file.empty()) {
    into = s;
    return;
  }
  into.acquired += s.acquired;
  into.open += s.open;
  into.leaked += s.leaked;
  auto later = [](std::optional<double>& a, const std::optional<double>& b) {
    if (b && (!a || *b > *a)) a = b;
  };
  later(into.last_leak, s.last_leak);
  later(into.last_seen, s.last_seen);
}

}  // namespace

RuntimeCounts parse_runtime(std::string_view text) {
  RuntimeCounts out;
  // JSON lines: each a snapshot of one process, cumulative; the last of each process counts.
  std::map<std::string, json> last_of_process;
  std::map<std::pair<std::string, int>, RuntimeSite> prometheus;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    const auto line = text.substr(at, nl - at);
    at = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++out.lines;
    if (line.front() == '{') {
      const auto doc = json::parse(line, nullptr, false);
      if (doc.is_discarded() || !doc.is_object() || !doc.contains("sites") || !doc["sites"].is_array()) {
        ++out.unreadable;
        continue;
      }
      out.format = "json";
      const std::string pid = doc.contains("pid") ? doc["pid"].dump() : "0";
      auto& kept = last_of_process[pid];
      if (kept.is_null() || doc.value("time", 0.0) >= kept.value("time", 0.0)) kept = doc;
      continue;
    }
    if (line.front() == '#') continue;
    const bool leaked = line.starts_with("leakfix_leaked_total{"), open = line.starts_with("leakfix_open_connections{");
    const auto site = label(line, "site");
    const auto space = line.rfind(' ');
    if (!(leaked || open) || !site || space == std::string_view::npos) {
      ++out.unreadable;
      continue;
    }
    const auto colon = site->rfind(':');
    if (colon == std::string::npos) {
      ++out.unreadable;
      continue;
    }
    out.format = "prometheus";
    RuntimeSite s;
    s.file = site->substr(0, colon);
    s.line = std::atoi(site->c_str() + colon + 1);
    s.function = label(line, "function").value_or("");
    const long value = std::atol(std::string(line.substr(space + 1)).c_str());
    (leaked ? s.leaked : s.open) = value;
    add(prometheus, s);
  }
  std::map<std::pair<std::string, int>, RuntimeSite> sites = std::move(prometheus);
  for (const auto& [pid, doc] : last_of_process) {
    (void)pid;
    ++out.processes;
    for (const auto& j : doc["sites"]) {
      if (!j.is_object()) continue;
      RuntimeSite s;
      s.file = j.value("file", "");
      s.line = j.value("line", 0);
      s.function = j.value("function", "");
      s.text = j.value("text", "");
      s.acquired = j.value("acquired", 0L);
      s.open = j.value("open", 0L);
      s.leaked = j.value("leaked", 0L);
      if (j.contains("last_leak") && j["last_leak"].is_number()) s.last_leak = j["last_leak"].get<double>();
      if (j.contains("last_seen") && j["last_seen"].is_number()) s.last_seen = j["last_seen"].get<double>();
      if (!s.file.empty() && s.line > 0) add(sites, s);
    }
  }
  for (auto& [key, s] : sites) out.sites.push_back(std::move(s));
  if (out.format == "prometheus") out.processes = 1;
  return out;
}

Result<RuntimeCounts> read_runtime(const std::string& path) {
  const auto bytes = read_all(path);
  if (!bytes) return Error{path, 0, fmt::format("cannot read the runtime counts: {}", std::strerror(errno))};
  auto counts = parse_runtime(*bytes);
  if (counts.lines > 0 && counts.format.empty())
    return Error{path, 0, "neither JSON lines of leakfix_runtime nor a Prometheus scrape of its metrics"};
  return counts;
}

std::vector<UnexplainedSite> join_runtime(std::vector<Finding>& findings, const RuntimeCounts& counts,
                                          const std::vector<std::string>& scanned) {
  std::vector<UnexplainedSite> out;
  for (const auto& site : counts.sites) {
    // The file of the tree it is: the longest common tail of the two paths.
    std::size_t best = 0;
    std::string file;
    for (const auto& f : scanned) {
      const auto n = common_tail(site.file, f);
      if (n > best) {
        best = n;
        file = f;
      }
    }
    Finding* match = nullptr;
    if (best > 0) {
      for (auto& f : findings) {
        if (f.file == file && f.span.line == site.line) match = &f;
      }
      // Lines moved (the deployed code is older or newer): the same function, the same code.
      if (!match && !site.text.empty()) {
        const auto text = collapse(site.text);
        const auto fn = site.function;
        int distance = 0;
        for (auto& f : findings) {
          if (f.file != file || f.snippet != text) continue;
          const auto& name = f.function;
          const bool same_function = name == fn || name.ends_with("." + fn);
          if (!same_function) continue;
          const int d = std::abs(f.span.line - site.line);
          if (!match || d < distance) {
            match = &f;
            distance = d;
          }
        }
      }
    }
    if (match) {
      Finding::Observed o{fmt::format("{}:{}", site.file, site.line), site.acquired, site.open, site.leaked, site.last_leak,
                          site.last_seen};
      if (match->observed) {  // two deployed lines on one finding (two versions running)
        o.acquired += match->observed->acquired;
        o.open += match->observed->open;
        o.leaked += match->observed->leaked;
      }
      match->observed = o;
      continue;
    }
    // Handles open without a leak are not one (a pool's own, long-lived, or lent by a leaked wrapper).
    if (site.leaked == 0) continue;
    UnexplainedSite u{site, ""};
    const bool in_function = best > 0 && std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
      return f.file == file && (f.function == site.function || f.function.ends_with("." + site.function));
    });
    if (best == 0) {
      u.hint = "this file is not in the tree scanned: scan the code that is deployed";
    } else if (in_function) {
      u.hint = fmt::format("{} has findings, not at this acquisition: leakfix sees `{}` released on every path; a release "
                           "that does not happen at run time (a callback, a method overridden) or an exception leakfix does not "
                           "expect",
                           site.function, site.text.empty() ? "it" : site.text);
    } else {
      u.hint = fmt::format("no finding in {}() of {}: the acquisition is reached through a call leakfix cannot follow (a "
                           "factory passed as a value, dynamic dispatch, getattr) or releases it in a way the rules count and "
                           "the code does not; if `{}` calls an acquirer the rules do not name, add it to .leakfix.yaml",
                           site.function, file, site.text.empty() ? site.function : site.text);
    }
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(), [](const UnexplainedSite& a, const UnexplainedSite& b) {
    if (a.site.leaked != b.site.leaked) return a.site.leaked > b.site.leaked;
    return std::tie(a.site.file, a.site.line) < std::tie(b.site.file, b.site.line);
  });
  return out;
}

}  // namespace leakfix::plan
