#pragma once
// Small helpers over Clang's AST that every stage of the C++ pass uses: how a rule's pattern
// names a function, and what holds a handle.
#include <clang/AST/ASTContext.h>
#include <clang/AST/Expr.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/ParentMap.h>
#include <clang/Analysis/CFG.h>
#include <clang/Basic/SourceManager.h>

#include <string>
#include <string_view>

namespace leakfix::cxx {

using namespace clang;

// "Pool::acquire" (a method of that class, in any namespace), "*::acquire" (a method of that
// name on any class), "fopen" (a function of that name).
bool matches(std::string_view pattern, const FunctionDecl* f);
std::string_view last_segment(std::string_view p);

// An expression without parentheses, implicit casts and temporaries' wrappers.
const Expr* strip(const Expr* e);
// The local variable an expression names, or null.
const VarDecl* local_var(const Expr* e);

// What holds a handle: a local variable, or (for lock-style rules) the object locked, known by
// its declaration (a variable or a field of this) or else by its spelling.
struct Handle {
  const ValueDecl* decl = nullptr;
  std::string text;
  bool operator==(const Handle& o) const { return decl ? decl == o.decl : text == o.text; }
};

std::string text_of(const Stmt* s, const ASTContext& ctx);
Handle handle_of(const Expr* e, const ASTContext& ctx);

}  // namespace leakfix::cxx
