// A main() for the fuzz target where libFuzzer is not linked (g++ builds; the test suite): runs
// every input of the given files and folders, then, for -max_total_time seconds or -runs inputs,
// inputs made from them by random mutations (bytes, Python's own tokens, splices of two inputs).
// It finds less than libFuzzer (no coverage guidance) but runs in every build, sanitizers
// included. An input that crashes, trips a sanitizer or runs longer than -timeout seconds is
// written to crash-<n>.py in the current folder (or -artifact_prefix) before the process dies.
//   fuzz-driver [-runs=N] [-max_total_time=S] [-seed=N] [-timeout=S] [-artifact_prefix=P] PATH...
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The input being run, kept where a signal handler can write it out.
std::string current;
char artifact[4096] = "crash.py";

void save_current() {
  const int fd = ::open(artifact, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  for (std::size_t at = 0; at < current.size();) {
    const ssize_t n = ::write(fd, current.data() + at, current.size() - at);
    if (n <= 0) break;
    at += static_cast<std::size_t>(n);
  }
  ::close(fd);
  constexpr char said[] = "fuzz-driver: the input is saved in ";
  (void)!::write(2, said, sizeof said - 1);
  (void)!::write(2, artifact, std::strlen(artifact));
  (void)!::write(2, "\n", 1);
}

extern "C" void on_fatal(int sig) {
  if (sig == SIGALRM) {
    constexpr char hang[] = "fuzz-driver: an input ran past -timeout\n";
    (void)!::write(2, hang, sizeof hang - 1);
  }
  save_current();
  std::signal(sig == SIGALRM ? SIGABRT : sig, SIG_DFL);
  std::raise(sig == SIGALRM ? SIGABRT : sig);
}

// Tokens of Python, and of what leakfix looks for, that a byte-level mutation rarely makes.
const std::vector<std::string_view> kTokens = {
    "\n", "\n    ", "\n        ", "\t", "\r\n", "\r", ":", "(", ")", ",", ".", "=", "\"", "'", "\"\"\"", "#", "\\\n",
    "def f(x):\n", "class C:\n", "async ", "await ", "return ", "return\n", "yield ", "raise ", "pass\n", "try:\n",
    "except Exception:\n", "except:\n", "finally:\n", "else:\n", "elif x:\n", "if x:\n", "while x:\n", "for r in c:\n",
    "with ", " as conn:\n", "lambda: ", "global conn\n", "nonlocal conn\n", "del conn\n", "break\n", "continue\n",
    "conn = get_db_connection()\n", "conn.close()\n", "cur = conn.cursor()\n", "cur.execute(q)\n",
    "rows = cur.fetchall()\n", "f = open(p)\n", "f.close()\n", "sqlite3.connect(p)", "pool.getconn()",
    "pool.putconn(conn)\n", "release_db_connection(conn)\n", "from db import get_db_connection\n", "import sqlite3\n",
    "@contextmanager\n", "@app.route('/x')\n", "g.db = conn\n", "stack.enter_context(", "closing(", "if not conn.closed:\n",
    "# -*- coding: latin-1 -*-\n", "# coding: cp1252\n", "\xef\xbb\xbf", "\xc3\xa9", "\xff", "\x00", "match x:\n    case 1:\n",
};

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) {
    switch (rng() % 7) {
      case 0:  // a byte changed
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
        break;
      case 1:  // a token put in
        s.insert(pick(s.size() + 1), kTokens[pick(kTokens.size())]);
        break;
      case 2: {  // a range taken out
        if (s.empty()) break;
        const auto at = pick(s.size());
        s.erase(at, 1 + pick(std::min<std::size_t>(64, s.size() - at)));
        break;
      }
      case 3: {  // a range repeated
        if (s.empty()) break;
        const auto at = pick(s.size());
        const auto piece = s.substr(at, 1 + pick(std::min<std::size_t>(256, s.size() - at)));
        s.insert(pick(s.size() + 1), piece);
        break;
      }
      case 4: {  // a line of another input
        const auto& other = corpus[pick(corpus.size())];
        if (other.empty()) break;
        const auto begin = other.rfind('\n', pick(other.size()));
        const auto from = begin == std::string::npos ? 0 : begin + 1;
        const auto end = other.find('\n', from);
        s.insert(pick(s.size() + 1), other.substr(from, end == std::string::npos ? std::string::npos : end - from + 1));
        break;
      }
      case 5: {  // indentation changed on a line
        const auto at = s.rfind('\n', pick(s.size() + 1));
        s.insert(at == std::string::npos ? 0 : at + 1, std::string(rng() % 2 ? 4 : 1, rng() % 2 ? ' ' : '\t'));
        break;
      }
      default: {  // the head of this input, the tail of another
        const auto& other = corpus[pick(corpus.size())];
        s = s.substr(0, pick(s.size() + 1)) + other.substr(pick(other.size() + 1));
        break;
      }
    }
  }
  if (s.size() > (64u << 10)) s.resize(64u << 10);
  return s;
}

void add_inputs(const std::filesystem::path& p, std::vector<std::string>& corpus) {
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(p, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".py") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) add_inputs(f, corpus);
    return;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz-driver: cannot read %s\n", p.c_str());
    std::exit(2);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  corpus.push_back(std::move(buf).str());
}

void run(const std::string& input, unsigned timeout) {
  current = input;
  if (timeout) ::alarm(timeout);
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(current.data()), current.size());
  if (timeout) ::alarm(0);
}

}  // namespace

int main(int argc, char** argv) {
  long runs = -1;
  double seconds = 0;
  unsigned timeout = 20;
  uint64_t seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view flag) { return std::string(a.substr(flag.size())); };
    if (a.starts_with("-runs=")) runs = std::stol(value("-runs="));
    else if (a.starts_with("-max_total_time=")) seconds = std::stod(value("-max_total_time="));
    else if (a.starts_with("-seed=")) seed = std::stoull(value("-seed="));
    else if (a.starts_with("-timeout=")) timeout = static_cast<unsigned>(std::stoul(value("-timeout=")));
    else if (a.starts_with("-artifact_prefix=")) std::snprintf(artifact, sizeof artifact, "%scrash.py", value("-artifact_prefix=").c_str());
    else if (a.starts_with("-")) {
      std::fprintf(stderr, "fuzz-driver: unknown option %s\n", argv[i]);
      return 2;
    } else add_inputs(argv[i], corpus);
  }
  if (corpus.empty()) corpus.emplace_back();
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGALRM}) std::signal(sig, on_fatal);
#ifdef __SANITIZE_ADDRESS__
  __sanitizer_set_death_callback(save_current);
#endif
  for (const auto& input : corpus) run(input, timeout);
  std::fprintf(stderr, "fuzz-driver: %zu inputs ran\n", corpus.size());
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  long done = 0;
  auto more = [&] {
    if (runs >= 0) return done < runs;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds;
  };
  while (more()) {
    run(mutate(corpus[rng() % corpus.size()], corpus, rng), timeout);
    ++done;
  }
  std::fprintf(stderr, "fuzz-driver: %ld mutated inputs ran (seed %llu), no crash\n", done, static_cast<unsigned long long>(seed));
  return 0;
}
