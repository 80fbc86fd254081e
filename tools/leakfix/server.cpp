// `leakfix server`: the Language Server Protocol over stdin/stdout, for Python files.
//
// The workspace is read once for what crosses files (wrappers, release helpers, the project's
// context managers); after that an edit re-analyses only its own document, with what the
// workspace knows. When an edit changes what a document contributes to that knowledge (a
// wrapper added or removed), the workspace is read again, with the open documents' unsaved text,
// and every open document is analysed again.
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"
#include "core/safe_write.h"
#include "lsp/text.h"
#include "lsp/transport.h"
#include "python/analyzer.h"
#include "python/fixer.h"
#include "python/project.h"
#include "python/targets.h"
#include "python/tree.h"
#include "report/report.h"
#include "rules/loader.h"
#include "settings.h"

namespace leakfix::cli {

namespace {

using lsp::json;
namespace fs = std::filesystem;

constexpr std::size_t kMaxDocumentBytes = 32u << 20;

std::string canonical(const std::string& path) {
  std::error_code ec;
  return fs::weakly_canonical(fs::absolute(path, ec), ec).string();
}

// What a file gives the rest of the workspace: when it changes, the workspace is read again.
std::string contribution(const python::FileResult& r, const python::ParsedFile& parsed) {
  std::string out;
  for (const auto& a : r.acquirers)
    out += fmt::format("a {} {} {} {} {} {} {}\n", a.function, a.rule, a.wraps, a.owner_class, a.context_manager, a.with_closes,
                       a.may_return_none);
  for (const auto& rel : r.releases) out += fmt::format("r {} {} {} {}\n", rel.pattern, rel.argument, rel.owner_class, rel.same_as_method);
  for (const auto& s : r.request_scoped) out += "s " + s + "\n";
  if (r.teardown_closes) out += "t\n";
  for (const auto& cm : python::context_managers_in(parsed)) out += fmt::format("c {} {} {}\n", cm.name, cm.acquirer, cm.pure);
  return out;
}

struct Document {
  std::string uri;
  std::string path;     // absolute
  std::string display;  // relative to the workspace root when inside it
  int version = 0;
  std::string text;
  bool dirty = true;
  std::shared_ptr<const SourceFile> source;  // of `text`, once analysed
  std::vector<Finding> findings;
  std::string contribution;                  // as last analysed
  std::optional<std::string> known;          // as the workspace knowledge has it
  std::string problem;                       // why it could not be analysed
};

// The files one code action changes: their text now and after.
struct Change {
  std::string before, after;
};

class Server {
 public:
  explicit Server(const ServerOptions& options) : options_(options), io_(0, 1) {}

  int run() {
    for (;;) {
      auto in = io_.read();
      if (in.end) break;
      if (!in.error.empty()) {
        io_.send(lsp::error_response(nullptr, lsp::kParseError, in.error));
        continue;
      }
      handle(*in.message);
      if (exit_) break;
      // Edits that arrive together are analysed once, after the last of them.
      if (!io_.pending()) publish();
    }
    return shutdown_ ? 0 : 1;
  }

 private:
  void handle(const json& m) {
    if (!m.is_object()) {
      io_.send(lsp::error_response(nullptr, lsp::kInvalidRequest, "a message must be a JSON object"));
      return;
    }
    if (!m.contains("method")) return;  // a response to a request of ours
    const json id = m.contains("id") ? m["id"] : json();
    const bool request = m.contains("id");
    const std::string method = m["method"].is_string() ? m["method"].get<std::string>() : "";
    const json params = m.value("params", json::object());
    try {
      if (method == "exit") {
        exit_ = true;
        return;
      }
      if (!initialized_ && method != "initialize") {
        if (request) io_.send(lsp::error_response(id, lsp::kServerNotInitialized, "the server is not initialized yet"));
        return;
      }
      if (shutdown_ && request) {
        io_.send(lsp::error_response(id, lsp::kInvalidRequest, "the server is shutting down"));
        return;
      }
      if (method == "initialize") return io_.send(lsp::response(id, initialize(params)));
      if (method == "shutdown") {
        shutdown_ = true;
        return io_.send(lsp::response(id, nullptr));
      }
      if (method == "textDocument/didOpen") return did_open(params);
      if (method == "textDocument/didChange") return did_change(params);
      if (method == "textDocument/didClose") return did_close(params);
      if (method == "workspace/didChangeWatchedFiles") {
        rediscover_ = true;
        for (auto& [uri, d] : docs_) d.dirty = true;
        return;
      }
      if (method == "textDocument/codeAction") return io_.send(lsp::response(id, code_actions(params)));
      if (method == "textDocument/hover") return io_.send(lsp::response(id, hover(params)));
      if (request) io_.send(lsp::error_response(id, lsp::kMethodNotFound, "leakfix does not answer " + method));
      // Other notifications (didSave, $/cancelRequest, initialized, ...) need nothing.
    } catch (const std::exception& e) {
      // What went wrong stays in this message: the server goes on with the next one.
      const std::string what = fmt::format("leakfix: {} failed: {}", method, e.what());
      if (request) {
        io_.send(lsp::error_response(id, lsp::kInternalError, what));
      } else {
        log(1, what);
      }
    }
  }

  void log(int type, const std::string& message) {
    io_.send(lsp::notification("window/logMessage", {{"type", type}, {"message", message}}));
  }

  json initialize(const json& p) {
    initialized_ = true;
    std::optional<std::string> root;
    if (p.contains("rootUri") && p["rootUri"].is_string()) root = lsp::path_of_uri(p["rootUri"].get<std::string>());
    if (!root && p.contains("workspaceFolders") && p["workspaceFolders"].is_array() && !p["workspaceFolders"].empty())
      root = lsp::path_of_uri(p["workspaceFolders"][0].value("uri", ""));
    if (!root && p.contains("rootPath") && p["rootPath"].is_string()) root = p["rootPath"].get<std::string>();
    std::error_code ec;
    root_ = canonical(root && fs::is_directory(*root, ec) ? *root : fs::current_path().string());
    // Settings, rule files and relative paths are the workspace's, as for a command run there.
    fs::current_path(root_, ec);
    const json caps = p.value("capabilities", json::object());
    const json encodings = caps.value("general", json::object()).value("positionEncodings", json::array());
    for (const auto& e : encodings) {
      if (e == "utf-8") encoding_ = lsp::Encoding::Utf8;
    }
    const json action = caps.value("textDocument", json::object()).value("codeAction", json::object());
    disabled_actions_ = action.value("disabledSupport", false);
    configure();
    json result = {
        {"capabilities",
         {{"textDocumentSync", {{"openClose", true}, {"change", 1}}},
          {"codeActionProvider", {{"codeActionKinds", {"quickfix", "source.fixAll.leakfix"}}}},
          {"hoverProvider", true}}},
        {"serverInfo", {{"name", "leakfix"}, {"version", LEAKFIX_VERSION}}}};
    if (!encodings.empty()) result["capabilities"]["positionEncoding"] = lsp::to_string(encoding_);
    return result;
  }

  // Rules, [tool.leakfix] and the selection, as `leakfix scan` run at the root reads them.
  void configure() {
    auto settings = load_project_settings(root_);
    if (!settings) {
      problem(settings.error().to_string());
    } else {
      project_settings() = std::move(*settings);
    }
    auto rules = rules_for(options_.rules);
    if (!rules) {
      problem(rules.error().to_string() + " (the shipped rules are used until it is fixed)");
      rules = builtin_rules();
    }
    rules_ = std::move(*rules);
    selection_ = options_.selection;
    excludes_.clear();
    if (const auto& st = project_settings()) {
      if (selection_.select.empty()) selection_.select = st->select;
      if (selection_.ignore.empty()) selection_.ignore = st->ignore;
      selection_.per_file = st->per_file_ignores;
      selection_.base_dir = fs::path(st->file).parent_path().string();
      if (st->exclude) {
        default_excludes_ = false;
        excludes_ = *st->exclude;
      }
      excludes_.insert(excludes_.end(), st->extend_exclude.begin(), st->extend_exclude.end());
    }
    if (auto bad = check_selection(selection_, rules_)) {
      problem(*bad);
      selection_ = {};
    }
  }

  // Said to the user once: a broken rule file or pyproject.toml.
  void problem(const std::string& message) {
    io_.send(lsp::notification("window/showMessage", {{"type", 1}, {"message", "leakfix: " + message}}));
  }

  // Reads the workspace for what crosses files, with the open documents as they are in the editor.
  void discover() {
    const auto started = std::chrono::steady_clock::now();
    WalkOptions walk;
    walk.excludes = excludes_;
    walk.default_excludes = default_excludes_;
    auto walked = collect_files({"."}, walk);
    std::map<std::string, const Document*> open;
    for (const auto& [uri, d] : docs_) open.emplace(d.path, &d);
    std::set<std::string> seen;
    for (auto& f : walked.files) {
      const auto path = canonical(f.path);
      if (const auto it = open.find(path); it != open.end()) {
        f.bytes = std::make_shared<const std::string>(it->second->text);
        seen.insert(path);
      }
    }
    // An open document outside the workspace (or excluded) still counts for its own wrappers.
    for (const auto& [path, d] : open) {
      if (!seen.contains(path) && is_python(*d)) walked.files.push_back(InputFile{d->path, d->display, std::make_shared<const std::string>(d->text)});
    }
    python::ProjectOptions options;
    options.jobs = options_.jobs;
    // What crosses files does not depend on fix text: the summary cache can answer.
    if (!cache_) cache_ = open_cache(rules_, false);
    options.cache = cache_.get();
    auto project = python::analyze_project(walked.files, rules_, options);
    knowledge_ = std::move(project.knowledge);
    knowledge_.fix_edits = true;
    discovered_ = true;
    rediscover_ = false;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    log(3, fmt::format("leakfix: read {} files of {} in {} ms ({} wrappers and helpers found; {} from the cache)", walked.files.size(),
                       root_, ms, project.discovered_acquirers.size() + project.discovered_releases.size(), project.cached));
  }


  static bool is_python(const Document& d) {
    const auto ext = fs::path(d.path).extension().string();
    return ext == ".py" || ext == ".pyi" || ext == ".pyw" || ext.empty();
  }

  std::string display_of(const std::string& path) const {
    const auto rel = fs::path(path).lexically_relative(root_);
    if (rel.empty() || *rel.begin() == "..") return path;
    return rel.generic_string();
  }

  Document* find(const json& params) {
    const auto uri = params.value("textDocument", json::object()).value("uri", "");
    const auto it = docs_.find(uri);
    return it == docs_.end() ? nullptr : &it->second;
  }

  void did_open(const json& p) {
    const json td = p.at("textDocument");
    const std::string uri = td.at("uri");
    const auto path = lsp::path_of_uri(uri);
    if (!path) return;  // untitled buffers and other schemes have no file to reason about
    Document d;
    d.uri = uri;
    d.path = canonical(*path);
    d.display = display_of(d.path);
    d.version = td.value("version", 0);
    d.text = td.value("text", "");
    // The workspace was read from disk: a document that differs from its file (or has none)
    // may give the others a wrapper that the disk does not.
    if (read_all(d.path) != d.text) rediscover_ = true;
    docs_[uri] = std::move(d);
  }

  void did_change(const json& p) {
    Document* d = find(p);
    if (!d) return;
    d->version = p.at("textDocument").value("version", d->version);
    for (const auto& c : p.value("contentChanges", json::array())) {
      if (!c.contains("range")) {
        d->text = c.value("text", "");
        continue;
      }
      // A client that sends ranges although the server asked for whole texts.
      const auto offset = [&](const json& pos) {
        std::size_t at = 0;
        for (int line = pos.value("line", 0); line > 0 && at < d->text.size(); --line) {
          const auto nl = d->text.find('\n', at);
          at = nl == std::string::npos ? d->text.size() : nl + 1;
        }
        const auto end = d->text.find('\n', at);
        const std::string_view line_text(d->text.data() + at, (end == std::string::npos ? d->text.size() : end) - at);
        return at + lsp::bytes_of(line_text, pos.value("character", 0), encoding_);
      };
      const auto from = offset(c["range"]["start"]), to = offset(c["range"]["end"]);
      if (from <= to) d->text.replace(from, to - from, c.value("text", ""));
    }
    d->dirty = true;
  }

  void did_close(const json& p) {
    Document* d = find(p);
    if (!d) return;
    // Unsaved text that gave the workspace a wrapper is gone: the file on disk counts again.
    if (read_all(d->path) != d->text && d->known && !d->known->empty()) rediscover_ = true;
    io_.send(lsp::notification("textDocument/publishDiagnostics", {{"uri", d->uri}, {"diagnostics", json::array()}}));
    docs_.erase(d->uri);
  }

  // Analyses one document with what the workspace knows.
  void analyse(Document& d) {
    d.dirty = false;
    d.findings.clear();
    d.problem.clear();
    d.source.reset();
    if (!is_python(d)) return;
    if (d.text.size() > kMaxDocumentBytes) {
      d.problem = fmt::format("{}: not analysed: larger than {} MB", d.display, kMaxDocumentBytes >> 20);
      return;
    }
    auto decoded = SourceFile::decode(d.text, d.display);
    if (!decoded) {
      d.problem = decoded.error().to_string();
      return;
    }
    auto source = std::make_shared<const SourceFile>(std::move(*decoded));
    try {
      const python::ParsedFile parsed(source);
      auto result = python::analyze_file(parsed, knowledge_);
      for (auto& f : result.findings) {
        if (selected(selection_, f)) d.findings.push_back(std::move(f));
      }
      d.contribution = contribution(result, parsed);
      d.source = std::move(source);
    } catch (const std::exception& e) {
      d.problem = fmt::format("{}: cannot parse: {}", d.display, e.what());
    }
  }

  // Analyses what changed and publishes its diagnostics; reads the workspace again first when
  // a document's contribution to it changed.
  void publish() {
    // Nothing to say before a document is open: the workspace is read then.
    if (docs_.empty()) return;
    std::vector<Document*> done;
    for (int round = 0; round < 2; ++round) {
      if (!discovered_ || rediscover_) {
        discover();
        for (auto& [uri, d] : docs_) {
          d.dirty = true;
          d.known.reset();
        }
      }
      bool changed = false;
      for (auto& [uri, d] : docs_) {
        if (!d.dirty) continue;
        analyse(d);
        done.push_back(&d);
        if (!d.known) {
          d.known = d.contribution;
        } else if (*d.known != d.contribution) {
          changed = true;
        }
      }
      if (!changed) break;
      rediscover_ = true;
    }
    std::set<Document*> published;
    for (Document* d : done) {
      if (!published.insert(d).second) continue;
      if (!d->problem.empty()) log(2, "leakfix: " + d->problem);
      json diagnostics = json::array();
      for (const auto& f : d->findings) diagnostics.push_back(diagnostic(*d, f));
      io_.send(lsp::notification("textDocument/publishDiagnostics",
                                 {{"uri", d->uri}, {"version", d->version}, {"diagnostics", std::move(diagnostics)}}));
    }
  }

  // A document as it is now: analysed first if an edit is pending.
  Document* current(const json& params) {
    Document* d = find(params);
    if (d && (d->dirty || !discovered_ || rediscover_)) publish();
    return d;
  }

  // A finding's 1-based line and column (in characters, as every report gives them) as an LSP
  // position in the negotiated encoding.
  json position(const SourceFile& s, int line, int column) const {
    const auto text = s.line(line);
    const std::size_t bytes = lsp::bytes_of(text, std::max(column - 1, 0), lsp::Encoding::Utf32);
    return json{{"line", std::max(line - 1, 0)}, {"character", lsp::units_of(text, bytes, encoding_)}};
  }

  json range(const SourceFile& s, const Span& span) const {
    return json{{"start", position(s, span.line, span.column)}, {"end", position(s, span.end_line, span.end_column)}};
  }

  static int severity(const Finding& f) {
    switch (f.severity()) {
      case Severity::Error: return 1;
      case Severity::Warning: return 2;
      case Severity::Info: break;
    }
    return 3;
  }

  json diagnostic(const Document& d, const Finding& f) const {
    std::string message = f.message;
    if (!f.fixable && f.reason) message += fmt::format("\nno automatic fix: {}", *f.reason);
    json out = {{"range", range(*d.source, f.span)},
                {"severity", severity(f)},
                {"code", std::string(to_string(f.kind))},
                {"source", "leakfix"},
                {"message", message},
                {"data", {{"rule", f.rule}, {"kind", std::string(to_string(f.kind))}, {"line", f.span.line}, {"column", f.span.column}}}};
    if (f.exit) {
      out["relatedInformation"] = json::array(
          {{{"location", {{"uri", d.uri}, {"range", range(*d.source, *f.exit)}}}, {"message", f.exit_label.empty() ? "leaks here" : f.exit_label}}});
    }
    return out;
  }

  // The finding a diagnostic of ours stands for, in the document as analysed now.
  const Finding* finding_of(const Document& d, const json& diag) const {
    if (diag.value("source", "") != "leakfix" || !diag.contains("data")) return nullptr;
    const json data = diag["data"];
    for (const auto& f : d.findings) {
      if (f.rule == data.value("rule", "") && to_string(f.kind) == data.value("kind", "") && f.span.line == data.value("line", 0) &&
          f.span.column == data.value("column", 0))
        return &f;
    }
    return nullptr;
  }

  // The text of a file as the editor has it, else as on disk.
  std::optional<std::string> text_of(const std::string& path) const {
    const auto want = canonical(path);
    for (const auto& [uri, d] : docs_) {
      if (d.path == want) return d.text;
    }
    auto read = SourceFile::read(want, want);
    if (!read) return std::nullopt;
    return read->bytes();
  }

  // The fixes of `d` that `want` selects, applied and verified as `leakfix fix` does, with the
  // context managers they need added where they belong. nullopt, with `why`, when none is made.
  std::optional<std::map<std::string, Change>> fixes(const Document& d, const std::function<bool(const Finding&)>& want,
                                                     std::string& why, std::vector<Finding>* applied = nullptr) {
    python::Knowledge k = knowledge_;
    k.targets = knowledge_.targets->fresh();
    auto resolve = [&](const std::string& file) { return fs::path(file).is_absolute() ? canonical(file) : canonical(root_ + "/" + file); };
    python::Prepare prepare = [&](const Creation& c) -> std::optional<std::string> {
      const auto text = text_of(resolve(c.file));
      if (!text) return fmt::format("{} cannot be read to add {}() to it", c.file, c.name);
      std::string cannot;
      if (!python::add_context_manager(c.file, *text, c, &cannot)) return fmt::format("{}() cannot be added to {}: {}", c.name, c.file, cannot);
      return std::nullopt;
    };
    python::PythonFrontend frontend(k, prepare);
    const Decide apply_all = [](const Finding&, const std::string&, std::string&) { return Decision::Apply; };
    auto res = frontend.fix_file(*d.source, d.display, d.findings, want, apply_all, false);
    if (res.applied.empty()) {
      why = res.failed.empty() ? "no rewrite applies" : res.failed.front().reason.value_or("the rewrite did not pass its checks");
      return std::nullopt;
    }
    if (applied) *applied = res.applied;
    auto before = d.source->to_disk(res.before), after = d.source->to_disk(res.after);
    if (!before || !after || *before != d.text) {
      why = "the document's text could not be mapped back after the rewrite";
      return std::nullopt;
    }
    std::map<std::string, Change> out;
    out[d.path] = Change{*before, *after};
    for (const auto& c : k.targets->committed()) {
      const auto path = resolve(c.file);
      auto it = out.find(path);
      if (it == out.end()) {
        const auto text = text_of(path);
        if (!text) {
          why = fmt::format("{} cannot be read to add {}() to it", c.file, c.name);
          return std::nullopt;
        }
        it = out.emplace(path, Change{*text, *text}).first;
      }
      std::string cannot;
      const auto added = python::add_context_manager(c.file, it->second.after, c, &cannot);
      if (!added) {
        why = fmt::format("{}() cannot be added to {}: {}", c.name, c.file, cannot);
        return std::nullopt;
      }
      it->second.after = *added;
    }
    return out;
  }

  json workspace_edit(const std::map<std::string, Change>& changes) const {
    json edits = json::object();
    for (const auto& [path, c] : changes) {
      std::string uri = lsp::uri_of_path(path);
      for (const auto& [u, d] : docs_) {
        if (d.path == path) uri = u;  // as the client named it
      }
      if (auto e = lsp::line_edit(c.before, c.after, encoding_)) edits[uri] = json::array({*e});
    }
    return json{{"changes", edits}};
  }

  // The document with `# leakfix: ignore[kind]` for `f`, checked to hide it and nothing else.
  std::optional<std::string> with_ignore(const Document& d, const Finding& f) const {
    const auto& s = *d.source;
    const std::string tag = fmt::format("# leakfix: ignore[{}]", to_string(f.kind));
    const std::string line(s.line(f.span.line));
    const std::string indent = line.substr(0, line.find_first_not_of(" \t") == std::string::npos ? 0 : line.find_first_not_of(" \t"));
    const std::size_t start = s.line_offset(f.span.line), end = start + line.size();
    const std::string text(s.text());
    // What the document gives now, to compare each candidate with.
    const python::ParsedFile before(s);
    const int errors_before = python::error_count(before);
    const auto findings_before = python::analyze_file(before, knowledge_).findings.size();
    // At the end of the acquiring line, else on a line of its own above it.
    const std::vector<std::pair<std::string, int>> candidates = {
        {text.substr(0, end) + "  " + tag + text.substr(end), 0},
        {text.substr(0, start) + indent + tag + "\n" + text.substr(start), 1},
    };
    for (const auto& [candidate, shift] : candidates) {
      auto decoded = SourceFile::decode(candidate, d.display);
      if (!decoded) continue;
      const python::ParsedFile after(std::make_shared<const SourceFile>(std::move(*decoded)));
      if (python::error_count(after) > errors_before) continue;
      const auto left = python::analyze_file(after, knowledge_).findings;
      const auto still = std::count_if(left.begin(), left.end(), [&](const Finding& g) {
        return g.kind == f.kind && g.rule == f.rule && g.span.line == f.span.line + shift && g.span.column == f.span.column;
      });
      if (still == 0 && left.size() + 1 == findings_before) {
        auto disk = s.to_disk(s.bytes().substr(0, s.bom_size()) + candidate);
        if (disk) return *disk;
      }
    }
    return std::nullopt;
  }

  static bool kind_wanted(const json& only, std::string_view kind) {
    if (!only.is_array() || only.empty()) return true;
    for (const auto& o : only) {
      const std::string k = o.is_string() ? o.get<std::string>() : "";
      if (kind == k || (kind.size() > k.size() && kind.substr(0, k.size()) == k && kind[k.size()] == '.')) return true;
    }
    return false;
  }

  static std::string noun(const Finding& f) { return f.variable.empty() ? "it" : "`" + f.variable + "`"; }

  json code_actions(const json& p) {
    json out = json::array();
    Document* d = current(p);
    if (!d || !d->source) return out;
    const json context = p.value("context", json::object());
    const json only = context.value("only", json::array());
    const int first = p["range"]["start"].value("line", 0) + 1, last = p["range"]["end"].value("line", 0) + 1;
    // The findings asked about: the diagnostics sent, else those on the lines of the range.
    std::vector<const Finding*> asked;
    for (const auto& diag : context.value("diagnostics", json::array())) {
      if (const Finding* f = finding_of(*d, diag)) asked.push_back(f);
    }
    if (asked.empty()) {
      for (const auto& f : d->findings) {
        const int end = f.exit ? std::max(f.span.end_line, f.exit->end_line) : f.span.end_line;
        if (f.span.line <= last && end >= first) asked.push_back(&f);
      }
    }
    for (const Finding* f : asked) {
      const json diags = json::array({diagnostic(*d, *f)});
      if (f->fixable && f->fix && kind_wanted(only, "quickfix")) {
        std::string why;
        const auto key = f->span;
        auto changes = fixes(*d, [&](const Finding& g) { return g.kind == f->kind && g.rule == f->rule && g.span.line == key.line && g.span.column == key.column; }, why);
        std::string title = fmt::format("Fix: {}", f->fix->summary);
        for (const auto& [path, c] : changes ? *changes : std::map<std::string, Change>{}) {
          if (path != d->path) title += fmt::format(" (adds a context manager to {})", display_of(path));
        }
        if (changes) {
          out.push_back({{"title", title}, {"kind", "quickfix"}, {"diagnostics", diags}, {"isPreferred", true}, {"edit", workspace_edit(*changes)}});
        } else if (disabled_actions_) {
          out.push_back({{"title", title}, {"kind", "quickfix"}, {"diagnostics", diags}, {"disabled", {{"reason", why}}}});
        }
      }
      if (kind_wanted(only, "quickfix")) {
        if (auto ignored = with_ignore(*d, *f)) {
          out.push_back({{"title", fmt::format("Ignore this {} finding for {} (# leakfix: ignore)", to_string(f->kind), noun(*f))},
                         {"kind", "quickfix"},
                         {"diagnostics", diags},
                         {"edit", workspace_edit({{d->path, Change{d->text, *ignored}}})}});
        }
      }
    }
    // Every fix of the file at once, when asked for or when there is more than one.
    const auto fixable = std::count_if(d->findings.begin(), d->findings.end(), [](const Finding& f) { return f.fixable && f.fix; });
    const bool asked_all = only.is_array() && !only.empty() && kind_wanted(only, "source.fixAll.leakfix");
    if (fixable > 0 && (asked_all || (fixable > 1 && kind_wanted(only, "source.fixAll.leakfix")))) {
      std::string why;
      std::vector<Finding> applied;
      if (auto changes = fixes(*d, [](const Finding& f) { return f.fixable; }, why, &applied)) {
        out.push_back({{"title", fmt::format("Fix all leakfix findings in this file ({})", applied.size())},
                       {"kind", "source.fixAll.leakfix"},
                       {"edit", workspace_edit(*changes)}});
      }
    }
    return out;
  }

  json hover(const json& p) {
    Document* d = current(p);
    if (!d || !d->source) return nullptr;
    const int line = p["position"].value("line", 0) + 1;
    const auto text = d->source->line(line);
    const int column = lsp::units_of(text, lsp::bytes_of(text, p["position"].value("character", 0), encoding_), lsp::Encoding::Utf32) + 1;
    auto inside = [&](const Span& s) {
      return (line > s.line || (line == s.line && column >= s.column)) && (line < s.end_line || (line == s.end_line && column < s.end_column));
    };
    for (const auto& f : d->findings) {
      const bool at_exit = f.exit && inside(*f.exit);
      if (!inside(f.span) && !at_exit) continue;
      std::string value = fmt::format("**leakfix: {}** (`{}`)\n\n{}\n", to_string(f.kind), f.rule, f.message);
      if (f.fixable && f.fix) value += fmt::format("\nFix: `{}`\n", f.fix->summary);
      if (!f.fixable && f.reason) value += fmt::format("\nNo automatic fix: {}\n", *f.reason);
      if (const auto doc = kind_doc(f.kind)) value += "\n---\n\n" + *doc;
      return json{{"contents", {{"kind", "markdown"}, {"value", value}}}, {"range", range(*d->source, at_exit ? *f.exit : f.span)}};
    }
    return nullptr;
  }

  ServerOptions options_;
  lsp::Transport io_;
  bool initialized_ = false, shutdown_ = false, exit_ = false;
  lsp::Encoding encoding_ = lsp::Encoding::Utf16;
  bool disabled_actions_ = false;
  std::string root_;
  std::vector<Rule> rules_;
  Selection selection_;
  std::vector<std::string> excludes_;
  bool default_excludes_ = true;
  python::Knowledge knowledge_;
  std::unique_ptr<python::SummaryCache> cache_;
  bool discovered_ = false, rediscover_ = false;
  std::map<std::string, Document> docs_;
};

}  // namespace

int run_server(const ServerOptions& options) {
  // A broken pipe is the client going away: the read side ends the loop.
  std::signal(SIGPIPE, SIG_IGN);
  Server server(options);
  return server.run();
}

}  // namespace leakfix::cli
