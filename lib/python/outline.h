#pragma once
// What a scope's own code declares and where it writes each name, from one walk of the scope:
// the facts the event extraction, the acquisition's use, the verdict and the rewrite's safety
// checks each asked of the scope with walks of their own.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "python/tree.h"

namespace leakfix::python {

struct ScopeOutline {
  TSNode scope{};  // the function outlined; null for a module, a class body or a lambda
  std::set<std::string, std::less<>> globals;      // global and nonlocal names
  std::set<std::string, std::less<>> nested_defs;  // functions defined in the scope
  // A generator that lends what it acquired: `h = acquire(); try: yield h; finally: ...` (a
  // FastAPI dependency, a pytest fixture, the body of a @contextmanager). Its yield hands the
  // handle out for a while, and the finally runs when the caller is done with it.
  bool lends_by_yield = false;
  bool contextmanager_decorated = false;  // a decorator naming contextmanager

  // Every identifier of the function (its name, parameters and body, nested scopes included),
  // by text, then position.
  std::vector<std::pair<std::string_view, TSNode>> identifiers;

  // A yield in it lends, not gives away.
  bool context_manager() const { return lends_by_yield || contextmanager_decorated; }
  // The identifiers written `name` inside n, in order; nullopt when n is not inside the scope
  // (or the scope is not a function: only functions are outlined).
  std::optional<std::vector<TSNode>> identifiers_in(TSNode n, std::string_view name) const;
};

// Walks a function once; what nested functions, classes and lambdas declare is not the
// scope's, but their identifiers are listed. Of a module or a class body, only the globals and
// the functions its statements define (no identifiers: their scopes are not rewritten from
// here, and a module is walked statement by statement, not whole).
ScopeOutline outline_scope(const ParsedFile& file, TSNode scope);

}  // namespace leakfix::python
