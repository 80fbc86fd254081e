#pragma once
// What each CFG node does to resource handles, independent of which acquisition is followed:
// the flow analysis replays these events along paths with the set of names that hold the handle.
#include <bitset>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/rule.h"
#include "python/callee.h"
#include "python/cfg.h"
#include "python/outline.h"

namespace leakfix::python {

inline constexpr int kMaxNames = 256;
using NameSet = std::bitset<kMaxNames>;

enum class EventKind {
  Acquire,         // name = the acquisition `acquisition` (bound to `name`, or -1)
  BindAlias,       // name = other (an alias, or an object that owns it: Repo(conn))
  BindOther,       // name is rebound to something unrelated
  BindFlag,        // name = True / False (`flag` says which): a flag tested later, like `close`
  BindClosure,     // name is a nested function capturing `captured`
  Del,             // del name
  Release,         // name.close(), release(name), closing/ExitStack registration
  WithExit,        // a with statement over name (or closing(name)) exits here
  Escape,          // name leaves the scope (returned, stored, handed off)
  CaptureEscape,   // a lambda or decorated def capturing `captured` is handed somewhere
  ClosureUse,      // a nested function `name` is used as a value (or called, see `called`)
};

enum class EscapeWhy { Returned, Yielded, Stored, StoredOnG, Container, Thread, Callback, Captured, Global };

struct Event {
  EventKind kind;
  int name = -1;
  int other = -1;
  int acquisition = -1;
  bool managed = false;      // Release/WithExit by a context manager rather than by hand
  bool closing = false;      // WithExit: the item is closing(name)
  bool called = false;       // ClosureUse: the closure is called here
  EscapeWhy why = EscapeWhy::Returned;
  NameSet captured;          // BindClosure / CaptureEscape
  std::string detail;        // for messages: "g.db", "after_this_request"
  int line = 0;
  bool flag = false;         // BindFlag: the value
};

// A call the file's rules treat as an acquisition.
struct Acquisition {
  TSNode call{};
  const Rule* rule = nullptr;
  const Acquirer* acquirer = nullptr;
  std::string callee_text;  // as written: "get_db_connection", "sqlite3.connect"
};

// Project-wide facts the per-scope extraction needs.
struct ReleaseSpec {
  std::string pattern;
  int argument = 0;
  std::string module;       // for discovered release functions, as in Acquirer
  std::string owner_class;
  // A discovered helper whose body only calls this method on the handle (`def give_back(c):
  // c.close()`): calling it is calling the method.
  std::string same_as_method;
  bool operator==(const ReleaseSpec&) const = default;
};

struct ScopeFacts {
  std::vector<std::string> names;                       // index -> name
  std::map<std::string, int, std::less<>> index;        // name -> index
  std::vector<std::vector<Event>> events;               // per CFG node
  std::map<int, bool> closure_is_generator;             // closure name -> generator?
  std::map<int, NameSet> closure_releases;              // closure name -> captured names it closes
  bool context_manager = false;                         // @contextmanager: `yield handle` lends it
  bool module_like = false;                             // module or class body
  // Statements that only release something (`a.close()`): taken not to raise, so that closing one
  // handle does not make the next release on the same path look skippable.
  std::vector<bool> release_only;
  // Cond nodes that test a name: `if conn:`, `if not conn:`, `if conn is (not) None:`.
  struct Guard {
    int name = -1;
    bool branch = true;  // the branch taken while the name holds a handle (a truthy, non-None value)
    bool plain = false;  // a truth test (`if x:` / `if not x:`), which a True/False flag also decides
  };
  std::map<int, Guard> guards;
  // Cond nodes that test a local name that does not hold the handle against a constant (`if
  // file == "-":`, `if mode != "w":`, `if path is None:`) or for its truth (`if debug:`): a path
  // takes the branch it took at the same test before, until the name is bound again. So the
  // close under `if file != "-":` is not skipped on a path that opened in the `else` of `if
  // file == "-":`.
  struct Test {
    int key = -1;               // index into test_names: one per name and constant
    bool equal_on_true = true;  // whether the True edge means "equal to the constant" (or truthy)
  };
  static constexpr std::size_t kMaxTests = 64;
  using TestSet = std::bitset<kMaxTests>;
  std::map<int, Test> tests;                            // Cond node -> its test
  std::unordered_map<const void*, Test> test_of;        // condition expression -> its test
  std::vector<int> test_names;                          // key -> the name it tests
  std::vector<std::string> test_texts;                  // key -> "name == constant", to intern keys
  std::unordered_map<int, TestSet> tests_of_name;       // name -> the keys testing it

  int intern(std::string_view name);
  int find(std::string_view name) const;
};

struct EventContext {
  const ParsedFile& file;
  const Imports& imports;
  const std::vector<std::string>& release_methods;      // union over the rules
  const std::vector<ReleaseSpec>& release_functions;    // rules' and discovered
  const std::vector<Acquisition>& acquisitions;         // of this file
  const std::unordered_map<const void*, int>& acquisition_index;  // call node -> index in acquisitions
  std::string_view module;                              // this file's module name
  const ScopeOutline& outline;                          // of the scope (outline_scope)
};

ScopeFacts extract_events(const EventContext& ctx, const Cfg& cfg);

// The names an expression hands over as a value: itself, tuple/list/dict elements, the branches
// of a conditional, the arguments of a constructor call (capitalised callee) or of closing().
void value_names(const ParsedFile& file, TSNode expr, std::vector<TSNode>& out);

}  // namespace leakfix::python
