// leakfix: finds resources that are not released on every path, and says which path leaks.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace leakfix::cli;
  CLI::App app{"leakfix: find database connections and other resources that leak, and say which path leaks"};
  app.set_version_flag("--version", LEAKFIX_VERSION);
  app.require_subcommand(1);

  ScanOptions scan;
  auto* s = app.add_subcommand("scan", "Report acquisitions that are not released on every path");
  s->add_option("paths", scan.paths, "Files or folders to scan")->required();
  s->add_option("--rules", scan.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  s->add_option("--format", scan.format, "Output format")->check(CLI::IsMember({"text", "json", "sarif"}));
  s->add_option("--fail-on", scan.fail_on, "Exit 1 when a finding is at least this severe")
      ->check(CLI::IsMember({"error", "warning", "info"}));
  s->add_option("--exclude", scan.excludes, "Skip paths matching this glob (repeatable)");
  s->add_option("-j,--jobs", scan.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  s->add_flag("-q,--quiet", scan.quiet, "Print findings only: no progress, no summary");
  s->add_flag("--no-color", scan.no_color, "Never colour the output (also: NO_COLOR)");
  s->add_flag("--concise", scan.concise, "One line per finding, no code frames");
  s->add_flag("-v,--verbose", scan.verbose, "Also list the wrappers and release functions discovered");

  FixOptions fix;
  auto* f = app.add_subcommand("fix", "Rewrite leaking acquisitions into with blocks: review on a terminal, --diff, or --write");
  f->add_option("paths", fix.paths, "Files or folders to fix")->required();
  f->add_flag("--diff", fix.diff, "Print a unified diff (for git apply) and write nothing");
  f->add_flag("--write", fix.write, "Apply every safe fix");
  f->add_option("--only", fix.only, "Only fix findings of this rule (repeatable)");
  f->add_option("--kind", fix.kinds, "Only fix findings of this kind (repeatable)");
  f->add_option("--rules", fix.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  f->add_option("--format", fix.format, "Output format")->check(CLI::IsMember({"text", "json"}));
  f->add_option("--fail-on", fix.fail_on, "Exit 1 when a finding at least this severe is (or, with --write, is still) there")
      ->check(CLI::IsMember({"error", "warning", "info"}));
  f->add_option("--exclude", fix.excludes, "Skip paths matching this glob (repeatable)");
  f->add_option("-j,--jobs", fix.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  f->add_flag("-q,--quiet", fix.quiet, "No progress, no list of unfixable findings, no summary");
  f->add_flag("--no-color", fix.no_color, "Never colour the output (also: NO_COLOR)");

  PlanOptions plan;
  auto* p = app.add_subcommand("plan", "Write the phased remediation plan (Markdown or JSON)");
  p->add_option("paths", plan.paths, "Files or folders to plan for")->required();
  p->add_option("-o,--output", plan.output, "Write the plan to this file (default: stdout)");
  p->add_option("--format", plan.format, "Output format")->check(CLI::IsMember({"md", "json"}));
  p->add_option("--traffic", plan.traffic, "Access log (common, combined or gunicorn format) to order by real traffic");
  p->add_option("--rules", plan.rules, "Rule file or folder (default: the shipped rules plus .leakfix.yaml found upward)");
  p->add_option("--exclude", plan.excludes, "Skip paths matching this glob (repeatable)");
  p->add_option("-j,--jobs", plan.jobs, "Files analysed in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  p->add_flag("-q,--quiet", plan.quiet, "No progress line");

  std::string kind;
  auto* e = app.add_subcommand("explain", "Print the documentation of a finding kind");
  e->add_option("kind", kind, "never-closed, leaky-path, exception-unsafe, manual-safe, escapes or parse-error");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    const int code = app.exit(err);
    return code == 0 ? 0 : 2;
  }
  if (s->parsed()) return run_scan(scan);
  if (e->parsed()) return run_explain(kind);
  if (f->parsed()) return run_fix(fix);
  if (p->parsed()) return run_plan(plan);
  return 2;
}
