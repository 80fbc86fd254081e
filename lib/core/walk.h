#pragma once
// Turns the paths given on the command line into the list of files to analyse.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace leakfix {

struct InputFile {
  std::string path;     // to open
  std::string display;  // as given on the command line, joined with the relative path found
  // The file's bytes when they are held in memory (an editor's unsaved buffer): read instead of
  // the file on disk. Null: the file is read from `path`.
  std::shared_ptr<const std::string> bytes = nullptr;
};

struct WalkOptions {
  std::vector<std::string> extensions = {".py"};  // files found in directories
  std::vector<std::string> excludes;              // globs against the relative path or the name
  bool respect_gitignore = true;
  // Skip folders that hold someone else's code: a virtualenv (any folder with a pyvenv.cfg),
  // site-packages, dist-packages, build and dist.
  bool default_excludes = true;
  // Called as files are found, every 512th and at the end, with how many so far: for a
  // progress line while a large or slow tree is walked.
  std::function<void(std::size_t found)> progress;
};

struct WalkResult {
  std::vector<InputFile> files;
  std::vector<Error> errors;   // missing or unreadable paths
  std::vector<Error> skipped;  // files named that no front end reads (a C header, a .c file), and why
};

// Files named explicitly are taken, except C and C++ headers and C sources (listed in `skipped`
// with the reason: no front end reads them on their own); directories are walked recursively, skipping hidden
// folders, node_modules, __pycache__, what .gitignore files ignore and (default_excludes)
// virtualenvs, site-packages, build and dist. The result
// is in a stable order and has no duplicates.
WalkResult collect_files(const std::vector<std::string>& paths, const WalkOptions& options);

}  // namespace leakfix
