#include "cxx_plugin.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <filesystem>
#include <mutex>

namespace leakfix::cli {

bool is_cxx_source(std::string_view path) {
  for (std::string_view ext : {".cpp", ".cc", ".cxx", ".c++"}) {
    if (path.size() > ext.size() && path.substr(path.size() - ext.size()) == ext) return true;
  }
  return false;
}

const cxx::Api* cxx_api(std::string* why) {
  static std::once_flag once;
  static const cxx::Api* api = nullptr;
  static std::string error;
  std::call_once(once, [] {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    const auto dir = ec ? std::filesystem::current_path() : self.parent_path();
    std::vector<std::filesystem::path> places{dir / "leakfix-cxx.so", dir / ".." / "lib" / "leakfix" / "leakfix-cxx.so"};
    for (const auto& p : places) {
      if (!std::filesystem::exists(p, ec)) continue;
      void* handle = ::dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        error = fmt::format("the C++ pass {} cannot be loaded: {}", p.string(), ::dlerror());
        return;
      }
      using Entry = const cxx::Api* (*)();
      auto entry = reinterpret_cast<Entry>(::dlsym(handle, "leakfix_cxx_api"));
      const cxx::Api* found = entry ? entry() : nullptr;
      if (!found || found->version != cxx::kApiVersion) {
        error = fmt::format("{} is not this leakfix's C++ pass", p.string());
        return;
      }
      api = found;
      return;
    }
    error = fmt::format("the C++ pass (leakfix-cxx.so) is not installed next to {}; C++ files are skipped", dir.string());
  });
  if (!api && why) *why = error;
  return api;
}

std::string add_includes(std::string text, const std::vector<std::string>& headers) {
  for (const auto& h : headers) {
    if (text.find("#include " + h) != std::string::npos) continue;
    // After the last #include of the leading block of comments and preprocessor lines.
    std::size_t at = 0, pos = 0;
    bool in_comment = false;
    while (pos < text.size()) {
      const auto eol = text.find('\n', pos);
      const auto next = eol == std::string::npos ? text.size() : eol + 1;
      std::string_view line(text.data() + pos, next - pos);
      const auto start = line.find_first_not_of(" \t\r\n");
      const std::string_view body = start == std::string_view::npos ? std::string_view() : line.substr(start);
      if (in_comment) {
        if (body.find("*/") != std::string_view::npos) in_comment = false;
      } else if (body.empty() || body.starts_with("//")) {
      } else if (body.starts_with("/*")) {
        in_comment = body.find("*/") == std::string_view::npos;
      } else if (body.starts_with("#")) {
        if (body.starts_with("#include")) at = next;
      } else {
        break;
      }
      pos = next;
    }
    text.insert(at, "#include " + h + "\n");
  }
  return text;
}

}  // namespace leakfix::cli
