#include "core/sources.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <utility>

namespace leakfix {

std::size_t content_digest(const SourceFile& source) { return std::hash<std::string_view>{}(source.bytes()) | 1; }

struct Sources::Cache {
  static constexpr std::size_t kKept = 4;  // reporters go file by file; a fix holds its own copy
  std::mutex lock;
  std::deque<std::pair<std::string, std::shared_ptr<const SourceFile>>> recent;
};

Sources::Sources() : cache_(std::make_shared<Cache>()) {}

void Sources::add(const std::string& display, const std::string& path, std::size_t digest) {
  entries_[display] = Entry{path, digest, nullptr};
}

void Sources::emplace(const std::string& display, SourceFile source) {
  entries_[display] = Entry{"", 0, std::make_shared<const SourceFile>(std::move(source))};
}

std::shared_ptr<const SourceFile> Sources::find(const std::string& display) const {
  const auto it = entries_.find(display);
  if (it == entries_.end()) return nullptr;
  if (it->second.held) return it->second.held;
  {
    std::lock_guard guard(cache_->lock);
    for (const auto& [name, source] : cache_->recent) {
      if (name == display) return source;
    }
  }
  auto read = SourceFile::read(it->second.path, display);
  if (!read || content_digest(*read) != it->second.digest) return nullptr;
  auto source = std::make_shared<const SourceFile>(std::move(*read));
  std::lock_guard guard(cache_->lock);
  cache_->recent.emplace_back(display, source);
  if (cache_->recent.size() > Cache::kKept) cache_->recent.pop_front();
  return source;
}

std::vector<std::string> Sources::files() const {
  std::vector<std::string> out;
  for (const auto& [display, entry] : entries_) out.push_back(display);
  return out;
}

}  // namespace leakfix
