#pragma once
// What the verbs share: rules, colour and progress decisions.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/finding.h"
#include "core/result.h"
#include "core/source_file.h"
#include "core/walk.h"
#include "python/cache.h"
#include "python/fixer.h"
#include "plan/runtime.h"
#include "python/project.h"
#include "report/report.h"
#include "core/rule.h"
#ifdef LEAKFIX_HAVE_CXX
#include "cxx/analyze.h"
#include "fix/cxx_fix.h"
#endif

namespace leakfix::cli {

bool env_set(const char* name);
// The path made absolute and normal, to compare paths given in different ways.
std::string absolute_normal(const std::string& path);
// Colour on stdout: a terminal, no --no-color, no NO_COLOR, TERM not dumb.
bool use_color(bool no_color);
// A progress line on stderr: a terminal, not under CI or pre-commit, not --quiet.
bool show_progress(bool quiet);
// --rules, or the shipped rules plus .leakfix.yaml/leakfix.yaml found upward.
Result<std::vector<Rule>> rules_for(const std::string& option);

struct Analysed {
  WalkResult walked;
  python::ProjectResult project;
  // A path named on the command line could not be read (missing, unreadable, binary, not
  // UTF-8): the run reports what it could and exits 2. So does a run where nothing was read.
  bool named_unreadable = false;
  bool nothing_read = false;
  bool failed() const { return named_unreadable || nothing_read; }
};

// Walks the paths and analyses what it finds, with the progress line on a terminal; unreadable
// paths are errors on stderr, files that cannot be analysed warnings. nullopt when nothing
// could be read at all (exit status 2).
// How C++ files are compiled: -p BUILD_DIR, or the flags after `--`.
struct CxxSetup {
  std::string build_dir;
  std::vector<std::string> extra_args;
};
// Set by main() from the words after `--`.
CxxSetup& cxx_setup();

// How folders are walked, whatever the verb: --no-default-excludes.
struct WalkSetup {
  bool default_excludes = true;
};
WalkSetup& walk_setup();

// The summary cache, whatever the verb: --no-cache, --cache-dir DIR (or LEAKFIX_CACHE_DIR);
// by default .leakfix_cache/ at the top of the git work tree (else the working directory).
struct CacheSetup {
  bool enabled = true;
  std::string dir;
  // --shard I/N: analyse the I-th of N shares of the Python files into the cache (count 0: all).
  std::size_t shard_index = 0, shard_count = 0;
};
CacheSetup& cache_setup();
// The share (0 to count-1) a file belongs to under --shard, by its display path.
std::size_t shard_of(std::string_view display, std::size_t count);
// The cache for a run with these rules, or null when it is off or cannot be made (a read-only
// tree): a run without it is slower, never wrong, so nothing is said.
std::unique_ptr<python::SummaryCache> open_cache(const std::vector<Rule>& rules, bool whole_files);

// How a verb wants the findings: with their fixes' full text (fix, SARIF), and with C++ fixes
// compiled before they are called fixable (scan, check, plan; fix compiles each fix itself).
// --select / --ignore: finding kinds and rule ids (comma-separated or repeated). Only selected
// findings are reported, fixed or planned; ignored ones never are.
struct Selection {
  std::vector<std::string> select, ignore;
  // pyproject's per-file-ignores: globs relative to `base_dir`, each with kinds and rule ids.
  std::vector<std::pair<std::string, std::vector<std::string>>> per_file;
  std::string base_dir;
};

struct AnalyseFor {
  bool fix_edits = false;
  bool verify_cxx_fixes = true;
  Selection selection = {};
};

// Every name of a kind or rule in `s` must exist: nullopt, or the message naming the unknown one.
std::optional<std::string> check_selection(const Selection& s, const std::vector<Rule>& rules);
bool selected(const Selection& s, const Finding& f);

// `named` are the paths the user gave (default: all of `paths`).
std::optional<Analysed> walk_and_analyse(const std::vector<std::string>& paths, const std::vector<std::string>& excludes,
                                         const std::vector<Rule>& rules, int jobs, bool quiet, AnalyseFor what,
                                         const std::vector<std::string>* named = nullptr);

#ifdef LEAKFIX_HAVE_CXX
// The C++ pass's options from -p or the flags after `--`.
cxx::Options cxx_options(int jobs);
#endif

// The front end of each file: C++ sources go to the C++ module's (when it loads), every other
// file to Python's. Fixing needs what the analysis knows (`knowledge`) and, for Python, how to
// approve a context manager created in another file (`prepare`).
class Frontends {
 public:
  Frontends(const python::Knowledge& knowledge, python::Prepare prepare, int jobs);
  // Null for a C++ file when the C++ module is not there.
  Frontend* of(const std::string& path);

 private:
  python::PythonFrontend python_;
#ifdef LEAKFIX_HAVE_CXX
  int jobs_;
  std::optional<CxxFrontend> cxx_;  // made at the first C++ file: the module is loaded then
#endif
};

// A finding's fix on its own, against the file as read: edits and diff (JSON and SARIF).
std::optional<FixView> fix_view(const Finding& finding, const SourceFile& source, bool diff = true);

// leakfix_runtime's counts from a file (--runtime), with what could not be read said; nullopt
// (said) when the file cannot be read at all.
std::optional<plan::RuntimeCounts> read_runtime_counts(const std::string& path, bool quiet);
// The display paths of the files walked.
std::vector<std::string> displays_of(const std::vector<InputFile>& files);

}  // namespace leakfix::cli
