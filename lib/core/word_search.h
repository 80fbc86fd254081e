#pragma once
// Where a text writes any of a set of names as whole words, found in one pass over it. The scan
// looks for the calls of dozens of names (every acquirer and release, and the wrappers each
// round of discovery adds); a search per name read every file once per name, and stopped at
// every byte that began one (`c` for close and connect, `o` for open).
#include <cstdint>
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

class WordSearch {
 public:
  // Every name must be a word (word_byte throughout); see is_word.
  explicit WordSearch(const std::vector<std::string>& names);

  static bool is_word(std::string_view s);

  // A word's hash, as word_hashes computes it (never 0).
  static uint64_t hash(std::string_view word);
  // The hashes of the distinct words of a text, sorted: whether a text writes a word, asked for
  // many words over several rounds, without reading the text again (two words may share a hash:
  // a yes can be wrong, a no cannot).
  static std::vector<uint64_t> word_hashes(std::string_view text);

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

}  // namespace leakfix
