// `leakfix runtime rules` and `leakfix runtime install DIR`: what leakfix_runtime (the module in
// runtime/) needs from a project, and the module itself.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>

#include "commands.h"
#include "common.h"
#include "core/embedded.h"
#include "core/safe_write.h"

namespace leakfix::cli {

namespace {

// What sitecustomize.py does: the runtime, when LEAKFIX_RUNTIME is set.
constexpr std::string_view kSiteCustomize = R"(# Written by `leakfix runtime install`: counts leaked connections per line when LEAKFIX_RUNTIME=1
# (see leakfix_runtime.py for the other LEAKFIX_RUNTIME_* variables). Without it, this does nothing.
import os

if os.environ.get("LEAKFIX_RUNTIME", "") not in ("", "0"):
    try:
        import leakfix_runtime
        leakfix_runtime.install_from_env()
    except Exception as error:  # never stop the application from starting
        import sys
        sys.stderr.write(f"leakfix_runtime: not installed: {error!r}\n")
)";

}  // namespace

int run_runtime_rules(const RuntimeOptions& o) {
  auto rules = rules_for(o.rules);
  if (!rules) {
    std::cerr << "leakfix: error: " << rules.error().to_string() << '\n';
    return 2;
  }
  auto analysed = walk_and_analyse(o.paths, o.excludes, *rules, o.jobs, true, AnalyseFor{false, false, {}});
  if (!analysed) return 2;
  const auto& k = analysed->project.knowledge;
  using json = nlohmann::ordered_json;
  json acquirers = json::array(), releases = json::array();
  std::set<std::string> methods;
  for (const auto& r : k.rules) {
    // Coroutines (asyncpg, aiosqlite, psycopg's async connections) are not wrapped.
    const bool async = std::any_of(r.acquirers.begin(), r.acquirers.end(), [](const Acquirer& a) { return !a.async_with.empty(); });
    if (r.language != "python" || async) continue;
    for (const auto& m : r.release_methods) methods.insert(m);
    for (const auto& a : r.acquirers) {
      // open() is counted by the runtime's own open_files switch.
      if (a.pattern == "open" || a.pattern == "builtins.open" || a.pattern == "io.open") continue;
      json j = {{"call", a.pattern}, {"rule", r.id}};
      if (!a.module.empty()) j["module"] = a.module;
      if (!a.owner_class.empty()) j["class"] = a.owner_class;
      // A pool's getconn(): given back by putconn(), whatever its own type allows.
      if (!a.fix && !r.release_functions.empty()) j["released_by_function"] = true;
      acquirers.push_back(j);
    }
    for (const auto& f : r.release_functions) releases.push_back({{"call", f.pattern}, {"argument", f.argument}});
  }
  for (const auto& f : k.release_functions) {
    if (f.owner_class.empty()) {
      json j = {{"call", f.pattern}, {"argument", f.argument}};
      if (!f.module.empty()) j["module"] = f.module;
      releases.push_back(j);
    }
  }
  json doc = {{"version", 1}, {"acquirers", acquirers}, {"releases", releases}, {"methods", std::vector<std::string>(methods.begin(), methods.end())}};
  const auto text = doc.dump(2) + "\n";
  if (o.output.empty()) {
    std::cout << text;
    return analysed->failed() ? 2 : 0;
  }
  if (auto err = safe_write(o.output, o.output, text)) {
    std::cerr << "leakfix: error: " << err->to_string() << '\n';
    return 2;
  }
  return analysed->failed() ? 2 : 0;
}

int run_runtime_install(const RuntimeOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(o.dir, ec)) {
    std::cerr << fmt::format("leakfix: error: {}: not a folder\n", o.dir);
    return 2;
  }
  const auto module = runtime_module();
  const auto target = (fs::path(o.dir) / "leakfix_runtime.py").string();
  if (auto err = safe_write(target, target, std::string(module))) {
    std::cerr << "leakfix: error: " << err->to_string() << '\n';
    return 2;
  }
  std::cerr << fmt::format("leakfix: wrote {}\n", target);
  const auto site = (fs::path(o.dir) / "sitecustomize.py").string();
  if (fs::exists(site, ec)) {
    // Someone's own: added to, never replaced.
    std::cerr << fmt::format("leakfix: {} exists and was left alone; add to it:\n    import leakfix_runtime; leakfix_runtime.install_from_env()\n",
                             site);
  } else if (auto err = safe_write(site, site, std::string(kSiteCustomize))) {
    std::cerr << "leakfix: error: " << err->to_string() << '\n';
    return 2;
  } else {
    std::cerr << fmt::format("leakfix: wrote {}: with {} on PYTHONPATH, LEAKFIX_RUNTIME=1 turns the runtime on\n", site, o.dir);
  }
  return 0;
}

}  // namespace leakfix::cli
