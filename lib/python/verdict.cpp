#include "python/verdict.h"

#include <fmt/format.h>

#include <algorithm>

namespace leakfix::python {

std::string describe(const ExitCause& c) {
  switch (c.why) {
    case ExitWhy::Return: return fmt::format("on the return at line {}", c.line);
    case ExitWhy::Break: return fmt::format("on the break at line {}", c.line);
    case ExitWhy::Continue: return fmt::format("on the continue at line {}", c.line);
    case ExitWhy::LoopBack: return fmt::format("before the loop at line {} goes round again", c.line);
    case ExitWhy::Rebind: return fmt::format("before its name is rebound at line {}", c.line);
    case ExitWhy::Reacquire: return fmt::format("before it is acquired again at line {}", c.line);
    case ExitWhy::Del: return fmt::format("when it is deleted at line {} (del does not close it)", c.line);
    case ExitWhy::Raise: return fmt::format("on the raise at line {}", c.line);
    case ExitWhy::NoReturn: return fmt::format("when the call at line {} ends the request (it raises)", c.line);
    case ExitWhy::Branch:
      return fmt::format("when the condition at line {} is {}", c.line, c.branch ? "true" : "false");
    case ExitWhy::FallOff: return fmt::format("when the function ends at line {}", c.line);
  }
  return "";
}

namespace {

std::string escape_text(const EscapeAt& e) {
  switch (e.why) {
    case EscapeWhy::Returned: return fmt::format("it is returned at line {}", e.line);
    case EscapeWhy::Yielded: return fmt::format("it is yielded at line {}", e.line);
    case EscapeWhy::Stored: return fmt::format("it is stored on `{}` at line {}", e.detail, e.line);
    case EscapeWhy::StoredOnG:
      return fmt::format("it is stored on `{}` at line {}, but no teardown_appcontext/teardown_request handler closes it",
                         e.detail, e.line);
    case EscapeWhy::Container:
      if (e.detail == "return") return fmt::format("it is returned inside a tuple or another value at line {}", e.line);
      return fmt::format("it is stored in a container at line {}", e.line);
    case EscapeWhy::Thread: return fmt::format("it is handed to another thread by `{}` at line {}", e.detail, e.line);
    case EscapeWhy::Callback:
      return fmt::format("its release is deferred to {} at line {}", e.detail, e.line);
    case EscapeWhy::Captured:
      return fmt::format("it is captured by the nested function `{}`, which outlives the call (used at line {}); "
                         "close it inside that function instead",
                         e.detail, e.line);
    case EscapeWhy::Global: return "it is kept in a module-level name for the life of the process";
  }
  return "";
}

template <typename T, typename F>
const T& earliest(const std::vector<T>& v, F line_of) {
  return *std::min_element(v.begin(), v.end(), [&](const T& a, const T& b) { return line_of(a) < line_of(b); });
}

}  // namespace

std::optional<Verdict> decide(const Outcome& o, const VerdictContext& ctx) {
  const bool released = o.released_manual || o.released_managed;
  // The kind is the rule both languages share (core/finding.h); the rest says why.
  const auto kind = judge(PathFacts{!o.normal.empty(), released, !o.escapes.empty(), !o.exceptional.empty(),
                                    o.released_manual && !ctx.in_context_manager});
  if (!kind) return std::nullopt;
  if (!o.normal.empty()) {
    // Prefer the most specific path: an early exit over falling off the end.
    std::vector<Leak> leaks = o.normal;
    std::stable_sort(leaks.begin(), leaks.end(), [](const Leak& a, const Leak& b) {
      const bool fa = a.cause.why == ExitWhy::FallOff, fb = b.cause.why == ExitWhy::FallOff;
      if (fa != fb) return fb;
      return a.cause.line < b.cause.line;
    });
    const Leak& l = leaks.front();
    Verdict v;
    v.exit_line = l.cause.line;
    v.exit_label = "leaks here";
    v.kind = *kind;
    if (*kind == Kind::NeverClosed) {
      // No path closes it: name where it is last held, not a branch that "skips" a close.
      ExitCause where = l.cause;
      if (where.why == ExitWhy::Branch) where = ExitCause{ExitWhy::FallOff, ctx.scope_end_line};
      v.exit_line = where.line;
      v.message = fmt::format("{} is never closed (it is still open {})", ctx.what, describe(where));
    } else {
      v.message = fmt::format("{} is not closed {}", ctx.what, describe(l.cause));
    }
    return v;
  }
  if (*kind == Kind::Escapes) {
    const auto& e = earliest(o.escapes, [](const EscapeAt& x) { return x.line; });
    Verdict v;
    v.kind = *kind;
    v.exit_line = e.line;
    v.exit_label = "ownership leaves here";
    v.returned = std::any_of(o.escapes.begin(), o.escapes.end(), [](const EscapeAt& x) { return x.why == EscapeWhy::Returned; });
    v.stored_on_g = e.why == EscapeWhy::StoredOnG;
    if (e.why == EscapeWhy::Stored) v.stored_on = e.detail;
    v.message = fmt::format("{} escapes: {}", ctx.what,
                            e.why == EscapeWhy::Global && ctx.class_body
                                ? std::string("it is kept in a class attribute for the life of the process")
                                : escape_text(e));
    if (v.returned) v.message += "; the function is treated as an acquirer";
    return v;
  }
  if (!o.exceptional.empty()) {
    const auto& l = earliest(o.exceptional, [](const Leak& x) { return x.raise_line; });
    Verdict v;
    v.kind = *kind;
    v.exit_line = l.raise_line;
    v.exit_label = "may raise here";
    v.message = released ? fmt::format("{} leaks if the call at line {} raises", ctx.what, l.raise_line)
                         : fmt::format("{} is never closed", ctx.what);
    if (released && l.cause.why == ExitWhy::Return) {
      v.message += fmt::format(" (the handler returns at line {})", l.cause.line);
    }
    return v;
  }
  Verdict v;
  v.kind = *kind;  // manual-safe
  v.message = fmt::format("{} is closed by hand on every path; a `with` block says so in one place", ctx.what);
  return v;
}

}  // namespace leakfix::python
