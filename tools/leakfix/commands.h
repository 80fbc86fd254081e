#pragma once
// The verbs of the command line. Each parses nothing itself: main.cpp wires CLI11 to these.
#include <string>
#include <vector>

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
};

int run_scan(const ScanOptions& options);
int run_explain(const std::string& kind);

}  // namespace leakfix::cli
