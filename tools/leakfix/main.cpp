// leakfix: finds resources that are not released on every path, and says which path leaks.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "commands.h"
#include "core/finding.h"
#include "core/suggest.h"
#include "common.h"
#include "settings.h"

namespace {

// A mistyped verb or option, with the nearest real one: "unknown option `--selekt` for `scan`
// (did you mean `--select`?)". nullopt for other parse errors, which CLI11 words itself.
std::optional<std::string> typo_hint(CLI::App& app, const CLI::ParseError& err) {
  const std::string what = err.what();
  const std::string marker = "The following argument was not expected: ";
  if (what.rfind(marker, 0) != 0) return std::nullopt;
  const std::string word = what.substr(marker.size());
  if (word.find(' ') != std::string::npos) return std::nullopt;
  CLI::App* verb = nullptr;
  for (auto* sub : app.get_subcommands()) verb = sub;
  if (!verb || word.rfind("-", 0) != 0) return std::nullopt;
  std::vector<std::string> options;
  for (const auto* opt : verb->get_options()) {
    for (const auto& n : opt->get_lnames()) options.push_back("--" + n);
  }
  const std::string flag = word.substr(0, word.find('='));
  return fmt::format("unknown option `{}` for `{}`{}", flag, verb->get_name(), leakfix::did_you_mean(flag, options));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace leakfix::cli;
  // Compiler flags for C++ files come after `--`, as for clang-tidy.
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      for (int k = i + 1; k < argc; ++k) cxx_setup().extra_args.emplace_back(argv[k]);
      argc = i;
      break;
    }
  }
  CLI::App app{"leakfix: find database connections and other resources that leak, and say which path leaks"};
  app.set_version_flag("--version", LEAKFIX_VERSION);
  app.require_subcommand(1);

  // --select and --ignore, the same on every verb that reports, fixes or plans.
  auto add_selection = [](CLI::App* verb, Selection& selection) {
    verb->add_option("--select", selection.select, "Only these finding kinds or rule ids (comma-separated, repeatable)")
        ->delimiter(',')
        ->allow_extra_args(false);
    verb->add_option("--ignore", selection.ignore, "Never these finding kinds or rule ids (comma-separated, repeatable)")
        ->delimiter(',')
        ->allow_extra_args(false);
  };

  // The summary cache, the same on every verb that analyses a tree.
  auto add_cache = [](CLI::App* verb) {
    verb->add_flag("--no-cache", [](std::int64_t) { cache_setup().enabled = false; },
                   "Neither read nor write the summary cache (.leakfix_cache/)");
    verb->add_option_function<std::string>("--cache-dir", [](const std::string& d) { cache_setup().dir = d; },
                                           "Keep the summary cache here (default: .leakfix_cache/ at the top of the work tree; also LEAKFIX_CACHE_DIR)");
  };

  ScanOptions scan;
  auto* s = app.add_subcommand("scan", "Report acquisitions that are not released on every path");
  s->add_option("paths", scan.paths, "Files or folders to scan")->required();
  add_selection(s, scan.selection);
  add_cache(s);
  s->add_option("--rules", scan.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  s->add_option("--format", scan.format, "Output format")->check(CLI::IsMember({"text", "json", "sarif", "github", "gitlab", "junit"}));
  s->add_option("--baseline", scan.baseline, "Report only findings not recorded in this baseline file");
  s->add_option("-p,--build-dir", cxx_setup().build_dir, "Folder holding compile_commands.json, for C++ files");
  s->add_option("--diff-base", scan.diff_base, "Report only findings on lines changed since the merge base with this git ref");
  s->add_option("--fail-on", scan.fail_on, "Exit 1 when a finding is at least this severe")
      ->check(CLI::IsMember({"error", "warning", "info"}));
  s->add_option("--exclude", scan.excludes, "Skip paths matching this glob (repeatable)")->allow_extra_args(false);
  s->add_flag("--no-default-excludes", [](std::int64_t) { walk_setup().default_excludes = false; },
                 "Also walk virtualenvs (folders with pyvenv.cfg), site-packages, build and dist");
  s->add_option("-j,--jobs", scan.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  s->add_flag("-q,--quiet", scan.quiet, "Print findings only: no progress, no summary");
  s->add_flag("--no-color", scan.no_color, "Never colour the output (also: NO_COLOR)");
  s->add_flag("--concise", scan.concise, "One line per finding, no code frames");
  s->add_flag("-v,--verbose", scan.verbose, "Also list the wrappers and release functions discovered");
  s->add_option("--runtime", scan.runtime, "leakfix_runtime's counts (JSON lines or a Prometheus scrape): what each finding did in production");
  s->add_option_function<std::string>(
       "--shard",
       [](const std::string& v) {
         unsigned long i = 0, n = 0;
         char extra = 0;
         if (std::sscanf(v.c_str(), "%lu/%lu%c", &i, &n, &extra) != 2 || n == 0 || i == 0 || i > n)
           throw CLI::ValidationError("--shard", fmt::format("`{}`: give I/N with 1 <= I <= N, e.g. 2/4", v));
         cache_setup().shard_index = i;
         cache_setup().shard_count = n;
       },
       "Analyse the I-th of N shares of the Python files into the summary cache and report nothing; a scan without "
       "--shard then joins the shares (docs/scaling.md)")
      ->type_name("I/N");

  ScanOptions check;
  check.concise = true;
  auto* c = app.add_subcommand("check", "Check the files given (the pre-commit entry); the rest of the tree is read for wrappers");
  c->add_option("files", check.paths, "Files to check")->required();
  add_selection(c, check.selection);
  add_cache(c);
  c->add_option("--rules", check.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  c->add_option("--format", check.format, "Output format")->check(CLI::IsMember({"text", "json", "sarif", "github", "gitlab", "junit"}));
  c->add_option("--fail-on", check.fail_on, "Exit 1 when a finding is at least this severe")
      ->check(CLI::IsMember({"error", "warning", "info"}));
  c->add_option("--baseline", check.baseline, "Report only findings not recorded in this baseline file");
  c->add_option("-p,--build-dir", cxx_setup().build_dir, "Folder holding compile_commands.json, for C++ files");
  c->add_option("--diff-base", check.diff_base, "Report only findings on lines changed since the merge base with this git ref");
  c->add_option("--exclude", check.excludes, "Skip paths matching this glob (repeatable)")->allow_extra_args(false);
  c->add_flag("--no-default-excludes", [](std::int64_t) { walk_setup().default_excludes = false; },
                 "Also walk virtualenvs (folders with pyvenv.cfg), site-packages, build and dist");
  c->add_option("-j,--jobs", check.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  c->add_flag("-q,--quiet", check.quiet, "Print findings only");
  c->add_flag("--no-color", check.no_color, "Never colour the output (also: NO_COLOR)");

  BaselineOptions baseline;
  auto* b = app.add_subcommand("baseline", "Record the findings of today so that only new ones fail");
  b->add_option("action", baseline.action, "create, update (record what is found now), prune (drop stale entries), status")
      ->required()
      ->check(CLI::IsMember({"create", "update", "prune", "status"}));
  b->add_option("paths", baseline.paths, "Files or folders (default: .)");
  b->add_option("-o,--output", baseline.output, "The baseline file (default: .leakfix-baseline.json)");
  add_selection(b, baseline.selection);
  add_cache(b);
  b->add_option("--rules", baseline.rules, "Rule file or folder");
  b->add_option("--exclude", baseline.excludes, "Skip paths matching this glob (repeatable)")->allow_extra_args(false);
  b->add_flag("--no-default-excludes", [](std::int64_t) { walk_setup().default_excludes = false; },
                 "Also walk virtualenvs (folders with pyvenv.cfg), site-packages, build and dist");
  b->add_option("-j,--jobs", baseline.jobs, "Files analysed in parallel")->check(CLI::NonNegativeNumber);
  b->add_flag("-q,--quiet", baseline.quiet, "No progress, no summary");

  HookOptions hook;
  auto* h = app.add_subcommand("hook", "Git hooks");
  auto* hi = h->add_subcommand("install", "Write .git/hooks/pre-commit that runs `leakfix check` on the staged Python files");
  hi->add_flag("--force", hook.force, "Replace a pre-commit hook that is not leakfix's");
  h->require_subcommand(1);

  FixOptions fix;
  auto* f = app.add_subcommand("fix", "Rewrite leaks into with blocks (Python) or RAII guards (C++): review on a terminal, --diff, or --write");
  f->add_option("paths", fix.paths, "Files or folders to fix")->required();
  f->add_flag("--diff", fix.diff, "Print a unified diff (for git apply) and write nothing");
  f->add_flag("--write", fix.write, "Apply every safe fix");
  f->add_option("--only", fix.only, "Only fix findings of this rule (repeatable)")->allow_extra_args(false);
  f->add_option("--kind", fix.kinds, "Only fix findings of this kind (repeatable)")->allow_extra_args(false);
  f->add_option("-p,--build-dir", cxx_setup().build_dir, "Folder holding compile_commands.json, for C++ files");
  add_selection(f, fix.selection);
  f->add_option("--rules", fix.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  f->add_option("--format", fix.format, "Output format")->check(CLI::IsMember({"text", "json"}));
  f->add_option("--fail-on", fix.fail_on, "Exit 1 when a finding at least this severe is (or, with --write, is still) there")
      ->check(CLI::IsMember({"error", "warning", "info"}));
  f->add_option("--exclude", fix.excludes, "Skip paths matching this glob (repeatable)")->allow_extra_args(false);
  f->add_flag("--no-default-excludes", [](std::int64_t) { walk_setup().default_excludes = false; },
                 "Also walk virtualenvs (folders with pyvenv.cfg), site-packages, build and dist");
  f->add_option("-j,--jobs", fix.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  f->add_flag("-q,--quiet", fix.quiet, "No progress, no list of unfixable findings, no summary");
  f->add_flag("--no-color", fix.no_color, "Never colour the output (also: NO_COLOR)");
  f->add_flag("--exit-non-zero-on-fix", fix.exit_non_zero_on_fix,
              "Exit 1 when files were changed and 0 otherwise, whatever remains (the pre-commit fix hook)");

  PlanOptions plan;
  auto* p = app.add_subcommand("plan", "Write the phased remediation plan (Markdown or JSON)");
  p->add_option("paths", plan.paths, "Files or folders to plan for")->required();
  p->add_option("-o,--output", plan.output, "Write the plan to this file (default: stdout)");
  p->add_option("--format", plan.format, "Output format")->check(CLI::IsMember({"md", "json"}));
  p->add_option("--traffic", plan.traffic, "Access log (common, combined or gunicorn format) to order by real traffic");
  p->add_option("--runtime", plan.runtime,
                "leakfix_runtime's counts (its JSON lines or a Prometheus scrape): leaks observed per site, first in each phase");
  p->add_option("-p,--build-dir", cxx_setup().build_dir, "Folder holding compile_commands.json, for C++ files");
  add_selection(p, plan.selection);
  add_cache(p);
  p->add_option("--rules", plan.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  p->add_option("--exclude", plan.excludes, "Skip paths matching this glob (repeatable)")->allow_extra_args(false);
  p->add_flag("--no-default-excludes", [](std::int64_t) { walk_setup().default_excludes = false; },
                 "Also walk virtualenvs (folders with pyvenv.cfg), site-packages, build and dist");
  p->add_option("-j,--jobs", plan.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  p->add_flag("-q,--quiet", plan.quiet, "No progress line");

  ServerOptions server;
  auto* srv = app.add_subcommand("server", "Run the language server (LSP over stdin and stdout) for editors");
  srv->add_option("--rules", server.rules, "Rule file or folder (default: the shipped rules plus the workspace's .leakfix.yaml)");
  add_selection(srv, server.selection);
  add_cache(srv);
  srv->add_option("-j,--jobs", server.jobs, "Files read in parallel when the workspace is read (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  // Editors start servers with --stdio; it is the only transport, so it is accepted and ignored.
  bool stdio = true;
  srv->add_flag("--stdio", stdio, "Talk over stdin and stdout (the default and only transport)");

  RuntimeOptions runtime;
  auto* rt = app.add_subcommand("runtime", "The leakfix_runtime module: counts leaks per line in production");
  rt->require_subcommand(1);
  auto* rt_rules = rt->add_subcommand("rules", "Print what leakfix_runtime wraps for this project: the rules' acquirers and releases "
                                               "and the wrappers discovered in the code (JSON)");
  rt_rules->add_option("paths", runtime.paths, "Files or folders of the project (default: .)");
  rt_rules->add_option("--rules", runtime.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  rt_rules->add_option("-o,--output", runtime.output, "Write to this file instead of stdout");
  rt_rules->add_option("--exclude", runtime.excludes, "Skip paths matching this glob (repeatable)")->allow_extra_args(false);
  rt_rules->add_option("-j,--jobs", runtime.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  add_cache(rt_rules);
  auto* rt_install = rt->add_subcommand("install", "Write leakfix_runtime.py and a sitecustomize.py that enables it with "
                                                   "LEAKFIX_RUNTIME=1 into a folder");
  rt_install->add_option("dir", runtime.dir, "The folder (on the application's PYTHONPATH)")->required();

  std::string kind;
  auto* e = app.add_subcommand("explain", "Print the documentation of a finding kind");
  std::string kinds;
  for (const auto& k : leakfix::kKinds) kinds += fmt::format("{}{}", kinds.empty() ? "" : ", ", k.name);
  e->add_option("kind", kind, "One of: " + kinds);

  // A mistyped verb: CLI11 would only say that one is required.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> verbs;
    for (const auto* sub : app.get_subcommands({})) verbs.push_back(sub->get_name());
    if (std::find(verbs.begin(), verbs.end(), argv[1]) == verbs.end()) {
      std::cerr << fmt::format("leakfix: error: unknown command `{}`{}\nRun with --help for more information.\n", argv[1],
                               leakfix::did_you_mean(argv[1], verbs));
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    if (auto hint = typo_hint(app, err)) {
      std::cerr << "leakfix: error: " << *hint << "\nRun with --help for more information.\n";
      return 2;
    }
    const int code = app.exit(err);
    return code == 0 ? 0 : 2;
  }
  // Relative to where leakfix was started, whatever the C++ pass does later.
  if (!cxx_setup().build_dir.empty()) {
    std::error_code ec;
    cxx_setup().build_dir = std::filesystem::absolute(cxx_setup().build_dir, ec).string();
  }
  // [tool.leakfix] in pyproject.toml: what the command line does not say.
  // The server reads the settings of the workspace the editor names, not of where it started.
  if (srv->parsed()) return run_server(server);
  if (rt_install->parsed()) return run_runtime_install(runtime);
  if (!e->parsed() && !hi->parsed()) {
    auto settings = load_project_settings(std::filesystem::current_path().string());
    if (!settings) {
      std::cerr << "leakfix: error: " << settings.error().to_string() << '\n';
      return 2;
    }
    project_settings() = std::move(*settings);
  }
  if (const auto& st = project_settings()) {
    auto given = [](CLI::App* verb, const char* name) {
      const CLI::Option* opt = verb->get_option_no_throw(name);
      return opt && opt->count() > 0;
    };
    auto apply = [&](CLI::App* verb, Selection& selection, std::vector<std::string>& excludes, std::string* fail_on) {
      if (!verb->parsed()) return;
      if (!given(verb, "--select")) selection.select = st->select;
      // As in ruff, what the command line selects is not taken away by the file's ignore.
      if (!given(verb, "--ignore")) {
        for (const auto& name : st->ignore) {
          if (std::find(selection.select.begin(), selection.select.end(), name) == selection.select.end() || !given(verb, "--select"))
            selection.ignore.push_back(name);
        }
      }
      selection.per_file = st->per_file_ignores;
      selection.base_dir = std::filesystem::path(st->file).parent_path().string();
      if (!given(verb, "--exclude")) {
        if (st->exclude) {
          walk_setup().default_excludes = false;
          excludes.insert(excludes.end(), st->exclude->begin(), st->exclude->end());
        }
        excludes.insert(excludes.end(), st->extend_exclude.begin(), st->extend_exclude.end());
      }
      if (fail_on && st->fail_on && !given(verb, "--fail-on")) *fail_on = *st->fail_on;
    };
    apply(s, scan.selection, scan.excludes, &scan.fail_on);
    apply(c, check.selection, check.excludes, &check.fail_on);
    apply(f, fix.selection, fix.excludes, &fix.fail_on);
    apply(p, plan.selection, plan.excludes, nullptr);
    apply(b, baseline.selection, baseline.excludes, nullptr);
  }
  if (s->parsed()) return run_scan(scan);
  if (e->parsed()) return run_explain(kind);
  if (f->parsed()) return run_fix(fix);
  if (p->parsed()) return run_plan(plan);
  if (rt_rules->parsed()) return run_runtime_rules(runtime);
  if (c->parsed()) return run_check(check);
  if (b->parsed()) return run_baseline(baseline);
  if (hi->parsed()) return run_hook_install(hook);
  return 2;
}
