#pragma once
// A rule: what acquires a resource, what releases it, and the managed form to rewrite to.
// Rules are data (rules/*.yaml); the engine never names a particular acquirer.
#include <optional>
#include <string>
#include <vector>

namespace leakfix {

// How a call is named in a rule:
//   "get_db_connection"   the bare name, called directly or imported under another name
//   "*.getconn"           a method or module attribute of that name on any receiver
//   "sqlite3.connect"     a dotted path, also through `import sqlite3 as s` / `from sqlite3 import connect`
struct Acquirer {
  std::string pattern;
  std::optional<bool> with_closes;  // does `with handle:` close it? unset: the rule's default
  std::string context_manager;      // the rule's managed form for this acquirer, e.g. "connection_ctx"
  bool with_commits = false;        // its `with` also commits (psycopg 3): rewrite to closing() instead
  // How an async handle is managed: "call" writes `async with pool.acquire() as c:` (the call is
  // an async context manager; an `await` in front of it is dropped), "await" writes `async with
  // await connect() as c:` (what the await gives is one). Empty: it has no async with form.
  std::string async_with;
  bool receiver_handle = false;     // C++ `m.lock()`: the object called on is what gets released
  bool fix = true;                  // false: no managed form exists (a pool's getconn needs putconn)
  std::string discovered_from;      // set for wrappers found in the scanned code: the call they wrap
  // Where a discovered wrapper is defined. A function matches calls that resolve to its module
  // (or plain calls in its own file); a method matches only self.name()/cls.name() in its class.
  // Matching discovered names by name alone would let `def get(self): return open(p)` turn
  // every `.get()` of a code base into an acquisition.
  std::string module;
  std::string owner_class;
  bool may_return_none = false;     // a discovered wrapper with a path that gives None (`return`, falling off)
};

struct ReleaseFunction {
  std::string pattern;  // same syntax as Acquirer::pattern
  int argument = 0;     // 0-based position of the handle among the call's arguments
  // C++: a function of the scanned code found to release the argument it is passed. It counts
  // as a release; a rewrite that drops it would release twice (the guard, then the helper).
  bool helper = false;
};

// How the plan tells public code from admin code: decorators and route paths.
struct Exposure {
  std::vector<std::string> admin_decorators;  // admin_required, superadmin_required
  std::vector<std::string> login_decorators;  // login_required
  std::vector<std::string> admin_paths;       // route prefixes: /admin, /superadmin

  bool empty() const { return admin_decorators.empty() && login_decorators.empty() && admin_paths.empty(); }
};

struct Rule {
  std::string id;
  std::string language = "python";
  std::string resource = "resource";  // the noun used in messages: "connection", "file"
  std::string description;
  std::string file;                   // where it was loaded from
  bool with_closes = false;           // default for acquirers that do not say
  std::vector<Acquirer> acquirers;
  std::vector<std::string> release_methods;         // handle.close()
  std::vector<ReleaseFunction> release_functions;   // pool.putconn(handle)
  // Methods and attributes of the handle (or of what it gives, such as a cursor) whose result is
  // plain data, usable after the handle is released: fetchone, fetchall, rowcount. Anything else
  // derived from the handle is taken to be live, and a rewrite's block must cover its uses.
  std::vector<std::string> returns_data;
  Exposure exposure;
  std::string guard;  // C++: the RAII type fixes declare (std::lock_guard, PooledConnection)

  bool acquirer_with_closes(const Acquirer& a) const { return a.with_closes.value_or(with_closes); }
};

}  // namespace leakfix
