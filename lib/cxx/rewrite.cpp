// Stage three: the RAII rewrite of a finding, or the reason it cannot be offered.
#include "cxx/function.h"

#include <clang/Lex/Lexer.h>
#include <clang/Tooling/Core/Replacement.h>
#include <llvm/Support/Error.h>

#include <algorithm>
#include <functional>
#include <set>

namespace leakfix::cxx {

bool FunctionAnalysis::mentions(const Stmt* s, const Handle& h) const {
  if (!s) return false;
  if (const auto* e = dyn_cast<Expr>(s); e && (isa<DeclRefExpr>(e) || isa<MemberExpr>(e)) && is_handle(e, h)) return true;
  for (const Stmt* c : s->children()) {
    if (mentions(c, h)) return true;
  }
  return false;
}

std::uint32_t FunctionAnalysis::offset(SourceLocation loc) const { return sm_.getFileOffset(sm_.getExpansionLoc(loc)); }

// Statement-level releases inside s (not inside lambdas).
void FunctionAnalysis::release_statements(const Stmt* s, const Acquisition& a, const Handle& h, std::vector<const Stmt*>& out, bool& other) const {
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

bool FunctionAnalysis::is_loop(const Stmt* s) {
  return isa<ForStmt>(s) || isa<WhileStmt>(s) || isa<DoStmt>(s) || isa<CXXForRangeStmt>(s);
}

bool FunctionAnalysis::within(const Stmt* inner, const Stmt* outer) const {
  for (const Stmt* p = inner; p; p = parents_.getParent(p)) {
    if (p == outer) return true;
  }
  return false;
}

// Dropping a release keeps the handle until the block ends: nothing may run after it inside
// the block on that path, except leaving the block.
std::optional<std::string> FunctionAnalysis::safe_to_drop(const Stmt* r, const Acquisition& a, const Handle& h, const CompoundStmt* block,
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

std::string FunctionAnalysis::indent_of(std::string_view text) { return std::string(text.substr(0, text.find_first_not_of(" \t"))); }

std::optional<std::string> FunctionAnalysis::pick_name(const std::string& want) const {
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
const CXXRecordDecl* FunctionAnalysis::find_guard(const Acquisition& a, QualType pool_type, bool& has_get) const {
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

void FunctionAnalysis::plan_fix(const Acquisition& a, const Use& u, Finding& f) {
  auto why = rewrite(a, u, f);
  if (why) {
    f.fixable = false;
    f.reason = *why;
  }
}

std::string FunctionAnalysis::function_name(const FunctionDecl* fd) {
  if (const auto* m = dyn_cast<CXXMethodDecl>(fd); m && m->getParent()->isLambda()) {
    const DeclContext* dc = m->getParent()->getDeclContext();
    while (dc && !isa<FunctionDecl>(dc)) dc = dc->getParent();
    return (dc ? function_name(cast<FunctionDecl>(dc)) : std::string("<global>")) + "::<lambda>";
  }
  return fd->getQualifiedNameAsString();
}

std::optional<std::string> FunctionAnalysis::rewrite(const Acquisition& a, const Use& u, Finding& f) {
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
    if (u.object) {
      // An object handle (`std::shared_ptr<Conn> c = pool.acquire();`) stays as it is; a scope
      // guard declared after it makes the release the code made, when the block ends:
      // std::unique_ptr<void> with a deleter that ignores its pointer, which only the standard
      // library needs.
      const std::string fn = *pick_name(name + "_release");
      const std::string guard = *pick_name(name + "_guard");
      auto release = deleter_body(drops, u.handle, anchor, name);
      if (!release) return release.error().message;
      std::string stmt = text_of(anchor, ctx_);
      if (!stmt.ends_with(";")) stmt += ";";
      if (stmt.find('\n') != std::string::npos) return std::string("the acquisition spans several lines");
      // \x01: a new line's indentation; \x02: where the acquisition's comment stays.
      decl = fmt::format("{}\x02\n\x01" "auto {} = [&](void*) {{ {}; }};\n\x01" "std::unique_ptr<void, decltype({})> {}(&{}, {});", stmt,
                         fn, *release, fn, guard, name, fn);
      include_ = "<memory>";
      f.fix.emplace();
      f.fix->summary = fmt::format("std::unique_ptr<void, decltype({})> {}(&{}, {});", fn, guard, name, fn);
    } else {
      if (!var->getType()->isPointerType()) return std::string("only a handle held in a pointer (`T* h = pool.acquire();`) is rewritten");
      // A pool's own acquire() may get a guard built from the pool; a handle from a function
      // (a wrapper such as open_conn(pool)) gets a unique_ptr whose deleter releases it.
      const auto* m = dyn_cast<CXXMemberCallExpr>(a.call);
      QualType pool_type;
      std::string pool_ref;
      if (m) {
        const Expr* pool = m->getImplicitObjectArgument();
        const std::string pool_text = text_of(pool, ctx_);
        // The pool as the guard's constructor takes it: `*pool` when the code holds a pointer.
        const bool pool_pointer = pool->getType()->isPointerType();
        pool_type = pool_pointer ? pool->getType()->getPointeeType() : pool->getType().getNonReferenceType();
        const bool simple = std::all_of(pool_text.begin(), pool_text.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '>' || ch == '-'; });
        pool_ref = !pool_pointer ? pool_text : simple ? "*" + pool_text : "*(" + pool_text + ")";
      }
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
      if (const CXXRecordDecl* g = m ? find_guard(a, pool_type, has_get) : nullptr) {
        if (!to_get.empty() && !has_get)
          return fmt::format("{} has no get() for the plain uses of `{}`", g->getNameAsString(), name);
        decl = fmt::format("{} {}({});", g->getNameAsString(), name, pool_ref);
      } else if (m && !a.rule->guard.empty()) {
        decl = fmt::format("{} {}({});", a.rule->guard, name, pool_ref);
      } else {
        const std::string deleter = *pick_name(name + "_release");
        // The deleter's parameter must not hide a name the release uses (a pool called `p`).
        const std::string param = *pick_name("p");
        auto release = deleter_body(drops, u.handle, anchor, param);
        if (!release) return release.error().message;
        decl = fmt::format("auto {} = [&]({}* {}) {{ {}; }};\n{}std::unique_ptr<{}, decltype({})> {}({}, {});", deleter,
                           pointee, param, *release, "\x01", pointee, deleter, name, text_of(a.call, ctx_), deleter);
        include_ = "<memory>";
      }
      f.fix.emplace();
      f.fix->summary = decl.substr(0, decl.find('\n'));
    }
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
  {
    // Keep a comment after the acquisition: at the \x02 mark when the acquisition stays, else at
    // the end of what replaces it.
    const std::string tail = line_text(decl_last);
    const auto comment = tail.find("//");
    const std::string kept = comment != std::string::npos ? "  " + tail.substr(comment) : "";
    if (const auto mark = head.find('\x02'); mark != std::string::npos) head.replace(mark, 1, kept);
    else head += kept;
    out += shift + indent + head + "\n";
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
std::optional<std::string> FunctionAnalysis::reacquired_while_guarded(const Acquisition& a, const std::vector<const Stmt*>& drops,
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
std::optional<int> FunctionAnalysis::returned_at(const Stmt* s, const Handle& h) const {
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
leakfix::Result<std::string> FunctionAnalysis::deleter_body(const std::vector<const Stmt*>& drops, const Handle& h, const Stmt* anchor,
                                                            const std::string& param) const {
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
      text.replace(arg_start - call_start, arg_text.size(), param);
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

}  // namespace leakfix::cxx
