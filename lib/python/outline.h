#pragma once
// What a scope's own code declares, from one walk of its body: the facts the event extraction,
// the acquisition's use and the verdict each asked of the scope with a walk of their own.
#include <set>
#include <string>

#include "python/tree.h"

namespace leakfix::python {

struct ScopeOutline {
  std::set<std::string, std::less<>> globals;      // global and nonlocal names
  std::set<std::string, std::less<>> nested_defs;  // functions defined in the scope
  // A generator that lends what it acquired: `h = acquire(); try: yield h; finally: ...` (a
  // FastAPI dependency, a pytest fixture, the body of a @contextmanager). Its yield hands the
  // handle out for a while, and the finally runs when the caller is done with it.
  bool lends_by_yield = false;
  bool contextmanager_decorated = false;  // a decorator naming contextmanager

  // A yield in it lends, not gives away.
  bool context_manager() const { return lends_by_yield || contextmanager_decorated; }
};

// Walks the scope's body once (not nested functions, classes or lambdas). A module or a class
// body has no globals, nested defs or lending of its own to report.
ScopeOutline outline_scope(const ParsedFile& file, TSNode scope);

}  // namespace leakfix::python
