#pragma once
// Where a rewrite's `with` comes from. In order: a context manager the project already has for
// the acquirer (a @contextmanager function or a class with __enter__/__exit__ that acquires and
// gives back, under any name); the rule's context manager where the project defines it; one
// created next to the acquirer's definition; contextlib.closing() where the release is close().
// Every name a target introduces is checked to resolve from the file that uses it.
#include <map>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/edit.h"
#include "python/callee.h"
#include "python/tree.h"

namespace leakfix::python {

// A context manager of the project's that acquires with `acquirer` and gives the handle back.
struct ProjectContextManager {
  std::string name;
  std::string file;       // path of the file that defines it
  std::string acquirer;   // the acquirer's name as called there (its last segment)
  std::string acquirer_path;  // what that call resolves to through the file's imports
  ReleaseUse release;
  enum class Params { None, Forward, Positional } params = Params::None;
  int positional = 0;     // Positional: how many parameters, passed on in order
  bool is_class = false;
  bool pure = true;       // only acquires, yields and gives back: no commit, no rollback, no logging
  std::string impure;     // what else it does, when not pure
};

// The context managers one file defines, read from its syntax.
std::vector<ProjectContextManager> context_managers_in(const ParsedFile& file);

// The text of `file_text` with the context manager added after the acquirer's definition (and
// `import contextlib` when the file has no way to name contextmanager), or why it cannot be.
// nullopt with `why` set when it cannot.
std::optional<std::string> add_context_manager(const std::string& path, std::string_view file_text, const Creation& creation,
                                               std::string* why);

struct Target {
  enum class Kind { ProjectContextManager, RuleContextManager, Created, Closing } kind;
  std::string callee;                   // what the with calls: connection_ctx, db.connection_ctx
  std::optional<ImportNeed> import;     // what the using file must import for it
  std::optional<Creation> creation;     // Created
  std::string note;                     // which target was chosen, and why
};

// What a module binds at its top level and the context managers it defines: read once per file.
struct ModuleFacts {
  std::string path;
  std::set<std::string, std::less<>> functions;  // top-level def names
  std::set<std::string, std::less<>> names;      // every top-level binding: defs, classes, assignments, imports
  std::vector<ProjectContextManager> cms;
  Imports imports;
};
ModuleFacts module_facts(const ParsedFile& file);

// The facts of the file being analysed, computed the first time a rewrite asks.
class LazyModuleFacts {
 public:
  explicit LazyModuleFacts(const ParsedFile& file) : file_(file) {}
  const ModuleFacts& get() const {
    if (!facts_) facts_ = module_facts(file_);
    return *facts_;
  }

 private:
  const ParsedFile& file_;
  mutable std::optional<ModuleFacts> facts_;
};

// What the resolver needs to know of one acquisition.
struct Site {
  const LazyModuleFacts& facts;  // of `file`
  const ParsedFile& file;
  const Imports& imports;
  TSNode call;                  // the acquiring call
  std::string_view rule_context_manager;  // the rule's name for it, may be empty
  ReleaseUse release;           // how this code gives the handle back; empty: nowhere (never-closed)
  bool close_ok = false;        // close() is a right release when the code shows none
  std::string_view variable;    // what a created context manager calls the handle
  bool driver = false;          // the acquirer is a library's (sqlite3.connect): nothing is created for it
};

// Resolves rewrite targets against the files of the project. Thread-safe: scans ask from
// several threads. Files are read from disk as needed (the module that defines an acquirer need
// not be among the files scanned) and remembered.
class TargetResolver {
 public:
  // Context managers found in the scanned files, wherever they are.
  void add_known(std::vector<ProjectContextManager> cms);
  // A creation accepted by fix: later sites use it as the project's own.
  void commit(const Creation& c);
  std::vector<Creation> committed() const;
  // The context managers known, nothing committed and nothing cached: for one fix tried on its
  // own (the language server's code actions), with files read as they are now.
  std::shared_ptr<TargetResolver> fresh() const;

  std::variant<Target, std::string> resolve(const Site& site) const;

  // The file a module named in `from_file` stands for (`pkg.db`, `.db`, `..db`), if it is in
  // the project: relative to the importing file's package, or under one of its ancestors.
  std::optional<std::string> module_file(const std::string& from_file, std::string_view module) const;

 private:
  class Lookup;
  friend class Lookup;
  std::optional<std::string> search_module_file(const std::string& from_file, std::string_view module) const;
  std::string canonical(const std::string& path) const;
  bool same_file(const std::string& a, const std::string& b) const { return a == b || canonical(a) == canonical(b); }
  std::shared_ptr<const ModuleFacts> facts(const std::string& path) const;
  std::shared_ptr<const ModuleFacts> facts_of_text(const std::string& path, std::string text) const;

  mutable std::mutex lock_;
  mutable std::map<std::string, std::shared_ptr<const ModuleFacts>> cache_;
  mutable std::map<std::string, bool> exists_;
  mutable std::unordered_map<std::string, std::optional<std::string>> module_files_;  // by folder and module
  mutable std::map<std::string, std::string> canonical_;
  std::vector<ProjectContextManager> known_;
  std::vector<Creation> committed_;
};

}  // namespace leakfix::python
