#pragma once
// Turns the paths given on the command line into the list of files to analyse.
#include <string>
#include <vector>

#include "core/result.h"

namespace leakfix {

struct InputFile {
  std::string path;     // to open
  std::string display;  // as given on the command line, joined with the relative path found
};

struct WalkOptions {
  std::vector<std::string> extensions = {".py"};  // files found in directories
  std::vector<std::string> excludes;              // globs against the relative path or the name
  bool respect_gitignore = true;
};

struct WalkResult {
  std::vector<InputFile> files;
  std::vector<Error> errors;  // missing or unreadable paths
};

// Files named explicitly are always taken; directories are walked recursively, skipping hidden
// folders, virtualenvs, node_modules, __pycache__ and what .gitignore files ignore. The result
// is in a stable order and has no duplicates.
WalkResult collect_files(const std::vector<std::string>& paths, const WalkOptions& options);

}  // namespace leakfix
