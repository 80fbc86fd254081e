#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <tuple>
#include <memory>
#include <set>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "core/suggest.h"
#include "core/walk.h"
#ifdef LEAKFIX_HAVE_CXX
#include "cxx_plugin.h"
#include "fix/cxx_fix.h"
#endif
#include "fix/cxx_text.h"
#include "fix/diff.h"
#include "fix/write.h"
#include "python/fixer.h"
#include "python/project.h"
#include "python/targets.h"
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

// One keypress, without Enter: the terminal is put in non-canonical mode for the read and
// restored after it, and on Ctrl-C. Newlines and blanks are skipped, so answers piped with
// Enter after each still work. 0 at the end of input.
struct termios saved_terminal;
volatile std::sig_atomic_t terminal_saved = 0;

void restore_terminal_and_reraise(int sig) {
  if (terminal_saved) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

char read_key() {
  const bool tty = ::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved_terminal) == 0;
  if (tty) {
    struct termios raw = saved_terminal;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    terminal_saved = 1;
    std::signal(SIGINT, restore_terminal_and_reraise);
    std::signal(SIGTERM, restore_terminal_and_reraise);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  char c = 0;
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    // The end of input: a closed stdin, or Ctrl-D, which in this mode arrives as a byte.
    if (n <= 0 || c == '\x04') {
      c = 0;
      break;
    }
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') break;
  }
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
    terminal_saved = 0;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  if (c) std::cout << c << '\n' << std::flush;  // the answer, as echo would have shown it
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

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
Decision review(const Finding& f, const std::string& before, std::string& after, bool color) {
  const char* bold = color ? "\x1b[1m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  std::cout << '\n' << bold << describe(f) << reset << '\n' << "  " << f.message << '\n';
  if (f.fix && !f.fix->target.empty()) std::cout << "  with: " << f.fix->target << '\n';
  std::cout << unified_diff(f.file, before, after, DiffOptions{3, color});
  for (;;) {
    std::cout << bold << "Apply this fix? [y]es [n]o [a]ll in this file [q]uit [e]dit [?] " << reset << std::flush;
    const char c = read_key();
    if (!c) {
      std::cout << '\n';
      return Decision::Quit;
    }
    switch (c) {
      case 'y': return Decision::Apply;
      case 'n': return Decision::Skip;
      case 'a': return Decision::ApplyRestOfFile;
      case 'q': return Decision::Quit;
      case 'e':
        if (auto edited = edit_in_editor(after, f.file)) {
          after = *edited;
          return Decision::Apply;
        }
        std::cout << "The editor failed; nothing changed.\n";
        break;
      default: std::cout << kHelp; break;
    }
  }
}

// Writes a rewritten file back in its own encoding, unless it changed since it was read.
std::optional<Error> write_fixed(const std::string& path, const std::string& display, const SourceFile& source,
                                 const FileFixResult& res) {
  auto disk_before = source.to_disk(res.before);
  auto disk_after = source.to_disk(res.after);
  if (!disk_before || !disk_after) return Error{display, 0, "not written: " + (disk_after ? disk_before : disk_after).error().message};
  return write_if_unchanged(path, display, *disk_before, *disk_after);
}

// One file's rewrites, before they are shown or written.
struct FileOutcome {
  std::string display;
  std::string path;
  std::shared_ptr<const SourceFile> source;
  FileFixResult res;
  bool creates = false;          // holds a context manager created for the fixes of other files
  bool rewritten_lines = false;  // res.failed and res.left carry the rewritten text's lines
};

std::string canonical_path(const std::string& p) {
  std::error_code ec;
  return std::filesystem::weakly_canonical(std::filesystem::absolute(p, ec), ec).generic_string();
}

// The fixes of every file, with the context managers they need added where they belong.
class FixRun {
 public:
  FixRun(const python::ProjectResult& project, std::function<bool(const Finding&)> want, bool interactive, bool color)
      : project_(project), want_(std::move(want)), interactive_(interactive), color_(color) {}

  bool quit() const { return quit_; }

  // The fixes of one file, by the front end that reads it.
  void fix(Frontend& frontend, const std::string& display, const SourceFile& source, const Decide& decide) {
    FileOutcome o{display, project_.paths.at(display), std::make_shared<SourceFile>(source), {}, false};
    o.res = frontend.fix_file(source, display, project_.findings, want_, decide, interactive_);
    o.rewritten_lines = frontend.reports_rewritten_lines();
    quit_ = o.res.quit;
    outcomes_.push_back(std::move(o));
  }


  // Adds the context managers the applied fixes need to the files that define their acquirers;
  // those files come first. An error names the file when one cannot be added.
  std::optional<Error> create() {
    for (const auto& c : project_.knowledge.targets->committed()) {
      FileOutcome* o = find(c.file);
      if (!o) {
        auto read = SourceFile::read(c.file, c.file);
        if (!read) return read.error();
        FileOutcome fresh{c.file, c.file, std::make_shared<SourceFile>(std::move(*read)), {}, true};
        fresh.res.before = fresh.source->bytes();
        fresh.res.after = fresh.res.before;
        outcomes_.push_back(std::move(fresh));
        o = &outcomes_.back();
      }
      const std::size_t bom = o->source->bom_size();
      std::string why;
      auto added = python::add_context_manager(c.file, std::string_view(o->res.after).substr(bom), c, &why);
      if (!added) return Error{c.file, 0, "cannot add " + c.name + "(): " + why};
      o->res.after = o->res.after.substr(0, bom) + *added;
      o->creates = true;
    }
    std::stable_partition(outcomes_.begin(), outcomes_.end(), [](const FileOutcome& x) { return x.creates; });
    return std::nullopt;
  }

  std::vector<FileOutcome>& outcomes() { return outcomes_; }

 private:
  FileOutcome* find(const std::string& file) {
    const auto want = canonical_path(file);
    for (auto& o : outcomes_) {
      if (canonical_path(o.path) == want) return &o;
    }
    return nullptr;
  }

  // The text of a file as this run leaves it so far.
  std::optional<std::string> current_text(const std::string& file) {
    if (auto* o = find(file)) return o->res.after.substr(o->source->bom_size());
    for (const auto& [display, path] : project_.paths) {
      if (canonical_path(path) != canonical_path(file)) continue;
      if (const auto source = project_.sources.find(display)) return std::string(source->text());
    }
    auto read = SourceFile::read(file, file);
    if (!read) return std::nullopt;
    return std::string(read->text());
  }

 public:
  // A context manager created in another file goes through the review too: nullopt to go ahead.
  std::optional<std::string> prepare(const Creation& c) {
    const std::string key = canonical_path(c.file) + ":" + c.name;
    if (approved_.contains(key)) return std::nullopt;
    if (declined_.contains(key)) return fmt::format("you declined creating {}() in {}", c.name, c.file);
    const auto text = current_text(c.file);
    if (!text) return fmt::format("{} cannot be read to add {}() to it", c.file, c.name);
    // What came before in this run (other context managers for this file) is there too.
    std::string base = *text;
    for (const auto& other : project_.knowledge.targets->committed()) {
      if (canonical_path(other.file) != canonical_path(c.file)) continue;
      if (auto with = python::add_context_manager(other.file, base, other, nullptr)) base = *with;
    }
    std::string why;
    const auto added = python::add_context_manager(c.file, base, c, &why);
    if (!added) return fmt::format("{}() cannot be added to {}: {}", c.name, c.file, why);
    if (interactive_) {
      const char* bold = color_ ? "\x1b[1m" : "";
      const char* reset = color_ ? "\x1b[0m" : "";
      std::cout << '\n' << bold << fmt::format("{}: create {}(), a context manager for {}()", c.file, c.name, c.acquirer) << reset
                << "\n  The fixes that follow use it; it gives back what " << c.acquirer << "() gave with "
                << c.release.describe(c.variable) << ".\n";
      std::cout << unified_diff(c.file, base, *added, DiffOptions{3, color_});
      for (;;) {
        std::cout << bold << "Create it? [y]es [n]o (no: the fixes that need it are left) " << reset << std::flush;
        const char pressed = read_key();
        const char a = pressed ? pressed : 'n';
        if (a == 'y') break;
        if (a == 'n') {
          declined_.insert(key);
          return fmt::format("you declined creating {}() in {}", c.name, c.file);
        }
      }
    }
    approved_.insert(key);
    return std::nullopt;
  }

 private:
  const python::ProjectResult& project_;
  std::function<bool(const Finding&)> want_;
  bool interactive_, color_;
  bool quit_ = false;
  std::vector<FileOutcome> outcomes_;
  std::set<std::string> approved_, declined_;
};

// "line 12" becomes "line 14" for a delta of 2.
std::string shift_lines(const std::string& text, int delta) {
  std::string out;
  std::size_t at = 0;
  for (std::size_t pos = text.find("line "); pos != std::string::npos; pos = text.find("line ", pos + 5)) {
    std::size_t end = pos + 5;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == pos + 5) continue;
    out += text.substr(at, pos + 5 - at);
    out += std::to_string(std::stoi(text.substr(pos + 5, end - pos - 5)) + delta);
    at = end;
  }
  return out + text.substr(at);
}

// Findings of a rewritten file carry that file's lines; the user reads the file on disk. The
// lines map back through the diff between the two, and the lines a reason names move alike.
void restore_lines(std::vector<Finding>& findings, const std::string& before, const std::string& after) {
  if (before == after) return;
  struct Hunk {
    int before_start, before_count, after_start, after_count;
  };
  std::vector<Hunk> hunks;
  auto lines_in = [](std::string_view t) { return static_cast<int>(std::count(t.begin(), t.end(), '\n')); };
  int delta = 0;
  for (const auto& e : line_edits(before, after)) {
    const int start = 1 + lines_in(std::string_view(before).substr(0, e.begin));
    const int removed = lines_in(std::string_view(before).substr(e.begin, e.end - e.begin));
    const int added = lines_in(e.text);
    hunks.push_back(Hunk{start, removed, start + delta, added});
    delta += added - removed;
  }
  auto map = [&](int line) {
    int d = 0;
    for (const auto& h : hunks) {
      if (line < h.after_start) break;
      if (line < h.after_start + h.after_count) return h.before_start;
      d = h.after_start + h.after_count - (h.before_start + h.before_count);
    }
    return line - d;
  };
  for (auto& f : findings) {
    const int shift = map(f.span.line) - f.span.line;
    if (shift == 0) continue;
    if (f.reason) f.reason = shift_lines(*f.reason, shift);
    f.message = shift_lines(f.message, shift);
    f.span.line += shift;
    f.span.end_line += shift;
    if (f.exit) {
      f.exit->line += shift;
      f.exit->end_line += shift;
    }
  }
}

// Lines before a file's diff that say what each fix does and which target it uses; `git apply`
// and `patch` skip them.
std::string diff_preamble(const FileOutcome& o) {
  std::string out;
  if (o.creates) out += fmt::format("# leakfix: {}: a context manager created for the fixes below\n", o.display);
  for (const auto& f : o.res.applied) {
    if (!f.fix) continue;
    // One line each: a call written over several lines is cut at its first.
    std::string summary = f.fix->summary.substr(0, f.fix->summary.find_first_of("\r\n"));
    if (summary.size() < f.fix->summary.size()) summary += " ...";
    out += fmt::format("# leakfix: {}:{}: {} in {}: {}{}\n", f.file, f.span.line, to_string(f.kind), f.function, summary,
                       f.fix->target.empty() ? "" : " (" + f.fix->target + ")");
  }
  return out;
}

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
      std::vector<std::string> names;
      for (const auto& each : kKinds) names.emplace_back(each.name);
      std::cerr << fmt::format("leakfix: error: unknown finding kind `{}`{} (see `leakfix explain`)\n", k, did_you_mean(k, names));
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
  auto analysed = walk_and_analyse(o.paths, o.excludes, *rules, o.jobs, o.quiet, AnalyseFor{true, false, o.selection});
  if (!analysed) return 2;
  auto& walked = analysed->walked;
  auto& project = analysed->project;

  auto want = [&](const Finding& f) {
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), f.rule) == o.only.end()) return false;
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), f.kind) == kinds.end()) return false;
    return true;
  };
  const auto threshold = parse_severity(o.fail_on).value_or(Severity::Warning);
  const bool json = o.format == "json";
  const bool interactive = !json && !o.diff && !o.write && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 &&
                           !env_set("CI") && !env_set("PRE_COMMIT");
  const bool color = !json && use_color(o.no_color) && !o.diff;
  // JSON without --write reports what is there and what each fix would do; nothing is run.
  const bool run = !json || o.write;

  FixRun fixes(project, want, interactive, color);
  Frontends frontends(project.knowledge, [&](const Creation& c) { return fixes.prepare(c); }, o.jobs);
  std::vector<Finding> remaining;
  if (run) {
    for (const auto& display : project.sources.files()) {
      const bool any = std::any_of(project.findings.begin(), project.findings.end(),
                                   [&](const Finding& f) { return f.file == display && want(f); });
      if (!any) continue;
      // Read again: the scan kept no text. A file edited since it was analysed is left alone.
      const auto source = project.sources.find(display);
      if (!source) {
        project.errors.push_back(Error{display, 0, "changed (or became unreadable) while it was being analysed; not fixed, run fix again"});
      }
      if (fixes.quit() || !source) {
        for (const auto& f : project.findings) {
          if (f.file == display && want(f)) remaining.push_back(f);
        }
        continue;
      }
      Decide decide = [&](const Finding& f, const std::string& before, std::string& after) {
        if (!interactive) return Decision::Apply;
        // The review names the finding as the scan did: its route and exposure (found over the
        // project) and its line in the file on disk.
        Finding shown = f;
        for (const auto& p : project.findings) {
          if (p.file != display || p.rule != f.rule || p.function != f.function || p.variable != f.variable || p.kind != f.kind) continue;
          shown.route = p.route;
          shown.exposure = p.exposure;
          shown.span = p.span;
          break;
        }
        return review(shown, before, after, color);
      };
      if (Frontend* frontend = frontends.of(display)) {
        fixes.fix(*frontend, display, *source, decide);
      } else {
        for (const auto& f : project.findings) {
          if (f.file == display && want(f)) remaining.push_back(f);
        }
      }
    }
    if (auto err = fixes.create()) {
      std::cerr << "leakfix: error: " << err->to_string() << "; nothing written\n";
      return 2;
    }
  }

  if (json) {
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
      const auto source = report.sources.find(f.file);
      if (!source) continue;
      if (auto v = fix_view(f, *source)) report.fixes.emplace(i, std::move(*v));
    }
    int code = 0;
    bool write_failed = false;
    if (o.write) {
      for (auto& out : fixes.outcomes()) {
        if (out.res.after != out.res.before) {
          if (auto err = write_fixed(out.path, out.display, *out.source, out.res)) {
            report.errors.push_back(*err);
            write_failed = true;
          } else {
            report.applied += out.res.applied.size();
          }
        }
        for (const auto& f : out.res.left) {
          if (want(f) && f.severity() >= threshold) code = 1;
        }
      }
    } else {
      for (const auto& f : report.findings) {
        if (f.severity() >= threshold) code = 1;
      }
    }
    render_json(std::cout, report);
    // A write that failed, or a path that could not be read, is an error whatever was found.
    if (write_failed || analysed->failed()) return 2;
    return code;
  }

  std::ostream& info = o.diff ? std::cerr : std::cout;
  std::size_t applied = 0, skipped = 0, files_changed = 0, written = 0;
  std::vector<Finding> unfixable;
  int code = 0;
  for (auto& out : fixes.outcomes()) {
    auto& res = out.res;
    // A fix that failed was planned on the text of its time; the same finding is among those
    // left in the final text, where its lines are found.
    std::set<std::size_t> taken;
    for (auto& f : res.failed) {
      for (std::size_t i = 0; i < res.left.size(); ++i) {
        const auto& l = res.left[i];
        if (taken.contains(i) || l.rule != f.rule || l.function != f.function || l.variable != f.variable || l.kind != f.kind) continue;
        taken.insert(i);
        f.span = l.span;
        f.exit = l.exit;
        break;
      }
    }
    // A front end that analyses each rewritten text again (Python) reports its lines; one that
    // fixes from one analysis of the file as read (C++) already gives the file's on disk.
    if (out.rewritten_lines) {
      restore_lines(res.failed, res.before, res.after);
      restore_lines(res.left, res.before, res.after);
    }
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
      auto disk_before = out.source->to_disk(res.before);
      auto disk_after = out.source->to_disk(res.after);
      if (disk_before && disk_after) {
        std::cout << diff_preamble(out) << unified_diff(out.display, *disk_before, *disk_after, DiffOptions{3, color});
      } else {
        std::cerr << fmt::format("leakfix: error: {}: {}\n", out.display, (disk_after ? disk_before : disk_after).error().message);
        code = 2;
      }
      continue;
    }
    if (auto err = write_fixed(out.path, out.display, *out.source, res)) {
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
  const auto created = project.knowledge.targets->committed();
  if (!o.quiet) {
    const bool wrote = o.write || interactive;
    const std::size_t left = remaining.size();
    for (const auto& c : created) {
      info << fmt::format("{} {}() in {}, a context manager for {}() that gives it back with {}.\n",
                          wrote ? "\nCreated" : "\nWould create", c.name, c.file, c.acquirer, c.release.describe(c.variable));
    }
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
  if (analysed->failed()) return 2;
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
