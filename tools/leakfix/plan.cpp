#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "core/safe_write.h"
#include "common.h"
#include "core/walk.h"
#include "fix/write.h"
#include "plan/plan.h"
#include "python/project.h"

namespace leakfix::cli {

int run_plan(const PlanOptions& o) {
  auto rules = rules_for(o.rules);
  if (!rules) {
    std::cerr << "leakfix: error: " << rules.error().to_string() << '\n';
    return 2;
  }
  plan::PlanInput input;
  if (!o.traffic.empty()) {
    auto log = plan::read_access_log(o.traffic);
    if (!log) {
      std::cerr << "leakfix: error: " << log.error().to_string() << '\n';
      return 2;
    }
    if (log->unreadable) {
      std::cerr << fmt::format("leakfix: warning: {}: {} of {} lines are not an access log line and were skipped\n", o.traffic,
                               log->unreadable, log->lines);
    }
    input.traffic = std::move(*log);
    input.traffic_file = o.traffic;
  }
  std::optional<plan::RuntimeCounts> runtime;
  if (!o.runtime.empty()) {
    auto counts = read_runtime_counts(o.runtime, o.quiet);
    if (!counts) return 2;
    runtime = std::move(*counts);
  }
  auto analysed = walk_and_analyse(o.paths, o.excludes, *rules, o.jobs, o.quiet, AnalyseFor{false, true, o.selection});
  if (!analysed) return 2;
  auto& walked = analysed->walked;
  auto& project = analysed->project;
  if (runtime) {
    input.unexplained = plan::join_runtime(project.findings, *runtime, displays_of(walked.files));
    input.runtime = std::move(runtime);
    input.runtime_file = o.runtime;
  }

  input.findings = std::move(project.findings);
  input.paths = o.paths;
  input.files_scanned = walked.files.size();
  const auto built = plan::build_plan(std::move(input));
  std::ostringstream text;
  if (o.format == "json") plan::render_json(text, built);
  else plan::render_markdown(text, built);

  // A path that could not be read (or nothing read at all) makes the plan incomplete: exit 2.
  const int done = analysed->failed() ? 2 : 0;
  if (o.output.empty()) {
    std::cout << text.str();
    return done;
  }
  if (auto err = safe_write(o.output, o.output, text.str())) {
    std::cerr << "leakfix: error: " << err->to_string() << '\n';
    return 2;
  }
  if (!o.quiet) std::cerr << fmt::format("leakfix: plan written to {}\n", o.output);
  return done;
}

}  // namespace leakfix::cli
