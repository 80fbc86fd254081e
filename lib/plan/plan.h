#pragma once
// The phased remediation plan: phases from the finding kinds, priorities from exposure and
// traffic, effort, commands, success criteria, monitoring and rollback; Markdown and JSON.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/finding.h"
#include "plan/runtime.h"
#include "plan/traffic.h"

namespace leakfix::plan {

enum class Priority { High, Low, Internal };
std::string_view to_string(Priority p);
// High for public and authenticated routes, Low for admin-only ones, Internal for code no route reaches.
Priority priority_of(const Finding& f);

struct Item {
  Finding finding;
  Priority priority = Priority::Internal;
  std::optional<long> traffic;  // requests in the access log through its route(s)
  int effort_minutes = 0;
};

struct FileGroup {
  std::string file;
  Priority priority = Priority::Internal;
  std::optional<long> traffic;
  std::vector<Item> items;
};

struct Phase {
  int number = 0;  // 1, 2, 3
  std::string title;
  std::string why;
  std::vector<FileGroup> files;
  int effort_minutes = 0;
  std::vector<std::string> fixable_files;  // what `leakfix fix --write` changes in this phase
  std::vector<std::string> kinds;          // the --kind options of its command
  std::vector<std::string> routes;         // the routes its items are on
  std::optional<long> requests;            // with a log: its requests that reach those routes, each once
};

struct PlanInput {
  std::vector<Finding> findings;
  std::vector<std::string> paths;  // as scanned, for the commands
  std::size_t files_scanned = 0;
  std::optional<AccessLog> traffic;
  std::string traffic_file;
  // leakfix_runtime's counts, already joined to the findings (Finding::observed), and the
  // sites that leaked where no finding is.
  std::optional<RuntimeCounts> runtime;
  std::string runtime_file;
  std::vector<UnexplainedSite> unexplained;
};

struct Plan {
  std::vector<Phase> phases;
  std::vector<Item> review;  // escapes, parse errors, and findings no rewrite can fix
  PlanInput input;
  std::optional<TrafficCounts> counts;
};

Plan build_plan(PlanInput input);
void render_markdown(std::ostream& out, const Plan& plan);
void render_json(std::ostream& out, const Plan& plan);

// Assumptions behind the effort figures, stated in the plan.
inline constexpr int kMinutesPerAutoFix = 3;     // review the diff, run the tests
inline constexpr int kMinutesPerManualFix = 20;  // rewrite by hand and test
inline constexpr int kMinutesPerPhaseDeploy = 30;

}  // namespace leakfix::plan
