#pragma once
// What an analysis reports: one resource acquisition and how it leaks (or is handled).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/edit.h"

namespace leakfix {

enum class Kind {
  NeverClosed,      // no path releases it
  LeakyPath,        // some normal path reaches the end of its scope unreleased
  ExceptionUnsafe,  // released on every normal path, not if something raises in between
  ManualSafe,       // released by hand on every path; convert for consistency
  Escapes,          // ownership leaves the function
  ParseError,       // the front end could not parse this region; nothing in it is analysed
  DoubleRelease,    // a path releases it twice (C++: a second put(), a second unlock())
};

enum class Severity { Info, Warning, Error };

// The one table of finding kinds: what each is called, how severe it is, and its phase in the
// remediation plan (1 urgent, 2 exception paths, 3 consistency, 0 manual review). Every front
// end, reporter and the plan read it; the kinds' long docs are docs/rules/<name>.md.
struct KindInfo {
  Kind kind;
  std::string_view name;
  Severity severity;
  int phase;
};
inline constexpr KindInfo kKinds[] = {
    {Kind::NeverClosed, "never-closed", Severity::Error, 1},
    {Kind::LeakyPath, "leaky-path", Severity::Error, 1},
    {Kind::ExceptionUnsafe, "exception-unsafe", Severity::Warning, 2},
    {Kind::ManualSafe, "manual-safe", Severity::Info, 3},
    {Kind::Escapes, "escapes", Severity::Info, 0},
    {Kind::ParseError, "parse-error", Severity::Warning, 0},
    {Kind::DoubleRelease, "double-release", Severity::Error, 1},
};

std::string_view to_string(Kind kind);
std::optional<Kind> parse_kind(std::string_view text);
std::string_view to_string(Severity severity);
std::optional<Severity> parse_severity(std::string_view text);
Severity severity_of(Kind kind);
int phase_of(Kind kind);

// What the paths of one acquisition do, as either front end follows them.
struct PathFacts {
  bool leaks = false;     // a normal path (return, break, the end) leaves it held
  bool released = false;  // a path releases it (by hand or by a manager)
  bool escapes = false;   // a path hands it on (returned, stored)
  bool throws = false;    // it leaks if a call raises while it is held
  bool by_hand = true;    // a release is the code's own call, not a with block's or a guard's
};

// The one rule both languages judge by: a leaking path makes leaky-path, or never-closed when no
// path releases it or hands it on; with no leaking path, handing it on makes escapes; then a
// raise makes exception-unsafe (never-closed when nothing releases it); released by hand on
// every path is manual-safe. nullopt: nothing to report.
std::optional<Kind> judge(const PathFacts& p);

struct Span {
  int line = 0, column = 0, end_line = 0, end_column = 0;  // 1-based
};

struct Finding {
  std::string rule;
  Kind kind = Kind::NeverClosed;
  std::string file;
  Span span;                 // the acquiring call
  std::string function;      // dotted name inside the file, "<module>" at module level
  std::string variable;      // the name holding the handle; empty for a temporary
  std::string message;       // why it leaks, naming the path
  std::optional<Span> exit;  // where it leaks (the return, raise, ...), for the code frame
  std::string exit_label;    // short label for that place
  std::optional<std::string> route;     // "GET /api/branding/<tenant>", several joined by ", "
  std::optional<std::string> exposure;  // public, authenticated, admin, internal
  std::string route_via;                // a helper's route comes from this caller
  std::string snippet;                  // the acquiring line, whitespace collapsed (baselines)
  bool fixable = false;
  std::optional<std::string> reason;  // why it is not fixable
  std::optional<Fix> fix;             // set when fixable
  // What leakfix_runtime counted at this acquisition in production (scan/plan --runtime).
  struct Observed {
    std::string site;  // "file:line" as the running process named it
    long acquired = 0, open = 0, leaked = 0;
    std::optional<double> last_leak, last_seen;
  };
  std::optional<Observed> observed;

  Severity severity() const { return severity_of(kind); }
};

// A line of code with its indentation dropped and every run of blanks made one space.
std::string normalise_snippet(std::string_view line);

// Sorts by file, line, column, rule, kind: the order every reporter uses, whatever --jobs is.
void sort_findings(std::vector<Finding>& findings);

}  // namespace leakfix
