#include "core/walk.h"

#include <dirent.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <system_error>

#include "core/glob.h"

namespace fs = std::filesystem;

namespace leakfix {
namespace {

// A file named on the command line that no front end reads by itself: a header is analysed
// through the C++ translation units that include it, and C is not read.
std::optional<std::string> not_read_alone(const fs::path& p) {
  static const std::set<std::string> headers = {".h", ".hh", ".hpp", ".hxx", ".h++", ".ipp", ".inl", ".tcc"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (headers.contains(ext))
    return std::string("a header is read through the C++ files that include it (name those, or their folder)");
  if (ext == ".c") return std::string("C is not analysed (the C++ pass reads .cpp, .cc, .cxx and .c++ files)");
  return std::nullopt;
}

// The patterns of one .gitignore file, matched against paths relative to its folder.
struct IgnoreFile {
  struct Pattern {
    std::string glob;
    bool negate = false;
    bool dir_only = false;
  };
  fs::path base;
  std::vector<Pattern> patterns;

  static IgnoreFile load(const fs::path& dir) {
    IgnoreFile f{dir, {}};
    std::ifstream in(dir / ".gitignore");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      while (!line.empty() && line.back() == ' ') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      Pattern p;
      if (line[0] == '!') { p.negate = true; line.erase(0, 1); }
      if (!line.empty() && line.back() == '/') { p.dir_only = true; line.pop_back(); }
      if (line.empty()) continue;
      const bool anchored = line.find('/') != std::string::npos;
      if (line[0] == '/') line.erase(0, 1);
      p.glob = anchored ? line : "**/" + line;
      f.patterns.push_back(std::move(p));
    }
    return f;
  }

  // -1: not mentioned, 0: re-included, 1: ignored
  int verdict(const fs::path& path, bool is_dir) const {
    const auto rel = path.lexically_relative(base).generic_string();
    if (rel.empty() || rel.starts_with("..")) return -1;
    int result = -1;
    for (const auto& p : patterns) {
      if (p.dir_only && !is_dir) continue;
      if (glob_match(p.glob, rel)) result = p.negate ? 0 : 1;
    }
    return result;
  }
};

bool ignored_by(const std::vector<IgnoreFile>& stack, const fs::path& path, bool is_dir) {
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const int v = it->verdict(path, is_dir);
    if (v >= 0) return v == 1;
  }
  return false;
}

bool skipped_dir_name(const std::string& name) {
  static const std::set<std::string> names = {"node_modules", "__pycache__", "site-packages-cache"};
  return (name.size() > 1 && name[0] == '.') || names.contains(name);
}

// Folders of code that is not the project's: installed packages and build output.
bool vendored_dir(const fs::path& dir, const std::string& name) {
  static const std::set<std::string> names = {"venv", "site-packages", "dist-packages", "build", "dist"};
  std::error_code ec;
  return names.contains(name) || fs::exists(dir / "pyvenv.cfg", ec);
}

class Walker {
 public:
  Walker(const WalkOptions& options, WalkResult& out) : options_(options), out_(out) {}

  void root(const std::string& arg) {
    std::error_code ec;
    const fs::path p(arg);
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      out_.errors.push_back(Error{arg, 0, "no such file or directory"});
      return;
    }
    if (!fs::is_directory(st)) {
      if (auto why = not_read_alone(p)) {
        out_.skipped.push_back(Error{arg, 0, *why});
        return;
      }
      add(p, display_of(arg, {}));
      return;
    }
    std::vector<IgnoreFile> stack;
    if (options_.respect_gitignore) stack = ancestor_ignores(fs::absolute(p, ec));
    // Symbolic links to folders are not followed, so a file's real path is its folder's (found
    // once here) joined with the names below it, unless the file itself is a link.
    const auto canon = fs::weakly_canonical(p, ec);
    walk_dir(arg, p, fs::path(), stack, ec ? fs::path() : canon);
  }

 private:
  static std::string display_of(const std::string& arg, const fs::path& rel) {
    if (rel.empty()) return arg;
    return (fs::path(arg) / rel).lexically_normal().generic_string();
  }

  // .gitignore files from the enclosing repository's root down to (excluding) dir itself.
  std::vector<IgnoreFile> ancestor_ignores(const fs::path& dir) {
    std::vector<fs::path> chain;
    std::error_code ec;
    for (fs::path d = dir.parent_path(); !d.empty(); d = d.parent_path()) {
      chain.push_back(d);
      if (fs::exists(d / ".git", ec) || d == d.root_path()) break;
    }
    if (chain.empty() || !fs::exists(chain.back() / ".git", ec)) return {};
    std::vector<IgnoreFile> stack;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (fs::exists(*it / ".gitignore", ec)) stack.push_back(IgnoreFile::load(*it));
    }
    // Paths are compared relative to each .gitignore's folder, so they must be absolute too.
    absolute_ = true;
    return stack;
  }

  bool excluded(const fs::path& rel) const {
    const auto r = rel.generic_string();
    const auto name = rel.filename().string();
    for (const auto& g : options_.excludes) {
      if (glob_match(g, r) || glob_match(g, name) || glob_match(g + "/**", r)) return true;
    }
    return false;
  }

  void walk_dir(const std::string& arg, const fs::path& dir, const fs::path& rel, std::vector<IgnoreFile>& stack,
                const fs::path& canon_dir) {
    std::error_code ec;
    const fs::path abs_dir = absolute_ ? fs::absolute(dir, ec) : dir;
    // The listing gives each entry's type (d_type): no stat per entry, but for links and the
    // file systems that do not say.
    struct Entry {
      std::string name;
      fs::file_type type;
    };
    std::vector<Entry> entries;
    if (DIR* d = ::opendir(dir.c_str())) {
      while (const dirent* de = ::readdir(d)) {
        const std::string name = de->d_name;
        if (name == "." || name == "..") continue;
        fs::file_type type = fs::file_type::unknown;
        switch (de->d_type) {
          case DT_DIR: type = fs::file_type::directory; break;
          case DT_REG: type = fs::file_type::regular; break;
          case DT_LNK: type = fs::file_type::symlink; break;
          case DT_UNKNOWN: {
            std::error_code lec;
            type = fs::symlink_status(dir / name, lec).type();
            break;
          }
          default: type = fs::file_type::unknown; break;
        }
        entries.push_back(Entry{name, type});
      }
      ::closedir(d);
    } else {
      out_.errors.push_back(Error{display_of(arg, rel), 0, fmt::format("cannot read directory: {}", std::strerror(errno))});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    const bool has_ignore = options_.respect_gitignore &&
                            std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return e.name == ".gitignore"; });
    if (has_ignore) stack.push_back(IgnoreFile::load(abs_dir));
    for (const auto& e : entries) {
      const auto& name = e.name;
      const auto child_rel = rel / name;
      const fs::path path = dir / name;
      std::error_code sec;
      const bool link = e.type == fs::file_type::symlink;
      const bool is_dir = link ? fs::is_directory(path, sec) : e.type == fs::file_type::directory;
      if (excluded(child_rel)) continue;
      const fs::path match_path = absolute_ ? abs_dir / name : path;
      if (options_.respect_gitignore && ignored_by(stack, match_path, is_dir)) continue;
      if (is_dir) {
        if (skipped_dir_name(name) || link) continue;
        if (options_.default_excludes && vendored_dir(path, name)) continue;
        walk_dir(arg, path, child_rel, stack, canon_dir.empty() ? canon_dir : canon_dir / name);
      } else if (e.type == fs::file_type::regular || (link && fs::is_regular_file(path, sec))) {
        const auto ext = path.extension().string();
        if (std::find(options_.extensions.begin(), options_.extensions.end(), ext) != options_.extensions.end()) {
          add(path, display_of(arg, child_rel), link || canon_dir.empty() ? std::string() : (canon_dir / name).string());
        }
      }
    }
    if (has_ignore) stack.pop_back();
  }

  // `real`: the file's real path when the walk knows it; else it is asked for.
  void add(const fs::path& p, std::string display, std::string real = {}) {
    std::error_code ec;
    auto key = real.empty() ? fs::weakly_canonical(p, ec).string() : std::move(real);
    if (ec) key = p.string();
    if (!seen_.insert(key).second) return;
    out_.files.push_back(InputFile{p.string(), std::move(display)});
    if (options_.progress && out_.files.size() % 512 == 0) options_.progress(out_.files.size());
  }

  const WalkOptions& options_;
  WalkResult& out_;
  std::set<std::string> seen_;
  bool absolute_ = false;
};

}  // namespace

WalkResult collect_files(const std::vector<std::string>& paths, const WalkOptions& options) {
  WalkResult out;
  Walker walker(options, out);
  for (const auto& p : paths) walker.root(p);
  return out;
}

}  // namespace leakfix
