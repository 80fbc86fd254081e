#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <algorithm>
#include <set>

#include "commands.h"
#include "core/baseline.h"
#include "core/parallel.h"
#include "core/git.h"
#include "common.h"
#include "core/suggest.h"
#include "core/walk.h"
#include "python/project.h"
#include "report/report.h"
#include "rules/loader.h"

namespace leakfix::cli {

namespace {

// Drops the findings a baseline records and, with --diff-base, those outside the changed lines.
// Fills the SARIF fingerprints and baseline states of what is left. False on an error (said).
bool apply_gates(Report& report, const ScanOptions& o) {
  const std::string baseline_path = o.baseline.empty() ? ".leakfix-baseline.json" : o.baseline;
  // SARIF and GitLab carry fingerprints.
  const bool fingerprints = o.format == "sarif" || o.format == "gitlab";
  const auto entries = fingerprints ? entries_of(report.findings, baseline_path) : std::vector<BaselineEntry>();
  std::vector<bool> keep(report.findings.size(), true);
  if (!o.baseline.empty()) {
    auto baseline = load_baseline(o.baseline);
    if (!baseline) {
      std::cerr << "leakfix: error: " << baseline.error().to_string() << '\n';
      return false;
    }
    const auto match = match_baseline(*baseline, report.findings);
    for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = !match.known[i];
    report.baselined = static_cast<std::size_t>(std::count(match.known.begin(), match.known.end(), true));
    // A check of some files cannot tell whether the entries of the others are stale.
    report.stale = o.only_files.empty() ? match.stale.size() : 0;
    if (report.stale && !o.quiet) {
      std::cerr << fmt::format("leakfix: {} baseline entr{} no longer match{} a finding; `leakfix baseline prune -o {}` drops {}\n",
                               match.stale.size(), match.stale.size() == 1 ? "y" : "ies", match.stale.size() == 1 ? "es" : "",
                               o.baseline, match.stale.size() == 1 ? "it" : "them");
    }
  }
  if (!o.diff_base.empty()) {
    auto changed = changed_since(std::filesystem::current_path().string(), o.diff_base);
    if (!changed) {
      std::cerr << "leakfix: error: " << changed.error().to_string() << '\n';
      return false;
    }
    for (std::size_t i = 0; i < keep.size(); ++i) {
      const auto& f = report.findings[i];
      const auto it = changed->find(absolute_normal(f.file));
      if (it == changed->end()) {
        keep[i] = false;
        continue;
      }
      const auto& lines = it->second;
      const bool touched = lines.contains(0) || lines.contains(f.span.line) || (f.exit && lines.contains(f.exit->line));
      keep[i] = keep[i] && touched;
    }
  }
  std::vector<Finding> kept;
  for (std::size_t i = 0; i < keep.size(); ++i) {
    if (!keep[i]) continue;
    kept.push_back(std::move(report.findings[i]));
    if (fingerprints) report.fingerprints.push_back(fingerprint(entries[i]));
    if (!o.baseline.empty()) report.baseline_states.emplace_back("new");
  }
  report.findings = std::move(kept);
  return true;
}

}  // namespace

int report_findings(const ScanOptions& o, Analysed& analysed) {
  auto& walked = analysed.walked;
  auto& result = analysed.project;
  Report report;
  report.findings = std::move(result.findings);
  report.errors = walked.errors;
  report.errors.insert(report.errors.end(), result.errors.begin(), result.errors.end());
  report.files = walked.files.size();
  report.skipped = walked.skipped.size();
  report.sources = std::move(result.sources);
  if (!o.only_files.empty()) {
    std::set<std::string> wanted;
    for (const auto& f : o.only_files) wanted.insert(absolute_normal(f));
    std::erase_if(report.findings, [&](const Finding& f) { return !wanted.contains(absolute_normal(f.file)); });
    report.files = o.only_files.size();
  }
  if (!apply_gates(report, o)) return 2;

  // What the wrapper discovery found, in either language, on stderr whatever the format.
  if (o.verbose) {
    if (result.cached || result.warm)
      std::cerr << fmt::format("leakfix: cache: {} of {} files unchanged{}{}\n", result.cached, result.files,
                               result.dependants ? fmt::format(", {} of them analysed again for what they call", result.dependants) : "",
                               result.warm && result.cached < result.files ? "; the others analysed with what the cache knew" : "");
    for (const auto& d : result.discovered_acquirers) std::cerr << "leakfix: acquirer discovered: " << d << '\n';
    for (const auto& d : result.discovered_releases) std::cerr << "leakfix: release discovered: " << d << '\n';
  }
  if (o.format == "json") {
    render_json(std::cout, report);
  } else if (o.format == "sarif") {
    // SARIF states each fix as replacements, without a diff. Every fix is applied and re-parsed
    // to be stated, so they are worked out in parallel.
    std::vector<std::size_t> fixable;
    for (std::size_t i = 0; i < report.findings.size(); ++i) {
      if (report.findings[i].fix) fixable.push_back(i);
    }
    std::vector<std::optional<FixView>> views(report.findings.size());
    parallel_for(fixable, o.jobs > 0 ? o.jobs : static_cast<int>(std::thread::hardware_concurrency()), [&](std::size_t i) {
      if (const auto source = report.sources.find(report.findings[i].file)) views[i] = fix_view(report.findings[i], *source, false);
    });
    for (auto i : fixable) {
      if (views[i]) report.fixes.emplace(i, std::move(*views[i]));
    }
    render_sarif(std::cout, report, LEAKFIX_VERSION);
  } else if (o.format == "github") {
    render_github(std::cout, report);
  } else if (o.format == "gitlab") {
    render_gitlab(std::cout, report);
  } else if (o.format == "junit") {
    render_junit(std::cout, report);
  } else {
    render_text(std::cout, report, TextOptions{use_color(o.no_color) && !env_set("PRE_COMMIT") && !env_set("CI"), !o.concise});
    if (!o.quiet) std::cout << summary_line(report) << '\n';
  }
  if (analysed.failed()) {
    if (!o.quiet)
      std::cerr << (analysed.nothing_read ? "leakfix: error: nothing could be read or analysed (see above); exit status 2\n"
                                          : "leakfix: error: some of the paths could not be read (see above); exit status 2\n");
    return 2;
  }
  const auto threshold = parse_severity(o.fail_on).value_or(Severity::Warning);
  for (const auto& f : report.findings) {
    if (f.severity() >= threshold) return 1;
  }
  return 0;
}

int run_scan(const ScanOptions& o) {
  auto rules = rules_for(o.rules);
  if (!rules) {
    std::cerr << "leakfix: error: " << rules.error().to_string() << '\n';
    return 2;
  }
  std::optional<plan::RuntimeCounts> runtime;
  if (!o.runtime.empty()) {
    runtime = read_runtime_counts(o.runtime, o.quiet);
    if (!runtime) return 2;
  }
  auto analysed = walk_and_analyse(o.paths, o.excludes, *rules, o.jobs, o.quiet, AnalyseFor{o.format == "sarif", true, o.selection});
  if (!analysed) return 2;
  if (runtime) {
    // Leaks counted where no finding is: said on stderr, whatever the format.
    for (const auto& u : plan::join_runtime(analysed->project.findings, *runtime, displays_of(analysed->walked.files))) {
      if (!o.quiet)
        std::cerr << fmt::format("leakfix: runtime: {}:{}: {} leak{}, {} open, and no finding here: {}\n", u.site.file, u.site.line,
                                 u.site.leaked, u.site.leaked == 1 ? "" : "s", u.site.open, u.hint);
    }
  }
  if (const auto& shard = cache_setup(); shard.shard_count) {
    // A share's findings are not the tree's until the shares are joined: nothing is reported.
    if (!o.quiet)
      std::cerr << fmt::format("leakfix: shard {}/{}: {} files analysed into the summary cache; `leakfix scan` without --shard reports "
                               "on the whole tree\n",
                               shard.shard_index, shard.shard_count, analysed->walked.files.size());
    return analysed->project.errors.empty() || !analysed->nothing_read ? 0 : 2;
  }
  return report_findings(o, *analysed);
}

int run_check(const ScanOptions& given) {
  ScanOptions o = given;
  o.concise = true;
  auto rules = rules_for(o.rules);
  if (!rules) {
    std::cerr << "leakfix: error: " << rules.error().to_string() << '\n';
    return 2;
  }
  // The files given are reported on; the rest of the tree is read for wrapper discovery.
  const auto cwd = std::filesystem::current_path().string();
  const auto top = git_toplevel(cwd);
  const std::string root = top ? *top : cwd;
  std::vector<std::string> inputs;
  std::set<std::string> given_abs;
  for (const auto& f : o.paths) {
    if (std::filesystem::is_directory(f)) {
      std::cerr << fmt::format("leakfix: error: {}: check takes files; use `leakfix scan` for folders\n", f);
      return 2;
    }
    inputs.push_back(f);
    given_abs.insert(absolute_normal(f));
  }
  o.only_files = o.paths;
  // The baseline at the top of the work tree applies unless another is named.
  if (o.baseline.empty() && std::filesystem::exists(std::filesystem::path(root) / ".leakfix-baseline.json"))
    o.baseline = (std::filesystem::path(root) / ".leakfix-baseline.json").string();
  WalkOptions walk;
  walk.excludes = o.excludes;
  walk.default_excludes = walk_setup().default_excludes;
  auto context = collect_files({root}, walk);
  std::vector<std::string> paths = inputs;
  for (const auto& f : context.files) {
    if (!given_abs.contains(absolute_normal(f.path))) paths.push_back(f.path);
  }
  auto analysed = walk_and_analyse(paths, o.excludes, *rules, o.jobs, true, AnalyseFor{o.format == "sarif", true, o.selection}, &inputs);
  if (!analysed) return 2;
  return report_findings(o, *analysed);
}

int run_explain(const std::string& kind) {
  if (kind.empty()) {
    for (const auto& k : kKinds) std::cout << k.name << '\n';
    return 0;
  }
  const auto k = parse_kind(kind);
  const auto doc = k ? kind_doc(*k) : std::nullopt;
  if (!doc) {
    std::string list;
    for (const auto& each : kKinds) list += fmt::format("{}{}", list.empty() ? "" : ", ", each.name);
    std::vector<std::string> names;
    for (const auto& each : kKinds) names.emplace_back(each.name);
    std::cerr << fmt::format("leakfix: error: unknown finding kind `{}`{} (one of: {})\n", kind, did_you_mean(kind, names), list);
    return 2;
  }
  std::cout << *doc;
  return 0;
}

}  // namespace leakfix::cli
