#pragma once
// Turns the paths of one acquisition into one of the five kinds, with a message naming the path
// that leaks. Each kind's decision is documented in docs/rules/<kind>.md.
#include <optional>
#include <string>

#include "core/finding.h"
#include "python/flow.h"

namespace leakfix::python {

struct Verdict {
  Kind kind;
  std::string message;
  int exit_line = 0;        // where it leaks or escapes, for the code frame
  std::string exit_label;
  bool returned = false;    // escapes by being returned: the function is an acquirer
  bool stored_on_g = false;
  std::string stored_on;    // escapes by an attribute store: the target, "self.conn"
};

struct VerdictContext {
  std::string what;          // "connection from get_db_connection()"
  bool in_context_manager = false;  // a @contextmanager lending the handle with `yield`
  int scope_end_line = 0;
  bool class_body = false;         // a handle left in a class body is a class attribute
};

// nullopt when the handle is managed on every path (no finding).
std::optional<Verdict> decide(const Outcome& outcome, const VerdictContext& ctx);

std::string describe(const ExitCause& cause);

}  // namespace leakfix::python
