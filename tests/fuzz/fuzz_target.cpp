// One fuzz input is the bytes of a .py file. It goes through what leakfix does to every file:
// reading (binary check, coding cookie, UTF-8, line endings), the statement split and the
// parse of only the statements that name a call, the analysis of both parses, and every
// rewrite with its verification. Built with libFuzzer (bench/fuzz.sh) or with the driver in
// fuzz_driver.cpp (the test suite's short run). Any crash, sanitizer report, hang or broken
// promise below is a bug: the promise is aborted on, so that the fuzzer keeps the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/source_file.h"
#include "python/analyzer.h"
#include "python/fixer.h"
#include "python/tree.h"
#include "rules/loader.h"

using namespace leakfix;

namespace {

[[noreturn]] void broken(const char* promise) {
  std::fprintf(stderr, "fuzz: broken promise: %s\n", promise);
  std::abort();
}

void check_findings(const std::vector<Finding>& findings, const SourceFile& source) {
  for (const auto& f : findings) {
    if (f.span.line < 1 || f.span.line > source.line_count() + 1) broken("a finding points at a line of the file");
    if (f.fix && f.fix->begin() > source.text().size()) broken("a fix edits inside the file");
  }
}

int errors_in(const SourceFile& source) {
  const python::ParsedFile parsed(source);
  return python::error_count(parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Rule> rules = builtin_rules();
  // A path no module resolves next to: the target lookup reads nothing from disk.
  auto read = SourceFile::decode(std::string(reinterpret_cast<const char*>(data), size), "/nonexistent/fuzz/app.py");
  if (!read) return 0;
  const auto source = std::make_shared<const SourceFile>(std::move(*read));
  // Every input gets its own knowledge: a fix commits the context managers it creates.
  python::Knowledge knowledge = python::Knowledge::from_rules(rules);
  {
    const auto selective = python::ParsedFile::for_calls(source, knowledge.call_names());
    check_findings(python::analyze_file(selective, knowledge).findings, *source);
  }
  knowledge.fix_edits = true;
  const python::ParsedFile whole(source);
  check_findings(python::analyze_file(whole, knowledge).findings, *source);

  const auto result = python::fix_file(
      *source, knowledge, [](const Finding&) { return true; },
      [](const Finding&, const std::string&, std::string&) { return python::Decision::Apply; },
      [](const Creation&) { return std::optional<std::string>(); });
  if (!result.applied.empty()) {
    const SourceFile after(source->path(), result.after);
    if (errors_in(after) > errors_in(*source)) broken("a rewrite parses as cleanly as the input");
    if (!source->to_disk(after.text())) broken("a rewrite can be written in the file's encoding");
  }
  return 0;
}
