#include "cxx/ast.h"

#include <clang/Lex/Lexer.h>

namespace leakfix::cxx {


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



const Expr* strip(const Expr* e) {
  while (e) {
    e = e->IgnoreParenImpCasts();
    if (const auto* c = dyn_cast<ExprWithCleanups>(e)) e = c->getSubExpr();
    else if (const auto* m = dyn_cast<MaterializeTemporaryExpr>(e)) e = m->getSubExpr();
    else if (const auto* b = dyn_cast<CXXBindTemporaryExpr>(e)) e = b->getSubExpr();
    // A copy or move of an object handle passed by value (`pool.release(c)` taking shared_ptr).
    else if (const auto* k = dyn_cast<CXXConstructExpr>(e); k && k->getNumArgs() == 1 && k->getConstructor()->isCopyOrMoveConstructor())
      e = k->getArg(0);
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

}  // namespace leakfix::cxx
