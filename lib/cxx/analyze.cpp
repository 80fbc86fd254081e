#include "cxx/analyze.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/AST/ParentMap.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Analysis/CFG.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>
#include <clang/Tooling/ArgumentsAdjusters.h>
#include <clang/Tooling/CompilationDatabase.h>
#include <clang/Tooling/Tooling.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
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
          if (matches(a.pattern, call->getDirectCallee())) acquisitions_.push_back({call, &r, &a});
        }
      }
    }
    for (const Stmt* c : s->children()) collect(c);
  }

  int line(SourceLocation loc) const { return static_cast<int>(sm_.getExpansionLineNumber(loc)); }

  const Stmt* parent(const Stmt* s) const {
    const Stmt* p = parents_.getParent(s);
    while (p && (isa<ImplicitCastExpr>(p) || isa<ParenExpr>(p) || isa<ExprWithCleanups>(p) ||
                 isa<MaterializeTemporaryExpr>(p) || isa<CXXBindTemporaryExpr>(p) || isa<CXXFunctionalCastExpr>(p)))
      p = parents_.getParent(p);
    return p;
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
          handle_of(m->getImplicitObjectArgument(), ctx_) == h)
        return true;
    }
    for (const auto& f : r.release_functions) {
      if (!matches(f.pattern, callee)) continue;
      const auto i = static_cast<unsigned>(f.argument);
      if (i < call->getNumArgs() && handle_of(call->getArg(i), ctx_) == h) return true;
    }
    // One level of calls: a function of this TU that releases the parameter it is passed in.
    if (depth_ == 0 && callee->hasBody() && !isa<CXXMemberCallExpr>(call)) {
      for (unsigned i = 0; i < call->getNumArgs() && i < callee->getNumParams(); ++i) {
        if (!(handle_of(call->getArg(i), ctx_) == h)) continue;
        const ParmVarDecl* param = callee->getParamDecl(i);
        ++depth_;
        const bool inner = releases_within(callee->getBody(), a, Handle{param, param->getNameAsString()});
        --depth_;
        if (inner) return true;
      }
    }
    return false;
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
        if (releases(s, a, h)) {
          ++o.released;
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
          if (r->getRetValue() && !a.acquirer->receiver_handle && handle_of(r->getRetValue(), ctx_) == h) {
            o.escape = {line(r->getBeginLoc()), fmt::format("it is returned at line {}", line(r->getBeginLoc()))};
            stop = true;
            break;
          }
          if (!jump) jump = s;
        }
        if (isa<CXXThrowExpr>(s) && !jump) jump = s;
        if (may_throw(s, a, h)) o.throws.push_back(line(s->getBeginLoc()));
      }
      if (stop) continue;
      // The first jump of a path names it: the break, not the return after the loop.
      if (const Stmt* t = it.block->getTerminatorStmt();
          t && !jump && (isa<BreakStmt>(t) || isa<ContinueStmt>(t) || isa<GotoStmt>(t)))
        jump = t;
      for (const auto& succ : it.block->succs()) {
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

  bool suppressed(int at_line, const std::string& rule) const {
    auto says = [&](int l) {
      bool invalid = false;
      const FileID fid = sm_.getMainFileID();
      const auto buf = sm_.getBufferData(fid, &invalid);
      if (invalid || l < 1) return false;
      std::size_t start = 0;
      for (int k = 1; k < l && start != std::string_view::npos; ++k) {
        start = buf.find('\n', start);
        if (start != std::string_view::npos) ++start;
      }
      if (start == std::string_view::npos) return false;
      const auto end = buf.find('\n', start);
      const std::string_view text = buf.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
      const auto at = text.find("leakfix: ignore");
      if (at == std::string_view::npos) return false;
      const auto rest = text.substr(at + 15);
      if (rest.empty() || rest.front() != '[') return true;
      return rest.find(rule) != std::string_view::npos;
    };
    return says(at_line) || says(at_line - 1);
  }

  void analyze(const Acquisition& a) {
    const SourceLocation loc = a.call->getBeginLoc();
    if (loc.isMacroID() || !sm_.isInMainFile(loc)) return;
    const Use u = use_of(a);
    Finding f;
    f.rule = a.rule->id;
    f.file = file_;
    const auto begin = sm_.getPresumedLoc(loc), end = sm_.getPresumedLoc(a.call->getEndLoc());
    f.span = Span{static_cast<int>(begin.getLine()), static_cast<int>(begin.getColumn()), static_cast<int>(end.getLine()),
                  static_cast<int>(end.getColumn()) + 1};
    f.function = fd_->getQualifiedNameAsString();
    f.reason = "rewriting C++ is not available yet";
    const std::string callee = a.call->getDirectCallee()->getQualifiedNameAsString();
    const std::string what = fmt::format("{} from {}()", a.rule->resource, callee);
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
        f.message = fmt::format("{} escapes: it is returned at line {}; the function is treated as an acquirer", what, f.span.line);
        break;
      case Use::Stored:
        if (isa<CXXConstructorDecl>(fd_) && released_by_destructor(u.handle.decl)) return;  // the guard itself
        if (released_by_destructor(u.handle.decl)) return;
        f.kind = Kind::Escapes;
        f.message = fmt::format("{} escapes: it is stored in `{}`", what, u.detail);
        break;
      case Use::Discarded:
        f.kind = Kind::NeverClosed;
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
        if (o.escape) {
          f.kind = Kind::Escapes;
          f.message = fmt::format("{} escapes: {}; the function is treated as an acquirer", what, o.escape->second);
          exit_at(o.escape->first, "ownership leaves here");
        } else if (!o.leaks.empty() && o.released == 0) {
          f.kind = Kind::NeverClosed;
          f.message = fmt::format("{} is never {} (still held at {})", what, verb, o.leaks.front().second);
          exit_at(o.leaks.front().first, "still held here");
        } else if (!o.leaks.empty()) {
          f.kind = Kind::LeakyPath;
          const auto& l = o.leaks.front();
          f.message = l.second.starts_with("acquired again")
                          ? fmt::format("{} is {}", what, l.second)
                          : fmt::format("{} is not {} on {}", what, verb, l.second);
          exit_at(l.first, "leaks here");
        } else if (!o.throws.empty()) {
          f.kind = Kind::ExceptionUnsafe;
          f.message = fmt::format("{} leaks if the call at line {} throws", what, o.throws.front());
          exit_at(o.throws.front(), "may throw here");
        } else if (o.released > 0) {
          f.kind = Kind::ManualSafe;
          f.message = fmt::format("{} is {} by hand on every path; an RAII guard says so in one place", what, verb);
        } else {
          return;
        }
        break;
      }
    }
    if (suppressed(f.span.line, f.rule)) return;
    out_.push_back(std::move(f));
  }

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
};

// ---- the Clang plumbing ----------------------------------------------------------------------

class Visitor : public RecursiveASTVisitor<Visitor> {
 public:
  Visitor(ASTContext& ctx, const std::vector<Rule>& rules, std::vector<Finding>& out, std::string file)
      : ctx_(ctx), rules_(rules), out_(out), file_(std::move(file)) {}
  bool VisitFunctionDecl(FunctionDecl* fd) {
    if (!fd->hasBody() || !fd->doesThisDeclarationHaveABody() || fd->isDependentContext()) return true;
    if (!ctx_.getSourceManager().isInMainFile(fd->getLocation())) return true;
    FunctionAnalysis(ctx_, fd, rules_, out_, file_).run();
    return true;
  }
  bool shouldVisitLambdaExpressions() const { return true; }

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

bool is_source(std::string_view path) {
  for (std::string_view ext : {".cpp", ".cc", ".cxx", ".c++", ".C"}) {
    if (path.size() > ext.size() && path.substr(path.size() - ext.size()) == ext) return true;
  }
  return false;
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
    if (db && !options.build_dir.empty() && !j.commands.empty() && !listed.contains(j.absolute)) {
      // The database infers a command from a neighbouring file, as clangd and clang-tidy do: say so.
      out.errors.push_back(Error{f.display, 0,
                                 fmt::format("not in {}/compile_commands.json; analysed with the flags of a neighbouring file",
                                             options.build_dir)});
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
      tooling::ClangTool tool(*j.db, {j.absolute});
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
  std::sort(out.errors.begin(), out.errors.end(), [](const Error& a, const Error& b) { return a.file < b.file; });
  return out;
}

}  // namespace leakfix::cxx
