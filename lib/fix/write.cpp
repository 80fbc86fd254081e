#include "fix/write.h"

#include "core/safe_write.h"

namespace leakfix {

std::optional<Error> write_if_unchanged(const std::string& path, const std::string& display, std::string_view expected,
                                        std::string_view bytes) {
  WriteOptions options;
  options.expected = expected;
  return safe_write(path, display, bytes, options);
}

}  // namespace leakfix
