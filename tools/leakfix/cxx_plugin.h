#pragma once
// The C++ pass, loaded on first use from leakfix-cxx.so next to the binary: the Python pass and
// every verb run without Clang installed.
#include <string>
#include <string_view>
#include <vector>

#include "cxx/analyze.h"

namespace leakfix::cli {

// .cpp, .cc, .cxx, .c++: the files a directory walk hands to the C++ pass.
bool is_cxx_source(std::string_view path);

// The loaded pass, or nullptr; `why` says what is missing.
const cxx::Api* cxx_api(std::string* why = nullptr);

// Adds `#include <memory>` and the like after the last #include of the leading block of
// comments and preprocessor lines, unless already there.
std::string add_includes(std::string text, const std::vector<std::string>& headers);

}  // namespace leakfix::cli
