#pragma once
// A control-flow graph of one scope (function, method, lambda, class body or module body) at
// statement granularity, with normal and exceptional edges.
//
// `finally` bodies and `with` exits are copied once per way of leaving the protected block
// (fall-through, return, break, continue, exception), so each copy knows where it continues.
#include <string>
#include <unordered_map>
#include <vector>

#include "python/tree.h"

namespace leakfix::python {

enum class CfgKind {
  Entry,
  ExitNormal,  // the end of the scope, reached by return or by falling off the end
  ExitRaise,   // an exception leaves the scope
  Stmt,        // a simple statement (or a nested def/class)
  Cond,        // an if/elif/while condition or a case guard; successors are True/False edges
  LoopHead,    // a for loop taking its next item
  LoopBack,    // the end of a loop body, going round again
  Return,
  Raise,       // `raise`, or a call that never returns normally (abort(), sys.exit())
  Break,
  Continue,
  WithEnter,   // evaluates the items of a with statement
  WithExit,    // leaves a with statement (its items' __exit__)
  Dispatch,    // an exception arrives at the except clauses of a try
  Join,
};

enum class EdgeKind {
  Normal,
  True,
  False,
  Exception,  // the node may raise; the exception goes here
  Explicit,   // a raise statement
  Propagate,  // an exception continues after a finally copy or an uncaught dispatch
};

struct Edge {
  int to;
  EdgeKind kind;
};

struct CfgNode {
  CfgKind kind = CfgKind::Join;
  TSNode ts{};  // the statement, condition or with/for statement this node stands for
  std::vector<Edge> succ;
  bool may_raise = false;
  int line = 0;
};

struct Cfg {
  std::vector<CfgNode> nodes;
  int entry = -1, exit_normal = -1, exit_raise = -1;
  TSNode scope{};
  // Nodes per syntax node (several when a finally body is copied).
  std::unordered_map<const void*, std::vector<int>> by_ts;

  const std::vector<int>& nodes_of(TSNode n) const;
};

// Thrown when statements nest deeper than the builder allows, or the graph would grow past a
// size no real function reaches (finally bodies are copied per way out).
struct CfgTooComplex {};

// Builds the CFG of a scope node (function, class body or module). A statement that is only a
// call to abort(), sys.exit(), os._exit(), exit() or quit() is treated as a raise.
Cfg build_cfg(const ParsedFile& file, TSNode scope);

// Whether evaluating this syntax node can raise: it calls, subscripts, awaits, yields or asserts.
bool may_raise(TSNode n);

}  // namespace leakfix::python
