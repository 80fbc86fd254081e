#pragma once
// Where a text writes any of a set of names as whole words, found in one pass over it. The scan
// looks for the calls of dozens of names (every acquirer and release, and the wrappers each
// round of discovery adds); a search per name read every file once per name, and stopped at
// every byte that began one (`c` for close and connect, `o` for open).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace leakfix {

// Whether a byte can be part of a word: ASCII letters, digits, `_`, and any non-ASCII byte (an
// identifier of Python and of most languages).
constexpr bool word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The distinct words of a text, by hash: whether the text writes a word, asked many times
// without reading it again (two words may share a hash: a yes can be wrong, a no cannot).
class WordSet {
 public:
  bool contains(uint64_t hash) const;
  // Each distinct word's hash once, in no particular order.
  const std::vector<uint64_t>& hashes() const { return hashes_; }

 private:
  friend class WordSearch;
  std::vector<uint64_t> table_;  // open addressing, a power of two long, at most half full; 0 is empty
  std::vector<uint64_t> hashes_;
};

class WordSearch {
 public:
  // Every name must be a word (word_byte throughout); see is_word.
  explicit WordSearch(const std::vector<std::string>& names);

  static bool is_word(std::string_view s);

  // A word's hash, as words_of computes it (never 0).
  static uint64_t hash(std::string_view word);
  // The distinct words of a text.
  static WordSet words_of(std::string_view text);

  struct Hit {
    uint32_t name;  // index into the names
    uint32_t at;    // byte of the text
  };
  // Every whole-word occurrence of a name, in the text's order; a name given twice is found
  // under both indices.
  std::vector<Hit> find_all(std::string_view text) const;
  // The first index of a word among the names, or -1.
  int32_t index_of(std::string_view word) const;

 private:
  std::vector<std::string> names_;
  std::vector<int32_t> same_next_;  // the next index holding the same name, or -1
  std::vector<int32_t> table_;  // open addressing by hash, a power of two long; -1 is empty
  bool first_[256] = {};        // bytes a name begins with
  std::size_t shortest_ = SIZE_MAX, longest_ = 0;
};

// Compact, lossy sets of the distinct words of many texts (Bloom filters, 10 bits a word): what
// a scan keeps of each file it has read once, to learn without reading it again whether a name
// found later may be written in it. A yes can be wrong (about 1% of the time), a no cannot. The
// filters sit side by side in large blocks, so that tens of thousands of them cost no more than
// their bits: a scan's memory must not grow with the tree faster than that.
class WordFilters {
 public:
  struct Handle {
    uint32_t block = 0, offset = 0, size = 0;  // in 64-bit words; size 0 holds nothing
  };

  // Adds the filter of a text's words (`hashes` as a WordSet gives them). Safe to
  // call from several threads, but not while another thread asks the store a question.
  Handle add(const std::vector<uint64_t>& hashes);
  // The bits of the filter add() makes of `hashes`, without adding it (any thread, any time),
  // and a filter made of such bits: the summary cache keeps the bits.
  static std::vector<uint64_t> filter_bits(const std::vector<uint64_t>& hashes);
  Handle add_bits(const std::vector<uint64_t>& bits);

  bool may_contain(Handle filter, uint64_t word_hash) const;
  // Whether `text` may be written: every whole word in it may be (a text without a word, always).
  bool may_write(Handle filter, std::string_view text) const;
  std::size_t bytes() const;

 private:
  static constexpr std::size_t kBlock = std::size_t{1} << 16;  // 64-bit words: 512 KB
  const uint64_t* bits(Handle filter) const { return blocks_[filter.block].get() + filter.offset; }
  std::vector<std::unique_ptr<uint64_t[]>> blocks_;
  std::vector<std::size_t> block_sizes_;
  std::size_t used_ = 0;  // of the last block
  std::mutex lock_;
};

}  // namespace leakfix
