#include "cxx/analyze.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/AST/ParentMap.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Analysis/CFG.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>
#include <clang/Frontend/FrontendActions.h>
#include <clang/Format/Format.h>
#include <clang/Tooling/ArgumentsAdjusters.h>
#include <clang/Tooling/Core/Replacement.h>
#include <clang/Tooling/CompilationDatabase.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "core/word_search.h"
#include "cxx/function.h"

namespace leakfix::cxx {
namespace {

namespace fs = std::filesystem;

// ---- the Clang plumbing ----------------------------------------------------------------------

// The functions of headers analysed in this round: each is analysed once, by the first
// translation unit that reaches it, however many include it.
class Claims {
 public:
  bool claim(const std::string& key) {
    std::lock_guard guard(lock_);
    return taken_.insert(key).second;
  }

 private:
  std::mutex lock_;
  std::set<std::string> taken_;
};

// What one translation unit's analysis reads and fills, handed down Clang's factory, action,
// consumer and visitor.
struct TuWork {
  const std::vector<Rule>& rules;
  TuOutput& out;
  std::string file;  // the display name of the main file
  Claims& claims;
  std::set<std::string> mine = {};  // the header functions this unit claimed: its own in every pass
};

// Adds to the rules what a summary says (a wrapper, a release helper); false when they say it.
bool learn(const Summary& sum, std::vector<Rule>& rules) {
  const auto rule = std::find_if(rules.begin(), rules.end(), [&](const Rule& r) { return r.id == sum.rule; });
  if (rule == rules.end()) return false;
  if (sum.releases < 0) {
    if (std::any_of(rule->acquirers.begin(), rule->acquirers.end(), [&](const Acquirer& a) { return a.pattern == sum.function; }))
      return false;
    Acquirer a;
    a.pattern = sum.function;
    a.discovered_from = sum.wraps;
    rule->acquirers.push_back(a);
  } else {
    const auto& fs = rule->release_functions;
    if (std::any_of(fs.begin(), fs.end(), [&](const ReleaseFunction& f) { return f.pattern == sum.function && f.argument == sum.releases; }))
      return false;
    rule->release_functions.push_back(ReleaseFunction{sum.function, sum.releases, true});
  }
  return true;
}

class Visitor : public RecursiveASTVisitor<Visitor> {
 public:
  Visitor(ASTContext& ctx, TuWork& work) : ctx_(ctx), work_(work) {}
  bool VisitFunctionDecl(FunctionDecl* fd) {
    if (!fd->hasBody() || !fd->doesThisDeclarationHaveABody() || fd->isDependentContext()) return true;
    if (const auto* m = dyn_cast<CXXMethodDecl>(fd); m && m->getParent()->isLambda()) return true;  // VisitLambdaExpr
    // A header's functions give their summaries (a wrapper defined inline) and, in the
    // project's own headers, their findings; system headers are not read.
    const auto& sm = ctx_.getSourceManager();
    const SourceLocation at = sm.getExpansionLoc(fd->getLocation());
    if (sm.isInSystemHeader(at)) return true;
    if (!sm.isInMainFile(at)) {
      const auto* entry = sm.getFileEntryForID(sm.getFileID(at));
      std::string key = entry ? entry->getName().str() : std::string("?");
      key += fmt::format(":{}:{}", sm.getFileOffset(at), fd->getQualifiedNameAsString());
      // An instantiation of a header's template is analysed in each TU (the driver keeps one
      // finding per site); any other function of a header once.
      if (!fd->getTemplateSpecializationArgs() && !work_.mine.contains(key)) {
        if (!work_.claims.claim(key)) return true;
        work_.mine.insert(key);
      }
    }
    FunctionAnalysis(ctx_, fd, work_.rules, work_.out, work_.file).run();
    return true;
  }
  // A lambda's body is a function of its own.
  bool VisitLambdaExpr(LambdaExpr* l) {
    CXXMethodDecl* op = l->getCallOperator();
    if (!op || !op->hasBody() || op->isDependentContext()) return true;
    if (!ctx_.getSourceManager().isInMainFile(ctx_.getSourceManager().getExpansionLoc(l->getBeginLoc()))) return true;
    FunctionAnalysis(ctx_, op, work_.rules, work_.out, work_.file).run();
    return true;
  }
  bool shouldVisitLambdaExpressions() const { return true; }
  // Templates are analysed where they are instantiated (findings are merged per line).
  bool shouldVisitTemplateInstantiations() const { return true; }

 private:
  ASTContext& ctx_;
  TuWork& work_;
};

class Consumer : public ASTConsumer {
  static constexpr int kPasses = 4;

 public:
  explicit Consumer(TuWork& work) : work_(work) {}
  // The unit is parsed once: what its own functions and headers show (a wrapper defined inline
  // in a header it includes) is learned and its functions analysed again on the same AST, so
  // that only what other units define needs another parse in a later round.
  void HandleTranslationUnit(ASTContext& ctx) override {
    if (ctx.getDiagnostics().hasErrorOccurred()) return;
    std::vector<Rule> rules = work_.rules;
    std::vector<Summary> shown;  // by every pass: a later one takes for known what it learned
    for (int pass = 0; pass < kPasses; ++pass) {
      TuOutput found;
      TuWork pass_work{rules, found, work_.file, work_.claims, std::move(work_.mine)};
      Visitor(ctx, pass_work).TraverseDecl(ctx.getTranslationUnitDecl());
      work_.mine = std::move(pass_work.mine);
      bool learned = false;
      for (auto& sum : found.summaries) {
        if (!learn(sum, rules)) continue;
        learned = true;
        shown.push_back(std::move(sum));
      }
      work_.out = std::move(found);
      if (!learned) break;
    }
    work_.out.summaries = std::move(shown);
    for (const auto& sum : work_.out.summaries) work_.out.knew.insert(sum.function);
  }

 private:
  TuWork& work_;
};

class Action : public ASTFrontendAction {
 public:
  explicit Action(TuWork& work) : work_(work) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance&, StringRef) override { return std::make_unique<Consumer>(work_); }

 private:
  TuWork& work_;
};

class Factory : public tooling::FrontendActionFactory {
 public:
  explicit Factory(TuWork& work) : work_(work) {}
  std::unique_ptr<FrontendAction> create() override { return std::make_unique<Action>(work_); }

 private:
  TuWork& work_;
};

// Keeps Clang quiet; remembers the first error for the report.
class Diagnostics : public DiagnosticConsumer {
 public:
  void HandleDiagnostic(DiagnosticsEngine::Level level, const Diagnostic& info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level < DiagnosticsEngine::Error || !first.empty()) return;
    SmallString<256> text;
    info.FormatDiagnostic(text);
    first = text.str().str();
    if (info.hasSourceManager() && info.getLocation().isValid()) {
      const auto p = info.getSourceManager().getPresumedLoc(info.getLocation());
      if (p.isValid()) first = fmt::format("{}:{}: {}", p.getFilename(), p.getLine(), first);
    }
  }
  std::string first;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whether the file or a header it includes with quotes (found next to it or on -I paths) names
// one of `names`: a TU that names none is not worth a Clang parse.
bool names_any(const fs::path& file, const std::vector<std::string>& include_dirs, const WordSearch& names,
               std::set<std::string>& seen, int depth = 0) {
  std::error_code ec;
  const auto canon = fs::weakly_canonical(file, ec).string();
  if (depth > 32 || !seen.insert(canon).second) return false;
  const std::string text = read_text(file);
  // As whole words: `lock` is not in `std::lock_guard`, nor `release` in `release_all`.
  if (!names.find_all(text).empty()) return true;
  for (std::size_t pos = text.find("#include"); pos != std::string::npos; pos = text.find("#include", pos + 8)) {
    const auto open = text.find('"', pos);
    const auto eol = text.find('\n', pos);
    if (open == std::string::npos || (eol != std::string::npos && open > eol)) continue;
    const auto close = text.find('"', open + 1);
    if (close == std::string::npos) continue;
    const std::string inc = text.substr(open + 1, close - open - 1);
    std::vector<fs::path> candidates{file.parent_path() / inc};
    for (const auto& d : include_dirs) candidates.emplace_back(fs::path(d) / inc);
    for (const auto& c : candidates) {
      if (fs::exists(c, ec) && names_any(c, include_dirs, names, seen, depth + 1)) return true;
    }
  }
  return false;
}

std::vector<std::string> include_dirs_of(const tooling::CompileCommand& cmd) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < cmd.CommandLine.size(); ++i) {
    std::string a = cmd.CommandLine[i];
    std::string dir;
    if ((a == "-I" || a == "-iquote" || a == "-isystem") && i + 1 < cmd.CommandLine.size()) dir = cmd.CommandLine[++i];
    else if (a.starts_with("-I")) dir = a.substr(2);
    else continue;
    out.push_back(fs::path(dir).is_absolute() ? dir : (fs::path(cmd.Directory) / dir).string());
  }
  return out;
}

}  // namespace

std::optional<std::string> check_compiles(const InputFile& file, const std::string& content, const Options& options) {
  std::string error;
  std::unique_ptr<tooling::CompilationDatabase> db;
  std::error_code ec;
  const std::string absolute = fs::absolute(file.path, ec).lexically_normal().string();
  if (!options.build_dir.empty()) db = tooling::CompilationDatabase::loadFromDirectory(options.build_dir, error);
  else if (!options.extra_args.empty()) db = std::make_unique<tooling::FixedCompilationDatabase>(".", options.extra_args);
  else db = tooling::CompilationDatabase::autoDetectFromSource(absolute, error);
  if (!db) return "no compile command to check the rewrite with";
  Diagnostics diags;
  tooling::ClangTool tool(*db, {absolute}, std::make_shared<PCHContainerOperations>(), llvm::vfs::createPhysicalFileSystem());
  tool.mapVirtualFile(absolute, content);
  tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster("-resource-dir=" LEAKFIX_CLANG_RESOURCE_DIR,
                                                                  tooling::ArgumentInsertPosition::BEGIN));
  tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster({"-w", "-fno-caret-diagnostics", "-fsyntax-only"},
                                                                  tooling::ArgumentInsertPosition::END));
  tool.setDiagnosticConsumer(&diags);
  tool.setPrintErrorMessage(false);
  const auto factory = tooling::newFrontendActionFactory<SyntaxOnlyAction>();
  if (tool.run(factory.get()) != 0 || diags.getNumErrors() > 0)
    return diags.first.empty() ? std::string("the rewritten file does not compile") : "the rewrite does not compile: " + diags.first;
  return std::nullopt;
}

std::string format_ranges(const std::string& path, const std::string& text,
                          const std::vector<std::pair<unsigned, unsigned>>& ranges) {
  // Only a project that has a .clang-format (or _clang-format) above the file is reformatted.
  auto style = format::getStyle("file", path, "none", text);
  if (!style) {
    llvm::consumeError(style.takeError());
    return text;
  }
  if (style->DisableFormat || ranges.empty()) return text;
  std::vector<tooling::Range> rs;
  for (const auto& [offset, length] : ranges) rs.emplace_back(offset, length);
  const auto replacements = format::reformat(*style, text, rs, path);
  auto formatted = tooling::applyAllReplacements(text, replacements);
  if (!formatted) {
    llvm::consumeError(formatted.takeError());
    return text;
  }
  return *formatted;
}

Result analyze(const std::vector<InputFile>& files, const std::vector<Rule>& rules, const Options& options) {
  Result out;
  // The prefilter's words: what acquires, and what releases (a helper that releases its
  // argument is read for its summary even in a file that acquires nothing).
  std::vector<std::string> names, release_names;
  for (const auto& r : rules) {
    if (r.language != "cpp") continue;
    for (const auto& a : r.acquirers) names.emplace_back(last_segment(a.pattern));
    for (const auto& f : r.release_functions) release_names.emplace_back(last_segment(f.pattern));
    for (const auto& m : r.release_methods) release_names.push_back(m);
  }
  if (names.empty() || files.empty()) return out;
  names.insert(names.end(), release_names.begin(), release_names.end());

  std::unique_ptr<tooling::CompilationDatabase> db;
  std::string error;
  if (!options.build_dir.empty()) {
    db = tooling::CompilationDatabase::loadFromDirectory(options.build_dir, error);
    if (!db) {
      out.errors.push_back(Error{options.build_dir, 0, fmt::format("cannot load compile_commands.json: {}", error)});
      return out;
    }
  } else if (!options.extra_args.empty()) {
    db = std::make_unique<tooling::FixedCompilationDatabase>(".", options.extra_args);
  }

  struct Job {
    InputFile input;
    std::string absolute;
    std::vector<tooling::CompileCommand> commands;
    const tooling::CompilationDatabase* db = nullptr;
    std::unique_ptr<tooling::CompilationDatabase> own;
    // The last analysis of the TU (a later round, with more rules, replaces it).
    bool parsed = false;
    std::optional<std::string> error;
    TuOutput found;
  };
  std::set<std::string> listed;
  if (db) {
    for (const auto& f : db->getAllFiles()) listed.insert(fs::path(f).lexically_normal().string());
  }
  std::vector<Job> jobs;
  for (const auto& f : files) {
    Job j;
    j.input = f;
    std::error_code ec;
    j.absolute = fs::absolute(f.path, ec).lexically_normal().string();
    const tooling::CompilationDatabase* use = db.get();
    if (!use) {
      j.own = tooling::CompilationDatabase::autoDetectFromSource(j.absolute, error);
      use = j.own.get();
    }
    if (use) j.commands = use->getCompileCommands(j.absolute);
    if (db && !options.build_dir.empty() && !listed.contains(j.absolute)) {
      // Clang would infer a command from a neighbouring file; a file the build does not compile
      // (a CMake probe, a generated or dead file) is better left alone, and said so.
      out.errors.push_back(Error{f.display, 0, fmt::format("not in {}/compile_commands.json; skipped", options.build_dir)});
      continue;
    }
    if (j.commands.empty()) {
      out.errors.push_back(Error{f.display, 0,
                                 options.build_dir.empty()
                                     ? "no compile command: pass -p BUILD_DIR (compile_commands.json) or flags after `--`"
                                     : fmt::format("not in {}/compile_commands.json", options.build_dir)});
      continue;
    }
    j.db = use;
    jobs.push_back(std::move(j));
  }
  // The TUs whose file, or a header it includes with quotes, names one of `words`.
  auto naming = [&](std::vector<std::string> words) {
    std::erase_if(words, [](const std::string& w) { return !WordSearch::is_word(w); });
    const WordSearch search(words);
    std::vector<std::size_t> out_;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      std::set<std::string> seen;
      if (names_any(jobs[i].absolute, include_dirs_of(jobs[i].commands.front()), search, seen)) out_.push_back(i);
    }
    return out_;
  };

  std::vector<Rule> now = rules;  // grows with what the summaries find
  auto run_round = [&](const std::vector<std::size_t>& todo) {
    Claims claims;
    std::mutex lock;
    std::atomic<std::size_t> next{0}, done{0};
    auto worker = [&] {
      for (std::size_t k; (k = next.fetch_add(1)) < todo.size();) {
        auto& j = jobs[todo[k]];
        TuOutput found;
        Diagnostics diags;
        // A file system of its own: the real one's working directory is the process's, and
        // ClangTool moves it to each command's directory, which races between worker threads.
        tooling::ClangTool tool(*j.db, {j.absolute}, std::make_shared<PCHContainerOperations>(),
                                llvm::vfs::createPhysicalFileSystem());
        tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
            "-resource-dir=" LEAKFIX_CLANG_RESOURCE_DIR, tooling::ArgumentInsertPosition::BEGIN));
        // -w: the project's warnings are not ours to print; -fno-caret-diagnostics also stops the
        // "N errors generated." line that Clang writes to stderr by itself.
        tool.appendArgumentsAdjuster(
            tooling::getInsertArgumentAdjuster({"-w", "-fno-caret-diagnostics"}, tooling::ArgumentInsertPosition::END));
        tool.setDiagnosticConsumer(&diags);
        tool.setPrintErrorMessage(false);
        TuWork work{now, found, j.input.display, claims};
        Factory factory(work);
        const int rc = tool.run(&factory);
        std::lock_guard guard(lock);
        j.parsed = true;
        j.error.reset();
        if (rc != 0 || diags.getNumErrors() > 0)
          j.error = fmt::format("does not compile ({} error{}{}); not analysed", diags.getNumErrors(), diags.getNumErrors() == 1 ? "" : "s",
                                diags.first.empty() ? "" : ", first: " + diags.first);
        j.found = std::move(found);
        const auto d = ++done;
        if (options.progress) options.progress(d, todo.size(), j.input.display);
      }
    };
    const int n = std::max(1, std::min<int>(options.jobs > 0 ? options.jobs : static_cast<int>(std::thread::hardware_concurrency()),
                                            static_cast<int>(todo.size())));
    std::vector<std::thread> threads;
    for (int t = 1; t < n; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
  };

  // Rounds: every TU that names a rule's call, then again those that call what a round found (a
  // wrapper's callers, a release helper's callers), until nothing new is found.
  constexpr int kMaxRounds = 4;
  std::set<std::string> known;
  std::vector<std::size_t> todo = naming(names);
  for (int round = 0; round < kMaxRounds && !todo.empty(); ++round) {
    run_round(todo);
    std::vector<std::string> new_names;
    for (const auto& j : jobs) {
      for (const auto& sum : j.found.summaries) {
        const std::string key = fmt::format("{}|{}|{}", sum.rule, sum.function, sum.releases);
        if (!known.insert(key).second || !learn(sum, now)) continue;
        if (sum.releases < 0) {
          out.discovered_acquirers.push_back(fmt::format("{} (returns {}())", sum.function, sum.wraps));
        } else {
          out.discovered_releases.push_back(fmt::format("{} (releases argument {})", sum.function, sum.releases + 1));
        }
        new_names.push_back(sum.function);
      }
    }
    // Again: the units that name what another unit showed (what a unit showed itself, it used).
    todo.clear();
    if (!new_names.empty()) {
      std::vector<std::string> words;
      for (const auto& n : new_names) words.emplace_back(last_segment(n));
      for (const std::size_t i : naming(words)) {
        const auto& knew = jobs[i].found.knew;
        if (std::any_of(new_names.begin(), new_names.end(), [&](const std::string& n) { return !knew.contains(n); })) todo.push_back(i);
      }
    }
  }
  for (auto& j : jobs) {
    if (!j.parsed) {
      ++out.skipped;
      continue;
    }
    if (j.error) out.errors.push_back(Error{j.input.display, 0, *j.error});
    else ++out.translation_units;
    for (const auto& f : j.found.findings) {
      if (out.sources.contains(f.file)) continue;
      const auto header = j.found.headers.find(f.file);
      if (auto src = SourceFile::read(header == j.found.headers.end() ? j.input.path : header->second, f.file))
        out.sources.emplace(f.file, std::move(*src));
    }
    for (auto& f : j.found.findings) out.findings.push_back(std::move(f));
  }
  std::sort(out.discovered_acquirers.begin(), out.discovered_acquirers.end());
  std::sort(out.discovered_releases.begin(), out.discovered_releases.end());
  // Character columns, as the Python front end gives them.
  for (auto& f : out.findings) {
    auto it = out.sources.find(f.file);
    if (it == out.sources.end()) continue;
    f.span.column = it->second.character_column(f.span.line, static_cast<std::uint32_t>(f.span.column - 1));
    f.span.end_column = it->second.character_column(f.span.end_line, static_cast<std::uint32_t>(f.span.end_column - 1));
    f.snippet = normalise_snippet(it->second.line(f.span.line));
  }
  sort_findings(out.findings);
  // One finding per site, however many instantiations of a template reach it.
  out.findings.erase(std::unique(out.findings.begin(), out.findings.end(),
                                 [](const Finding& x, const Finding& y) {
                                   return x.file == y.file && x.span.line == y.span.line && x.span.column == y.span.column &&
                                          x.rule == y.rule && x.kind == y.kind;
                                 }),
                     out.findings.end());
  std::sort(out.errors.begin(), out.errors.end(), [](const Error& a, const Error& b) { return a.file < b.file; });
  return out;
}

}  // namespace leakfix::cxx

// The entry point leakfix looks up after loading this library.
extern "C" const leakfix::cxx::Api* leakfix_cxx_api() {
  static const leakfix::cxx::Api api{leakfix::cxx::kApiVersion, &leakfix::cxx::analyze, &leakfix::cxx::check_compiles,
                                     &leakfix::cxx::format_ranges};
  return &api;
}
