#pragma once
// Where an acquisition's result goes: held in a name (then its paths are followed), managed by a
// with statement, returned, stored, or used and dropped in one expression.
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "python/callee.h"
#include "python/events.h"

namespace leakfix::python {

// Where an acquisition's result goes.
enum class Use {
  Bound,           // held in a local name: follow it through the CFG
  Managed,         // a with statement or ExitStack that closes it
  ClosedAtOnce,    // get().close()
  Returned,
  Yielded,
  Stored,          // on an attribute
  StoredOnG,       // on flask.g
  Container,
  Global,
  Temporary,       // used and dropped in one expression
  InLambda,
  InComprehension,
};

struct UseInfo {
  Use use = Use::Temporary;
  std::string detail;
};

// `is_global(name)` says whether the scope declares name global.
UseInfo use_of(const ParsedFile& file, const Imports& imports, const Acquisition& a, TSNode scope,
               bool in_context_manager, const std::function<bool(std::string_view)>& is_global);

}  // namespace leakfix::python
