#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "core/walk.h"
#ifdef LEAKFIX_HAVE_CXX
#include "cxx_plugin.h"
#endif
#include "fix/diff.h"
#include "fix/write.h"
#include "python/fixer.h"
#include "python/project.h"
#include "report/report.h"

namespace leakfix::cli {
namespace {

constexpr const char* kHelp =
    "  y - apply this fix\n"
    "  n - leave this finding as it is\n"
    "  a - apply this fix and every other fix in this file\n"
    "  q - stop; fixes already accepted are written\n"
    "  e - edit the rewritten file in $VISUAL/$EDITOR, then apply what you saved\n"
    "  ? - this help\n";

std::string describe(const Finding& f) {
  std::string where = f.function == "<module>" ? "module level" : "in " + f.function;
  if (f.route) where += ", route " + *f.route;
  if (f.exposure) where += ", " + *f.exposure;
  return fmt::format("{}:{}:{}: {} {} [{}]", f.file, f.span.line, f.span.column, to_string(f.kind), where, f.rule);
}

// Opens `text` in the user's editor and returns what was saved.
std::optional<std::string> edit_in_editor(const std::string& text, const std::string& display) {
  const char* editor = std::getenv("VISUAL");
  if (!editor || !*editor) editor = std::getenv("EDITOR");
  if (!editor || !*editor) editor = "vi";
  const auto ext = std::filesystem::path(display).extension().string();
  std::string tmp = (std::filesystem::temp_directory_path() / ("leakfix-edit-XXXXXX" + ext)).string();
  const int fd = ::mkstemps(tmp.data(), static_cast<int>(ext.size()));
  if (fd < 0) return std::nullopt;
  ::close(fd);
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
  }
  const std::string command = fmt::format("{} '{}' </dev/tty >/dev/tty", editor, tmp);
  const int rc = std::system(command.c_str());
  std::ifstream in(tmp, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::filesystem::remove(tmp);
  if (rc != 0) return std::nullopt;
  return buf.str();
}

// The review on a terminal: one finding at a time.
python::Decision review(const Finding& f, const std::string& before, std::string& after, bool color) {
  const char* bold = color ? "\x1b[1m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  std::cout << '\n' << bold << describe(f) << reset << '\n' << "  " << f.message << '\n';
  std::cout << unified_diff(f.file, before, after, DiffOptions{3, color});
  for (;;) {
    std::cout << bold << "Apply this fix? [y]es [n]o [a]ll in this file [q]uit [e]dit [?] " << reset << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) {
      std::cout << '\n';
      return python::Decision::Quit;
    }
    const char c = answer.empty() ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(answer[0])));
    switch (c) {
      case 'y': return python::Decision::Apply;
      case 'n': return python::Decision::Skip;
      case 'a': return python::Decision::ApplyRestOfFile;
      case 'q': return python::Decision::Quit;
      case 'e':
        if (auto edited = edit_in_editor(after, f.file)) {
          after = *edited;
          return python::Decision::Apply;
        }
        std::cout << "The editor failed; nothing changed.\n";
        break;
      default: std::cout << kHelp; break;
    }
  }
}

// Writes a rewritten file back in its own encoding, unless it changed since it was read.
std::optional<Error> write_fixed(const std::string& path, const std::string& display, const SourceFile& source,
                                 const python::FileFixResult& res) {
  auto disk_before = encode_text(res.before, source.encoding());
  auto disk_after = encode_text(res.after, source.encoding());
  if (!disk_before || !disk_after) return Error{display, 0, "not written: " + (disk_after ? disk_before : disk_after).error().message};
  return write_if_unchanged(path, display, *disk_before, *disk_after);
}

#ifdef LEAKFIX_HAVE_CXX
// The fixes of one C++ file, from the bottom up so that each one's offsets still hold; a fix
// whose lines overlap one already applied is left for the next run. Each rewrite must compile.
python::FileFixResult fix_cxx_file(const SourceFile& source, const std::string& display, const std::vector<Finding>& findings,
                                   const std::function<bool(const Finding&)>& want, const python::Decide& decide) {
  python::FileFixResult out;
  out.before = source.bytes();
  std::vector<Finding> candidates;
  for (const auto& f : findings) {
    if (f.file != display || !want(f)) continue;
    if (f.fix) candidates.push_back(f);
    else out.left.push_back(f);
  }
  std::sort(candidates.begin(), candidates.end(), [](const Finding& a, const Finding& b) { return a.fix->begin() > b.fix->begin(); });
  const std::string bom(source.bytes().substr(0, source.bom_size()));
  std::string text(source.text());
  std::vector<std::string> includes;
  std::uint32_t floor = std::numeric_limits<std::uint32_t>::max();
  cxx::Options options;
  options.build_dir = cxx_setup().build_dir;
  options.extra_args = cxx_setup().extra_args;
  bool all = false;
  for (const auto& f : candidates) {
    if (out.quit || f.fix->end() > floor) {
      out.left.push_back(f);
      continue;
    }
    std::vector<std::string> wanted = includes;
    for (const auto& i : f.fix->imports) wanted.push_back(i.name);
    const std::string body = apply_edits(text, f.fix->edits);
    std::string after = bom + add_includes(body, wanted);
    if (auto err = cxx_api()->check_compiles(InputFile{display, display}, after, options)) {
      Finding failed = f;
      failed.fixable = false;
      failed.reason = *err;
      failed.fix.reset();
      out.failed.push_back(std::move(failed));
      continue;
    }
    const std::string before = bom + add_includes(text, includes);
    const std::string proposed = after;
    auto d = all ? python::Decision::Apply : decide(f, before, after);
    if (d == python::Decision::ApplyRestOfFile) {
      all = true;
      d = python::Decision::Apply;
    }
    if (d == python::Decision::Quit) {
      out.quit = true;
      out.left.push_back(f);
      continue;
    }
    if (d == python::Decision::Skip) {
      out.skipped.push_back(f);
      out.left.push_back(f);
      continue;
    }
    out.applied.push_back(f);
    if (after != proposed) {
      // Edited by hand in the review: taken as it is, and the rest of the file left for later.
      out.after = after;
      for (const auto& g : candidates) {
        if (g.fix->begin() < f.fix->begin()) out.left.push_back(g);
      }
      return out;
    }
    text = body;
    includes = wanted;
    floor = f.fix->begin();
  }
  out.after = bom + add_includes(text, includes);
  // The changed lines, in the project's .clang-format style when it has one.
  if (out.after != out.before) {
    const std::string after_text = out.after.substr(bom.size());
    std::vector<std::pair<unsigned, unsigned>> ranges;
    long shift = 0;
    for (const auto& e : line_edits(source.text(), after_text)) {
      ranges.emplace_back(static_cast<unsigned>(static_cast<long>(e.begin) + shift), static_cast<unsigned>(e.text.size()));
      shift += static_cast<long>(e.text.size()) - static_cast<long>(e.end - e.begin);
    }
    out.after = bom + cxx_api()->format_ranges(display, after_text, ranges);
  }
  return out;
}
#endif

}  // namespace

int run_fix(const FixOptions& o) {
  if (o.diff && o.write) {
    std::cerr << "leakfix: error: --diff and --write cannot be used together\n";
    return 2;
  }
  std::vector<Kind> kinds;
  for (const auto& k : o.kinds) {
    const auto kind = parse_kind(k);
    if (!kind) {
      std::cerr << fmt::format("leakfix: error: unknown finding kind `{}` (see `leakfix explain`)\n", k);
      return 2;
    }
    kinds.push_back(*kind);
  }
  auto rules = rules_for(o.rules);
  if (!rules) {
    std::cerr << "leakfix: error: " << rules.error().to_string() << '\n';
    return 2;
  }
  for (const auto& id : o.only) {
    if (std::none_of(rules->begin(), rules->end(), [&](const Rule& r) { return r.id == id; })) {
      std::cerr << fmt::format("leakfix: error: --only {}: no such rule\n", id);
      return 2;
    }
  }
  auto analysed = walk_and_analyse(o.paths, o.excludes, *rules, o.jobs, o.quiet, true);
  if (!analysed) return 2;
  auto& walked = analysed->walked;
  auto& project = analysed->project;

  auto want = [&](const Finding& f) {
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), f.rule) == o.only.end()) return false;
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), f.kind) == kinds.end()) return false;
    return true;
  };
  const auto threshold = parse_severity(o.fail_on).value_or(Severity::Warning);

  if (o.format == "json") {
    Report report;
    report.fix_mode = true;
    report.files = walked.files.size();
    report.errors = walked.errors;
    report.errors.insert(report.errors.end(), project.errors.begin(), project.errors.end());
    for (const auto& f : project.findings) {
      if (want(f)) report.findings.push_back(f);
    }
    report.sources = project.sources;
    for (std::size_t i = 0; i < report.findings.size(); ++i) {
      const auto& f = report.findings[i];
      if (auto v = fix_view(f, report.sources.at(f.file))) report.fixes.emplace(i, std::move(*v));
    }
    int code = 0;
    if (o.write) {
      std::vector<Finding> left;
      for (const auto& [display, source] : project.sources) {
        auto res = python::fix_file(source, project.knowledge, want,
                                    [](const Finding&, const std::string&, std::string&) { return python::Decision::Apply; });
        if (res.after != res.before) {
          if (auto err = write_fixed(project.paths.at(display), display, source, res)) report.errors.push_back(*err);
          else report.applied += res.applied.size();
        }
        for (const auto& f : res.left) {
          if (f.severity() >= threshold) code = 1;
        }
      }
    } else {
      for (const auto& f : report.findings) {
        if (f.severity() >= threshold) code = 1;
      }
    }
    render_json(std::cout, report);
    return code;
  }

  const bool interactive = !o.diff && !o.write && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 &&
                           !env_set("CI") && !env_set("PRE_COMMIT");
  const bool color = use_color(o.no_color) && !o.diff;
  std::ostream& info = o.diff ? std::cerr : std::cout;
  std::size_t applied = 0, skipped = 0, files_changed = 0, written = 0;
  std::vector<Finding> unfixable;
  std::vector<Finding> remaining;
  bool quit = false;
  int code = 0;
  for (const auto& [display, source] : project.sources) {
    const bool any = std::any_of(project.findings.begin(), project.findings.end(),
                                 [&](const Finding& f) { return f.file == display && want(f); });
    if (!any) continue;
    if (quit) {
      for (const auto& f : project.findings) {
        if (f.file == display && want(f)) remaining.push_back(f);
      }
      continue;
    }
    python::Decide decide = [&](const Finding& f, const std::string& before, std::string& after) {
      if (interactive) return review(f, before, after, color);
      return python::Decision::Apply;
    };
#ifdef LEAKFIX_HAVE_CXX
    auto res = is_cxx_source(display) && cxx_api() ? fix_cxx_file(source, display, project.findings, want, decide)
                                       : python::fix_file(source, project.knowledge, want, decide);
#else
    auto res = python::fix_file(source, project.knowledge, want, decide);
#endif
    quit = res.quit;
    skipped += res.skipped.size();
    for (const auto& f : res.failed) unfixable.push_back(f);
    for (const auto& f : res.left) {
      if (!want(f)) continue;
      remaining.push_back(f);
      if (!f.fixable && std::none_of(res.failed.begin(), res.failed.end(), [&](const Finding& x) {
            return x.span.line == f.span.line && x.rule == f.rule;
          }))
        unfixable.push_back(f);
    }
    if (res.after == res.before) continue;
    applied += res.applied.size();
    ++files_changed;
    if (!o.write && !interactive) {
      // A patch is in the file's own encoding, so that git apply finds its lines.
      auto disk_before = encode_text(res.before, source.encoding());
      auto disk_after = encode_text(res.after, source.encoding());
      if (disk_before && disk_after) std::cout << unified_diff(display, *disk_before, *disk_after, DiffOptions{3, color});
      else {
        std::cerr << fmt::format("leakfix: error: {}: {}\n", display, (disk_after ? disk_before : disk_after).error().message);
        code = 2;
      }
      continue;
    }
    if (auto err = write_fixed(project.paths.at(display), display, source, res)) {
      std::cerr << "leakfix: error: " << err->to_string() << '\n';
      code = 2;
      continue;
    }
    written += res.applied.size();
  }

  if (!unfixable.empty() && !o.quiet) {
    info << fmt::format("\n{} finding{} cannot be fixed automatically:\n", unfixable.size(), unfixable.size() == 1 ? "" : "s");
    sort_findings(unfixable);
    for (const auto& f : unfixable) {
      info << fmt::format("  {}:{}:{}: {}: {} [{}]\n", f.file, f.span.line, f.span.column, to_string(f.kind),
                          f.reason.value_or("not fixable"), f.rule);
    }
  }
  if (!o.quiet) {
    const bool wrote = o.write || interactive;
    const std::size_t left = remaining.size();
    if (wrote) {
      info << fmt::format("\nApplied {} fix{} in {} file{}; {} skipped; {} finding{} left.\n", written, written == 1 ? "" : "es",
                          files_changed, files_changed == 1 ? "" : "s", skipped, left, left == 1 ? "" : "s");
    } else {
      info << fmt::format("\n{} fix{} available in {} file{} (nothing written: use --write, or run on a terminal to review); "
                          "{} finding{} cannot be fixed.\n",
                          applied, applied == 1 ? "" : "es", files_changed, files_changed == 1 ? "" : "s", unfixable.size(),
                          unfixable.size() == 1 ? "" : "s");
    }
  }
  if (code != 0) return code;
  if (o.exit_non_zero_on_fix) return written > 0 ? 1 : 0;
  // --write and the review: what is left decides; a dry run: what is there now.
  const bool wrote = o.write || interactive;
  const auto& judged = wrote ? remaining : project.findings;
  for (const auto& f : judged) {
    if (want(f) && f.severity() >= threshold) return 1;
  }
  return 0;
}

}  // namespace leakfix::cli
