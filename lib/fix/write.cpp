#include "fix/write.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace leakfix {
namespace {

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

}  // namespace

std::optional<Error> write_if_unchanged(const std::string& path, const std::string& display, std::string_view expected,
                                        std::string_view bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{display, 0, fmt::format("not written: cannot read it again: {}", std::strerror(errno))};
  std::ostringstream now;
  now << in.rdbuf();
  if (now.view() != expected) return Error{display, 0, "not written: the file changed since it was analysed; run again"};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{display, 0, fmt::format("not written: {}", std::strerror(errno))};

  std::string tmp = path + ".leakfix-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return Error{display, 0, fmt::format("not written: cannot create a temporary file: {}", std::strerror(errno))};
  bool ok = write_all(fd, bytes) && ::fchmod(fd, st.st_mode & 07777) == 0 && ::fsync(fd) == 0;
  const int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) return std::nullopt;
  const int err = ok ? errno : saved;
  ::unlink(tmp.c_str());
  return Error{display, 0, fmt::format("not written: {}", std::strerror(err))};
}

}  // namespace leakfix
