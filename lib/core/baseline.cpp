#include "core/baseline.h"

#include "core/safe_write.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace leakfix {
namespace {

namespace fs = std::filesystem;

std::string relative_to(const std::string& file, const std::string& baseline_path) {
  std::error_code ec;
  const fs::path base = fs::absolute(fs::path(baseline_path), ec).parent_path();
  const fs::path abs = fs::absolute(fs::path(file), ec).lexically_normal();
  auto rel = abs.lexically_relative(base.lexically_normal());
  if (rel.empty()) rel = abs;
  return rel.generic_string();
}

}  // namespace

Result<Baseline> load_baseline(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path, 0, fmt::format("cannot read the baseline: {}", std::strerror(errno))};
  Baseline b;
  b.path = path;
  try {
    const auto doc = nlohmann::json::parse(in);
    for (const auto& e : doc.at("entries")) {
      b.entries.push_back(BaselineEntry{e.at("rule").get<std::string>(), e.at("file").get<std::string>(),
                                        e.at("function").get<std::string>(), e.at("snippet").get<std::string>(),
                                        e.at("occurrence").get<int>(), e.value("kind", std::string())});
    }
  } catch (const nlohmann::json::exception& e) {
    return Error{path, 0, fmt::format("not a leakfix baseline ({}); create one with `leakfix baseline create`", e.what())};
  }
  return b;
}

std::optional<Error> save_baseline(const Baseline& b) {
  using json = nlohmann::ordered_json;
  json entries = json::array();
  for (const auto& e : b.entries) {
    entries.push_back({{"rule", e.rule},
                       {"file", e.file},
                       {"function", e.function},
                       {"snippet", e.snippet},
                       {"occurrence", e.occurrence},
                       {"kind", e.kind}});
  }
  const json doc{{"version", 1}, {"tool", "leakfix"}, {"entries", std::move(entries)}};
  if (std::filesystem::is_directory(b.path)) return Error{b.path, 0, "not written: it is a folder; name a file"};
  return safe_write(b.path, b.path, doc.dump(2) + "\n");
}

std::vector<BaselineEntry> entries_of(const std::vector<Finding>& findings, const std::string& baseline_path) {
  std::vector<BaselineEntry> out;
  std::map<std::string, int> seen;
  // Occurrences count in line order within a file, whatever order the findings come in.
  std::vector<std::size_t> order(findings.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(findings[a].file, findings[a].span.line, findings[a].span.column) <
           std::tie(findings[b].file, findings[b].span.line, findings[b].span.column);
  });
  out.resize(findings.size());
  std::map<std::string_view, std::string> relative;  // per file: the path functions ask the file system
  for (auto i : order) {
    const auto& f = findings[i];
    auto [rel, added] = relative.try_emplace(f.file);
    if (added) rel->second = relative_to(f.file, baseline_path);
    BaselineEntry e{f.rule, rel->second, f.function, f.snippet, 0, std::string(to_string(f.kind))};
    e.occurrence = seen[e.rule + '\x1f' + e.file + '\x1f' + e.function + '\x1f' + e.snippet]++;
    out[i] = std::move(e);
  }
  return out;
}

BaselineMatch match_baseline(const Baseline& baseline, const std::vector<Finding>& findings) {
  BaselineMatch m;
  const auto entries = entries_of(findings, baseline.path);
  m.known.assign(findings.size(), false);
  std::vector<bool> used(baseline.entries.size(), false);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    for (std::size_t j = 0; j < baseline.entries.size(); ++j) {
      if (!used[j] && baseline.entries[j].same_identity(entries[i])) {
        used[j] = true;
        m.known[i] = true;
        break;
      }
    }
  }
  for (std::size_t j = 0; j < used.size(); ++j) {
    if (!used[j]) m.stale.push_back(j);
  }
  return m;
}

std::string fingerprint(const BaselineEntry& e) {
  // FNV-1a, 64 bits, over the identity fields.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0x1f;
    h *= 1099511628211ull;
  };
  mix(e.rule);
  mix(e.file);
  mix(e.function);
  mix(e.snippet);
  mix(std::to_string(e.occurrence));
  return fmt::format("{:016x}", h);
}

}  // namespace leakfix
