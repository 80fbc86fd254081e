#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "core/walk.h"
#include "python/project.h"
#include "report/report.h"
#include "rules/loader.h"

namespace leakfix::cli {

int run_scan(const ScanOptions& o) {
  auto rules = rules_for(o.rules);
  if (!rules) {
    std::cerr << "leakfix: error: " << rules.error().to_string() << '\n';
    return 2;
  }
  auto analysed = walk_and_analyse(o.paths, o.excludes, *rules, o.jobs, o.quiet, o.format == "sarif");
  if (!analysed) return 2;
  auto& walked = analysed->walked;
  auto& result = analysed->project;

  Report report;
  report.findings = std::move(result.findings);
  report.errors = walked.errors;
  report.errors.insert(report.errors.end(), result.errors.begin(), result.errors.end());
  report.files = walked.files.size();
  report.sources = std::move(result.sources);

  if (o.format == "json") {
    render_json(std::cout, report);
  } else if (o.format == "sarif") {
    for (std::size_t i = 0; i < report.findings.size(); ++i) {
      const auto& f = report.findings[i];
      if (auto v = f.fix ? fix_view(f, report.sources.at(f.file)) : std::nullopt) report.fixes.emplace(i, std::move(*v));
    }
    render_sarif(std::cout, report, LEAKFIX_VERSION);
  } else {
    render_text(std::cout, report, TextOptions{use_color(o.no_color), !o.concise});
    if (o.verbose) {
      for (const auto& d : result.discovered_acquirers) std::cerr << "leakfix: acquirer discovered: " << d << '\n';
      for (const auto& d : result.discovered_releases) std::cerr << "leakfix: release discovered: " << d << '\n';
    }
    if (!o.quiet) std::cout << summary_line(report) << '\n';
  }
  if (walked.files.size() == result.errors.size() && !walked.files.empty()) return 2;
  const auto threshold = parse_severity(o.fail_on).value_or(Severity::Warning);
  for (const auto& f : report.findings) {
    if (f.severity() >= threshold) return 1;
  }
  return 0;
}

int run_explain(const std::string& kind) {
  if (kind.empty()) {
    for (auto k : kAllKinds) std::cout << to_string(k) << '\n';
    return 0;
  }
  const auto k = parse_kind(kind);
  const auto doc = k ? kind_doc(*k) : std::nullopt;
  if (!doc) {
    std::string list;
    for (auto each : kAllKinds) list += fmt::format("{}{}", list.empty() ? "" : ", ", to_string(each));
    std::cerr << fmt::format("leakfix: error: unknown finding kind `{}` (one of: {})\n", kind, list);
    return 2;
  }
  std::cout << *doc;
  return 0;
}

}  // namespace leakfix::cli
