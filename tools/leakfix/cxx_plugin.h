#pragma once
// The C++ pass, loaded on first use from leakfix-cxx.so next to the binary: the Python pass and
// every verb run without Clang installed.
#include <string>
#include <string_view>
#include <vector>

#include "cxx/analyze.h"
#include "fix/cxx_text.h"

namespace leakfix::cli {

// The loaded pass, or nullptr; `why` says what is missing.
const cxx::Api* cxx_api(std::string* why = nullptr);

}  // namespace leakfix::cli
