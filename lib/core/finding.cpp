#include "core/finding.h"

#include <algorithm>
#include <tuple>

namespace leakfix {

namespace {
const KindInfo& info(Kind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k;
  }
  return kKinds[0];  // unreachable: the table names every kind
}
}  // namespace

std::string_view to_string(Kind kind) { return info(kind).name; }

std::optional<Kind> parse_kind(std::string_view text) {
  for (const auto& k : kKinds) {
    if (k.name == text) return k.kind;
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

Severity severity_of(Kind kind) { return info(kind).severity; }

int phase_of(Kind kind) { return info(kind).phase; }

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
