#include "core/safe_write.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>  // renameat2, RENAME_EXCHANGE
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace leakfix {
namespace {

namespace fs = std::filesystem;

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}


// Makes the rename itself durable.
void sync_folder(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::optional<Error> safe_write(const std::string& path, const std::string& display, std::string_view bytes,
                                const WriteOptions& options) {
  auto fail = [&](std::string why) { return Error{display, 0, "not written: " + std::move(why)}; };
  // Through symlinks to the file they name.
  std::error_code ec;
  fs::path target = path;
  if (fs::is_symlink(target, ec)) {
    target = fs::canonical(target, ec);
    if (ec) return fail(fmt::format("the symlink leads nowhere: {}", ec.message()));
  }
  struct stat st {};
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) return fail(std::strerror(errno));
  if (exists) {
    if (!S_ISREG(st.st_mode)) return fail("it is not a regular file");
    if (st.st_nlink > 1)
      return fail(fmt::format("it has {} hard links, which a new file would split; write it by hand or break the links", st.st_nlink));
    if (::access(target.c_str(), W_OK) != 0) return fail(fmt::format("you may not write it ({})", std::strerror(errno)));
  }
  if (options.expected) {
    const auto now = exists ? read_all(target.string()) : std::nullopt;
    if (!now) return fail("cannot read it again");
    if (*now != *options.expected) return fail("the file changed since it was analysed; run again");
  }

  const fs::path dir = target.parent_path();
  std::string tmp = (dir / ("." + target.filename().string() + ".leakfix-XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return fail(fmt::format("cannot create a temporary file beside it: {}", std::strerror(errno)));
  mode_t mode = options.new_mode;
  if (exists) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode &= ~mask;
  }
  bool ok = write_all(fd, bytes) && ::fchmod(fd, mode) == 0;
  int err = errno;
  if (ok && exists && (st.st_uid != ::geteuid() || st.st_gid != ::getegid()) && ::fchown(fd, st.st_uid, st.st_gid) != 0) {
    ok = false;
    err = errno;
  }
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    err = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  // The window between the check and the rename. Where the file system can swap two names in
  // one step (RENAME_EXCHANGE: ext4, xfs, btrfs, tmpfs), the new file is swapped in and what it
  // replaced is read back: an edit saved at any moment before the swap is found there and
  // swapped back in place. Elsewhere the file is looked at again, as late as can be.
  if (ok && options.before_swap) options.before_swap();
  if (ok && options.expected && exists) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
      const auto replaced = read_all(tmp);
      if (!replaced || *replaced != *options.expected) {
        const bool restored = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0;
        if (!restored) {
          return fail(fmt::format("the file changed while it was being written; the edit is kept in {}", tmp));
        }
        ::unlink(tmp.c_str());
        return fail("the file changed while it was being written; it is left as it was, run again");
      }
      ::unlink(tmp.c_str());
      sync_folder(dir);
      return std::nullopt;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
      err = errno;
      ::unlink(tmp.c_str());
      return fail(std::strerror(err));
    }
    const auto now = read_all(target.string());
    if (!now || *now != *options.expected) {
      ::unlink(tmp.c_str());
      return fail("the file changed while it was being written; run again");
    }
  }
  if (ok && ::rename(tmp.c_str(), target.c_str()) == 0) {
    sync_folder(dir);
    return std::nullopt;
  }
  if (ok) err = errno;
  ::unlink(tmp.c_str());
  return fail(std::strerror(err));
}

std::optional<std::string> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return s.str();
}

}  // namespace leakfix
