#pragma once
// Follows one handle from its acquisition along every path of its scope's CFG and records how
// each path ends: released (by hand or by a context manager), escaped, or leaked (and where).
#include <string>
#include <vector>

#include "python/events.h"

namespace leakfix::python {

enum class ExitWhy { FallOff, Return, Break, Continue, LoopBack, Rebind, Reacquire, Del, Raise, NoReturn, Branch };

struct ExitCause {
  ExitWhy why = ExitWhy::FallOff;
  int line = 0;
  bool branch = false;  // for Branch: the value the condition took
};

struct Leak {
  ExitCause cause;
  int raise_line = 0;   // exceptional leaks: the statement that raised
};

struct EscapeAt {
  EscapeWhy why;
  std::string detail;
  int line = 0;
};

struct Outcome {
  bool released_manual = false;
  bool released_managed = false;
  std::vector<Leak> normal;       // leaks on paths that raised nothing (or raised explicitly)
  std::vector<Leak> exceptional;  // leaks on paths where a statement raised
  std::vector<EscapeAt> escapes;
  bool truncated = false;         // too many paths; no verdict
  bool untracked = false;         // the handle's name could not be tracked
};

struct FlowStart {
  int node = -1;         // the CFG node holding the acquisition, or the entry for a parameter
  int acquisition = -1;  // index into the file's acquisitions; -1 for a parameter
  int name = -1;         // for a parameter: the name holding the handle at entry
  bool with_closes = false;
  int scope_end_line = 0;
  // The tests (ScopeFacts::Test keys) the acquisition sits under, with the outcome that leads
  // to it: `(key, equal)`.
  std::vector<std::pair<int, bool>> tests;
};

Outcome follow(const Cfg& cfg, const ScopeFacts& facts, const FlowStart& start);

}  // namespace leakfix::python
