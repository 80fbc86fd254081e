// Stage two: where the acquired value goes, and the finding its paths make.
#include "cxx/function.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

namespace leakfix::cxx {

FunctionAnalysis::Use FunctionAnalysis::use_of(const Acquisition& a) const {
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
      // An object handle, the acquirer's own value (not a guard built from a raw pointer).
      if (const auto* v = dyn_cast<VarDecl>(ds->getSingleDecl());
          v && v->hasLocalStorage() && v->getType()->isRecordType() && a.call->getCallReturnType(ctx_)->isRecordType() &&
          ctx_.hasSameUnqualifiedType(v->getType(), a.call->getCallReturnType(ctx_).getNonReferenceType())) {
        u.what = Use::Held;
        u.anchor = ds;
        u.handle = Handle{v, v->getNameAsString()};
        u.object = true;
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
bool FunctionAnalysis::released_by_destructor(const ValueDecl* field) const {
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
std::size_t FunctionAnalysis::line_start(unsigned ln) const {
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

std::string FunctionAnalysis::line_text(unsigned ln) const {
  bool invalid = false;
  const auto buf = sm_.getBufferData(sm_.getMainFileID(), &invalid);
  const std::size_t start = line_start(ln);
  if (invalid || start == std::string_view::npos || start >= buf.size()) return "";
  const auto end = buf.find('\n', start);
  return std::string(buf.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

namespace {
// Whether a line holds `leakfix: ignore`, or `leakfix: ignore[...]` naming the rule.
bool says_ignore(std::string_view text, const std::string& rule) {
  const auto at = text.find("leakfix: ignore");
  if (at == std::string_view::npos) return false;
  const std::string_view rest = text.substr(at + 15);
  if (rest.empty() || rest.front() != '[') return true;
  return rest.find(rule) != std::string_view::npos;
}
}  // namespace

bool FunctionAnalysis::suppressed(int at_line, const std::string& rule) const {
  auto says = [&](int l) { return l >= 1 && says_ignore(line_text(static_cast<unsigned>(l)), rule); };
  return says(at_line) || says(at_line - 1);
}

bool FunctionAnalysis::suppressed_in(FileID file, int at_line, const std::string& rule) const {
  bool invalid = false;
  const auto buf = sm_.getBufferData(file, &invalid);
  if (invalid) return false;
  int ln = 1;
  for (std::size_t start = 0; start <= buf.size() && ln <= at_line; ++ln) {
    auto end = buf.find('\n', start);
    if (end == std::string_view::npos) end = buf.size();
    if (ln >= at_line - 1 && says_ignore(std::string_view(buf).substr(start, end - start), rule)) return true;
    start = end + 1;
  }
  return false;
}

std::optional<std::string> FunctionAnalysis::project_header(SourceLocation loc) const {
  if (sm_.isInMainFile(loc) || sm_.isInSystemHeader(loc)) return std::nullopt;
  const auto* entry = sm_.getFileEntryForID(sm_.getFileID(loc));
  if (!entry) return std::nullopt;
  std::error_code ec;
  const auto path = std::filesystem::weakly_canonical(std::filesystem::path(entry->getName().str()), ec);
  // The working directory does not change during a run (ClangTool works on its own file system).
  static const auto cwd = [] {
    std::error_code e;
    return std::filesystem::weakly_canonical(std::filesystem::current_path(e), e);
  }();
  const auto rel = path.lexically_relative(cwd);
  if (ec || rel.empty() || rel.begin()->string() == "..") return std::nullopt;
  headers_[rel.generic_string()] = path.string();
  return rel.generic_string();
}

void FunctionAnalysis::analyze(const Acquisition& a) {
  aliases_.clear();
  const SourceLocation loc = sm_.getExpansionLoc(a.call->getBeginLoc());
  // A function of a project header is reported in the header (each TU that includes it finds
  // the same, and the driver keeps one); one of a system header or of a header outside the
  // project is followed for its summary only.
  const auto header = project_header(loc);
  const bool here = sm_.isInMainFile(loc) || header.has_value();
  const Use u = use_of(a);
  Finding f;
  f.rule = a.rule->id;
  f.file = header ? *header : file_;
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
      note_wrapper(a);
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
      // An object no path releases by hand is left to its destructor.
      if (u.object && o.released == 0) return;
      if (o.returned) note_wrapper(a);
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
        if (here && !(header ? suppressed_in(sm_.getFileID(loc), twice.span.line, twice.rule) : suppressed(twice.span.line, twice.rule)))
          out_.push_back(twice);
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
  if (!here || (header ? suppressed_in(sm_.getFileID(loc), f.span.line, f.rule) : suppressed(f.span.line, f.rule))) return;
  if (header && f.kind != Kind::Escapes && (u.what == Use::Held || u.what == Use::Receiver)) {
    // The rewrite edits the translation unit's own file; a header is shared by every file that
    // includes it.
    f.reason = "it is in a header, which the files that include it share: fix it there by hand";
    no_rewrite = true;
  }
  if ((u.what == Use::Held || u.what == Use::Receiver) && f.kind != Kind::Escapes && !no_rewrite) plan_fix(a, u, f);
  out_.push_back(std::move(f));
}

}  // namespace leakfix::cxx
