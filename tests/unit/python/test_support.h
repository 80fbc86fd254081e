#pragma once
// Helpers for tests that analyse a snippet of Python.
#include <string>
#include <vector>

#include "python/analyzer.h"
#include "python/tree.h"
#include "rules/loader.h"

namespace leakfix::testing {

inline python::FileResult analyze_snippet(const std::string& code) {
  static const auto knowledge = python::Knowledge::from_rules(builtin_rules());
  python::ParsedFile file(SourceFile("snippet.py", code));
  return python::analyze_file(file, knowledge);
}

}  // namespace leakfix::testing
