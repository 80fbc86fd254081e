#pragma once
// Renders findings for people (text with code frames) and machines (JSON, SARIF 2.1.0).
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/result.h"
#include "core/source_file.h"
#include "core/sources.h"

namespace leakfix {

// A fix as `fix --format json` shows it: edits against the file as read, and the diff.
struct FixView {
  std::vector<Edit> edits;
  std::string diff;
};

struct Report {
  std::vector<Finding> findings;
  std::vector<Error> errors;
  std::size_t files = 0;
  std::size_t skipped = 0;  // files named that no front end reads (headers, C)
  Sources sources;  // by display path, for code frames
  bool fix_mode = false;                      // JSON: every finding carries "fix"
  std::map<std::size_t, FixView> fixes;       // by index into findings
  std::size_t applied = 0;                    // fixes written (fix --write)
  std::vector<std::string> fingerprints;      // per finding, for SARIF partialFingerprints
  std::vector<std::string> baseline_states;   // per finding when a baseline was given: "new"
  std::size_t baselined = 0;                  // findings the baseline hid
  std::size_t stale = 0;                      // baseline entries that match nothing
};

struct TextOptions {
  bool color = false;
  bool frames = true;  // code frames under each finding (off: one line per finding)
};

void render_text(std::ostream& out, const Report& report, const TextOptions& options);
// The closing line: "Found 3 findings (2 leaky-path, 1 never-closed) in 12 files." or "No findings in 12 files."
std::string summary_line(const Report& report);
void render_json(std::ostream& out, const Report& report);
void render_sarif(std::ostream& out, const Report& report, const std::string& tool_version);
// GitHub Actions workflow commands: one `::error file=...,line=...::message` line per finding.
void render_github(std::ostream& out, const Report& report);
// GitLab Code Quality (fingerprints from report.fingerprints when set) and JUnit XML.
void render_gitlab(std::ostream& out, const Report& report);
void render_junit(std::ostream& out, const Report& report);

// The documentation page of a finding kind (docs/rules/<kind>.md), or nullopt.
std::optional<std::string> kind_doc(Kind kind);

}  // namespace leakfix
