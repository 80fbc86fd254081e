#pragma once
// What leakfix_runtime counted in production (JSON lines it wrote, or a Prometheus scrape of
// it), joined to the static findings: which findings leaked and how often, which never did,
// and which leaks no finding explains.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/finding.h"
#include "core/result.h"

namespace leakfix::plan {

// One acquiring line as the runtime saw it.
struct RuntimeSite {
  std::string file;  // as the running process named it (absolute, another machine's)
  int line = 0;
  std::string function;
  std::string text;  // the acquiring line's code, stripped (JSON lines only)
  long acquired = 0, open = 0, leaked = 0;
  std::optional<double> last_leak, last_seen;  // Unix times (JSON lines only)
};

struct RuntimeCounts {
  std::vector<RuntimeSite> sites;  // summed over the processes, each at its last snapshot
  std::size_t lines = 0, unreadable = 0, processes = 0;
  std::string format;  // "json" or "prometheus"
};

RuntimeCounts parse_runtime(std::string_view text);
Result<RuntimeCounts> read_runtime(const std::string& path);

// A runtime site that no finding explains, and what may be why.
struct UnexplainedSite {
  RuntimeSite site;
  std::string hint;
};

// Sets `observed` on the findings that runtime sites match: by file (the longest common tail of
// their paths) and line, or, when lines moved between the deployed code and this tree, by the
// function and the acquiring line's code. `scanned` are the files the scan read (display
// paths). The sites that leaked and match no finding are returned.
std::vector<UnexplainedSite> join_runtime(std::vector<Finding>& findings, const RuntimeCounts& counts,
                                          const std::vector<std::string>& scanned);

}  // namespace leakfix::plan
