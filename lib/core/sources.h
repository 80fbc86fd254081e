#pragma once
// The texts of the files with findings, for code frames, offsets and fixes. A scan keeps no text
// (its memory would grow with the tree): a file is read again when a reporter or fix asks for it,
// a few are kept at a time, and a text is given only if it is still the one that was analysed.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/source_file.h"

namespace leakfix {

// What SourceFile::bytes() hashes to (never 0): whether a file read again is the one analysed.
std::size_t content_digest(const SourceFile& source);

class Sources {
 public:
  Sources();

  // A file to read when asked for: from `path`, and only if its bytes have `digest`.
  void add(const std::string& display, const std::string& path, std::size_t digest);
  // A text already in memory, held for the run (tests; the C++ pass).
  void emplace(const std::string& display, SourceFile source);

  // The text of a file, or null when it is not known, can no longer be read, or has changed
  // since it was analysed. Safe to call from several threads.
  std::shared_ptr<const SourceFile> find(const std::string& display) const;
  bool contains(const std::string& display) const { return entries_.contains(display); }
  // The files known, sorted.
  std::vector<std::string> files() const;

 private:
  struct Entry {
    std::string path;
    std::size_t digest = 0;
    std::shared_ptr<const SourceFile> held;
  };
  struct Cache;  // the last few files read, behind a lock
  std::map<std::string, Entry> entries_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace leakfix
