#include "core/finding.h"

#include <algorithm>
#include <tuple>

namespace leakfix {

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::NeverClosed: return "never-closed";
    case Kind::LeakyPath: return "leaky-path";
    case Kind::ExceptionUnsafe: return "exception-unsafe";
    case Kind::ManualSafe: return "manual-safe";
    case Kind::Escapes: return "escapes";
    case Kind::ParseError: return "parse-error";
  }
  return "?";
}

std::optional<Kind> parse_kind(std::string_view text) {
  for (auto k : kAllKinds) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Error: return "error";
  }
  return "?";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (auto s : {Severity::Info, Severity::Warning, Severity::Error}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

Severity severity_of(Kind kind) {
  switch (kind) {
    case Kind::NeverClosed:
    case Kind::LeakyPath: return Severity::Error;
    case Kind::ExceptionUnsafe:
    case Kind::ParseError: return Severity::Warning;
    case Kind::ManualSafe:
    case Kind::Escapes: return Severity::Info;
  }
  return Severity::Error;
}

int phase_of(Kind kind) {
  switch (kind) {
    case Kind::NeverClosed:
    case Kind::LeakyPath: return 1;
    case Kind::ExceptionUnsafe: return 2;
    case Kind::ManualSafe: return 3;
    case Kind::Escapes:
    case Kind::ParseError: return 0;
  }
  return 0;
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.file, a.span.line, a.span.column, a.rule, a.kind) <
           std::tie(b.file, b.span.line, b.span.column, b.rule, b.kind);
  });
}

std::string normalise_snippet(std::string_view line) {
  std::string out;
  bool blank = false;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

std::optional<Kind> judge(const PathFacts& p) {
  if (p.leaks) return p.released || p.escapes ? Kind::LeakyPath : Kind::NeverClosed;
  if (p.escapes) return Kind::Escapes;
  if (p.throws) return p.released ? Kind::ExceptionUnsafe : Kind::NeverClosed;
  if (p.released && p.by_hand) return Kind::ManualSafe;
  return std::nullopt;
}

}  // namespace leakfix
