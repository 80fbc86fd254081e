#pragma once
// The text side of C++ fixes, without Clang: which files are C++, and a fix's edits and includes
// applied to a file. Every output of a C++ fix (diff, JSON, SARIF, write) goes through here, never
// through the Python fixer.
#include <string>
#include <string_view>
#include <vector>

#include "core/finding.h"
#include "core/source_file.h"

namespace leakfix {

// .cpp, .cc, .cxx, .c++: the files a directory walk hands to the C++ pass.
bool is_cxx_source(std::string_view path);

// Adds `#include <memory>` and the like after the last #include of the leading block of
// comments and preprocessor lines, unless already there.
std::string add_includes(std::string text, const std::vector<std::string>& headers);

// The file's bytes with one C++ fix applied: its edits, then the headers it needs.
std::string apply_cxx_fix(const SourceFile& source, const Fix& fix);

}  // namespace leakfix
