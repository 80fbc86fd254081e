#include "cxx/analyze.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/AST/ParentMap.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Analysis/CFG.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>
#include <clang/Frontend/FrontendActions.h>
#include <clang/Format/Format.h>
#include <clang/Tooling/ArgumentsAdjusters.h>
#include <clang/Tooling/Core/Replacement.h>
#include <clang/Tooling/CompilationDatabase.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace leakfix::cxx {
namespace {

namespace fs = std::filesystem;
using namespace clang;

// ---- rules --------------------------------------------------------------------------------

// "Pool::acquire" (a method of that class, in any namespace), "*::acquire" (a method of that
// name on any class), "fopen" (a function of that name).
bool matches(std::string_view pattern, const FunctionDecl* f) {
  if (!f) return false;
  const std::string name = f->getNameAsString();
  if (pattern.starts_with("*::")) return isa<CXXMethodDecl>(f) && name == pattern.substr(3);
  if (pattern.find("::") != std::string_view::npos) {
    const std::string q = f->getQualifiedNameAsString();
    return q == pattern || (q.size() > pattern.size() && std::string_view(q).ends_with(pattern) &&
                            std::string_view(q).substr(0, q.size() - pattern.size()).ends_with("::"));
  }
  return name == pattern;
}

std::string_view last_segment(std::string_view p) {
  const auto c = p.rfind(':');
  return c == std::string_view::npos ? p : p.substr(c + 1);
}

struct CxxRule {
  const Rule* rule;
};

// ---- small AST helpers ------------------------------------------------------------------------

const Expr* strip(const Expr* e) {
  while (e) {
    e = e->IgnoreParenImpCasts();
    if (const auto* c = dyn_cast<ExprWithCleanups>(e)) e = c->getSubExpr();
    else if (const auto* m = dyn_cast<MaterializeTemporaryExpr>(e)) e = m->getSubExpr();
    else if (const auto* b = dyn_cast<CXXBindTemporaryExpr>(e)) e = b->getSubExpr();
    else break;
  }
  return e;
}

const VarDecl* local_var(const Expr* e) {
  if (const auto* r = dyn_cast_or_null<DeclRefExpr>(strip(e))) {
    if (const auto* v = dyn_cast<VarDecl>(r->getDecl()); v && v->hasLocalStorage()) return v;
  }
  return nullptr;
}

// What holds a handle: a local variable, or (for lock-style rules) the object locked, known by
// its declaration (a variable or a field of this) or else by its spelling.
struct Handle {
  const ValueDecl* decl = nullptr;
  std::string text;
  bool operator==(const Handle& o) const { return decl ? decl == o.decl : text == o.text; }
};

std::string text_of(const Stmt* s, const ASTContext& ctx) {
  const auto& sm = ctx.getSourceManager();
  const auto range = CharSourceRange::getTokenRange(s->getSourceRange());
  return Lexer::getSourceText(range, sm, ctx.getLangOpts()).str();
}

Handle handle_of(const Expr* e, const ASTContext& ctx) {
  e = strip(e);
  Handle h;
  if (const auto* r = dyn_cast_or_null<DeclRefExpr>(e)) h.decl = r->getDecl();
  else if (const auto* m = dyn_cast_or_null<MemberExpr>(e); m && isa<CXXThisExpr>(strip(m->getBase())))
    h.decl = m->getMemberDecl();
  if (e) h.text = text_of(e, ctx);
  return h;
}

// ---- one function ---------------------------------------------------------------------------

struct Acquisition {
  const CallExpr* call;
  const Rule* rule;
  const Acquirer* acquirer;
};

struct Outcome {
  std::vector<std::pair<int, std::string>> leaks;  // line and label of each leaking exit
  std::vector<int> throws;                         // calls that may throw while held
  std::optional<std::pair<int, std::string>> escape;
  int released = 0;
  // A path that releases it again after a release: the lines of the first and second release.
  std::optional<std::pair<int, int>> released_twice;
};

class FunctionAnalysis {
 public:
  FunctionAnalysis(ASTContext& ctx, const FunctionDecl* fd, const std::vector<Rule>& rules, std::vector<Finding>& out,
                   const std::string& file)
      : ctx_(ctx), sm_(ctx.getSourceManager()), fd_(fd), rules_(rules), out_(out), file_(file), parents_(fd->getBody()) {}

  void run() {
    collect(fd_->getBody());
    for (const auto& a : acquisitions_) analyze(a);
  }

 private:
  void collect(const Stmt* s) {
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

  int line(SourceLocation loc) const { return static_cast<int>(sm_.getExpansionLineNumber(loc)); }

  // A full expression without the cleanups of its temporaries (`db.free("name", c);`).
  static const Stmt* bare(const Stmt* s) {
    if (const auto* e = dyn_cast_or_null<ExprWithCleanups>(s)) return e->getSubExpr()->IgnoreImplicit();
    return s;
  }

  // Which way a condition says the handle is null: true for `!c` and `c == nullptr`, false
  // for `c` and `c != nullptr`; nullopt when it says nothing about it.
  std::optional<bool> null_when(const Expr* cond, const Handle& h) const {
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

  const Stmt* parent(const Stmt* s) const {
    const Stmt* p = parents_.getParent(s);
    while (p && (isa<ImplicitCastExpr>(p) || isa<ParenExpr>(p) || isa<ExprWithCleanups>(p) ||
                 isa<MaterializeTemporaryExpr>(p) || isa<CXXBindTemporaryExpr>(p) || isa<CXXFunctionalCastExpr>(p)))
      p = parents_.getParent(p);
    return p;
  }

  // The handle, or a local it was copied to (`Conn* d = c;`).
  bool is_handle(const Expr* e, const Handle& h) const {
    const Handle x = handle_of(e, ctx_);
    if (x == h) return true;
    return x.decl && std::find(aliases_.begin(), aliases_.end(), x.decl) != aliases_.end();
  }

  // Whether a call releases the handle.
  bool releases(const Stmt* s, const Acquisition& a, const Handle& h) const {
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
      if (!matches(f.pattern, callee)) continue;
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
  bool direct_release(const Stmt* s, const Acquisition& a, const Handle& h) const {
    ++depth_;
    const bool direct = releases(bare(s), a, h);
    --depth_;
    return direct;
  }

  bool releases_within(const Stmt* s, const Acquisition& a, const Handle& h) const {
    if (!s) return false;
    if (releases(s, a, h)) return true;
    for (const Stmt* c : s->children()) {
      if (releases_within(c, a, h)) return true;
    }
    return false;
  }

  static bool nothrow(const FunctionDecl* f) {
    if (!f) return false;
    if (f->getBuiltinID()) return true;
    // C functions (puts, memcpy, the C library) throw no C++ exception.
    if (f->isExternC()) return true;
    const auto* t = f->getType()->getAs<FunctionProtoType>();
    return t && t->isNothrow();
  }

  // A call that may throw while the handle is held, outside a try whose handler releases it.
  bool may_throw(const Stmt* s, const Acquisition& a, const Handle& h) const {
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

  std::string jump_label(const Stmt* s) const {
    if (!s) return "";
    if (isa<ReturnStmt>(s)) return fmt::format("the return at line {}", line(s->getBeginLoc()));
    if (isa<BreakStmt>(s)) return fmt::format("the break at line {}", line(s->getBeginLoc()));
    if (isa<ContinueStmt>(s)) return fmt::format("the continue at line {}", line(s->getBeginLoc()));
    if (isa<GotoStmt>(s)) return fmt::format("the goto at line {}", line(s->getBeginLoc()));
    if (isa<CXXThrowExpr>(s)) return fmt::format("the throw at line {}", line(s->getBeginLoc()));
    return "";
  }

  // Follows every path of the CFG from the acquisition.
  Outcome follow(const Acquisition& a, const Handle& h, const Stmt* anchor) {
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
      // On the branch where the handle is null there is nothing to release.
      std::optional<bool> null_branch;
      if (it.block->succ_size() == 2 && !a.acquirer->receiver_handle)
        null_branch = null_when(dyn_cast_or_null<Expr>(it.block->getTerminatorCondition()), h);
      unsigned succ_index = 0;
      for (const auto& succ : it.block->succs()) {
        const bool true_branch = succ_index++ == 0;
        if (null_branch && *null_branch == true_branch) continue;
        const CFGBlock* next = succ.getReachableBlock();
        if (!next) continue;
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

  // Whether s is a call to an acquirer of the rule (a path that takes another handle).
  static bool acquires(const Stmt* s, const Rule& r) {
    const auto* call = dyn_cast<CallExpr>(s);
    if (!call || !call->getDirectCallee()) return false;
    return std::any_of(r.acquirers.begin(), r.acquirers.end(), [&](const Acquirer& a) { return matches(a.pattern, call->getDirectCallee()); });
  }

  // The line of a second release of the handle on a path that starts at element `index` of
  // `block`, just after a release; a path that acquires again, or assigns the handle, ends.
  std::optional<int> released_again(const Acquisition& a, const Handle& h, const CFGBlock* block, unsigned index,
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
      std::optional<bool> null_branch;
      if (b->succ_size() == 2 && !a.acquirer->receiver_handle)
        null_branch = null_when(dyn_cast_or_null<Expr>(b->getTerminatorCondition()), h);
      unsigned succ_index = 0;
      for (const auto& succ : b->succs()) {
        const bool true_branch = succ_index++ == 0;
        if (null_branch && *null_branch == true_branch) continue;
        const CFGBlock* next = succ.getReachableBlock();
        if (next && seen.insert(next->getBlockID()).second) work.push_back({next, 0});
      }
    }
    return std::nullopt;
  }

  // Where the acquired value goes; nullopt when it is managed (a guard or smart pointer takes it).
  struct Use {
    enum { Held, Receiver, Returned, Stored, Discarded, Managed } what = Held;
    const Stmt* anchor = nullptr;
    Handle handle;
    std::string detail;
  };

  Use use_of(const Acquisition& a) const {
    Use u;
    if (a.acquirer->receiver_handle) {
      const auto* m = dyn_cast<CXXMemberCallExpr>(a.call);
      if (!m) return {Use::Managed, nullptr, {}, ""};
      u.what = Use::Receiver;
      u.anchor = a.call;
      u.handle = handle_of(m->getImplicitObjectArgument(), ctx_);
      return u;
    }
    const Stmt* p = parent(a.call);
    if (const auto* ds = dyn_cast_or_null<DeclStmt>(p)) {
      if (ds->isSingleDecl()) {
        if (const auto* v = dyn_cast<VarDecl>(ds->getSingleDecl()); v && v->hasLocalStorage() && !v->getType()->isRecordType()) {
          u.what = Use::Held;
          u.anchor = ds;
          u.handle = Handle{v, v->getNameAsString()};
          return u;
        }
      }
      return {Use::Managed, nullptr, {}, ""};  // a guard object constructed from it
    }
    if (const auto* bo = dyn_cast_or_null<BinaryOperator>(p); bo && bo->isAssignmentOp() && strip(bo->getRHS()) == a.call) {
      if (const auto* v = local_var(bo->getLHS()); v && !v->isStaticLocal()) {
        u.what = Use::Held;
        u.anchor = bo;
        u.handle = Handle{v, v->getNameAsString()};
        return u;
      }
      const Expr* lhs = strip(bo->getLHS());
      u.what = Use::Stored;
      u.detail = text_of(lhs, ctx_);
      if (const auto* me = dyn_cast<MemberExpr>(lhs)) u.handle = Handle{me->getMemberDecl(), u.detail};
      return u;
    }
    if (isa_and_nonnull<ReturnStmt>(p)) return {Use::Returned, nullptr, {}, ""};
    if (!p || isa<CompoundStmt>(p)) return {Use::Discarded, nullptr, {}, ""};
    return {Use::Managed, nullptr, {}, ""};  // an argument: to a guard, a smart pointer or a callee
  }

  // A class that acquires into a member and releases it in its destructor is a guard.
  bool released_by_destructor(const ValueDecl* field) const {
    const auto* fd = dyn_cast_or_null<FieldDecl>(field);
    if (!fd) return false;
    const auto* cls = dyn_cast<CXXRecordDecl>(fd->getParent());
    const CXXDestructorDecl* dtor = cls ? cls->getDestructor() : nullptr;
    if (!dtor || !dtor->hasBody()) return false;
    bool found = false;
    std::function<void(const Stmt*)> visit = [&](const Stmt* s) {
      if (!s || found) return;
      if (const auto* call = dyn_cast<CallExpr>(s)) {
        for (const Expr* arg : call->arguments()) {
          if (const auto* me = dyn_cast<MemberExpr>(strip(arg)); me && me->getMemberDecl() == field) found = true;
        }
        if (const auto* m = dyn_cast<CXXMemberCallExpr>(call)) {
          if (const auto* me = dyn_cast_or_null<MemberExpr>(strip(m->getImplicitObjectArgument())); me && me->getMemberDecl() == field)
            found = true;
        }
      }
      for (const Stmt* c : s->children()) visit(c);
    };
    visit(dtor->getBody());
    return found;
  }

  // Where a 1-based line of the main file starts; the size of the file past its last line.
  std::size_t line_start(unsigned ln) const {
    if (line_starts_.empty()) {
      bool invalid = false;
      const auto buf = sm_.getBufferData(sm_.getMainFileID(), &invalid);
      line_starts_.push_back(0);
      for (std::size_t i = 0; !invalid && i < buf.size(); ++i) {
        if (buf[i] == '\n') line_starts_.push_back(i + 1);
      }
      buffer_size_ = invalid ? 0 : buf.size();
    }
    if (ln < 1) return std::string_view::npos;
    return ln <= line_starts_.size() ? line_starts_[ln - 1] : buffer_size_;
  }

  std::string line_text(unsigned ln) const {
    bool invalid = false;
    const auto buf = sm_.getBufferData(sm_.getMainFileID(), &invalid);
    const std::size_t start = line_start(ln);
    if (invalid || start == std::string_view::npos || start >= buf.size()) return "";
    const auto end = buf.find('\n', start);
    return std::string(buf.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
  }

  bool suppressed(int at_line, const std::string& rule) const {
    auto says = [&](int l) {
      if (l < 1) return false;
      const std::string text = line_text(static_cast<unsigned>(l));
      const auto at = text.find("leakfix: ignore");
      if (at == std::string::npos) return false;
      const std::string_view rest = std::string_view(text).substr(at + 15);
      if (rest.empty() || rest.front() != '[') return true;
      return rest.find(rule) != std::string_view::npos;
    };
    return says(at_line) || says(at_line - 1);
  }

  void analyze(const Acquisition& a) {
    aliases_.clear();
    const SourceLocation loc = sm_.getExpansionLoc(a.call->getBeginLoc());
    if (!sm_.isInMainFile(loc)) return;
    const Use u = use_of(a);
    Finding f;
    f.rule = a.rule->id;
    f.file = file_;
    const auto begin = sm_.getPresumedLoc(loc), end = sm_.getPresumedLoc(sm_.getExpansionLoc(a.call->getEndLoc()));
    f.span = Span{static_cast<int>(begin.getLine()), static_cast<int>(begin.getColumn()), static_cast<int>(end.getLine()),
                  static_cast<int>(end.getColumn()) + 1};
    f.function = function_name(fd_);
    f.reason = "only a handle held in a local, or a mutex locked by a statement, is rewritten";
    const std::string callee = a.call->getDirectCallee()->getQualifiedNameAsString();
    const std::string what = fmt::format("{} from {}()", a.rule->resource, callee);
    bool no_rewrite = false;
    auto exit_at = [&](int l, std::string label) {
      if (l > 0) {
        f.exit = Span{l, 1, l, 1};
        f.exit_label = std::move(label);
      }
    };
    switch (u.what) {
      case Use::Managed:
        return;
      case Use::Returned:
        f.kind = Kind::Escapes;
        f.reason = "ownership leaves the function; review by hand";
        f.message = fmt::format("{} escapes: it is returned at line {}; the function is treated as an acquirer", what, f.span.line);
        break;
      case Use::Stored:
        if (released_by_destructor(u.handle.decl)) return;  // a guard class of the code base
        f.kind = Kind::Escapes;
        f.reason = "ownership leaves the function; review by hand";
        f.message = fmt::format("{} escapes: it is stored in `{}`", what, u.detail);
        break;
      case Use::Discarded:
        f.kind = Kind::NeverClosed;
        f.reason = "the result is discarded: there is nothing to put in a guard";
        f.message = fmt::format("{} is never released: the result is discarded", what);
        break;
      case Use::Held:
      case Use::Receiver: {
        f.variable = u.handle.text;
        // A lambda that releases it (a scope-exit helper) manages it.
        bool lambda_releases = false;
        std::function<void(const Stmt*)> scan_lambdas = [&](const Stmt* s) {
          if (!s || lambda_releases) return;
          if (const auto* l = dyn_cast<LambdaExpr>(s)) {
            if (releases_within(l->getBody(), a, u.handle)) lambda_releases = true;
            return;
          }
          for (const Stmt* c : s->children()) scan_lambdas(c);
        };
        scan_lambdas(fd_->getBody());
        if (lambda_releases) return;
        Outcome o = follow(a, u.handle, u.anchor);
        // The earliest place names the path.
        std::sort(o.leaks.begin(), o.leaks.end());
        std::sort(o.throws.begin(), o.throws.end());
        const std::string verb = u.what == Use::Receiver ? "unlocked" : "released";
        // The kind is the rule both languages share (core/finding.h): a path that leaks beats
        // one that hands the handle on, as in Python.
        const auto kind = judge(PathFacts{!o.leaks.empty(), o.released > 0, o.escape.has_value(), !o.throws.empty(), true});
        // A second release is its own finding. A guard would release once, so no rewrite is
        // offered for the acquisition until the code says which release it means.
        if (o.released_twice) {
          const auto [first, second] = *o.released_twice;
          Finding twice = f;
          twice.kind = Kind::DoubleRelease;
          twice.message = fmt::format("{} is {} twice: at line {}, and again at line {}", what, verb, first, second);
          twice.reason = fmt::format("it is {} twice (lines {} and {}): remove one release by hand, then fix", verb, first, second);
          twice.exit = Span{second, 1, second, 1};
          twice.exit_label = fmt::format("{} again here", verb);
          if (!suppressed(twice.span.line, twice.rule)) out_.push_back(twice);
          if (!kind || *kind == Kind::ManualSafe) return;
          f.reason = twice.reason;
          no_rewrite = true;
        }
        if (kind) f.kind = *kind;
        if (!kind) {
          return;
        } else if (*kind == Kind::Escapes) {
          f.reason = "ownership leaves the function; review by hand";
          f.message = fmt::format("{} escapes: {}", what, o.escape->second);
          exit_at(o.escape->first, "ownership leaves here");
        } else if (*kind == Kind::NeverClosed && !o.leaks.empty()) {
          f.message = fmt::format("{} is never {} (still held at {})", what, verb, o.leaks.front().second);
          exit_at(o.leaks.front().first, "still held here");
        } else if (*kind == Kind::NeverClosed) {
          f.message = fmt::format("{} is never {}", what, verb);
          exit_at(o.throws.front(), "may throw here");
        } else if (*kind == Kind::LeakyPath) {
          const auto& l = o.leaks.front();
          f.message = l.second.starts_with("acquired again")
                          ? fmt::format("{} is {}", what, l.second)
                          : fmt::format("{} is not {} on {}", what, verb, l.second);
          exit_at(l.first, "leaks here");
        } else if (*kind == Kind::ExceptionUnsafe) {
          f.message = fmt::format("{} leaks if the call at line {} throws", what, o.throws.front());
          exit_at(o.throws.front(), "may throw here");
        } else {
          f.message = fmt::format("{} is {} by hand on every path; an RAII guard says so in one place", what, verb);
        }
        break;
      }
    }
    if (suppressed(f.span.line, f.rule)) return;
    if ((u.what == Use::Held || u.what == Use::Receiver) && f.kind != Kind::Escapes && !no_rewrite) plan_fix(a, u, f);
    out_.push_back(std::move(f));
  }

  // ---- the rewrite -------------------------------------------------------------------------

  bool mentions(const Stmt* s, const Handle& h) const {
    if (!s) return false;
    if (const auto* e = dyn_cast<Expr>(s); e && (isa<DeclRefExpr>(e) || isa<MemberExpr>(e)) && is_handle(e, h)) return true;
    for (const Stmt* c : s->children()) {
      if (mentions(c, h)) return true;
    }
    return false;
  }

  std::uint32_t offset(SourceLocation loc) const { return sm_.getFileOffset(sm_.getExpansionLoc(loc)); }

  // Statement-level releases inside s (not inside lambdas).
  void release_statements(const Stmt* s, const Acquisition& a, const Handle& h, std::vector<const Stmt*>& out, bool& other) const {
    if (!s || isa<LambdaExpr>(s)) return;
    if (releases(s, a, h)) {
      const Stmt* statement = s;
      if (const Stmt* p = parents_.getParent(s); isa_and_nonnull<ExprWithCleanups>(p)) statement = p;
      if (isa_and_nonnull<CompoundStmt>(parents_.getParent(statement))) out.push_back(statement);
      else other = true;
      return;
    }
    for (const Stmt* c : s->children()) release_statements(c, a, h, out, other);
  }

  static bool is_loop(const Stmt* s) {
    return isa<ForStmt>(s) || isa<WhileStmt>(s) || isa<DoStmt>(s) || isa<CXXForRangeStmt>(s);
  }

  bool within(const Stmt* inner, const Stmt* outer) const {
    for (const Stmt* p = inner; p; p = parents_.getParent(p)) {
      if (p == outer) return true;
    }
    return false;
  }

  // Dropping a release keeps the handle until the block ends: nothing may run after it inside
  // the block on that path, except leaving the block.
  std::optional<std::string> safe_to_drop(const Stmt* r, const Acquisition& a, const Handle& h, const CompoundStmt* block,
                                          const std::vector<const Stmt*>& region) const {
    const Stmt* c = r;
    for (int guard = 0; guard < 1000; ++guard) {
      const auto* list = dyn_cast_or_null<CompoundStmt>(parents_.getParent(c));
      if (!list) return fmt::format("the release at line {} is not a statement of a block", line(r->getBeginLoc()));
      bool after = false;
      const Stmt* last = nullptr;
      for (const Stmt* k : list->body()) {
        if (after && mentions(k, h) && !releases(bare(k), a, h)) return fmt::format("the handle is used after the release at line {}", line(r->getBeginLoc()));
        if (k == c) after = true;
        last = k;
      }
      if (list == block) return std::nullopt;
      if (last && (isa<ReturnStmt>(last) || isa<CXXThrowExpr>(last))) return std::nullopt;
      if (last && (isa<BreakStmt>(last) || isa<ContinueStmt>(last))) {
        // Leaves the block only when its loop is outside the region.
        for (const Stmt* p = parents_.getParent(last); p; p = parents_.getParent(p)) {
          if (is_loop(p) || isa<SwitchStmt>(p)) {
            const bool inside = std::any_of(region.begin(), region.end(), [&](const Stmt* s) { return within(p, s); });
            if (!inside) return std::nullopt;
            break;
          }
        }
      }
      const Stmt* owner = parents_.getParent(list);
      if (!owner || is_loop(owner) || isa<SwitchStmt>(owner) || isa<CaseStmt>(owner) || isa<CXXTryStmt>(owner) ||
          isa<CXXCatchStmt>(owner))
        return fmt::format("the release at line {} is inside a loop, switch or try that goes on", line(r->getBeginLoc()));
      c = owner;
      while (isa_and_nonnull<IfStmt>(parents_.getParent(c))) c = parents_.getParent(c);  // else-if chains
    }
    return std::string("the block is too deep");
  }

  static std::string indent_of(std::string_view text) { return std::string(text.substr(0, text.find_first_not_of(" \t"))); }

  std::optional<std::string> pick_name(const std::string& want) const {
    std::set<std::string> names;
    std::function<void(const Stmt*)> visit = [&](const Stmt* s) {
      if (!s) return;
      if (const auto* d = dyn_cast<DeclStmt>(s)) {
        for (const Decl* x : d->decls()) {
          if (const auto* n = dyn_cast<NamedDecl>(x)) names.insert(n->getNameAsString());
        }
      }
      for (const Stmt* c : s->children()) visit(c);
    };
    visit(fd_->getBody());
    for (const auto* p : fd_->parameters()) names.insert(p->getNameAsString());
    std::string name = want;
    for (int k = 2; names.contains(name) && k < 100; ++k) name = want + std::to_string(k);
    return name;
  }

  // A class of this TU built from the pool that acquires in its constructor and releases in its
  // destructor, with operator-> (and get() for plain pointer uses).
  const CXXRecordDecl* find_guard(const Acquisition& a, QualType pool_type, bool& has_get) const {
    const CXXRecordDecl* found = nullptr;
    const auto* pool = pool_type->getAsCXXRecordDecl();
    if (!pool) return nullptr;
    for (const Decl* d : ctx_.getTranslationUnitDecl()->decls()) {
      const auto* cls = dyn_cast<CXXRecordDecl>(d);
      if (!cls || !cls->hasDefinition() || cls == pool) continue;
      const CXXDestructorDecl* dtor = cls->getDestructor();
      if (!dtor || !dtor->hasBody()) continue;
      bool ctor_from_pool = false, arrow = false;
      has_get = false;
      for (const auto* ctor : cls->ctors()) {
        if (ctor->getNumParams() != 1) continue;
        const QualType t = ctor->getParamDecl(0)->getType().getNonReferenceType().getUnqualifiedType();
        if (t->getAsCXXRecordDecl() != pool) continue;
        for (const auto* init : ctor->inits()) {
          if (const auto* call = dyn_cast_or_null<CallExpr>(strip(init->getInit()));
              call && init->getMember() && matches(a.acquirer->pattern, call->getDirectCallee()) && released_by_destructor(init->getMember()))
            ctor_from_pool = true;
        }
      }
      for (const auto* m : cls->methods()) {
        if (m->getOverloadedOperator() == OO_Arrow) arrow = true;
        if (m->getNameAsString() == "get" && m->getNumParams() == 0) has_get = true;
      }
      if (ctor_from_pool && arrow) found = cls;
    }
    return found;
  }

  void plan_fix(const Acquisition& a, const Use& u, Finding& f) {
    auto why = rewrite(a, u, f);
    if (why) {
      f.fixable = false;
      f.reason = *why;
    }
  }

  static std::string function_name(const FunctionDecl* fd) {
    if (const auto* m = dyn_cast<CXXMethodDecl>(fd); m && m->getParent()->isLambda()) {
      const DeclContext* dc = m->getParent()->getDeclContext();
      while (dc && !isa<FunctionDecl>(dc)) dc = dc->getParent();
      return (dc ? function_name(cast<FunctionDecl>(dc)) : std::string("<global>")) + "::<lambda>";
    }
    return fd->getQualifiedNameAsString();
  }

  std::optional<std::string> rewrite(const Acquisition& a, const Use& u, Finding& f) {
    const Stmt* anchor = u.anchor;
    if (!aliases_.empty()) return fmt::format("the handle is copied to `{}`", aliases_.front()->getNameAsString());
    // Handed on by one path and leaked by another: a guard would release what the caller gets.
    if (const auto at_return = u.what == Use::Receiver ? std::nullopt : returned_at(fd_->getBody(), u.handle))
      return fmt::format("it is returned at line {}: a guard would release what the caller gets; release the other paths by hand",
                         *at_return);
    if (fd_->isTemplateInstantiation() || fd_->getTemplatedKind() != FunctionDecl::TK_NonTemplate)
      return std::string("inside a template: one rewrite would serve every instantiation");
    if (a.call->getBeginLoc().isMacroID()) return std::string("the acquisition is written by a macro");
    if (isa<BinaryOperator>(anchor)) return std::string("the handle is assigned, not declared, where it is acquired");
    const auto* block = dyn_cast_or_null<CompoundStmt>(parents_.getParent(anchor));
    if (!block) return std::string("the acquisition is not a statement of a block");
    if (anchor->getBeginLoc().isMacroID() || anchor->getEndLoc().isMacroID()) return std::string("inside a macro");
    std::vector<const Stmt*> stmts(block->body_begin(), block->body_end());
    const auto at = static_cast<std::size_t>(std::find(stmts.begin(), stmts.end(), anchor) - stmts.begin());
    if (at >= stmts.size()) return std::string("the acquisition is not a statement of a block");
    std::size_t last = at;
    if (u.what == Use::Receiver) {
      // A lock's block runs to its last unlock; with none, to the end of the block.
      last = stmts.size() - 1;
      std::optional<std::size_t> unlocked;
      for (std::size_t j = at + 1; j < stmts.size(); ++j) {
        if (releases_within(stmts[j], a, u.handle)) unlocked = j;
      }
      if (unlocked) last = *unlocked;
    } else {
      for (std::size_t j = at + 1; j < stmts.size(); ++j) {
        if (mentions(stmts[j], u.handle)) last = j;
      }
    }
    // Names declared in the block must stay visible to the statements after it: a handle's block
    // grows to cover them; a lock's may not (the code after it would run locked).
    for (bool grew = true; grew && last + 1 < stmts.size();) {
      grew = false;
      std::set<const Decl*> declared;
      for (std::size_t j = at + 1; j <= last; ++j) {
        if (const auto* ds = dyn_cast<DeclStmt>(stmts[j])) {
          for (const Decl* d : ds->decls()) declared.insert(d);
        }
      }
      std::function<bool(const Stmt*)> uses = [&](const Stmt* s) {
        if (!s) return false;
        if (const auto* r = dyn_cast<DeclRefExpr>(s); r && declared.contains(r->getDecl())) return true;
        for (const Stmt* c : s->children()) {
          if (uses(c)) return true;
        }
        return false;
      };
      for (std::size_t j = last + 1; j < stmts.size(); ++j) {
        if (!uses(stmts[j])) continue;
        // Returning a value computed under the lock may keep it: the copy is all that runs locked.
        const bool final_return = isa<ReturnStmt>(stmts[j]) && j + 1 == stmts.size();
        if (u.what == Use::Receiver && !final_return)
          return fmt::format("a variable declared while locked is used after the unlock, at line {}", line(stmts[j]->getBeginLoc()));
        last = j;
        grew = true;
      }
    }
    std::vector<const Stmt*> region(stmts.begin() + static_cast<std::ptrdiff_t>(at) + 1, stmts.begin() + static_cast<std::ptrdiff_t>(last) + 1);
    std::vector<const Stmt*> drops;
    bool other = false;
    for (const Stmt* s : region) release_statements(s, a, u.handle, drops, other);
    if (other) return std::string("a release is part of a larger expression");
    for (const Stmt* r : drops) {
      if (r->getBeginLoc().isMacroID()) return std::string("a release is inside a macro");
      if (!direct_release(r, a, u.handle)) {
        const auto* call = dyn_cast<CallExpr>(bare(r));
        return fmt::format("it is released inside {}(), another function, which a guard would release a second time",
                           call && call->getDirectCallee() ? call->getDirectCallee()->getNameAsString() : "a call");
      }
      if (auto why = safe_to_drop(r, a, u.handle, block, region)) return why;
    }
    std::function<bool(const Stmt*)> has_goto = [&](const Stmt* s) {
      if (!s) return false;
      if (isa<GotoStmt>(s) || isa<LabelStmt>(s)) return true;
      for (const Stmt* c : s->children()) {
        if (has_goto(c)) return true;
      }
      return false;
    };
    for (const Stmt* s : region) {
      if (has_goto(s)) return std::string("a goto crosses the block");
    }
    if (auto why = reacquired_while_guarded(a, drops, region)) return why;

    // The guard's declaration.
    std::string decl;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> to_get;  // plain uses that need .get()
    const std::string name = u.handle.text;
    if (u.what == Use::Receiver) {
      const auto* m = cast<CXXMemberCallExpr>(a.call);
      const QualType t = m->getImplicitObjectArgument()->getType().getNonReferenceType().getUnqualifiedType();
      const std::string guard = *pick_name("guard");
      const std::string type = a.rule->guard.empty() ? "std::lock_guard" : a.rule->guard;
      decl = ctx_.getLangOpts().CPlusPlus17 ? fmt::format("{} {}({});", type, guard, name)
                                            : fmt::format("{}<{}> {}({});", type, t.getAsString(ctx_.getPrintingPolicy()), guard, name);
      if (type == "std::lock_guard" || type == "std::unique_lock" || type == "std::scoped_lock") include_ = "<mutex>";
      f.fix.emplace();
      f.fix->summary = decl;
    } else {
      const auto* var = cast<VarDecl>(u.handle.decl);
      const auto* m = dyn_cast<CXXMemberCallExpr>(a.call);
      if (!m || !var->getType()->isPointerType()) return std::string("only `T* h = pool.acquire();` is rewritten");
      const Expr* pool = m->getImplicitObjectArgument();
      const std::string pool_text = text_of(pool, ctx_);
      // The pool as the guard's constructor takes it: `*pool` when the code holds a pointer.
      const bool pool_pointer = pool->getType()->isPointerType();
      const QualType pool_type = pool_pointer ? pool->getType()->getPointeeType() : pool->getType().getNonReferenceType();
      const bool simple = std::all_of(pool_text.begin(), pool_text.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '>' || ch == '-'; });
      const std::string pool_ref = !pool_pointer ? pool_text : simple ? "*" + pool_text : "*(" + pool_text + ")";
      std::optional<std::string> in_macro;
      const std::string pointee = var->getType()->getPointeeType().getAsString(ctx_.getPrintingPolicy());
      // Plain uses of the pointer (not c->x, not *c) become c.get().
      std::function<void(const Stmt*)> uses = [&](const Stmt* s) {
        if (!s) return;
        if (const auto* r = dyn_cast<DeclRefExpr>(s); r && r->getDecl() == var) {
          const Stmt* p = parents_.getParent(r);
          while (isa_and_nonnull<ImplicitCastExpr>(p) || isa_and_nonnull<ParenExpr>(p)) p = parents_.getParent(p);
          const bool arrow = isa_and_nonnull<MemberExpr>(p) && cast<MemberExpr>(p)->isArrow();
          const bool deref = isa_and_nonnull<UnaryOperator>(p) && cast<UnaryOperator>(p)->getOpcode() == UO_Deref;
          if (!arrow && !deref) {
            // In a macro's argument (`LOG_ERROR("%p", c)`) the use is written in the file, where
            // its spelling is; in the macro's own text it cannot be edited.
            SourceLocation where = r->getBeginLoc();
            if (where.isMacroID()) {
              if (!sm_.isMacroArgExpansion(where)) {
                in_macro = fmt::format("`{}` is used inside the text of a macro at line {}", name, line(where));
                return;
              }
              where = sm_.getSpellingLoc(where);
              if (!sm_.isInMainFile(where)) {
                in_macro = fmt::format("`{}` is used through a macro at line {}", name, line(r->getBeginLoc()));
                return;
              }
            }
            const std::uint32_t b = sm_.getFileOffset(where);
            to_get.emplace_back(b, b + static_cast<std::uint32_t>(name.size()));
          }
        }
        for (const Stmt* c : s->children()) uses(c);
      };
      for (const Stmt* s : region) {
        if (std::find(drops.begin(), drops.end(), s) != drops.end()) continue;
        bool in_drop = false;
        for (const Stmt* d : drops) in_drop = in_drop || within(s, d);
        if (!in_drop) uses(s);
      }
      // Uses inside dropped releases do not count.
      std::erase_if(to_get, [&](const auto& range) {
        return std::any_of(drops.begin(), drops.end(), [&](const Stmt* d) {
          return range.first >= offset(d->getBeginLoc()) && range.first <= offset(d->getEndLoc());
        });
      });
      if (in_macro) return *in_macro;
      bool has_get = false;
      if (const CXXRecordDecl* g = find_guard(a, pool_type, has_get)) {
        if (!to_get.empty() && !has_get)
          return fmt::format("{} has no get() for the plain uses of `{}`", g->getNameAsString(), name);
        decl = fmt::format("{} {}({});", g->getNameAsString(), name, pool_ref);
      } else if (!a.rule->guard.empty()) {
        decl = fmt::format("{} {}({});", a.rule->guard, name, pool_ref);
      } else {
        const std::string deleter = *pick_name(name + "_release");
        auto release = deleter_body(drops, u.handle, anchor);
        if (!release) return release.error().message;
        decl = fmt::format("auto {} = [&]({}* p) {{ {}; }};\n{}std::unique_ptr<{}, decltype({})> {}({}, {});", deleter,
                           pointee, *release, "\x01", pointee, deleter, name, text_of(a.call, ctx_), deleter);
        include_ = "<memory>";
      }
      f.fix.emplace();
      f.fix->summary = decl.substr(0, decl.find('\n'));
    }

    // Render the lines from the acquisition to the end of the region as one edit.
    const unsigned first_line = static_cast<unsigned>(line(anchor->getBeginLoc()));
    const SourceLocation region_end = region.empty() ? anchor->getEndLoc() : region.back()->getEndLoc();
    unsigned last_line = static_cast<unsigned>(line(Lexer::getLocForEndOfToken(region_end, 0, sm_, ctx_.getLangOpts())));
    const bool wrap = last + 1 < stmts.size();
    const std::string indent = indent_of(line_text(first_line));
    const std::string unit = [&] {
      const std::string outer = indent_of(line_text(static_cast<unsigned>(line(block->getLBracLoc()))));
      if (indent.size() > outer.size() && indent.starts_with(outer)) return indent.substr(outer.size());
      return std::string(indent.find('\t') != std::string::npos ? "\t" : "  ");
    }();
    std::set<unsigned> dropped_lines;
    for (const Stmt* d : drops) {
      const auto b = static_cast<unsigned>(line(d->getBeginLoc()));
      const auto e = static_cast<unsigned>(line(d->getEndLoc()));
      for (unsigned l = b; l <= e; ++l) dropped_lines.insert(l);
    }
    std::string out;
    if (wrap) out += indent + "{\n";
    const std::string shift = wrap ? unit : "";
    const unsigned decl_last = static_cast<unsigned>(line(anchor->getEndLoc()));
    std::string head = decl;
    for (auto pos = head.find("\x01"); pos != std::string::npos; pos = head.find("\x01")) head.replace(pos, 1, shift + indent);
    out += shift + indent + head;
    {
      // Keep a comment after the acquisition.
      const std::string tail = line_text(decl_last);
      const auto comment = tail.find("//");
      if (comment != std::string::npos) out += "  " + tail.substr(comment);
      out += "\n";
    }
    bool invalid = false;
    const auto buf = sm_.getBufferData(sm_.getMainFileID(), &invalid);
    if (invalid) return std::string("cannot read the file");
    for (unsigned ln = decl_last + 1; ln <= last_line; ++ln) {
      if (dropped_lines.contains(ln)) continue;
      const std::size_t ls = line_start(ln);
      std::string text = line_text(ln);
      // .get() for plain uses on this line, right to left.
      std::vector<std::pair<std::uint32_t, std::uint32_t>> here;
      for (const auto& r : to_get) {
        if (r.first >= ls && r.first < ls + text.size()) here.push_back(r);
      }
      std::sort(here.rbegin(), here.rend());
      for (const auto& r : here) text.insert(r.first - ls + name.size(), ".get()");
      if (!wrap || text.find_first_not_of(" \t") == std::string::npos) out += text + "\n";
      else out += unit + text + "\n";
    }
    if (wrap) out += indent + "}\n";
    const auto begin = static_cast<std::uint32_t>(line_start(first_line));
    std::size_t end = line_start(last_line + 1);
    if (end == std::string_view::npos) end = buf.size();
    // The edit as Clang's tooling states it (file, offset, length, text), then in leakfix's
    // own terms, which `fix` applies to Python and C++ alike.
    const SourceLocation file_start = sm_.getLocForStartOfFile(sm_.getMainFileID());
    tooling::Replacements replacements;
    if (auto err = replacements.add(tooling::Replacement(
            sm_, CharSourceRange::getCharRange(file_start.getLocWithOffset(static_cast<int>(begin)),
                                               file_start.getLocWithOffset(static_cast<int>(end))),
            out, ctx_.getLangOpts()))) {
      const std::string message = llvm::toString(std::move(err));
      return "cannot state the edit: " + message;
    }
    for (const auto& r : replacements) {
      f.fix->edits.push_back(Edit{r.getOffset(), r.getOffset() + r.getLength(), r.getReplacementText().str()});
    }
    f.fixable = true;
    f.reason.reset();
    if (!include_.empty()) f.fix->imports.push_back(ImportNeed{"#include", include_});
    return std::nullopt;
  }

  // A guard holds the handle to the end of its block. When the code gives it back and then takes
  // another from the same pool inside that block, the guard would hold both at once: the order of
  // the pool's operations would change (and a pool of one would deadlock).
  std::optional<std::string> reacquired_while_guarded(const Acquisition& a, const std::vector<const Stmt*>& drops,
                                                      const std::vector<const Stmt*>& region) const {
    const auto* m = dyn_cast<CXXMemberCallExpr>(a.call);
    const std::string pool = m ? text_of(m->getImplicitObjectArgument(), ctx_) : "";
    if (drops.empty() || region.empty()) return std::nullopt;
    std::uint32_t first_drop = std::numeric_limits<std::uint32_t>::max();
    for (const Stmt* d : drops) first_drop = std::min(first_drop, offset(d->getEndLoc()));
    const std::uint32_t end = offset(region.back()->getEndLoc());
    for (const auto& other : acquisitions_) {
      if (other.call == a.call || other.rule != a.rule) continue;
      const std::uint32_t at = offset(other.call->getBeginLoc());
      if (at <= first_drop || at > end) continue;
      const auto* om = dyn_cast<CXXMemberCallExpr>(other.call);
      const std::string other_pool = om ? text_of(om->getImplicitObjectArgument(), ctx_) : "";
      if (other_pool != pool) continue;
      return fmt::format("it is released before another {}() at line {}, which a guard would still hold it across",
                         other.call->getDirectCallee()->getNameAsString(), line(other.call->getBeginLoc()));
    }
    return std::nullopt;
  }

  // The line of the first `return h;` in s (not in a lambda).
  std::optional<int> returned_at(const Stmt* s, const Handle& h) const {
    if (!s || isa<LambdaExpr>(s)) return std::nullopt;
    if (const auto* r = dyn_cast<ReturnStmt>(s); r && r->getRetValue() && is_handle(r->getRetValue(), h))
      return line(r->getBeginLoc());
    for (const Stmt* c : s->children()) {
      if (auto at = returned_at(c, h)) return at;
    }
    return std::nullopt;
  }

  // What the deleter of a unique_ptr does: the release as the code writes it, receiver (`.` or
  // `->`) and every other argument kept, with the handle replaced by the deleter's parameter.
  // Every release the rewrite drops must be the same call, and what it names must exist where
  // the deleter is declared (at the acquisition).
  leakfix::Result<std::string> deleter_body(const std::vector<const Stmt*>& drops, const Handle& h, const Stmt* anchor) const {
    auto fail = [](std::string why) { return leakfix::Result<std::string>(leakfix::Error{"", 0, std::move(why)}); };
    if (drops.empty()) return fail("there is no release to give the guard");
    std::optional<std::string> body;
    for (const Stmt* d : drops) {
      const auto* call = dyn_cast<CallExpr>(bare(d));
      if (!call) return fail(fmt::format("the release at line {} is not a plain call", line(d->getBeginLoc())));
      const Expr* handle_arg = nullptr;
      for (const Expr* arg : call->arguments()) {
        if (is_handle(arg, h)) handle_arg = arg;
      }
      std::string text = text_of(call, ctx_);
      if (handle_arg) {
        const std::string arg_text = text_of(handle_arg, ctx_);
        const auto call_start = offset(call->getBeginLoc()), arg_start = offset(handle_arg->getBeginLoc());
        if (arg_start < call_start || arg_start - call_start + arg_text.size() > text.size())
          return fail(fmt::format("the release at line {} is written by a macro", line(d->getBeginLoc())));
        text.replace(arg_start - call_start, arg_text.size(), "p");
      } else {
        return fail(fmt::format("the release at line {} takes the handle as its object; a deleter cannot call it",
                                line(d->getBeginLoc())));
      }
      // Locals it names must be declared before the acquisition, where the deleter is.
      std::optional<std::string> late;
      std::function<void(const Stmt*)> visit = [&](const Stmt* s) {
        if (!s || late) return;
        if (const auto* r = dyn_cast<DeclRefExpr>(s); r && !is_handle(r, h)) {
          if (const auto* v = dyn_cast<VarDecl>(r->getDecl()); v && v->hasLocalStorage() && !isa<ParmVarDecl>(v) &&
                                                               sm_.isBeforeInTranslationUnit(anchor->getBeginLoc(), v->getLocation()))
            late = v->getNameAsString();
        }
        for (const Stmt* c : s->children()) visit(c);
      };
      visit(call);
      if (late) return fail(fmt::format("the release at line {} uses `{}`, declared after the acquisition", line(d->getBeginLoc()), *late));
      if (body && *body != text) return fail(fmt::format("the releases differ (`{}` and `{}`); one guard cannot make both", *body, text));
      body = text;
    }
    return *body;
  }

  std::string include_;  // the header the rewrite's guard needs

  ASTContext& ctx_;
  const SourceManager& sm_;
  const FunctionDecl* fd_;
  const std::vector<Rule>& rules_;
  std::vector<Finding>& out_;
  std::string file_;
  ParentMap parents_;
  std::vector<Acquisition> acquisitions_;
  std::unique_ptr<CFG> cfg_;
  mutable int depth_ = 0;
  mutable std::vector<const ValueDecl*> aliases_;  // of the acquisition being followed
  mutable std::vector<std::size_t> line_starts_;   // of the main file, built on first use
  mutable std::size_t buffer_size_ = 0;
};

// ---- the Clang plumbing ----------------------------------------------------------------------

class Visitor : public RecursiveASTVisitor<Visitor> {
 public:
  Visitor(ASTContext& ctx, const std::vector<Rule>& rules, std::vector<Finding>& out, std::string file)
      : ctx_(ctx), rules_(rules), out_(out), file_(std::move(file)) {}
  bool VisitFunctionDecl(FunctionDecl* fd) {
    if (!fd->hasBody() || !fd->doesThisDeclarationHaveABody() || fd->isDependentContext()) return true;
    if (const auto* m = dyn_cast<CXXMethodDecl>(fd); m && m->getParent()->isLambda()) return true;  // VisitLambdaExpr
    if (!ctx_.getSourceManager().isInMainFile(ctx_.getSourceManager().getExpansionLoc(fd->getLocation()))) return true;
    FunctionAnalysis(ctx_, fd, rules_, out_, file_).run();
    return true;
  }
  // A lambda's body is a function of its own.
  bool VisitLambdaExpr(LambdaExpr* l) {
    CXXMethodDecl* op = l->getCallOperator();
    if (!op || !op->hasBody() || op->isDependentContext()) return true;
    if (!ctx_.getSourceManager().isInMainFile(ctx_.getSourceManager().getExpansionLoc(l->getBeginLoc()))) return true;
    FunctionAnalysis(ctx_, op, rules_, out_, file_).run();
    return true;
  }
  bool shouldVisitLambdaExpressions() const { return true; }
  // Templates are analysed where they are instantiated (findings are merged per line).
  bool shouldVisitTemplateInstantiations() const { return true; }

 private:
  ASTContext& ctx_;
  const std::vector<Rule>& rules_;
  std::vector<Finding>& out_;
  std::string file_;
};

class Consumer : public ASTConsumer {
 public:
  Consumer(const std::vector<Rule>& rules, std::vector<Finding>& out, std::string file)
      : rules_(rules), out_(out), file_(std::move(file)) {}
  void HandleTranslationUnit(ASTContext& ctx) override {
    if (ctx.getDiagnostics().hasErrorOccurred()) return;
    Visitor(ctx, rules_, out_, file_).TraverseDecl(ctx.getTranslationUnitDecl());
  }

 private:
  const std::vector<Rule>& rules_;
  std::vector<Finding>& out_;
  std::string file_;
};

class Action : public ASTFrontendAction {
 public:
  Action(const std::vector<Rule>& rules, std::vector<Finding>& out, std::string file)
      : rules_(rules), out_(out), file_(std::move(file)) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance&, StringRef) override {
    return std::make_unique<Consumer>(rules_, out_, file_);
  }

 private:
  const std::vector<Rule>& rules_;
  std::vector<Finding>& out_;
  std::string file_;
};

class Factory : public tooling::FrontendActionFactory {
 public:
  Factory(const std::vector<Rule>& rules, std::vector<Finding>& out, std::string file)
      : rules_(rules), out_(out), file_(std::move(file)) {}
  std::unique_ptr<FrontendAction> create() override { return std::make_unique<Action>(rules_, out_, file_); }

 private:
  const std::vector<Rule>& rules_;
  std::vector<Finding>& out_;
  std::string file_;
};

// Keeps Clang quiet; remembers the first error for the report.
class Diagnostics : public DiagnosticConsumer {
 public:
  void HandleDiagnostic(DiagnosticsEngine::Level level, const Diagnostic& info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level < DiagnosticsEngine::Error || !first.empty()) return;
    SmallString<256> text;
    info.FormatDiagnostic(text);
    first = text.str().str();
    if (info.hasSourceManager() && info.getLocation().isValid()) {
      const auto p = info.getSourceManager().getPresumedLoc(info.getLocation());
      if (p.isValid()) first = fmt::format("{}:{}: {}", p.getFilename(), p.getLine(), first);
    }
  }
  std::string first;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whether the file or a header it includes with quotes (found next to it or on -I paths) names
// one of `names`: a TU that names none is not worth a Clang parse.
bool names_any(const fs::path& file, const std::vector<std::string>& include_dirs, const std::vector<std::string>& names,
               std::set<std::string>& seen, int depth = 0) {
  std::error_code ec;
  const auto canon = fs::weakly_canonical(file, ec).string();
  if (depth > 32 || !seen.insert(canon).second) return false;
  const std::string text = read_text(file);
  for (const auto& n : names) {
    if (text.find(n) != std::string::npos) return true;
  }
  for (std::size_t pos = text.find("#include"); pos != std::string::npos; pos = text.find("#include", pos + 8)) {
    const auto open = text.find('"', pos);
    const auto eol = text.find('\n', pos);
    if (open == std::string::npos || (eol != std::string::npos && open > eol)) continue;
    const auto close = text.find('"', open + 1);
    if (close == std::string::npos) continue;
    const std::string inc = text.substr(open + 1, close - open - 1);
    std::vector<fs::path> candidates{file.parent_path() / inc};
    for (const auto& d : include_dirs) candidates.emplace_back(fs::path(d) / inc);
    for (const auto& c : candidates) {
      if (fs::exists(c, ec) && names_any(c, include_dirs, names, seen, depth + 1)) return true;
    }
  }
  return false;
}

std::vector<std::string> include_dirs_of(const tooling::CompileCommand& cmd) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < cmd.CommandLine.size(); ++i) {
    std::string a = cmd.CommandLine[i];
    std::string dir;
    if ((a == "-I" || a == "-iquote" || a == "-isystem") && i + 1 < cmd.CommandLine.size()) dir = cmd.CommandLine[++i];
    else if (a.starts_with("-I")) dir = a.substr(2);
    else continue;
    out.push_back(fs::path(dir).is_absolute() ? dir : (fs::path(cmd.Directory) / dir).string());
  }
  return out;
}

}  // namespace

std::optional<std::string> check_compiles(const InputFile& file, const std::string& content, const Options& options) {
  std::string error;
  std::unique_ptr<tooling::CompilationDatabase> db;
  std::error_code ec;
  const std::string absolute = fs::absolute(file.path, ec).lexically_normal().string();
  if (!options.build_dir.empty()) db = tooling::CompilationDatabase::loadFromDirectory(options.build_dir, error);
  else if (!options.extra_args.empty()) db = std::make_unique<tooling::FixedCompilationDatabase>(".", options.extra_args);
  else db = tooling::CompilationDatabase::autoDetectFromSource(absolute, error);
  if (!db) return "no compile command to check the rewrite with";
  Diagnostics diags;
  tooling::ClangTool tool(*db, {absolute}, std::make_shared<PCHContainerOperations>(), llvm::vfs::createPhysicalFileSystem());
  tool.mapVirtualFile(absolute, content);
  tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster("-resource-dir=" LEAKFIX_CLANG_RESOURCE_DIR,
                                                                  tooling::ArgumentInsertPosition::BEGIN));
  tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster({"-w", "-fno-caret-diagnostics", "-fsyntax-only"},
                                                                  tooling::ArgumentInsertPosition::END));
  tool.setDiagnosticConsumer(&diags);
  tool.setPrintErrorMessage(false);
  const auto factory = tooling::newFrontendActionFactory<SyntaxOnlyAction>();
  if (tool.run(factory.get()) != 0 || diags.getNumErrors() > 0)
    return diags.first.empty() ? std::string("the rewritten file does not compile") : "the rewrite does not compile: " + diags.first;
  return std::nullopt;
}

std::string format_ranges(const std::string& path, const std::string& text,
                          const std::vector<std::pair<unsigned, unsigned>>& ranges) {
  // Only a project that has a .clang-format (or _clang-format) above the file is reformatted.
  auto style = format::getStyle("file", path, "none", text);
  if (!style) {
    llvm::consumeError(style.takeError());
    return text;
  }
  if (style->DisableFormat || ranges.empty()) return text;
  std::vector<tooling::Range> rs;
  for (const auto& [offset, length] : ranges) rs.emplace_back(offset, length);
  const auto replacements = format::reformat(*style, text, rs, path);
  auto formatted = tooling::applyAllReplacements(text, replacements);
  if (!formatted) {
    llvm::consumeError(formatted.takeError());
    return text;
  }
  return *formatted;
}

Result analyze(const std::vector<InputFile>& files, const std::vector<Rule>& rules, const Options& options) {
  Result out;
  std::vector<std::string> names;
  for (const auto& r : rules) {
    if (r.language != "cpp") continue;
    for (const auto& a : r.acquirers) names.emplace_back(last_segment(a.pattern));
  }
  if (names.empty() || files.empty()) return out;

  std::unique_ptr<tooling::CompilationDatabase> db;
  std::string error;
  if (!options.build_dir.empty()) {
    db = tooling::CompilationDatabase::loadFromDirectory(options.build_dir, error);
    if (!db) {
      out.errors.push_back(Error{options.build_dir, 0, fmt::format("cannot load compile_commands.json: {}", error)});
      return out;
    }
  } else if (!options.extra_args.empty()) {
    db = std::make_unique<tooling::FixedCompilationDatabase>(".", options.extra_args);
  }

  struct Job {
    InputFile input;
    std::string absolute;
    std::vector<tooling::CompileCommand> commands;
    const tooling::CompilationDatabase* db = nullptr;
    std::unique_ptr<tooling::CompilationDatabase> own;
  };
  std::set<std::string> listed;
  if (db) {
    for (const auto& f : db->getAllFiles()) listed.insert(fs::path(f).lexically_normal().string());
  }
  std::vector<Job> jobs;
  for (const auto& f : files) {
    Job j;
    j.input = f;
    std::error_code ec;
    j.absolute = fs::absolute(f.path, ec).lexically_normal().string();
    const tooling::CompilationDatabase* use = db.get();
    if (!use) {
      j.own = tooling::CompilationDatabase::autoDetectFromSource(j.absolute, error);
      use = j.own.get();
    }
    if (use) j.commands = use->getCompileCommands(j.absolute);
    if (db && !options.build_dir.empty() && !listed.contains(j.absolute)) {
      // Clang would infer a command from a neighbouring file; a file the build does not compile
      // (a CMake probe, a generated or dead file) is better left alone, and said so.
      out.errors.push_back(Error{f.display, 0, fmt::format("not in {}/compile_commands.json; skipped", options.build_dir)});
      continue;
    }
    if (j.commands.empty()) {
      out.errors.push_back(Error{f.display, 0,
                                 options.build_dir.empty()
                                     ? "no compile command: pass -p BUILD_DIR (compile_commands.json) or flags after `--`"
                                     : fmt::format("not in {}/compile_commands.json", options.build_dir)});
      continue;
    }
    j.db = use;
    // The prefilter: the file and its quoted includes must name an acquirer.
    std::set<std::string> seen;
    if (!names_any(j.absolute, include_dirs_of(j.commands.front()), names, seen)) {
      ++out.skipped;
      continue;
    }
    jobs.push_back(std::move(j));
  }

  std::mutex lock;
  std::atomic<std::size_t> next{0}, done{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      auto& j = jobs[i];
      std::vector<Finding> found;
      Diagnostics diags;
      // A file system of its own: the real one's working directory is the process's, and
      // ClangTool moves it to each command's directory, which races between worker threads.
      tooling::ClangTool tool(*j.db, {j.absolute}, std::make_shared<PCHContainerOperations>(),
                              llvm::vfs::createPhysicalFileSystem());
      tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
          "-resource-dir=" LEAKFIX_CLANG_RESOURCE_DIR, tooling::ArgumentInsertPosition::BEGIN));
      // -w: the project's warnings are not ours to print; -fno-caret-diagnostics also stops the
      // "N errors generated." line that Clang writes to stderr by itself.
      tool.appendArgumentsAdjuster(
          tooling::getInsertArgumentAdjuster({"-w", "-fno-caret-diagnostics"}, tooling::ArgumentInsertPosition::END));
      tool.setDiagnosticConsumer(&diags);
      tool.setPrintErrorMessage(false);
      Factory factory(rules, found, j.input.display);
      const int rc = tool.run(&factory);
      std::lock_guard guard(lock);
      if (rc != 0 || diags.getNumErrors() > 0) {
        out.errors.push_back(Error{j.input.display, 0,
                                   fmt::format("does not compile ({} error{}{}); not analysed", diags.getNumErrors(),
                                               diags.getNumErrors() == 1 ? "" : "s",
                                               diags.first.empty() ? "" : ", first: " + diags.first)});
      } else {
        ++out.translation_units;
      }
      if (!found.empty()) {
        if (auto src = SourceFile::read(j.input.path, j.input.display)) out.sources.emplace(j.input.display, std::move(*src));
      }
      for (auto& f : found) out.findings.push_back(std::move(f));
      const auto d = ++done;
      if (options.progress) options.progress(d, jobs.size(), j.input.display);
    }
  };
  const int n = std::max(1, std::min<int>(options.jobs > 0 ? options.jobs : static_cast<int>(std::thread::hardware_concurrency()),
                                          static_cast<int>(jobs.size())));
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  // Character columns, as the Python front end gives them.
  for (auto& f : out.findings) {
    auto it = out.sources.find(f.file);
    if (it == out.sources.end()) continue;
    f.span.column = it->second.character_column(f.span.line, static_cast<std::uint32_t>(f.span.column - 1));
    f.span.end_column = it->second.character_column(f.span.end_line, static_cast<std::uint32_t>(f.span.end_column - 1));
    f.snippet = normalise_snippet(it->second.line(f.span.line));
  }
  sort_findings(out.findings);
  // One finding per site, however many instantiations of a template reach it.
  out.findings.erase(std::unique(out.findings.begin(), out.findings.end(),
                                 [](const Finding& x, const Finding& y) {
                                   return x.file == y.file && x.span.line == y.span.line && x.span.column == y.span.column &&
                                          x.rule == y.rule && x.kind == y.kind;
                                 }),
                     out.findings.end());
  std::sort(out.errors.begin(), out.errors.end(), [](const Error& a, const Error& b) { return a.file < b.file; });
  return out;
}

}  // namespace leakfix::cxx

// The entry point leakfix looks up after loading this library.
extern "C" const leakfix::cxx::Api* leakfix_cxx_api() {
  static const leakfix::cxx::Api api{leakfix::cxx::kApiVersion, &leakfix::cxx::analyze, &leakfix::cxx::check_compiles,
                                     &leakfix::cxx::format_ranges};
  return &api;
}
