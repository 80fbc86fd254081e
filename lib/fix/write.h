#pragma once
// Writing a rewritten file: atomically, keeping its mode, and only if nobody changed it meanwhile.
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace leakfix {

// Replaces the file at `path` with `bytes` by core/safe_write.h (temporary, fsync, rename;
// symlinks, mode and owner kept). Refuses (and leaves the file alone) when its current bytes are
// not `expected`, i.e. it changed since it was analysed.
std::optional<Error> write_if_unchanged(const std::string& path, const std::string& display, std::string_view expected,
                                        std::string_view bytes);

}  // namespace leakfix
