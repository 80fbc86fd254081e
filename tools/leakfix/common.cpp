#include "common.h"

#include "core/git.h"
#include "python/cache.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <filesystem>
#include <iostream>
#include <string_view>

#ifdef LEAKFIX_HAVE_CXX
#include "cxx_plugin.h"
#include "fix/cxx_fix.h"
#endif
#include "core/glob.h"
#include "core/suggest.h"
#include "settings.h"
#include "fix/cxx_text.h"
#include "fix/diff.h"
#include "python/fixer.h"
#include "rules/loader.h"

namespace leakfix::cli {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

bool use_color(bool no_color) {
  if (no_color || env_set("NO_COLOR")) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") return false;
  return isatty(STDOUT_FILENO) == 1;
}

bool show_progress(bool quiet) {
  return !quiet && !env_set("CI") && !env_set("PRE_COMMIT") && isatty(STDERR_FILENO) == 1;
}

Result<std::vector<Rule>> rules_for(const std::string& option) {
  if (!option.empty()) return load_rules(option);
  auto rules = builtin_rules();
  if (const auto& settings = project_settings()) {
    for (const auto& r : settings->rules) {
      auto extra = load_rules(r);
      if (!extra) return extra.error();
      merge_rules(rules, std::move(*extra));
    }
  }
  const auto config = find_project_config(std::filesystem::current_path().string());
  if (!config.empty()) {
    auto extra = load_rules(config);
    if (!extra) return extra.error();
    merge_rules(rules, std::move(*extra));
  }
  return rules;
}

CxxSetup& cxx_setup() {
  static CxxSetup setup;
  return setup;
}

std::string absolute_normal(const std::string& path) {
  std::error_code ec;
  return std::filesystem::absolute(std::filesystem::path(path), ec).lexically_normal().string();
}

std::optional<plan::RuntimeCounts> read_runtime_counts(const std::string& path, bool quiet) {
  auto counts = plan::read_runtime(path);
  if (!counts) {
    std::cerr << "leakfix: error: " << counts.error().to_string() << '\n';
    return std::nullopt;
  }
  if (counts->unreadable && !quiet)
    std::cerr << fmt::format("leakfix: warning: {}: {} of {} lines are not leakfix_runtime counts and were skipped\n", path,
                             counts->unreadable, counts->lines);
  return std::move(*counts);
}

std::vector<std::string> displays_of(const std::vector<InputFile>& files) {
  std::vector<std::string> out;
  out.reserve(files.size());
  for (const auto& f : files) out.push_back(f.display);
  return out;
}

std::size_t shard_of(std::string_view display, std::size_t count) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a: the same on every machine and build
  for (const unsigned char c : display) h = (h ^ c) * 1099511628211ull;
  return static_cast<std::size_t>(h % count);
}

CacheSetup& cache_setup() {
  static CacheSetup setup;
  return setup;
}

std::unique_ptr<python::SummaryCache> open_cache(const std::vector<Rule>& rules, bool whole_files) {
  const auto& setup = cache_setup();
  if (!setup.enabled) return nullptr;
  std::string dir = setup.dir;
  if (dir.empty()) {
    if (const char* env = std::getenv("LEAKFIX_CACHE_DIR"); env && *env) dir = env;
  }
  if (dir.empty()) {
    const auto cwd = std::filesystem::current_path().string();
    const auto top = git_toplevel(cwd);
    dir = (std::filesystem::path(top ? *top : cwd) / ".leakfix_cache").string();
  }
  auto cache = python::SummaryCache::open(dir, python::cache_config(LEAKFIX_VERSION, rules, false) + (whole_files ? "w" : ""), nullptr);
  return cache ? std::make_unique<python::SummaryCache>(std::move(*cache)) : nullptr;
}

WalkSetup& walk_setup() {
  static WalkSetup setup;
  return setup;
}

std::optional<std::string> check_selection(const Selection& s, const std::vector<Rule>& rules) {
  std::vector<std::string> known;
  for (const auto& k : kKinds) known.emplace_back(k.name);
  for (const auto& r : rules) known.push_back(r.id);
  auto unknown = [&](const std::vector<std::string>& names) -> std::optional<std::string> {
    for (const auto& name : names) {
      if (std::find(known.begin(), known.end(), name) == known.end()) return name;
    }
    return std::nullopt;
  };
  if (auto name = unknown(s.select))
    return fmt::format("--select {}: no finding kind or rule of that name{}", *name, did_you_mean(*name, known));
  if (auto name = unknown(s.ignore))
    return fmt::format("--ignore {}: no finding kind or rule of that name{}", *name, did_you_mean(*name, known));
  for (const auto& [glob, names] : s.per_file) {
    if (auto name = unknown(names))
      return fmt::format("per-file-ignores \"{}\": no finding kind or rule `{}`{}", glob, *name, did_you_mean(*name, known));
  }
  return std::nullopt;
}

bool selected(const Selection& s, const Finding& f) {
  auto names = [&](const std::vector<std::string>& list) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& n) { return n == f.rule || n == to_string(f.kind); });
  };
  if (!s.select.empty() && !names(s.select)) return false;
  if (names(s.ignore)) return false;
  if (s.per_file.empty()) return true;
  const auto rel = std::filesystem::path(absolute_normal(f.file)).lexically_relative(s.base_dir).generic_string();
  return std::none_of(s.per_file.begin(), s.per_file.end(),
                      [&](const auto& entry) { return glob_match(entry.first, rel) && names(entry.second); });
}

#ifdef LEAKFIX_HAVE_CXX
cxx::Options cxx_options(int jobs) {
  cxx::Options o;
  o.build_dir = cxx_setup().build_dir;
  o.extra_args = cxx_setup().extra_args;
  o.jobs = jobs;
  return o;
}
#endif

std::optional<Analysed> walk_and_analyse(const std::vector<std::string>& paths, const std::vector<std::string>& excludes,
                                         const std::vector<Rule>& rules, int jobs, bool quiet, AnalyseFor what,
                                         const std::vector<std::string>* named) {
  const bool fix_edits = what.fix_edits;
  if (auto bad = check_selection(what.selection, rules)) {
    std::cerr << "leakfix: error: " << *bad << '\n';
    return std::nullopt;
  }
  Analysed out;
  WalkOptions walk;
  walk.excludes = excludes;
  walk.default_excludes = walk_setup().default_excludes;
#ifdef LEAKFIX_HAVE_CXX
  walk.extensions.insert(walk.extensions.end(), {".cpp", ".cc", ".cxx", ".c++"});
#endif
  // A large or slow tree (a network mount, a cold cache) takes a while to walk: say so at once.
  if (show_progress(quiet)) {
    walk.progress = [](std::size_t found) { std::cerr << fmt::format("\r\x1b[2K{} files found...", found) << std::flush; };
    std::cerr << "\r\x1b[2Kfinding files..." << std::flush;
  }
  out.walked = collect_files(paths, walk);
  if (show_progress(quiet)) std::cerr << "\r\x1b[2K" << std::flush;
  for (const auto& e : out.walked.errors) std::cerr << "leakfix: error: " << e.to_string() << '\n';
  if (!quiet) {
    for (const auto& e : out.walked.skipped) std::cerr << fmt::format("leakfix: warning: {}: skipped: {}\n", e.file, e.message);
  }
  if (out.walked.files.empty() && !out.walked.errors.empty()) return std::nullopt;
  python::ProjectOptions options;
  options.jobs = jobs;
  options.fix_edits = fix_edits;
  // A diagnostic switch: the findings must not change with it.
  if (const char* whole = std::getenv("LEAKFIX_WHOLE_FILES"); whole && *whole && std::string_view(whole) != "0") options.whole_files = true;
  const auto cache = fix_edits ? nullptr : open_cache(rules, options.whole_files);
  options.cache = cache.get();
  const auto& shard = cache_setup();
  if (shard.shard_count) {
    if (!cache) {
      std::cerr << "leakfix: error: --shard writes its share into the summary cache, which is off (--no-cache) or cannot be made\n";
      return std::nullopt;
    }
    // A file's share follows from its path alone: every shard, on any machine, splits alike.
    // C++ translation units are analysed by the run that joins the shares.
    std::erase_if(out.walked.files, [&](const InputFile& f) {
#ifdef LEAKFIX_HAVE_CXX
      if (is_cxx_source(f.path)) return true;
#endif
      return shard_of(f.display, shard.shard_count) != shard.shard_index - 1;
    });
    options.shard = true;
  }
  const bool progress = show_progress(quiet) && out.walked.files.size() > 1;
  if (progress) {
    options.progress = [](std::size_t done, std::size_t total, std::size_t findings) {
      std::cerr << fmt::format("\r\x1b[2K[{}/{}] files analysed, {} finding{} so far", done, total, findings,
                               findings == 1 ? "" : "s")
                << std::flush;
    };
  }
  // The walk's own list goes to the Python pass when it holds no C++ (a copy of tens of
  // thousands of paths is not free).
  std::vector<InputFile> python_files, cxx_files;
#ifdef LEAKFIX_HAVE_CXX
  const auto& all = out.walked.files;
  if (std::any_of(all.begin(), all.end(), [](const InputFile& f) { return is_cxx_source(f.path); })) {
    for (const auto& f : all) (is_cxx_source(f.path) ? cxx_files : python_files).push_back(f);
  }
#endif
  out.project = python::analyze_project(cxx_files.empty() ? out.walked.files : python_files, rules, options);
  std::erase_if(out.project.findings, [&](const Finding& f) { return !selected(what.selection, f); });
  if (progress) std::cerr << "\r\x1b[2K" << std::flush;
#ifdef LEAKFIX_HAVE_CXX
  if (!cxx_files.empty()) {
    cxx::Options copts = cxx_options(jobs);
    if (show_progress(quiet)) {
      copts.progress = [](std::size_t done, std::size_t total, const std::string& file) {
        std::cerr << fmt::format("\r\x1b[2K[{}/{}] {}", done, total, file) << std::flush;
      };
    }
    std::string why;
    const cxx::Api* api = cxx_api(&why);
    if (!api) {
      for (const auto& f : cxx_files) out.project.errors.push_back(Error{f.display, 0, why});
    } else {
      auto c = api->analyze(cxx_files, rules, copts);
      if (copts.progress) std::cerr << "\r\x1b[2K" << std::flush;
      std::erase_if(c.findings, [&](const Finding& f) { return !selected(what.selection, f); });
      // `fixable` is a promise: a rewrite is offered only once it compiles (those selected).
      if (what.verify_cxx_fixes) verify_cxx_fixes(CxxFixer{*api, cxx_options(jobs)}, c.findings, c.sources, jobs);
      for (auto& f : c.findings) out.project.findings.push_back(std::move(f));
      sort_findings(out.project.findings);
      for (auto& e : c.errors) out.project.errors.push_back(std::move(e));
      for (auto& d : c.discovered_acquirers) out.project.discovered_acquirers.push_back(std::move(d));
      for (auto& d : c.discovered_releases) out.project.discovered_releases.push_back(std::move(d));
      for (auto& [k, v] : c.sources) {
        out.project.paths.emplace(k, k);
        out.project.sources.emplace(k, std::move(v));
      }
    }
  }
#endif
  for (const auto& e : out.project.errors) std::cerr << "leakfix: warning: " << e.to_string() << '\n';
  std::set<std::string> given;
  for (const auto& p : named ? *named : paths) given.insert(absolute_normal(p));
  auto is_named = [&](const Error& e) { return given.contains(absolute_normal(e.file)); };
  out.named_unreadable = std::any_of(out.walked.errors.begin(), out.walked.errors.end(), is_named) ||
                         std::any_of(out.project.errors.begin(), out.project.errors.end(), is_named);
  out.nothing_read = !out.walked.files.empty() && out.project.errors.size() >= out.walked.files.size();
  return out;
}

#ifdef LEAKFIX_HAVE_CXX
Frontends::Frontends(const python::Knowledge& knowledge, python::Prepare prepare, int jobs)
    : python_(knowledge, std::move(prepare)), jobs_(jobs) {}
#else
Frontends::Frontends(const python::Knowledge& knowledge, python::Prepare prepare, int)
    : python_(knowledge, std::move(prepare)) {}
#endif

Frontend* Frontends::of(const std::string& path) {
  if (!is_cxx_source(path)) return &python_;
#ifdef LEAKFIX_HAVE_CXX
  if (!cxx_) {
    if (const cxx::Api* api = cxx_api()) cxx_.emplace(CxxFixer{*api, cxx_options(jobs_)});
  }
  if (cxx_) return &*cxx_;
#endif
  return nullptr;
}

std::optional<FixView> fix_view(const Finding& f, const SourceFile& source, bool diff) {
  if (!f.fix) return std::nullopt;
  // Each language applies its own fixes: a C++ fix's headers are #includes, not imports.
  static const python::Knowledge nothing_to_fix;
  Frontends frontends(nothing_to_fix, {}, 1);
  Frontend* frontend = frontends.of(f.file);
  const auto after = frontend ? frontend->apply(source, *f.fix) : std::nullopt;
  if (!after) return std::nullopt;
  FixView v;
  if (diff) v.diff = unified_diff(f.file, source.bytes(), *after);
  v.edits = line_edits(source.text(), std::string_view(*after).substr(source.bom_size()));
  return v;
}

}  // namespace leakfix::cli
