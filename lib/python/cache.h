#pragma once
// The summary cache: what a scan learned of each file, kept on disk between runs and found again
// by the file's content. A file's entry holds what crosses files (the wrappers, release helpers
// and context managers it defines, its imports and routes), its findings and the word filter
// of its text. A re-scan whose changed files give the rest of the tree what they gave before
// analyses only those files; one where they give something else analyses the tree again.
//
// Layout: DIR/.gitignore (`*`), DIR/CACHEDIR.TAG, DIR/v1/<config>/index (where each file's
// entry is, by path and stat) and DIR/v1/<config>/<xx>/<key> (one entry per content). <config>
// hashes the leakfix version, the rules and the options; <key> the file's display path and
// bytes. Every write goes to a temporary file renamed into place: concurrent runs see whole
// entries or none, and an entry that does not read back is ignored and written again.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/walk.h"
#include "python/analyzer.h"
#include "python/targets.h"

namespace leakfix::python {

// What the cache keeps of one file as a scan left it.
struct CachedFile {
  std::size_t digest = 0;          // content_digest of its bytes
  std::vector<uint64_t> words;     // the bits of its text's word filter (WordFilters::bits_of)
  std::optional<FileResult> result;  // when it was analysed (findings before routes are joined)
  std::optional<Error> error;      // when it could not be read or parsed
  std::string shape;               // what other files' analyses may read of it (project.cpp)
  std::string knowledge;           // the fingerprint of what the scan knew when it analysed it
};

class SummaryCache {
 public:
  // The cache under `dir` for this configuration (version, rules, options). nullopt, with `why`,
  // when the folder cannot be made.
  static std::optional<SummaryCache> open(const std::filesystem::path& dir, const std::string& config, std::string* why);

  // A file's key: its display path and bytes, hashed.
  static std::string key_of(const std::string& display, std::string_view bytes);
  // What the index holds of a file: where its entry is and, so that a file that was read but
  // not analysed needs no entry read, what the entry would give of it.
  struct Record {
    std::string key;
    std::size_t digest = 0;
    std::vector<uint64_t> words;
    std::string shape, knowledge;
    bool analysed = false;  // its entry holds a result or an error
    bool buffer = false;    // an editor's unsaved text was analysed, not the file on disk
  };
  // The record of a file whose size, modification time and inode are unchanged since the last
  // run recorded it (and that was not modified in the second before that record).
  const Record* from_stat(const InputFile& file) const;

  // The record of a file by the last run, whatever it holds now.
  const Record* previous(const InputFile& file) const;
  // Whether the last run recorded files that this run does not have.
  bool lost_files(const std::vector<InputFile>& files) const;

  std::optional<CachedFile> load(const std::string& key) const;
  // A record of the whole run (what discovery found), by name.
  std::optional<std::string> get(const std::string& name) const;
  void put(const std::string& name, std::string_view bytes) const;
  void store(const std::string& key, const CachedFile& entry) const;
  // Notes a file's record for the index written by save_index(). Thread-safe.
  void record(const InputFile& file, Record r);
  // Writes the index of this run (the files recorded).
  void save_index();

  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Stat {
    std::uint64_t size = 0, mtime_ns = 0, inode = 0;
    bool operator==(const Stat&) const = default;
  };
  static std::optional<Stat> stat_of(const std::string& path);
  std::filesystem::path entry_path(const std::string& key) const;

  std::filesystem::path dir_;  // DIR/v1/<config>
  std::map<std::string, std::pair<Stat, Record>> index_;  // by "path\ndisplay"
  std::uint64_t index_written_ns_ = 0;
  std::map<std::string, std::pair<Stat, Record>> recorded_;
  mutable std::map<std::string, Stat> seen_;  // stats taken by from_stat, for record
  std::unique_ptr<std::mutex> lock_ = std::make_unique<std::mutex>();
};

// What a scan's discovery added to the rules, in the order it found it: a warm run rebuilds the
// same knowledge from it.
struct Discoveries {
  std::vector<std::pair<std::string, Acquirer>> acquirers;  // rule id, acquirer
  std::vector<ReleaseSpec> releases;
  std::vector<std::string> request_scoped;
  bool teardown = false;
  std::vector<std::string> acquirer_notes, release_notes;  // for --verbose
};
std::string encode(const Discoveries& d);
std::optional<Discoveries> decode_discoveries(std::string_view bytes);

// The configuration part of the cache's keys: the version, every rule's every field, options.
std::string cache_config(const std::string& version, const std::vector<Rule>& rules, bool whole_files);

}  // namespace leakfix::python
