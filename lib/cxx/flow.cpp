// Stage one: every path of Clang's CFG from an acquisition, to its releases, its exits and the
// calls that may throw while it is held.
#include "cxx/function.h"

#include <algorithm>
#include <functional>
#include <set>

namespace leakfix::cxx {

void FunctionAnalysis::run() {
  collect(fd_->getBody());
  for (const auto& a : acquisitions_) analyze(a);
  note_release_helpers();
}

void FunctionAnalysis::collect(const Stmt* s) {
  if (!s) return;
  if (isa<LambdaExpr>(s)) return;  // its own function
  if (const auto* call = dyn_cast<CallExpr>(s)) {
    for (const auto& r : rules_) {
      if (r.language != "cpp") continue;
      for (const auto& a : r.acquirers) {
        const FunctionDecl* callee = call->getDirectCallee();
        if (!matches(a.pattern, callee)) continue;
        // What returns nothing hands nothing out: `void acquire()` is a lock's (a spinlock,
        // std::binary_semaphore), not a pool's; only a receiver rule can follow it.
        if (!a.receiver_handle && callee->getReturnType()->isVoidType()) continue;
        acquisitions_.push_back({call, &r, &a});
      }
    }
  }
  for (const Stmt* c : s->children()) collect(c);
}

int FunctionAnalysis::line(SourceLocation loc) const { return static_cast<int>(sm_.getExpansionLineNumber(loc)); }

// A full expression without the cleanups of its temporaries (`db.free("name", c);`).
const Stmt* FunctionAnalysis::bare(const Stmt* s) {
  if (const auto* e = dyn_cast_or_null<ExprWithCleanups>(s)) return e->getSubExpr()->IgnoreImplicit();
  return s;
}

// Which way a condition says the handle is null: true for `!c` and `c == nullptr`, false
// for `c` and `c != nullptr`; nullopt when it says nothing about it.
std::optional<bool> FunctionAnalysis::null_when(const Expr* cond, const Handle& h) const {
  if (!cond) return std::nullopt;
  cond = cond->IgnoreParenImpCasts();
  auto is_null = [&](const Expr* e) { return e->IgnoreParenImpCasts()->isNullPointerConstant(ctx_, Expr::NPC_ValueDependentIsNotNull) != Expr::NPCK_NotNull; };
  if (const auto* u = dyn_cast<UnaryOperator>(cond); u && u->getOpcode() == UO_LNot) {
    if (auto inner = null_when(u->getSubExpr(), h)) return !*inner;
    return std::nullopt;
  }
  if (const auto* b = dyn_cast<BinaryOperator>(cond); b && (b->getOpcode() == BO_EQ || b->getOpcode() == BO_NE)) {
    const bool lhs_handle = is_handle(b->getLHS(), h) && is_null(b->getRHS());
    const bool rhs_handle = is_handle(b->getRHS(), h) && is_null(b->getLHS());
    if (lhs_handle || rhs_handle) return b->getOpcode() == BO_EQ;
    return std::nullopt;
  }
  if (isa<DeclRefExpr>(cond) && is_handle(cond, h)) return false;
  return std::nullopt;
}

const Stmt* FunctionAnalysis::parent(const Stmt* s) const {
  const Stmt* p = parents_.getParent(s);
  while (p && (isa<ImplicitCastExpr>(p) || isa<ParenExpr>(p) || isa<ExprWithCleanups>(p) ||
               isa<MaterializeTemporaryExpr>(p) || isa<CXXBindTemporaryExpr>(p) || isa<CXXFunctionalCastExpr>(p)))
    p = parents_.getParent(p);
  return p;
}

// The handle, or a local it was copied to (`Conn* d = c;`).
bool FunctionAnalysis::is_handle(const Expr* e, const Handle& h) const {
  const Handle x = handle_of(e, ctx_);
  if (x == h) return true;
  return x.decl && std::find(aliases_.begin(), aliases_.end(), x.decl) != aliases_.end();
}

// Whether a call releases the handle.
bool FunctionAnalysis::releases(const Stmt* s, const Acquisition& a, const Handle& h) const {
  const auto* call = dyn_cast<CallExpr>(s);
  if (!call) return false;
  const FunctionDecl* callee = call->getDirectCallee();
  if (!callee) return false;
  const Rule& r = *a.rule;
  if (const auto* m = dyn_cast<CXXMemberCallExpr>(call)) {
    if (std::find(r.release_methods.begin(), r.release_methods.end(), callee->getNameAsString()) != r.release_methods.end() &&
        is_handle(m->getImplicitObjectArgument(), h))
      return true;
  }
  for (const auto& f : r.release_functions) {
    if ((f.helper && depth_ > 0) || !matches(f.pattern, callee)) continue;
    const auto i = static_cast<unsigned>(f.argument);
    if (i < call->getNumArgs() && is_handle(call->getArg(i), h)) return true;
  }
  // One level of calls: a function of this TU that releases the parameter it is passed in.
  if (depth_ == 0 && callee->hasBody() && !isa<CXXMemberCallExpr>(call)) {
    for (unsigned i = 0; i < call->getNumArgs() && i < callee->getNumParams(); ++i) {
      if (!is_handle(call->getArg(i), h)) continue;
      const ParmVarDecl* param = callee->getParamDecl(i);
      ++depth_;
      const bool inner = releases_within(callee->getBody(), a, Handle{param, param->getNameAsString()});
      --depth_;
      if (inner) return true;
    }
  }
  return false;
}

// A release written here, not one inside a helper the call reaches.
bool FunctionAnalysis::direct_release(const Stmt* s, const Acquisition& a, const Handle& h) const {
  ++depth_;
  const bool direct = releases(bare(s), a, h);
  --depth_;
  return direct;
}

bool FunctionAnalysis::releases_within(const Stmt* s, const Acquisition& a, const Handle& h) const {
  if (!s) return false;
  if (releases(s, a, h)) return true;
  for (const Stmt* c : s->children()) {
    if (releases_within(c, a, h)) return true;
  }
  return false;
}

bool FunctionAnalysis::nothrow(const FunctionDecl* f) {
  if (!f) return false;
  if (f->getBuiltinID()) return true;
  // C functions (puts, memcpy, the C library) throw no C++ exception.
  if (f->isExternC()) return true;
  const auto* t = f->getType()->getAs<FunctionProtoType>();
  return t && t->isNothrow();
}

// A call that may throw while the handle is held, outside a try whose handler releases it.
bool FunctionAnalysis::may_throw(const Stmt* s, const Acquisition& a, const Handle& h) const {
  bool can = false;
  if (const auto* call = dyn_cast<CallExpr>(s)) can = call != a.call && !nothrow(call->getDirectCallee());
  else if (const auto* c = dyn_cast<CXXConstructExpr>(s)) can = !nothrow(c->getConstructor());
  else if (isa<CXXNewExpr>(s)) can = true;
  if (!can) return false;
  for (const Stmt* p = parents_.getParent(s); p; p = parents_.getParent(p)) {
    if (const auto* t = dyn_cast<CXXTryStmt>(p)) {
      for (unsigned i = 0; i < t->getNumHandlers(); ++i) {
        if (releases_within(t->getHandler(i), a, h)) return false;
      }
    }
  }
  return true;
}

std::string FunctionAnalysis::jump_label(const Stmt* s) const {
  if (!s) return "";
  if (isa<ReturnStmt>(s)) return fmt::format("the return at line {}", line(s->getBeginLoc()));
  if (isa<BreakStmt>(s)) return fmt::format("the break at line {}", line(s->getBeginLoc()));
  if (isa<ContinueStmt>(s)) return fmt::format("the continue at line {}", line(s->getBeginLoc()));
  if (isa<GotoStmt>(s)) return fmt::format("the goto at line {}", line(s->getBeginLoc()));
  if (isa<CXXThrowExpr>(s)) return fmt::format("the throw at line {}", line(s->getBeginLoc()));
  return "";
}

// Follows every path of the CFG from the acquisition.
Outcome FunctionAnalysis::follow(const Acquisition& a, const Handle& h, const Stmt* anchor) {
  Outcome o;
  if (!cfg_) {
    CFG::BuildOptions bo;
    bo.setAllAlwaysAdd();
    cfg_ = CFG::buildCFG(fd_, fd_->getBody(), &ctx_, bo);
  }
  if (!cfg_) return o;
  const CFGBlock* start = nullptr;
  unsigned start_index = 0;
  for (const CFGBlock* b : *cfg_) {
    unsigned i = 0;
    for (const auto& e : *b) {
      if (auto s = e.getAs<CFGStmt>(); s && s->getStmt() == anchor) {
        start = b;
        start_index = i + 1;
      }
      ++i;
    }
  }
  if (!start) return o;
  const int end_line = line(fd_->getBody()->getEndLoc());
  struct Item {
    const CFGBlock* block;
    unsigned index;
    const Stmt* jump;
  };
  std::vector<Item> work{{start, start_index, nullptr}};
  std::set<unsigned> seen;
  int steps = 0;
  while (!work.empty() && ++steps < 100000) {
    Item it = work.back();
    work.pop_back();
    const Stmt* jump = it.jump;
    bool stop = false;
    unsigned i = 0;
    for (const auto& e : *it.block) {
      if (i++ < it.index) continue;
      const auto cs = e.getAs<CFGStmt>();
      if (!cs) continue;
      const Stmt* s = cs->getStmt();
      if (const auto* ds = dyn_cast<DeclStmt>(s); ds && ds->isSingleDecl() && !a.acquirer->receiver_handle) {
        if (const auto* v = dyn_cast<VarDecl>(ds->getSingleDecl()); v && v->hasLocalStorage() && v->getInit() &&
                                                                     isa<DeclRefExpr>(strip(v->getInit())) && is_handle(v->getInit(), h))
          aliases_.push_back(v);
      }
      if (const auto* bo = dyn_cast<BinaryOperator>(s); bo && bo->isAssignmentOp() && !a.acquirer->receiver_handle &&
                                                        isa<DeclRefExpr>(strip(bo->getRHS())) && is_handle(bo->getRHS(), h)) {
        if (const auto* v = local_var(bo->getLHS())) aliases_.push_back(v);
      }
      if (releases(s, a, h)) {
        ++o.released;
        if (!o.released_twice) {
          if (const auto again = released_again(a, h, it.block, i, anchor)) o.released_twice = {line(s->getBeginLoc()), *again};
        }
        stop = true;
        break;
      }
      // std::exit(), abort(), a [[noreturn]] function: the process or the thread ends here,
      // and no release would run on this path even with a guard.
      if (const auto* call = dyn_cast<CallExpr>(s); call && call != a.call && call->getDirectCallee() &&
                                                    call->getDirectCallee()->isNoReturn()) {
        stop = true;
        break;
      }
      if (s == anchor || (isa<CallExpr>(s) && s == a.call)) {
        o.leaks.emplace_back(line(s->getBeginLoc()),
                             jump ? jump_label(jump) + fmt::format(", acquired again at line {}", line(s->getBeginLoc()))
                                  : fmt::format("acquired again at line {} before it is released", line(s->getBeginLoc())));
        stop = true;
        break;
      }
      if (const auto* r = dyn_cast<ReturnStmt>(s)) {
        if (r->getRetValue() && !a.acquirer->receiver_handle && is_handle(r->getRetValue(), h)) {
          o.escape = {line(r->getBeginLoc()), fmt::format("it is returned at line {}", line(r->getBeginLoc()))};
          o.returned = true;
          stop = true;
          break;
        }
        if (!jump) jump = s;
      }
      if (isa<CXXThrowExpr>(s) && !jump) jump = s;
      if (const auto* m = dyn_cast<CXXMemberCallExpr>(s); m && !a.acquirer->receiver_handle && m->getMethodDecl()) {
        static const std::set<std::string> kStore = {"push_back", "emplace_back", "push_front", "emplace_front",
                                                      "insert",    "emplace",      "push",       "try_emplace"};
        if (kStore.contains(m->getMethodDecl()->getNameAsString()) &&
            std::any_of(m->arg_begin(), m->arg_end(), [&](const Expr* arg) { return is_handle(arg, h); })) {
          o.escape = {line(s->getBeginLoc()), fmt::format("it is stored in `{}` at line {}", text_of(m->getImplicitObjectArgument(), ctx_),
                                                          line(s->getBeginLoc()))};
          stop = true;
          break;
        }
      }
      if (may_throw(s, a, h)) o.throws.push_back(line(s->getBeginLoc()));
    }
    if (stop) continue;
    // The first jump of a path names it: the break, not the return after the loop.
    if (const Stmt* t = it.block->getTerminatorStmt();
        t && !jump && (isa<BreakStmt>(t) || isa<ContinueStmt>(t) || isa<GotoStmt>(t)))
      jump = t;
    for (const CFGBlock* next : successors(it.block, a, h)) {
      if (next == &cfg_->getExit()) {
        o.leaks.emplace_back(jump ? line(jump->getBeginLoc()) : end_line,
                             jump ? jump_label(jump) : fmt::format("the end of the function at line {}", end_line));
        continue;
      }
      if (seen.insert(next->getBlockID()).second) work.push_back({next, 0, jump});
    }
  }
  return o;
}

// The blocks a path goes on to from `b`, leaving out the branch on which the handle is null:
// there is nothing to release there.
std::vector<const CFGBlock*> FunctionAnalysis::successors(const CFGBlock* b, const Acquisition& a, const Handle& h) const {
  std::optional<bool> null_branch;
  if (b->succ_size() == 2 && !a.acquirer->receiver_handle) null_branch = null_when(dyn_cast_or_null<Expr>(b->getTerminatorCondition()), h);
  std::vector<const CFGBlock*> out;
  unsigned index = 0;
  for (const auto& succ : b->succs()) {
    const bool true_branch = index++ == 0;
    if (null_branch && *null_branch == true_branch) continue;
    if (const CFGBlock* next = succ.getReachableBlock()) out.push_back(next);
  }
  return out;
}

// Whether s is a call to an acquirer of the rule (a path that takes another handle).
bool FunctionAnalysis::acquires(const Stmt* s, const Rule& r) {
  const auto* call = dyn_cast<CallExpr>(s);
  if (!call || !call->getDirectCallee()) return false;
  return std::any_of(r.acquirers.begin(), r.acquirers.end(), [&](const Acquirer& a) { return matches(a.pattern, call->getDirectCallee()); });
}

// The line of a second release of the handle on a path that starts at element `index` of
// `block`, just after a release; a path that acquires again, or assigns the handle, ends.
std::optional<int> FunctionAnalysis::released_again(const Acquisition& a, const Handle& h, const CFGBlock* block, unsigned index,
                                  const Stmt* anchor) const {
  std::vector<std::pair<const CFGBlock*, unsigned>> work{{block, index}};
  std::set<unsigned> seen;
  int steps = 0;
  while (!work.empty() && ++steps < 100000) {
    const auto [b, from] = work.back();
    work.pop_back();
    bool stop = false;
    unsigned i = 0;
    for (const auto& e : *b) {
      if (i++ < from) continue;
      const auto cs = e.getAs<CFGStmt>();
      if (!cs) continue;
      const Stmt* s = cs->getStmt();
      if (s == anchor || s == a.call || acquires(s, *a.rule)) {
        stop = true;
        break;
      }
      if (const auto* bo = dyn_cast<BinaryOperator>(s); bo && bo->isAssignmentOp() && h.decl && local_var(bo->getLHS()) == h.decl) {
        stop = true;
        break;
      }
      if (const auto* call = dyn_cast<CallExpr>(s); call && call->getDirectCallee() && call->getDirectCallee()->isNoReturn()) {
        stop = true;
        break;
      }
      if (releases(s, a, h)) return line(s->getBeginLoc());
    }
    if (stop) continue;
    for (const CFGBlock* next : successors(b, a, h)) {
      if (seen.insert(next->getBlockID()).second) work.push_back({next, 0});
    }
  }
  return std::nullopt;
}

}  // namespace leakfix::cxx
