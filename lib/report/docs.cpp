#include <string>

#include "core/embedded.h"
#include "report/report.h"

namespace leakfix {

std::optional<std::string> kind_doc(Kind kind) {
  const std::string name = std::string(to_string(kind)) + ".md";
  for (const auto& f : shipped_docs()) {
    if (f.name == name) return std::string(f.text);
  }
  return std::nullopt;
}

}  // namespace leakfix
