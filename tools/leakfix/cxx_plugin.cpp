#include "cxx_plugin.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <filesystem>
#include <mutex>

namespace leakfix::cli {

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

}  // namespace leakfix::cli
