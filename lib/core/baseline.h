#pragma once
// A baseline: the findings a team has accepted for now, so that only new ones fail a check.
// An entry is identified by rule, file, enclosing function and the acquiring line with its
// whitespace collapsed, plus its occurrence among identical ones: it survives lines moving above
// it, and a change to the leaking statement makes it new.
#include <optional>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/result.h"

namespace leakfix {

struct BaselineEntry {
  std::string rule;
  std::string file;  // relative to the baseline file's folder, with '/'
  std::string function;
  std::string snippet;
  int occurrence = 0;
  std::string kind;  // what it was when recorded; not part of the identity

  bool same_identity(const BaselineEntry& o) const {
    return rule == o.rule && file == o.file && function == o.function && snippet == o.snippet && occurrence == o.occurrence;
  }
};

struct Baseline {
  std::string path;  // where it is (or goes)
  std::vector<BaselineEntry> entries;
};

Result<Baseline> load_baseline(const std::string& path);
std::optional<Error> save_baseline(const Baseline& baseline);

// The entries of findings, their files made relative to the baseline's folder.
std::vector<BaselineEntry> entries_of(const std::vector<Finding>& findings, const std::string& baseline_path);

struct BaselineMatch {
  std::vector<bool> known;           // per finding: recorded in the baseline
  std::vector<std::size_t> stale;    // entries that match no finding any more
};
BaselineMatch match_baseline(const Baseline& baseline, const std::vector<Finding>& findings);

// A stable fingerprint of a finding's identity (SARIF partialFingerprints), for the same entry.
std::string fingerprint(const BaselineEntry& entry);

}  // namespace leakfix
