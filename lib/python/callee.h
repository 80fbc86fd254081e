#pragma once
// Names of called functions, resolved through the file's imports, and matching them against
// the call patterns of rules ("name", "*.method", "module.func").
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "python/tree.h"

namespace leakfix::python {

// The part after the last dot: "connect" for "sqlite3.connect" and "*.connect".
inline std::string_view last_segment(std::string_view dotted) {
  const auto dot = dotted.rfind('.');
  return dot == std::string_view::npos ? dotted : dotted.substr(dot + 1);
}

struct Callee {
  std::string path;   // dotted, resolved through imports; "?" stands for a receiver that is not a name
  bool bare = false;  // the call was written as a plain name: f(...)
  std::string_view last() const { return last_segment(path); }
};

// contextlib.closing(...), however it was imported.
inline bool is_closing(const Callee& c) { return c.path == "contextlib.closing" || (c.bare && c.last() == "closing"); }
// The same judged from the callee as written, where imports are not at hand.
inline bool is_closing_text(std::string_view callee) { return callee == "closing" || callee == "contextlib.closing"; }
// ExitStack.enter_context and unittest's enterContext/enterAsyncContext: `with` by another name.
inline bool is_enter_context(std::string_view method) {
  return method == "enter_context" || method == "enterContext" || method == "enterAsyncContext" || method == "enterClassContext" ||
         method == "enterModuleContext";
}

// For `stack.enter_context(...)` / `stack.callback(...)`: false when `stack` is the name a `with
// ExitStack() as stack:` of the same function binds and the call is not inside that with: the
// stack has closed already, and nothing will release what it is given.
bool exit_stack_open(const ParsedFile& file, TSNode call);

// What each name imported in a file stands for: `import sqlite3 as s` gives s -> sqlite3,
// `from db import get as g` gives g -> db.get.
class Imports {
 public:
  static Imports of(const ParsedFile& file);
  std::string resolve(std::string_view first_segment) const;
  // Whether an import binds this local name.
  bool has(std::string_view local) const { return alias_.find(local) != alias_.end(); }
  // Local names that stand for something whose last segment is one of `names` (gdc for
  // `from db import get_db_connection as gdc`).
  std::vector<std::string> aliases_of(const std::vector<std::string>& names) const;
  // Every local name an import binds, with what it stands for ("tk" -> "tokenize").
  const std::map<std::string, std::string, std::less<>>& bindings() const { return alias_; }

 private:
  std::map<std::string, std::string, std::less<>> alias_;
};

Callee callee_of(const ParsedFile& file, const Imports& imports, TSNode call);
// The same for an expression that names a function without calling it (`conn.close`).
Callee name_of(const ParsedFile& file, const Imports& imports, TSNode expr);

bool matches(std::string_view pattern, const Callee& callee);

// Whether a file can hold a call that the module-qualified matches() below accepts for `name`
// defined in `module`: the file is that module, writes `module.name` (blanks, line breaks and
// comments allowed around the dot), or imports a name that stands for the module (under another
// name) or for the function. `bindings` are the file's imports as Imports::bindings() gives them.
bool may_call(std::string_view text, std::string_view file_module, const std::vector<std::pair<std::string, std::string>>& bindings,
              std::string_view module, std::string_view name);

// Whether a call written as `callee` builds an object that may keep its arguments: a class
// (capitalised by convention), `cls(...)` in a classmethod, `self.__class__(...)`, `type(self)(...)`.
bool is_constructor(std::string_view callee);

// Where a call is made, for matching discovered wrappers (see Acquirer::module).
struct CallSite {
  std::string_view module;           // the file's module name
  std::string_view enclosing_class;  // innermost class around the call, or empty
};

bool matches(std::string_view pattern, std::string_view module, std::string_view owner_class, const Callee& callee,
             const CallSite& site);

// The module name of a file: its stem, or its folder's name for __init__.py.
std::string module_name(std::string_view path);
// The name of the innermost class around a node, or empty.
std::string_view enclosing_class(const ParsedFile& file, TSNode n);

}  // namespace leakfix::python
