#include "core/git.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace leakfix {

Result<std::string> run_git(const std::string& dir, const std::vector<std::string>& args) {
  int out[2], err[2];
  if (::pipe(out) != 0 || ::pipe(err) != 0) return Error{"", 0, fmt::format("cannot run git: {}", std::strerror(errno))};
  const pid_t pid = ::fork();
  if (pid < 0) return Error{"", 0, fmt::format("cannot run git: {}", std::strerror(errno))};
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::close(out[0]);
    ::close(err[0]);
    ::close(out[1]);
    ::close(err[1]);
    std::vector<std::string> argv{"git", "-C", dir, "-c", "core.quotepath=off"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    ::execvp("git", raw.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string stdout_text, stderr_text;
  // Both pipes are drained together, so that neither can fill up and stall git.
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[65536];
  for (int open = 2; open > 0;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[k].fd = -1;
        --open;
        continue;
      }
      (k == 0 ? stdout_text : stderr_text).append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && stdout_text.empty() && stderr_text.empty())
    return Error{"", 0, "cannot run git: not found on PATH"};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!stderr_text.empty() && (stderr_text.back() == '\n' || stderr_text.back() == '\r')) stderr_text.pop_back();
    return Error{"", 0, fmt::format("git {} failed: {}", args.empty() ? "" : args.front(), stderr_text)};
  }
  return stdout_text;
}

Result<std::string> git_toplevel(const std::string& dir) {
  auto top = run_git(dir, {"rev-parse", "--show-toplevel"});
  if (!top) return top.error();
  std::string t = *top;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

ChangedLines parse_zero_context_diff(std::string_view diff, const std::string& top) {
  ChangedLines out;
  std::string current;
  std::size_t start = 0;
  while (start < diff.size()) {
    auto end = diff.find('\n', start);
    if (end == std::string_view::npos) end = diff.size();
    const auto line = diff.substr(start, end - start);
    start = end + 1;
    if (line.substr(0, 4) == "+++ ") {
      const auto path = line.substr(4);
      if (path == "/dev/null") {
        current.clear();
      } else {
        current = (std::filesystem::path(top) / std::string(path.substr(path.substr(0, 2) == "b/" ? 2 : 0))).lexically_normal().string();
        out[current];
      }
    } else if (line.substr(0, 3) == "@@ " && !current.empty()) {
      // @@ -a,b +c,d @@
      const auto plus = line.find('+');
      if (plus == std::string_view::npos) continue;
      int c = 0, d = 1;
      const auto spec = line.substr(plus + 1, line.find(' ', plus) - plus - 1);
      const auto comma = spec.find(',');
      try {
        c = std::stoi(std::string(spec.substr(0, comma)));
        if (comma != std::string_view::npos) d = std::stoi(std::string(spec.substr(comma + 1)));
      } catch (const std::exception&) {
        continue;
      }
      for (int k = 0; k < d; ++k) out[current].insert(c + k);
    }
  }
  return out;
}

Result<ChangedLines> changed_since(const std::string& dir, const std::string& ref) {
  auto top = git_toplevel(dir);
  if (!top) return top.error();
  auto base = run_git(*top, {"merge-base", ref, "HEAD"});
  if (!base) return Error{"", 0, fmt::format("--diff-base {}: {}", ref, base.error().message)};
  std::string b = *base;
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r')) b.pop_back();
  auto diff = run_git(*top, {"diff", "--no-color", "--no-ext-diff", "-U0", b, "--"});
  if (!diff) return diff.error();
  auto out = parse_zero_context_diff(*diff, *top);
  auto untracked = run_git(*top, {"ls-files", "--others", "--exclude-standard", "-z"});
  if (untracked) {
    std::string_view list = *untracked;
    while (!list.empty()) {
      const auto nul = list.find('\0');
      const auto path = list.substr(0, nul);
      if (!path.empty()) out[(std::filesystem::path(*top) / std::string(path)).lexically_normal().string()].insert(0);
      if (nul == std::string_view::npos) break;
      list.remove_prefix(nul + 1);
    }
  }
  return out;
}

}  // namespace leakfix
