#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "core/safe_write.h"
#include "common.h"
#include "core/baseline.h"
#include "core/git.h"

namespace leakfix::cli {

int run_baseline(const BaselineOptions& o) {
  auto rules = rules_for(o.rules);
  if (!rules) {
    std::cerr << "leakfix: error: " << rules.error().to_string() << '\n';
    return 2;
  }
  std::optional<Baseline> existing;
  if (o.action != "create") {
    auto loaded = load_baseline(o.output);
    if (!loaded) {
      std::cerr << "leakfix: error: " << loaded.error().to_string() << '\n';
      return 2;
    }
    existing = std::move(*loaded);
  }
  auto analysed = walk_and_analyse(o.paths, o.excludes, *rules, o.jobs, o.quiet, AnalyseFor{false, false, o.selection});
  if (!analysed) return 2;
  // A baseline of what could be read would hide the findings of what could not.
  if (analysed->failed()) {
    std::cerr << fmt::format("leakfix: error: not every path could be read; {} is left as it is\n", o.output);
    return 2;
  }
  const auto& findings = analysed->project.findings;
  const auto current = entries_of(findings, o.output);

  if (o.action == "status") {
    const auto match = match_baseline(*existing, findings);
    const auto known = std::count(match.known.begin(), match.known.end(), true);
    std::cout << fmt::format("{}: {} entr{}; {} still found, {} new finding{}, {} stale entr{}\n", o.output,
                             existing->entries.size(), existing->entries.size() == 1 ? "y" : "ies", known,
                             findings.size() - static_cast<std::size_t>(known), findings.size() - known == 1 ? "" : "s",
                             match.stale.size(), match.stale.size() == 1 ? "y" : "ies");
    for (auto j : match.stale) {
      const auto& e = existing->entries[j];
      std::cout << fmt::format("  stale: {} in {} ({}): {}\n", e.rule, e.file, e.function, e.snippet);
    }
    for (std::size_t i = 0; i < findings.size(); ++i) {
      if (!match.known[i]) {
        const auto& f = findings[i];
        std::cout << fmt::format("  new: {}:{}:{}: {}: {}\n", f.file, f.span.line, f.span.column, to_string(f.kind), f.message);
      }
    }
    return 0;
  }

  Baseline out;
  out.path = o.output;
  if (o.action == "prune") {
    // Only drops what matches nothing: a baseline never grows by pruning.
    const auto match = match_baseline(*existing, findings);
    std::set<std::size_t> stale(match.stale.begin(), match.stale.end());
    for (std::size_t j = 0; j < existing->entries.size(); ++j) {
      if (!stale.contains(j)) out.entries.push_back(existing->entries[j]);
    }
    if (auto err = save_baseline(out)) {
      std::cerr << "leakfix: error: " << err->to_string() << '\n';
      return 2;
    }
    if (!o.quiet) std::cout << fmt::format("{}: {} stale entr{} removed, {} kept\n", o.output, stale.size(),
                                           stale.size() == 1 ? "y" : "ies", out.entries.size());
    return 0;
  }
  // create, update: what is found now.
  out.entries = current;
  std::sort(out.entries.begin(), out.entries.end(), [](const BaselineEntry& a, const BaselineEntry& b) {
    return std::tie(a.file, a.function, a.rule, a.snippet, a.occurrence) < std::tie(b.file, b.function, b.rule, b.snippet, b.occurrence);
  });
  if (auto err = save_baseline(out)) {
    std::cerr << "leakfix: error: " << err->to_string() << '\n';
    return 2;
  }
  if (!o.quiet) {
    if (existing) {
      const auto match = match_baseline(*existing, findings);
      const auto added = std::count(match.known.begin(), match.known.end(), false);
      std::cout << fmt::format("{}: {} entries ({} added, {} stale removed)\n", o.output, out.entries.size(), added,
                               match.stale.size());
    } else {
      std::cout << fmt::format("{}: {} finding{} recorded\n", o.output, out.entries.size(), out.entries.size() == 1 ? "" : "s");
    }
  }
  return 0;
}

int run_hook_install(const HookOptions& o) {
  const auto top = git_toplevel(std::filesystem::current_path().string());
  if (!top) {
    std::cerr << "leakfix: error: not in a git work tree: " << top.error().message << '\n';
    return 2;
  }
  auto hooks = run_git(*top, {"rev-parse", "--git-path", "hooks"});
  if (!hooks) {
    std::cerr << "leakfix: error: " << hooks.error().message << '\n';
    return 2;
  }
  std::string dir = *hooks;
  while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
  std::filesystem::path hook = std::filesystem::path(dir).is_absolute() ? std::filesystem::path(dir) : std::filesystem::path(*top) / dir;
  std::filesystem::create_directories(hook);
  hook /= "pre-commit";
  constexpr std::string_view kMarker = "# leakfix pre-commit hook";
  if (std::filesystem::exists(hook) && !o.force) {
    std::ifstream in(hook);
    std::stringstream old;
    old << in.rdbuf();
    if (old.str().find(kMarker) == std::string::npos) {
      std::cerr << fmt::format("leakfix: error: {} exists and is not leakfix's; use --force to replace it, or call "
                               "`leakfix check` from it\n",
                               hook.string());
      return 2;
    }
  }
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string fallback = ec ? "leakfix" : self.string();
  std::ostringstream script;
  script << "#!/bin/sh\n"
         << kMarker << " (written by `leakfix hook install`; reinstall to update).\n"
         << "# Checks the staged Python and C++ files; a baseline at the top of the work tree is honoured.\n"
         << "LEAKFIX=\"${LEAKFIX:-$(command -v leakfix || echo '" << fallback << "')}\"\n"
         << "cd \"$(git rev-parse --show-toplevel)\" || exit 2\n"
         << "set --\n"
         << "[ -f .leakfix-baseline.json ] && set -- --baseline .leakfix-baseline.json\n"
         << "git diff --cached --name-only -z --diff-filter=ACMR -- '*.py' '*.cpp' '*.cc' '*.cxx' |\n"
         << "  PRE_COMMIT=1 xargs -0 -r \"$LEAKFIX\" check \"$@\"\n";
  WriteOptions options;
  options.new_mode = 0777;
  if (auto err = safe_write(hook.string(), hook.string(), script.str(), options)) {
    std::cerr << "leakfix: error: " << err->to_string() << '\n';
    return 2;
  }
  ::chmod(hook.c_str(), 0755);
  std::cout << fmt::format("installed {}\n", hook.string());
  return 0;
}

}  // namespace leakfix::cli
