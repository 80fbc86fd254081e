#pragma once
// The C++ front end: Clang parses each translation unit, and every acquisition named by a cpp
// rule (pool.acquire() held in a local, m.lock() on a mutex) is followed on Clang's CFG to the
// same five kinds as Python. Only this library links Clang; it is built as a loadable module.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/finding.h"
#include "core/result.h"
#include "core/rule.h"
#include "core/source_file.h"
#include "core/walk.h"

namespace leakfix::cxx {

struct Options {
  std::string build_dir;                // -p: the folder holding compile_commands.json
  std::vector<std::string> extra_args;  // compiler flags after `--`, for files without a database
  int jobs = 0;                         // 0: one per core
  // Called after each translation unit, from worker threads but never two at a time.
  std::function<void(std::size_t done, std::size_t total, const std::string& file)> progress;
};

struct Result {
  std::vector<Finding> findings;              // sorted
  std::vector<Error> errors;                  // files without a compile command, TUs that did not parse
  std::map<std::string, SourceFile> sources;  // files with findings, for code frames
  std::size_t translation_units = 0;          // analysed by Clang
  std::size_t skipped = 0;                    // not parsed: no rule name in the file or its includes
  // What the summaries found, for --verbose: "open_conn (returns Pool::acquire())",
  // "err_msg (releases argument 3)".
  std::vector<std::string> discovered_acquirers;
  std::vector<std::string> discovered_releases;
};

Result analyze(const std::vector<InputFile>& files, const std::vector<Rule>& rules, const Options& options);

// Whether `content`, in place of the file, compiles with the file's command; the first error if not.
std::optional<std::string> check_compiles(const InputFile& file, const std::string& content, const Options& options);

// Reformats the byte ranges (offset, length) of `text` with the project's .clang-format found
// above `path`; unchanged when there is none.
std::string format_ranges(const std::string& path, const std::string& text,
                          const std::vector<std::pair<unsigned, unsigned>>& ranges);

// The C++ pass is a library leakfix loads at run time (leakfix-cxx.so next to the binary), so
// that the Python pass never needs Clang: this is what it finds there.
inline constexpr int kApiVersion = 3;
struct Api {
  int version;
  Result (*analyze)(const std::vector<InputFile>&, const std::vector<Rule>&, const Options&);
  std::optional<std::string> (*check_compiles)(const InputFile&, const std::string&, const Options&);
  std::string (*format_ranges)(const std::string&, const std::string&, const std::vector<std::pair<unsigned, unsigned>>&);
};

}  // namespace leakfix::cxx

extern "C" const leakfix::cxx::Api* leakfix_cxx_api();
