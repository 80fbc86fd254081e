#include "python/project.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/word_search.h"
#include "core/parallel.h"
#include "python/analyzer.h"
#include "python/callee.h"
#include "python/release_helpers.h"
#include "python/targets.h"
#include "python/tree.h"

namespace leakfix::python {
namespace {

constexpr std::size_t kMaxFileBytes = 32u << 20;
constexpr int kMaxRounds = 8;

struct Slot {
  InputFile input;
  std::shared_ptr<SourceFile> source;  // read once; the parses share it, the report takes it
  std::optional<FileResult> result;
  std::optional<Error> error;
  std::vector<uint64_t> words;  // WordSearch::word_hashes of the text, for every round's prefilter
};

// A name whose discovery may change the analysis of the files that can call it.
struct Trigger {
  std::string name;
  std::string module;  // set for discovered wrappers: only files that can reach the module
  bool method = false; // discovered methods are called only inside their own class's file
};

// Whether code (a file, or one of its statements) can call what a trigger names: any code when
// the trigger has no module, and code in that module; a discovered method nowhere else; a
// function wherever may_call finds a way to it by the file's imports, or, in a file not analysed
// yet (its imports unknown), wherever the module is mentioned.
bool can_reach(const Trigger& t, std::string_view code, std::string_view file_module, const FileResult* earlier,
               bool mentions_module) {
  if (t.module.empty() || file_module == t.module) return true;
  if (t.method) return false;
  return earlier ? may_call(code, file_module, earlier->imports, t.module, t.name) : mentions_module;
}

// The files a round's names may change the analysis of: those that mention a name where it can be
// reached (see can_reach). One pass over each file finds every name, and every module's last
// word (a file that writes `pkg.mod` or `from pkg import mod` writes `mod`).
class Prefilter {
 public:
  explicit Prefilter(const std::vector<Trigger>& triggers) : triggers_(triggers) {
    auto word = [&](std::string_view w) -> std::optional<uint64_t> {
      if (!WordSearch::is_word(w)) return std::nullopt;
      return WordSearch::hash(w);
    };
    for (const auto& t : triggers) {
      name_word_.push_back(word(t.name));
      module_word_.push_back(t.module.empty() ? std::nullopt : word(last_segment(t.module)));
    }
  }

  // The triggers that can change the file's analysis; `words` are the file's word hashes.
  std::vector<const Trigger*> affecting(std::string_view text, const std::vector<uint64_t>& words, std::string_view file_module,
                                        const FileResult* earlier) const {
    auto written = [&](std::optional<uint64_t> w, std::string_view s) {
      return w ? std::binary_search(words.begin(), words.end(), *w) : text.find(s) != std::string_view::npos;
    };
    std::vector<const Trigger*> out;
    for (std::size_t i = 0; i < triggers_.size(); ++i) {
      const auto& t = triggers_[i];
      if (!written(name_word_[i], t.name)) continue;
      const bool mentions_module = t.module.empty() || written(module_word_[i], t.module);
      if (can_reach(t, text, file_module, earlier, mentions_module)) out.push_back(&t);
    }
    return out;
  }

 private:
  const std::vector<Trigger>& triggers_;
  // The hash of each trigger's name and module's last word; none for what is not a word
  // (`g.`), which is searched for as text.
  std::vector<std::optional<uint64_t>> name_word_, module_word_;
};

// For a file analysed before: its statements that can call what `triggers` (those affecting it)
// name.
std::optional<Selection> statements_to_redo(std::string_view text, std::string_view file_module, const FileResult& earlier,
                                            const std::vector<const Trigger*>& triggers) {
  std::vector<std::string> names;
  for (const Trigger* t : triggers) names.push_back(t->name);
  return select_statements_where(text, names, [&](std::string_view statement, std::size_t i) {
    return can_reach(*triggers[i], statement, file_module, &earlier, true);
  });
}

// Route and exposure of every finding: the routes of the files with findings, the blueprint
// registrations wherever they are, and, for helpers without a route, the files that call them.
template <typename Slots>
void annotate_routes(Slots& slots, const Knowledge& k, int jobs) {
  std::vector<FileRoutes> routes;
  std::vector<std::size_t> registering;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto& s = slots[i];
    if (s.result && !s.result->findings.empty()) {
      routes.push_back(s.result->routes);
    } else if (s.source && s.source->text().find("register_blueprint") != std::string_view::npos) {
      registering.push_back(i);
    }
  }
  bool any = std::any_of(slots.begin(), slots.end(), [](const auto& s) { return s.result && !s.result->findings.empty(); });
  if (!any) return;
  std::vector<std::optional<FileRoutes>> extra(slots.size());
  parallel_for(registering, jobs, [&](std::size_t i) {
    const ParsedFile parsed(slots[i].source);
    extra[i] = extract_routes(parsed, false);
  });
  for (auto i : registering) routes.push_back(std::move(*extra[i]));

  std::vector<Finding> flat;
  for (auto& s : slots) {
    if (!s.result) continue;
    for (auto& f : s.result->findings) flat.push_back(std::move(f));
  }
  annotate_exposure(flat, routes, k.exposure);
  // Helpers: findings with no route. Their callers may be anywhere, but only code that has
  // routes (or calls a helper that has) can give them one: a tree without a single route (a
  // library) skips this pass.
  const bool any_routes = std::any_of(routes.begin(), routes.end(), [](const FileRoutes& fr) {
    return std::any_of(fr.functions.begin(), fr.functions.end(), [](const FunctionFacts& fn) { return !fn.routes.empty(); });
  });
  std::set<std::string> helpers;
  for (const auto& f : flat) {
    if (!f.route && f.function != "<module>") helpers.insert(f.function.substr(f.function.rfind('.') + 1));
  }
  if (!helpers.empty() && any_routes) {
    std::vector<std::size_t> callers;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i].source) continue;
      const auto text = slots[i].source->text();
      const bool has_findings = slots[i].result && !slots[i].result->findings.empty();
      if (!has_findings && !mentions_routes(text)) continue;
      if (std::any_of(helpers.begin(), helpers.end(), [&](const std::string& h) { return text.find(h + "(") != std::string_view::npos; }))
        callers.push_back(i);
    }
    std::vector<std::optional<FileRoutes>> with_calls(slots.size());
    parallel_for(callers, jobs, [&](std::size_t i) {
      const ParsedFile parsed(slots[i].source);
      with_calls[i] = extract_routes(parsed, true);
    });
    std::map<std::string, std::size_t> index;
    for (std::size_t j = 0; j < routes.size(); ++j) index[routes[j].file] = j;
    for (auto i : callers) {
      auto& fr = *with_calls[i];
      auto it = index.find(fr.file);
      if (it != index.end()) routes[it->second] = std::move(fr);
      else routes.push_back(std::move(fr));
    }
    annotate_exposure(flat, routes, k.exposure);
  }
  std::size_t at = 0;
  for (auto& s : slots) {
    if (!s.result) continue;
    for (auto& f : s.result->findings) f = std::move(flat[at++]);
  }
}

// A file's result after a round that analysed again only the statements `parsed` holds: what
// the earlier rounds found in the others stands, since none of them can call what was
// discovered since. Discoveries only add up (the project ignores those it knows).
FileResult merge_rounds(FileResult earlier, FileResult now, const ParsedFile& parsed) {
  const auto& ranges = parsed.parsed_ranges();
  if (ranges.empty()) return now;  // the whole file was analysed
  const auto& source = parsed.source();
  auto analysed_again = [&](const Finding& f) {
    const uint32_t at = source.line_offset(f.span.line);
    return std::any_of(ranges.begin(), ranges.end(), [&](const TSRange& r) { return at >= r.start_byte && at < r.end_byte; });
  };
  std::vector<Finding> findings;
  for (auto& f : earlier.findings) {
    if (!analysed_again(f)) findings.push_back(std::move(f));
  }
  for (auto& f : now.findings) findings.push_back(std::move(f));
  sort_findings(findings);
  now.findings = std::move(findings);
  now.acquirers.insert(now.acquirers.begin(), earlier.acquirers.begin(), earlier.acquirers.end());
  now.releases.insert(now.releases.begin(), earlier.releases.begin(), earlier.releases.end());
  now.request_scoped.insert(now.request_scoped.begin(), earlier.request_scoped.begin(), earlier.request_scoped.end());
  now.teardown_closes = now.teardown_closes || earlier.teardown_closes;
  // Routes: the functions of both parses; the blueprints are in every parse.
  if (now.routes.file.empty()) {
    now.routes = std::move(earlier.routes);
  } else {
    for (auto& fn : earlier.routes.functions) {
      const bool known = std::any_of(now.routes.functions.begin(), now.routes.functions.end(),
                                     [&](const FunctionFacts& g) { return g.name == fn.name; });
      if (!known) now.routes.functions.push_back(std::move(fn));
    }
  }
  if (now.findings.empty()) now.routes = FileRoutes{};
  return now;
}

// The files not analysed yet that may define a release helper for the findings of `analysed`
// (see release_helpers.h).
std::vector<std::size_t> release_helper_files(const std::vector<Slot>& slots, const std::vector<std::size_t>& analysed,
                                              const std::vector<std::string>& release_names, int jobs) {
  std::set<std::string, std::less<>> called;
  for (const std::size_t i : analysed) {
    const auto& s = slots[i];
    if (!s.result || s.result->findings.empty()) continue;
    for (auto& name : handle_callees(s.source->text(), s.result->findings)) called.insert(std::move(name));
  }
  if (called.empty()) return {};
  const std::set<std::string, std::less<>> releases(release_names.begin(), release_names.end());
  std::vector<std::size_t> unread;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].source && !slots[i].result && !slots[i].error) unread.push_back(i);
  }
  std::vector<char> wanted(slots.size(), 0);
  parallel_for(unread, jobs, [&](std::size_t i) {
    wanted[i] = defines_release_helper(slots[i].source->text(), called, releases) ? 1 : 0;
  });
  std::vector<std::size_t> out;
  for (const std::size_t i : unread) {
    if (wanted[i]) out.push_back(i);
  }
  return out;
}

}  // namespace

ProjectResult analyze_project(const std::vector<InputFile>& files, const std::vector<Rule>& rules,
                              const ProjectOptions& options) {
  ProjectResult out;
  out.files = files.size();
  const int jobs = options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  Knowledge k = Knowledge::from_rules(rules);
  k.fix_edits = options.fix_edits;

  std::vector<Slot> slots(files.size());
  std::vector<std::size_t> all(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    slots[i].input = files[i];
    all[i] = i;
  }
  // Read every file once; the prefilter needs the bytes anyway.
  parallel_for(all, jobs, [&](std::size_t i) {
    auto& s = slots[i];
    auto read = SourceFile::read(s.input.path, s.input.display);
    if (!read) {
      s.error = read.error();
      return;
    }
    if (read->bytes().size() > kMaxFileBytes) {
      s.error = Error{s.input.display, 0, fmt::format("skipped: larger than {} MB", kMaxFileBytes >> 20)};
      return;
    }
    s.source = std::make_shared<SourceFile>(std::move(*read));
  });

  std::mutex progress_lock;
  std::atomic<std::size_t> done{0}, found{0};
  std::vector<Trigger> new_names;
  for (const auto& n : k.trigger_names()) new_names.push_back(Trigger{n, "", false});
  for (int round = 0; round < kMaxRounds && !new_names.empty(); ++round) {
    // The prefilter reads every file's text: in parallel too.
    const Prefilter prefilter(new_names);
    std::vector<std::vector<const Trigger*>> hits(slots.size());
    parallel_for(all, jobs, [&](std::size_t i) {
      auto& s = slots[i];
      if (!s.source) return;
      if (round == 0) s.words = WordSearch::word_hashes(s.source->text());
      hits[i] = prefilter.affecting(s.source->text(), s.words, module_name(s.input.display), s.result ? &*s.result : nullptr);
    });
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!hits[i].empty()) todo.push_back(i);
    }
    // Files the prefilter skips count as done for the progress line.
    if (round == 0) done = files.size() - todo.size();
    const auto call_names = k.call_names();
    const bool whole = k.fix_edits || options.whole_files;
    // A file not analysed before: its statements that name a call of interest, or all of it.
    auto analyse_fresh = [&](Slot& s) {
      const ParsedFile parsed = whole ? ParsedFile(s.source) : ParsedFile::for_calls(s.source, call_names);
      s.result = analyze_file(parsed, k);
    };
    parallel_for(todo, jobs, [&](std::size_t i) {
      auto& s = slots[i];
      // Trees are not kept between rounds: a file is parsed again only when a discovery in
      // another file reaches it, and memory stays per file. Only the statements that name a
      // call of interest are parsed, unless the findings carry their fixes' text (whose
      // indentation and imports may look anywhere in the file). A file analysed in an earlier
      // round has only its statements that can call this round's discoveries analysed again.
      try {
        if (s.result && !whole) {
          const auto redo = statements_to_redo(s.source->text(), module_name(s.input.display), *s.result, hits[i]);
          const ParsedFile parsed = ParsedFile::selective(s.source, redo);
          s.result = merge_rounds(std::move(*s.result), analyze_file(parsed, k), parsed);
        } else {
          analyse_fresh(s);
        }
      } catch (const std::exception& e) {
        s.error = Error{s.input.display, 0, fmt::format("cannot parse: {}", e.what())};
        return;
      }
      if (round == 0) {
        const auto d = ++done;
        found += s.result->findings.size();
        if (options.progress) {
          std::lock_guard lock(progress_lock);
          options.progress(d, files.size(), found);
        }
      }
    });
    std::vector<std::string> release_names = k.release_methods;
    for (const auto& r : k.release_functions) release_names.emplace_back(last_segment(r.pattern));
    const auto helpers = release_helper_files(slots, todo, release_names, jobs);
    parallel_for(helpers, jobs, [&](std::size_t i) {
      auto& s = slots[i];
      try {
        analyse_fresh(s);
      } catch (const std::exception& e) {
        s.error = Error{s.input.display, 0, fmt::format("cannot parse: {}", e.what())};
      }
    });
    // Merge what this round discovered; files mentioning a new name are analysed again.
    new_names.clear();
    auto key = [](const std::string& module, const std::string& cls, const std::string& name) {
      return module + ":" + cls + ":" + name;
    };
    std::set<std::string> known_acq;
    for (const auto& r : k.rules) {
      for (const auto& a : r.acquirers) known_acq.insert(key(a.module, a.owner_class, a.pattern));
    }
    bool teardown = k.teardown_closes;
    for (auto& s : slots) {
      if (!s.result) continue;
      teardown = teardown || s.result->teardown_closes;
      for (const auto& d : s.result->acquirers) {
        if (known_acq.contains(key(d.module, d.owner_class, d.function)) || k.request_scoped.contains(d.function)) continue;
        auto rule = std::find_if(k.rules.begin(), k.rules.end(), [&](const Rule& r) { return r.id == d.rule; });
        if (rule == k.rules.end()) continue;
        Acquirer a;
        a.pattern = d.function;
        a.with_closes = d.with_closes;
        a.context_manager = d.context_manager;
        a.discovered_from = d.wraps;
        a.module = d.module;
        a.owner_class = d.owner_class;
        a.fix = d.fix;
        a.may_return_none = d.may_return_none;
        rule->acquirers.push_back(a);
        known_acq.insert(key(d.module, d.owner_class, d.function));
        new_names.push_back(Trigger{d.function, d.module, !d.owner_class.empty()});
        const auto where = d.owner_class.empty() ? d.module : d.module + "." + d.owner_class;
        out.discovered_acquirers.push_back(fmt::format("{}.{} (returns {}())", where, d.function, d.wraps));
      }
      for (const auto& r : s.result->releases) {
        if (std::find(k.release_functions.begin(), k.release_functions.end(), r) != k.release_functions.end()) continue;
        k.release_functions.push_back(r);
        new_names.push_back(Trigger{r.pattern, r.module, !r.owner_class.empty()});
        const auto where = r.owner_class.empty() ? r.module : r.module + "." + r.owner_class;
        out.discovered_releases.push_back(fmt::format("{}.{} (closes argument {})", where, r.pattern, r.argument + 1));
      }
      for (const auto& name : s.result->request_scoped) {
        if (k.request_scoped.insert(name).second) new_names.push_back(Trigger{name, "", false});
      }
    }
    if (teardown != k.teardown_closes) {
      k.teardown_closes = true;
      new_names.push_back(Trigger{"g.", "", false});
    }
  }

  // Context managers of the project's, wherever they are defined: fixes use them (targets.h).
  {
    std::vector<std::size_t> holders;
    // Only acquirers whose own with does not close need one: the project's factories and the
    // wrappers discovered in it (a driver's or a builtin's own with, or closing(), serve the rest).
    std::vector<std::string> names;
    for (const auto& r : k.rules) {
      if (r.language != "python") continue;
      for (const auto& a : r.acquirers) {
        const bool own = a.discovered_from.empty() && a.pattern.find('.') != std::string::npos;
        if (!own && (!r.acquirer_with_closes(a) || a.with_commits)) names.emplace_back(last_segment(a.pattern));
      }
    }
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i].source) continue;
      const auto text = slots[i].source->text();
      if (text.find("contextmanager") == std::string_view::npos && text.find("__enter__") == std::string_view::npos) continue;
      if (std::any_of(names.begin(), names.end(), [&](const std::string& n) { return text.find(n) != std::string_view::npos; }))
        holders.push_back(i);
    }
    std::vector<std::vector<ProjectContextManager>> defined(slots.size());
    parallel_for(holders, jobs, [&](std::size_t i) {
      try {
        const ParsedFile parsed(slots[i].source);
        defined[i] = context_managers_in(parsed);
      } catch (const std::exception&) {
        // Found by the analysis already, as a file that cannot be parsed.
      }
    });
    for (auto& cms : defined) k.targets->add_known(std::move(cms));
  }

  annotate_routes(slots, k, jobs);
  for (auto& s : slots) {
    if (s.error) out.errors.push_back(*s.error);
    if (!s.result) continue;
    ++out.parsed;
    for (auto& f : s.result->findings) {
      f.snippet = normalise_snippet(s.source->line(f.span.line));
      out.findings.push_back(std::move(f));
    }
    if (!s.result->findings.empty()) {
      // Every parse of it is over: the text moves to the report rather than being copied.
      out.sources.emplace(s.input.display, std::move(*s.source));
      out.paths.emplace(s.input.display, s.input.path);
    }
  }
  sort_findings(out.findings);
  std::sort(out.discovered_acquirers.begin(), out.discovered_acquirers.end());
  std::sort(out.discovered_releases.begin(), out.discovered_releases.end());
  out.knowledge = std::move(k);
  return out;
}

}  // namespace leakfix::python
