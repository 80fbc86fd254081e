#include "python/project.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core/word_search.h"
#include "core/parallel.h"
#include "python/analyzer.h"
#include "python/callee.h"
#include "python/cache.h"
#include "python/release_helpers.h"
#include "python/targets.h"
#include "python/tree.h"

namespace leakfix::python {
namespace {

constexpr std::size_t kMaxFileBytes = 32u << 20;
constexpr int kMaxRounds = 8;
// Files read between two give_back_freed_pages(): at 512 a scan took 10% longer; at 2048 the
// cost is lost in the noise and the peak at 4x the standard library is 1.3x that at 1x.
constexpr std::size_t kGiveBackEvery = 2048;

// What the scan keeps of a file between rounds: no text and no tree (a file is read again when a
// later round may need it), only what crosses files and a filter of its words.
struct Slot {
  const InputFile* input = nullptr;
  std::unique_ptr<FileResult> result;  // once analysed
  std::unique_ptr<Error> error;
  WordFilters::Handle words;  // the words of the text, for every later round's prefilter
  std::size_t digest = 0;     // of the text as first read (0: not read); every later read must match
};

// Reads a slot's file: the first time, or again for a later round. Null, with the slot's error
// set, when it cannot be read, is too large, or is no longer what the first read found.
std::shared_ptr<SourceFile> load(Slot& s) {
  auto read = s.input->bytes ? SourceFile::decode(*s.input->bytes, s.input->display) : SourceFile::read(s.input->path, s.input->display);
  if (!read) {
    s.error = std::make_unique<Error>(read.error());
    return nullptr;
  }
  if (read->bytes().size() > kMaxFileBytes) {
    s.error = std::make_unique<Error>(Error{s.input->display, 0, fmt::format("skipped: larger than {} MB", kMaxFileBytes >> 20)});
    return nullptr;
  }
  const std::size_t digest = content_digest(*read);
  if (s.digest == 0) {
    s.digest = digest;
  } else if (s.digest != digest) {
    // Its findings would point at lines that are no longer there.
    s.error = std::make_unique<Error>(Error{s.input->display, 0, "changed while it was being scanned: scan it again"});
    s.result.reset();
    return nullptr;
  }
  return std::make_shared<SourceFile>(std::move(*read));
}

// The word hashes of names, for WordFilters.
template <typename Names>
std::vector<uint64_t> hashes_of(const Names& names) {
  std::vector<uint64_t> out;
  for (const auto& n : names) out.push_back(WordSearch::hash(n));
  return out;
}

// Whether a file read once may write any of the words (hashes_of): worth reading again.
bool may_write_any(const WordFilters& filters, const Slot& s, const std::vector<uint64_t>& words) {
  if (!s.digest || s.error) return false;
  return std::any_of(words.begin(), words.end(), [&](uint64_t w) { return filters.may_contain(s.words, w); });
}

// A file the parser gave up on: named as an error, its earlier results dropped.
void cannot_parse(Slot& s, const std::exception& e) {
  s.error = std::make_unique<Error>(Error{s.input->display, 0, fmt::format("cannot parse: {}", e.what())});
  s.result.reset();
}

// Hands the free pages of the heap back to the system. glibc's free() gives back only the top of
// a heap; the texts and trees of the files read and let go lie between the summaries that stay,
// and without this the resident set grows with the tree although the live data hardly does.
void give_back_freed_pages() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

// The code line each new finding of a file points at, while its text is at hand.
void add_snippets(FileResult& result, const SourceFile& source) {
  for (auto& f : result.findings) {
    if (f.snippet.empty()) f.snippet = normalise_snippet(source.line(f.span.line));
  }
}

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

  // Whether any trigger's name may be written in a file with these words (cheap, without its text).
  bool may_affect(const WordFilters& filters, WordFilters::Handle words) const {
    for (std::size_t i = 0; i < triggers_.size(); ++i) {
      if (name_word_[i] ? filters.may_contain(words, *name_word_[i]) : filters.may_write(words, triggers_[i].name)) return true;
    }
    return false;
  }

  // The triggers that can change the file's analysis; `words` are the file's word hashes.
  std::vector<const Trigger*> affecting(std::string_view text, const WordSet& words, std::string_view file_module,
                                        const FileResult* earlier) const {
    auto written = [&](std::optional<uint64_t> w, std::string_view s) {
      return w ? words.contains(*w) : text.find(s) != std::string_view::npos;
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
  std::vector<Trigger> triggers_;
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
void annotate_routes(std::vector<Slot>& slots, const WordFilters& filters, const Knowledge& k, int jobs) {
  const bool any = std::any_of(slots.begin(), slots.end(), [](const Slot& s) { return s.result && !s.result->findings.empty(); });
  if (!any) return;
  std::vector<FileRoutes> routes;
  std::vector<std::size_t> registering;
  const auto register_word = hashes_of(std::array{"register_blueprint"});
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto& s = slots[i];
    if (s.result && !s.result->findings.empty()) {
      routes.push_back(s.result->routes);
    } else if (may_write_any(filters, s, register_word)) {
      registering.push_back(i);
    }
  }
  std::vector<std::optional<FileRoutes>> extra(slots.size());
  parallel_for(registering, jobs, [&](std::size_t i) {
    const auto source = load(slots[i]);
    if (!source || source->text().find("register_blueprint") == std::string_view::npos) return;
    const ParsedFile parsed(source);
    extra[i] = extract_routes(parsed, false);
  });
  for (auto i : registering) {
    if (extra[i]) routes.push_back(std::move(*extra[i]));
  }

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
    const auto helper_words = hashes_of(helpers);
    std::vector<std::size_t> maybe;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (may_write_any(filters, slots[i], helper_words)) maybe.push_back(i);
    }
    std::vector<std::optional<FileRoutes>> with_calls(slots.size());
    parallel_for(maybe, jobs, [&](std::size_t i) {
      auto& s = slots[i];
      const bool has_findings = s.result && !s.result->findings.empty();
      const auto source = load(s);
      if (!source) return;
      const auto text = source->text();
      if (!has_findings && !mentions_routes(text)) return;
      if (std::none_of(helpers.begin(), helpers.end(), [&](const std::string& h) { return text.find(h + "(") != std::string_view::npos; }))
        return;
      const ParsedFile parsed(source);
      with_calls[i] = extract_routes(parsed, true);
    });
    std::map<std::string, std::size_t> index;
    for (std::size_t j = 0; j < routes.size(); ++j) index[routes[j].file] = j;
    for (auto i : maybe) {
      if (!with_calls[i]) continue;
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
// discovered since. Discoveries add up; a wrapper found again is replaced.
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
  // A wrapper found again is what the latest knowledge makes of it (what it wraps may have
  // turned out to be a discovered wrapper itself, with other properties than the rule's name).
  std::erase_if(earlier.acquirers, [&](const DiscoveredAcquirer& e) {
    return std::any_of(now.acquirers.begin(), now.acquirers.end(), [&](const DiscoveredAcquirer& d) {
      return d.function == e.function && d.module == e.module && d.owner_class == e.owner_class;
    });
  });
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
std::vector<std::size_t> release_helper_files(std::vector<Slot>& slots, const WordFilters& filters, const std::vector<std::size_t>& analysed,
                                              const std::vector<std::string>& release_names, int jobs) {
  std::vector<std::size_t> with_findings;
  for (const std::size_t i : analysed) {
    if (slots[i].result && !slots[i].result->findings.empty()) with_findings.push_back(i);
  }
  std::vector<std::vector<std::string>> callees(slots.size());
  parallel_for(with_findings, jobs, [&](std::size_t i) {
    if (const auto source = load(slots[i]); source && slots[i].result) callees[i] = handle_callees(source->text(), slots[i].result->findings);
  });
  std::set<std::string, std::less<>> called;
  for (auto& names : callees) {
    for (auto& name : names) called.insert(std::move(name));
  }
  if (called.empty()) return {};
  const auto called_words = hashes_of(called);
  const std::set<std::string, std::less<>> releases(release_names.begin(), release_names.end());
  std::vector<std::size_t> unread;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].result && may_write_any(filters, slots[i], called_words)) unread.push_back(i);
  }
  std::vector<char> wanted(slots.size(), 0);
  parallel_for(unread, jobs, [&](std::size_t i) {
    const auto source = load(slots[i]);
    wanted[i] = source && defines_release_helper(source->text(), called, releases) ? 1 : 0;
  });
  std::vector<std::size_t> out;
  for (const std::size_t i : unread) {
    if (wanted[i]) out.push_back(i);
  }
  return out;
}

// The names a file's contribution gives the others: what may change their analyses when it
// comes or goes.
void triggers_of(const FileResult* r, std::vector<Trigger>& out) {
  if (!r) return;
  for (const auto& d : r->acquirers) out.push_back(Trigger{d.function, d.module, !d.owner_class.empty()});
  for (const auto& rel : r->releases) out.push_back(Trigger{rel.pattern, rel.module, !rel.owner_class.empty()});
  for (const auto& n : r->request_scoped) out.push_back(Trigger{n, "", false});
  if (r->teardown_closes) out.push_back(Trigger{"g.", "", false});
}

// Adds to the knowledge what files' analyses discovered (wrappers, release helpers, factories
// cached on flask.g, teardown handlers), each once, and notes it in the discoveries.
class Learner {
 public:
  Learner(Knowledge& k, Discoveries& disc) : k_(k), disc_(disc) {
    for (const auto& r : k.rules) {
      for (const auto& a : r.acquirers) known_acq_.insert(key(a.module, a.owner_class, a.pattern));
    }
  }

  // Whether two findings of one wrapper say the same of it.
  static bool same(const Acquirer& a, const Acquirer& b) {
    return a.with_closes == b.with_closes && a.context_manager == b.context_manager && a.discovered_from == b.discovered_from &&
           a.fix == b.fix && a.may_return_none == b.may_return_none;
  }

  // What a file's result gives that was not known; the names whose callers may now be
  // analysed differently go to `new_names`.
  void absorb(const FileResult& result, std::vector<Trigger>& new_names) {
    for (const auto& d : result.acquirers) {
      if (k_.request_scoped.contains(d.function)) continue;
      auto rule = std::find_if(k_.rules.begin(), k_.rules.end(), [&](const Rule& r) { return r.id == d.rule; });
      if (rule == k_.rules.end()) continue;
      Acquirer a;
      a.pattern = d.function;
      a.with_closes = d.with_closes;
      a.context_manager = d.context_manager;
      a.discovered_from = d.wraps;
      a.module = d.module;
      a.owner_class = d.owner_class;
      a.fix = d.fix;
      a.may_return_none = d.may_return_none;
      if (known_acq_.contains(key(d.module, d.owner_class, d.function))) {
        // Found again with more knowledge: the latest finding stands, and its callers are
        // analysed again with it (the answer does not depend on the order of discovery).
        auto known = std::find_if(disc_.acquirers.begin(), disc_.acquirers.end(), [&](const auto& e) {
          return e.second.pattern == a.pattern && e.second.module == a.module && e.second.owner_class == a.owner_class;
        });
        if (known == disc_.acquirers.end() || same(known->second, a)) continue;
        for (auto& r : k_.rules) {
          for (auto& held : r.acquirers) {
            if (held.pattern == a.pattern && held.module == a.module && held.owner_class == a.owner_class && !held.discovered_from.empty())
              held = a;
          }
        }
        known->second = a;
        const auto where = d.owner_class.empty() ? d.module : d.module + "." + d.owner_class;
        disc_.acquirer_notes[known - disc_.acquirers.begin()] = fmt::format("{}.{} (returns {}())", where, d.function, d.wraps);
        new_names.push_back(Trigger{d.function, d.module, !d.owner_class.empty()});
        continue;
      }
      rule->acquirers.push_back(a);
      disc_.acquirers.emplace_back(rule->id, a);
      known_acq_.insert(key(d.module, d.owner_class, d.function));
      new_names.push_back(Trigger{d.function, d.module, !d.owner_class.empty()});
      const auto where = d.owner_class.empty() ? d.module : d.module + "." + d.owner_class;
      disc_.acquirer_notes.push_back(fmt::format("{}.{} (returns {}())", where, d.function, d.wraps));
    }
    for (const auto& r : result.releases) {
      if (std::find(k_.release_functions.begin(), k_.release_functions.end(), r) != k_.release_functions.end()) continue;
      k_.release_functions.push_back(r);
      disc_.releases.push_back(r);
      new_names.push_back(Trigger{r.pattern, r.module, !r.owner_class.empty()});
      const auto where = r.owner_class.empty() ? r.module : r.module + "." + r.owner_class;
      disc_.release_notes.push_back(fmt::format("{}.{} (closes argument {})", where, r.pattern, r.argument + 1));
    }
    for (const auto& name : result.request_scoped) {
      if (k_.request_scoped.insert(name).second) {
        new_names.push_back(Trigger{name, "", false});
        disc_.request_scoped.push_back(name);
      }
    }
    if (result.teardown_closes && !k_.teardown_closes) {
      k_.teardown_closes = true;
      disc_.teardown = true;
      new_names.push_back(Trigger{"g.", "", false});
    }
  }

 private:
  static std::string key(const std::string& module, const std::string& cls, const std::string& name) {
    return module + ":" + cls + ":" + name;
  }
  Knowledge& k_;
  Discoveries& disc_;
  std::set<std::string> known_acq_;
};

// The index's key for a file that could not be read (its error is said again each run).
const std::string kUnreadable(32, '-');

// What the cache needs of a file beside its slot.
struct CacheState {
  std::string key;              // SummaryCache::key_of; empty: not cached (unreadable)
  std::vector<uint64_t> words;  // the bits of its word filter, to store
  std::string shape;            // see shape_of
  bool store = false;           // its entry is written at the end of the run
};

// What of a file other files' analyses may read, besides what its analysis gives (wrappers,
// release helpers): the text without the bodies of its top-level functions (its names,
// imports, classes, module-level code), or all of it when it defines context managers. An edit
// inside a function's body leaves it unchanged.
std::string shape_of(std::string_view text) {
  if (text.find("contextmanager") != std::string_view::npos || text.find("__enter__") != std::string_view::npos)
    return SummaryCache::key_of("all", text);
  std::string kept;
  bool in_def = false;
  for (std::size_t at = 0; at < text.size();) {
    auto nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    const auto line = text.substr(at, nl - at);
    at = nl + 1;
    const bool blank = line.find_first_not_of(" \t\r\f") == std::string_view::npos;
    if (blank || line[0] == '#') continue;  // a comment at the margin neither ends a body nor counts
    const bool top = line[0] != ' ' && line[0] != '\t';
    if (top) in_def = line.starts_with("def ") || line.starts_with("async def ");
    if (in_def && !top) continue;
    kept.append(line);
    kept += '\n';
  }
  return SummaryCache::key_of("shape", kept);
}

// What a file's analysis gives the others, in a form that compares whatever the order.
std::string contribution(const FileResult* r) {
  if (!r) return "";
  std::vector<std::string> parts;
  for (const auto& a : r->acquirers)
    parts.push_back(fmt::format("a {}|{}|{}|{}|{}|{}|{}|{}|{}", a.function, a.rule, a.wraps, a.with_closes, a.context_manager, a.module,
                                a.owner_class, a.fix, a.may_return_none));
  for (const auto& rel : r->releases)
    parts.push_back(fmt::format("r {}|{}|{}|{}|{}", rel.pattern, rel.argument, rel.module, rel.owner_class, rel.same_as_method));
  for (const auto& n : r->request_scoped) parts.push_back("s " + n);
  if (r->teardown_closes) parts.emplace_back("t");
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::string out;
  for (const auto& p : parts) out += p + "\n";
  return out;
}

// What discovery adds to the knowledge, in the order it was found.
void replay(const Discoveries& d, Knowledge& k) {
  for (const auto& [id, a] : d.acquirers) {
    auto rule = std::find_if(k.rules.begin(), k.rules.end(), [&](const Rule& r) { return r.id == id; });
    if (rule != k.rules.end()) rule->acquirers.push_back(a);
  }
  for (const auto& r : d.releases) k.release_functions.push_back(r);
  for (const auto& n : d.request_scoped) k.request_scoped.insert(n);
  if (d.teardown) k.teardown_closes = true;
}

// What a knowledge says of each name (with the module that defines it, and whether it is a
// method): two knowledges that say the same of a name analyse the code that can call it alike.
using NameKey = std::tuple<std::string, std::string, bool>;
std::map<NameKey, std::set<std::string>> facts_by_name(const Discoveries& d) {
  std::map<NameKey, std::set<std::string>> out;
  for (const auto& [rule, a] : d.acquirers) {
    out[{a.pattern, a.module, !a.owner_class.empty()}].insert(
        fmt::format("a {}|{}|{}|{}|{}|{}|{}", rule, a.owner_class, a.discovered_from, a.with_closes ? int(*a.with_closes) : -1,
                    a.context_manager, a.fix, a.may_return_none));
  }
  for (const auto& r : d.releases)
    out[{r.pattern, r.module, !r.owner_class.empty()}].insert(fmt::format("r {}|{}|{}", r.argument, r.owner_class, r.same_as_method));
  for (const auto& n : d.request_scoped) out[{n, "", false}].insert("s");
  if (d.teardown) out[{"g.", "", false}].insert("t");
  return out;
}

std::string knowledge_key(const Discoveries& d) { return SummaryCache::key_of("knowledge", encode(d)); }

// A run that the cache answers: every file unchanged since the last run comes from its entry;
// the files that changed are analysed with what the last run knew, which holds when none of
// them gives the others anything new. False (the slots as they were) when the cache cannot
// answer: files added or gone, a changed file whose shape or contribution changed, entries
// missing or made with other knowledge.
bool warm_start(const std::vector<InputFile>& files, std::vector<Slot>& slots, std::vector<CacheState>& cs, Knowledge& k,
                Discoveries& disc, WordFilters& filters, SummaryCache& cache, const ProjectOptions& options, int jobs,
                std::size_t& from_cache, std::size_t& dependants) {
  if (files.empty() || cache.lost_files(files)) return false;
  std::vector<std::size_t> all(slots.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::atomic<bool> fail{false};
  std::vector<std::optional<CachedFile>> before(slots.size());  // the changed files' last entries
  std::vector<std::shared_ptr<SourceFile>> changed_text(slots.size());  // read once, analysed below
  std::vector<WordSet> changed_words(slots.size());                    // their words
  std::vector<std::string> knowledge(slots.size());
  parallel_for(all, jobs, [&](std::size_t i) {
    if (fail) return;
    auto& s = slots[i];
    const auto* previous = cache.previous(*s.input);
    if (!previous) {
      // No run here recorded it (the shards of a sharded run, a cache made elsewhere): its entry
      // is found by its bytes, or it is new and the tree is analysed again.
      const auto source = load(s);
      if (!source) return;  // said as an error, as a run without the cache says it
      const auto key = SummaryCache::key_of(s.input->display, source->bytes());
      auto entry = cache.load(key);
      if (!entry || entry->digest != s.digest) {
        fail = true;
        return;
      }
      cs[i].key = key;
      cs[i].shape = entry->shape;
      if (entry->result) s.result = std::make_unique<FileResult>(std::move(*entry->result));
      if (entry->error) s.error = std::make_unique<Error>(std::move(*entry->error));
      cs[i].words = std::move(entry->words);
      knowledge[i] = std::move(entry->knowledge);
      return;
    }
    if (previous->key == kUnreadable && !s.input->bytes) {
      // Unreadable last time (not UTF-8, too large): still so, it says so again; else it changed.
      if (load(s)) fail = true;
      return;
    }
    // Its last run's entry; read but not analysed then, the index holds all there is of it.
    auto last_entry = [&]() -> std::optional<CachedFile> {
      if (previous->analysed) return cache.load(previous->key);
      return CachedFile{previous->digest, previous->words, std::nullopt, std::nullopt, previous->shape, previous->knowledge};
    };
    std::optional<std::string> key;
    std::optional<CachedFile> entry;
    if (cache.from_stat(*s.input)) {
      key = previous->key;
      entry = last_entry();
    }
    if (!entry) {
      const auto source = load(s);
      if (!source) {
        fail = true;
        return;
      }
      key = SummaryCache::key_of(s.input->display, source->bytes());
      // The same bytes as last run (touched, copied back): that run's entry holds.
      if (*key == previous->key) entry = last_entry();
      if (!entry) {
        // Changed: analysed below, once the knowledge is rebuilt.
        cs[i].key = *key;
        changed_words[i] = WordSearch::words_of(source->text());
        cs[i].words = WordFilters::filter_bits(changed_words[i].hashes());
        cs[i].shape = shape_of(source->text());
        cs[i].store = true;
        changed_text[i] = source;
        // Its last version: from the index when it was not analysed, else from its entry.
        if (previous->key == kUnreadable) {
          fail = true;
          return;
        }
        before[i] = last_entry();
        if (!before[i]) fail = true;
        return;
      }
    }
    cs[i].key = *key;
    cs[i].shape = entry->shape;
    s.digest = entry->digest;
    if (entry->result) s.result = std::make_unique<FileResult>(std::move(*entry->result));
    if (entry->error) s.error = std::make_unique<Error>(std::move(*entry->error));
    cs[i].words = std::move(entry->words);
    knowledge[i] = previous->knowledge;  // entries of files analysed again as dependants keep an older one
  });
  auto undo = [&] {
    for (auto& s : slots) {
      s.result.reset();
      s.error.reset();
      s.digest = 0;
    }
    for (auto& c : cs) c = CacheState{};
    return false;
  };
  if (fail) return undo();
  // What each unchanged file was analysed with is on record. Usually that is one knowledge,
  // the last run's; files analysed with another (each shard of a sharded run knew only its own
  // files) are analysed again below where the knowledge of the whole tree differs in a name
  // they may write.
  std::map<std::string, std::optional<Discoveries>> records;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (!cs[i].store && !cs[i].key.empty()) records.emplace(knowledge[i], std::nullopt);
  }
  if (records.empty()) return undo();
  for (auto& [kf, d] : records) {
    const auto record = cache.get("knowledge-" + kf);
    d = record ? decode_discoveries(*record) : std::nullopt;
    if (!d || knowledge_key(*d) != kf) return undo();
  }
  // A changed file must keep its shape; the entry of its last version holds it.
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (cs[i].store && before[i]->shape != cs[i].shape) return undo();
  }
  const Knowledge base = k;
  if (records.size() == 1) {
    replay(*records.begin()->second, k);
    disc = std::move(*records.begin()->second);
  } else {
    Learner learner(k, disc);
    std::vector<Trigger> ignored;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const FileResult* r = cs[i].store ? (before[i]->result ? &*before[i]->result : nullptr) : slots[i].result.get();
      if (r) learner.absorb(*r, ignored);
    }
  }
  std::vector<std::size_t> changed;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (cs[i].key.empty()) continue;
    slots[i].words = filters.add_bits(cs[i].words);
    if (cs[i].store) {
      changed.push_back(i);
    } else {
      ++from_cache;
    }
  }
  // The changed files are analysed, as a first round would, when they name a call of interest.
  // When one of them gives the others something else (a wrapper comes, goes or changes), the
  // knowledge is rebuilt from every file's result and the files that may name what changed are
  // analysed again with it, until nothing more changes: the dependants, not the tree.
  // What each file analysed again gave before: to compare, and the names it gave.
  std::vector<std::string> before_contribution(slots.size());
  std::vector<std::vector<Trigger>> before_triggers(slots.size());
  auto note_before = [&](std::size_t i, const FileResult* r) {
    before_contribution[i] = contribution(r);
    before_triggers[i].clear();
    triggers_of(r, before_triggers[i]);
  };
  for (const std::size_t i : changed) note_before(i, before[i]->result ? &*before[i]->result : nullptr);
  std::vector<char> redone(slots.size(), 0);
  std::vector<char> helper(slots.size(), 0);  // analysed as a release helper in this run
  std::vector<std::size_t> todo = changed;
  // Files analysed with other knowledge than the tree's: those that may write a name it says
  // something else of are analysed again; the findings of all of them may call release helpers
  // of files their run did not have.
  std::vector<std::size_t> helper_sources;
  // A file that may write a name that changed is analysed again only when the change can reach
  // it (its imports, the statements that name it: Prefilter::affecting); null: always.
  std::vector<const Prefilter*> selector(slots.size(), nullptr);
  std::map<std::string, std::unique_ptr<Prefilter>> group_selectors;
  std::unique_ptr<Prefilter> round_selector;
  if (records.size() > 1) {
    const auto now = facts_by_name(disc);
    for (const auto& [kf, d] : records) {
      std::vector<Trigger> names;
      const auto then = facts_by_name(*d);
      auto add = [&](const NameKey& n) { names.push_back(Trigger{std::get<0>(n), std::get<1>(n), std::get<2>(n)}); };
      for (const auto& [name, facts] : now) {
        if (const auto it = then.find(name); it == then.end() || it->second != facts) add(name);
      }
      for (const auto& [name, facts] : then) {
        if (!now.contains(name)) add(name);
      }
      if (!names.empty()) group_selectors.emplace(kf, std::make_unique<Prefilter>(names));
    }
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (cs[i].store || cs[i].key.empty() || !slots[i].digest || slots[i].error) continue;
      const auto group = group_selectors.find(knowledge[i]);
      if (group == group_selectors.end()) continue;
      if (slots[i].result && !slots[i].result->findings.empty()) helper_sources.push_back(i);
      if (!group->second->may_affect(filters, slots[i].words)) continue;
      todo.push_back(i);
      selector[i] = group->second.get();
      note_before(i, slots[i].result.get());
    }
  }
  for (int round = 0;; ++round) {
    if (round == kMaxRounds) fail = true;
    if (fail) break;
    std::vector<Trigger> names;
    for (const auto& n : k.trigger_names()) names.push_back(Trigger{n, "", false});
    const Prefilter prefilter(names);
    const auto call_names = k.call_names();
    std::vector<char> differs(slots.size(), 0);
    std::atomic<bool> lost_helper{false};
    auto analyse = [&](std::size_t i, bool as_helper) {
      auto& s = slots[i];
      auto source = changed_text[i];
      WordSet loaded;
      const WordSet* words = &changed_words[i];
      if (!source) {
        source = load(s);
        if (!source) {
          fail = true;
          return;
        }
        loaded = WordSearch::words_of(source->text());
        words = &loaded;
      }
      if (selector[i] && selector[i]->affecting(source->text(), *words, module_name(s.input->display), s.result.get()).empty()) return;
      redone[i] = 1;
      try {
        // A release helper is analysed whatever it names (as the cold scan does).
        if (as_helper || !prefilter.affecting(source->text(), *words, module_name(s.input->display), nullptr).empty()) {
          const ParsedFile parsed = options.whole_files ? ParsedFile(source) : ParsedFile::for_calls(source, call_names);
          s.result = std::make_unique<FileResult>(analyze_file(parsed, k));
          add_snippets(*s.result, *source);
        } else {
          // A release helper's analysis is kept only while a finding calls it (the pass below).
          if (s.result && !s.result->releases.empty()) lost_helper = true;
          s.result.reset();
        }
      } catch (const std::exception&) {
        fail = true;
        return;
      }
      differs[i] = contribution(s.result.get()) != before_contribution[i];
    };
    parallel_for(todo, jobs, [&](std::size_t i) { analyse(i, helper[i] != 0); });
    if (fail) break;
    // Release helpers that the findings of these files call, in files no one analysed yet.
    std::vector<std::string> release_names = k.release_methods;
    for (const auto& r : k.release_functions) release_names.emplace_back(last_segment(r.pattern));
    auto sources = todo;
    if (round == 0) sources.insert(sources.end(), helper_sources.begin(), helper_sources.end());
    if (lost_helper) {
      // Which findings still call it is known only from all of them.
      for (std::size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].result && !slots[i].result->findings.empty()) sources.push_back(i);
      }
      std::sort(sources.begin(), sources.end());
      sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
    }
    const auto helpers = release_helper_files(slots, filters, sources, release_names, jobs);
    std::vector<char> in_todo(slots.size(), 0);
    for (const std::size_t i : todo) in_todo[i] = 1;
    for (const std::size_t i : helpers) {
      if (!in_todo[i]) note_before(i, nullptr);  // else what it gave before this round
      helper[i] = 1;
      selector[i] = nullptr;
    }
    parallel_for(helpers, jobs, [&](std::size_t i) { analyse(i, true); });
    if (fail) break;
    // The names that changed: every name the changed contributions gave, before and now.
    std::vector<Trigger> what_changed;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!differs[i]) continue;
      what_changed.insert(what_changed.end(), before_triggers[i].begin(), before_triggers[i].end());
      triggers_of(slots[i].result.get(), what_changed);
    }
    if (what_changed.empty()) break;
    // The knowledge again, from the rules and every file's result as it now is.
    k = base;
    disc = Discoveries{};
    {
      Learner learner(k, disc);
      std::vector<Trigger> ignored;
      for (const auto& sl : slots) {
        if (sl.result) learner.absorb(*sl.result, ignored);
      }
    }
    round_selector = std::make_unique<Prefilter>(what_changed);
    todo.clear();
    for (std::size_t i = 0; i < slots.size(); ++i) {
      auto& sl = slots[i];
      if (!sl.digest || sl.error || !round_selector->may_affect(filters, sl.words)) continue;
      todo.push_back(i);
      selector[i] = helper[i] ? nullptr : round_selector.get();
      note_before(i, sl.result.get());
    }
  }
  if (fail) {
    k = base;
    disc = Discoveries{};
    return undo();
  }
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (!redone[i] || cs[i].store) continue;
    cs[i].store = true;
    ++dependants;
  }
  if (options.progress) options.progress(slots.size(), slots.size(), 0);
  return true;
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
  WordFilters filters;
  std::vector<std::size_t> all(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    slots[i].input = &files[i];
    all[i] = i;
  }

  // The cache answers for the files that did not change, when it can (see warm_start).
  SummaryCache* cache = k.fix_edits ? nullptr : options.cache;
  std::vector<CacheState> cs(cache ? slots.size() : 0);
  Discoveries disc;
  out.warm = cache && !options.shard && warm_start(files, slots, cs, k, disc, filters, *cache, options, jobs, out.cached, out.dependants);

  std::mutex progress_lock;
  std::atomic<std::size_t> done{0}, found{0};
  std::vector<Trigger> new_names;
  if (!out.warm) {
    for (const auto& n : k.trigger_names()) new_names.push_back(Trigger{n, "", false});
  }
  const bool whole = k.fix_edits || options.whole_files;
  // A file analysed for the first time: its statements that name a call of interest, or all of
  // it when the findings carry their fixes' text (whose indentation and imports may look
  // anywhere in the file).
  auto analyse_fresh = [&](Slot& s, const std::shared_ptr<SourceFile>& source, const std::vector<std::string>& call_names) {
    try {
      const ParsedFile parsed = whole ? ParsedFile(source) : ParsedFile::for_calls(source, call_names);
      s.result = std::make_unique<FileResult>(analyze_file(parsed, k));
      add_snippets(*s.result, *source);
    } catch (const std::exception& e) {
      cannot_parse(s, e);
    }
  };
  for (int round = 0; round < kMaxRounds && !new_names.empty(); ++round) {
    // Each file is read, filtered, analysed and let go in one go: the text and the tree of a
    // file live only while a thread works on it, so memory does not grow with the tree. A later
    // round reads again only the files whose words may name what it discovered, and analyses
    // again only their statements that can call it.
    const Prefilter prefilter(new_names);
    const auto call_names = k.call_names();
    std::vector<char> analysed(slots.size(), 0);
    parallel_for(all, jobs, [&](std::size_t i) {
      auto& s = slots[i];
      const bool first = round == 0;
      if (!first && (s.error || !s.digest || !prefilter.may_affect(filters, s.words))) return;
      const auto source = load(s);
      std::vector<const Trigger*> hits;
      if (source) {
        const auto words = WordSearch::words_of(source->text());
        if (first && cache) {
          auto bits = WordFilters::filter_bits(words.hashes());
          s.words = filters.add_bits(bits);
          cs[i] = CacheState{SummaryCache::key_of(s.input->display, source->bytes()), std::move(bits), shape_of(source->text()), true};
        } else if (first) {
          s.words = filters.add(words.hashes());
        }
        hits = prefilter.affecting(source->text(), words, module_name(s.input->display), s.result.get());
      }
      if (!hits.empty()) {
        analysed[i] = 1;
        if (s.result && !whole) {
          try {
            const auto redo = statements_to_redo(source->text(), module_name(s.input->display), *s.result, hits);
            const ParsedFile parsed = ParsedFile::selective(source, redo);
            s.result = std::make_unique<FileResult>(merge_rounds(std::move(*s.result), analyze_file(parsed, k), parsed));
            add_snippets(*s.result, *source);
          } catch (const std::exception& e) {
            cannot_parse(s, e);
          }
        } else {
          analyse_fresh(s, source, call_names);
        }
      }
      if (first) {
        const auto d = ++done;
        if (d % kGiveBackEvery == 0) give_back_freed_pages();
        if (s.result) found += s.result->findings.size();
        // Every file analysed, and every 64th skipped: a line that moves from the start.
        if (options.progress && (analysed[i] || d % 64 == 0 || d == files.size())) {
          std::lock_guard lock(progress_lock);
          options.progress(d, files.size(), found);
        }
      }
    });
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (analysed[i]) todo.push_back(i);
    }
    std::vector<std::string> release_names = k.release_methods;
    for (const auto& r : k.release_functions) release_names.emplace_back(last_segment(r.pattern));
    const auto helpers = release_helper_files(slots, filters, todo, release_names, jobs);
    parallel_for(helpers, jobs, [&](std::size_t i) {
      if (const auto source = load(slots[i])) analyse_fresh(slots[i], source, call_names);
    });
    // Merge what this round discovered; files mentioning a new name are analysed again.
    new_names.clear();
    Learner learner(k, disc);
    for (auto& s : slots) {
      if (s.result) learner.absorb(*s.result, new_names);
    }
  }
  out.discovered_acquirers = disc.acquirer_notes;
  out.discovered_releases = disc.release_notes;

  // What this run learned, for the next: the entries of the files read and analysed (before
  // routes are joined to their findings, which the next run does again), and the index.
  if (cache) {
    const auto encoded = encode(disc);
    const auto kf = knowledge_key(disc);
    cache->put("knowledge-" + kf, encoded);
    std::vector<std::size_t> to_store;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      // A file read but not analysed is all in the index; a shard has no index of its own.
      if (cs[i].store && !cs[i].key.empty() && slots[i].digest && (slots[i].result || slots[i].error || options.shard))
        to_store.push_back(i);
    }
    parallel_for(to_store, jobs, [&](std::size_t i) {
      CachedFile c;
      c.digest = slots[i].digest;
      c.words = cs[i].words;
      if (slots[i].result) c.result = *slots[i].result;
      if (slots[i].error) c.error = *slots[i].error;
      c.shape = cs[i].shape;
      c.knowledge = kf;
      cache->store(cs[i].key, c);
    });
    for (std::size_t i = 0; i < slots.size(); ++i) {
      auto& sl = slots[i];
      if (!cs[i].key.empty() && sl.digest) {
        cache->record(*sl.input, SummaryCache::Record{cs[i].key, sl.digest, std::move(cs[i].words), cs[i].shape, kf,
                                                      sl.result != nullptr || sl.error != nullptr});
      } else if (sl.error && !sl.digest) {
        cache->record(*sl.input, SummaryCache::Record{kUnreadable, 0, {}, "", kf, true});
      }
    }
    if (!options.shard) cache->save_index();
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
    const auto name_words = hashes_of(names);
    const auto cm_words = hashes_of(std::array{"contextmanager", "__enter__"});
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (may_write_any(filters, slots[i], cm_words) && may_write_any(filters, slots[i], name_words)) holders.push_back(i);
    }
    std::vector<std::vector<ProjectContextManager>> defined(slots.size());
    parallel_for(holders, jobs, [&](std::size_t i) {
      const auto source = load(slots[i]);
      if (!source) return;
      const auto text = source->text();
      if (text.find("contextmanager") == std::string_view::npos && text.find("__enter__") == std::string_view::npos) return;
      if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return text.find(n) != std::string_view::npos; })) return;
      try {
        const ParsedFile parsed(source);
        defined[i] = context_managers_in(parsed);
      } catch (const std::exception&) {
        // Found by the analysis already, as a file that cannot be parsed.
      }
    });
    for (auto& cms : defined) k.targets->add_known(std::move(cms));
  }

  annotate_routes(slots, filters, k, jobs);
  for (auto& s : slots) {
    if (s.error) out.errors.push_back(*s.error);
    if (!s.result) continue;
    ++out.parsed;
    if (!s.result->findings.empty()) {
      out.sources.add(s.input->display, s.input->path, s.digest);
      out.paths.emplace(s.input->display, s.input->path);
    }
    for (auto& f : s.result->findings) out.findings.push_back(std::move(f));
  }
  sort_findings(out.findings);
  std::sort(out.discovered_acquirers.begin(), out.discovered_acquirers.end());
  std::sort(out.discovered_releases.begin(), out.discovered_releases.end());
  out.knowledge = std::move(k);
  return out;
}

}  // namespace leakfix::python
