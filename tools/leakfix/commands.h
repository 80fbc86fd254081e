#pragma once
// The verbs of the command line. Each parses nothing itself: main.cpp wires CLI11 to these.
#include <string>
#include <vector>

#include "common.h"

namespace leakfix::cli {

struct ScanOptions {
  std::vector<std::string> paths;
  std::string rules;               // --rules DIR|FILE; empty: shipped + project config
  std::string format = "text";     // text | json | sarif
  std::string fail_on = "warning";
  std::vector<std::string> excludes;
  int jobs = 0;
  bool quiet = false;
  bool no_color = false;
  bool concise = false;
  bool verbose = false;
  std::string baseline;                 // --baseline FILE: report only findings not in it
  std::string diff_base;                // --diff-base REF: only findings in lines changed since
  std::vector<std::string> only_files;  // check: report on these, read the rest for discovery
  std::string runtime;                  // --runtime FILE: leakfix_runtime's counts, joined to the findings
  Selection selection;              // --select / --ignore
};

struct FixOptions {
  std::vector<std::string> paths;
  std::string rules;
  std::string format = "text";  // text | json
  std::string fail_on = "warning";
  std::vector<std::string> excludes;
  std::vector<std::string> only;   // rule ids
  std::vector<std::string> kinds;  // finding kinds
  int jobs = 0;
  bool diff = false;   // print a patch, write nothing
  bool exit_non_zero_on_fix = false;
  bool write = false;  // apply every safe fix
  bool quiet = false;
  bool no_color = false;
  Selection selection;              // --select / --ignore
};

struct PlanOptions {
  std::vector<std::string> paths;
  std::string rules;
  std::string format = "md";  // md | json
  std::string output;         // -o FILE; stdout when empty
  std::string traffic;        // --traffic LOG
  std::string runtime;        // --runtime FILE: leakfix_runtime's counts
  std::vector<std::string> excludes;
  int jobs = 0;
  bool quiet = false;
  Selection selection;              // --select / --ignore
};

struct BaselineOptions {
  std::string action;  // create | update | prune | status
  std::vector<std::string> paths{"."};
  std::string output = ".leakfix-baseline.json";
  std::string rules;
  std::vector<std::string> excludes;
  int jobs = 0;
  bool quiet = false;
  Selection selection;              // --select / --ignore
};

struct ServerOptions {
  std::string rules;
  int jobs = 0;
  Selection selection;  // --select / --ignore; else [tool.leakfix] of the workspace
};

struct HookOptions {
  bool force = false;
};

int run_scan(const ScanOptions& options);
int run_check(const ScanOptions& options);
int run_baseline(const BaselineOptions& options);
int run_hook_install(const HookOptions& options);
int run_plan(const PlanOptions& options);

struct RuntimeOptions {
  std::vector<std::string> paths{"."};  // runtime rules: the project
  std::string rules;
  std::string output;                   // -o FILE
  std::vector<std::string> excludes;
  int jobs = 0;
  std::string dir;                      // runtime install DIR
};
int run_runtime_rules(const RuntimeOptions& options);
int run_runtime_install(const RuntimeOptions& options);
int run_fix(const FixOptions& options);
int run_explain(const std::string& kind);
// The language server on stdin/stdout: 0 after shutdown and exit, 1 when the input ends first.
int run_server(const ServerOptions& options);

}  // namespace leakfix::cli
