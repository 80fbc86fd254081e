#pragma once
// Files compiled into the binary (see cmake/Embed.cmake).
#include <string_view>
#include <vector>

namespace leakfix {

struct EmbeddedFile {
  std::string_view name;
  std::string_view text;
};

const std::vector<EmbeddedFile>& shipped_rules();
const std::vector<EmbeddedFile>& shipped_docs();
const std::vector<EmbeddedFile>& runtime_modules();  // runtime/leakfix_runtime.py
inline std::string_view runtime_module() { return runtime_modules().front().text; }

}  // namespace leakfix
