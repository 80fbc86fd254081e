#pragma once
// The one way leakfix writes a file (fixes, baselines, plans, hooks): a uniquely named
// temporary in the same folder, fsync, rename. On any failure the old file stays as it was, the
// temporary is removed, and the error names the file.
//   - A symlink is written through: its target gets the new bytes, the link stays.
//   - The file's mode, owner and group are kept (a new file gets `new_mode` less the umask).
//   - A file with several hard links is refused: a rename would split them.
//   - A file the user may not write (its permission bits, for a user who is not root) is refused.
//   - With `expected`, the file must still hold those bytes: checked when it is read, and at the
//     rename by swapping the new file in and reading back what it replaced (an edit found there
//     is swapped back); otherwise it is left alone.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "core/result.h"

namespace leakfix {

struct WriteOptions {
  std::optional<std::string_view> expected;  // the bytes the file must still hold; nullopt: whatever it holds
  mode_t new_mode = 0666;                    // for a file that does not exist yet
  // Runs after the first check, right before the new file takes the old one's place: for tests
  // that edit the file in that window.
  std::function<void()> before_swap;
};

std::optional<Error> safe_write(const std::string& path, const std::string& display, std::string_view bytes,
                                const WriteOptions& options = {});

// A file's bytes; nullopt (errno set) when it cannot be opened or read.
std::optional<std::string> read_all(const std::string& path);

}  // namespace leakfix
