#include "core/word_search.h"

#include <algorithm>
#include <bit>

namespace leakfix {
namespace {

uint64_t hash_of(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

}  // namespace

namespace {

// word_byte as a table: the scan below looks every byte up.
struct WordBytes {
  bool is[256] = {};
  constexpr WordBytes() {
    for (int c = 0; c < 256; ++c) is[c] = word_byte(static_cast<char>(c));
  }
};
constexpr WordBytes kWordBytes;

}  // namespace

uint64_t WordSearch::hash(std::string_view word) { return hash_of(word) | 1; }

std::vector<uint64_t> WordSearch::word_hashes(std::string_view text) {
  // Words repeat (a file writes `self` hundreds of times): the distinct ones are gathered in a
  // table first, and only they are sorted.
  std::vector<uint64_t> table(std::bit_ceil(std::max<std::size_t>(64, text.size() / 8)), 0);
  std::size_t mask = table.size() - 1;
  std::vector<uint64_t> out;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    if (!kWordBytes.is[p[i]]) {
      ++i;
      continue;
    }
    uint64_t h = 1469598103934665603ull;
    for (; i < n && kWordBytes.is[p[i]]; ++i) h = (h ^ p[i]) * 1099511628211ull;
    h |= 1;  // 0 marks an empty slot; a hash differs from its word's only in its lowest bit
    for (std::size_t k = (h >> 7) & mask;; k = (k + 1) & mask) {
      if (table[k] == h) break;
      if (table[k] == 0) {
        table[k] = h;
        out.push_back(h);
        if (out.size() * 2 > table.size()) {  // keep the table at most half full
          std::vector<uint64_t> bigger(table.size() * 2, 0);
          for (const uint64_t x : out) {
            std::size_t j = (x >> 7) & (bigger.size() - 1);
            while (bigger[j] != 0) j = (j + 1) & (bigger.size() - 1);
            bigger[j] = x;
          }
          table.swap(bigger);
          mask = table.size() - 1;
        }
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool WordSearch::is_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), word_byte);
}

WordSearch::WordSearch(const std::vector<std::string>& names) : names_(names) {
  table_.assign(std::bit_ceil(std::max<std::size_t>(16, names.size() * 4)), -1);
  const std::size_t mask = table_.size() - 1;
  same_next_.assign(names_.size(), -1);
  std::vector<int32_t> last_same(names_.size(), -1);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const auto& n = names_[i];
    if (n.empty()) continue;
    if (const int32_t first = index_of(n); first >= 0) {  // a repeated name: chained to the first
      auto& tail = last_same[static_cast<std::size_t>(first)];
      same_next_[static_cast<std::size_t>(tail < 0 ? first : tail)] = static_cast<int32_t>(i);
      tail = static_cast<int32_t>(i);
      continue;
    }
    first_[static_cast<unsigned char>(n[0])] = true;
    shortest_ = std::min(shortest_, n.size());
    longest_ = std::max(longest_, n.size());
    for (std::size_t h = hash_of(n);; ++h) {
      if (table_[h & mask] < 0) {
        table_[h & mask] = static_cast<int32_t>(i);
        break;
      }
    }
  }
}

int32_t WordSearch::index_of(std::string_view word) const {
  const std::size_t mask = table_.size() - 1;
  for (std::size_t h = hash_of(word);; ++h) {
    const int32_t i = table_[h & mask];
    if (i < 0) return -1;
    if (names_[static_cast<std::size_t>(i)] == word) return i;
  }
}


std::vector<WordSearch::Hit> WordSearch::find_all(std::string_view text) const {
  std::vector<Hit> out;
  if (longest_ == 0) return out;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    // A word that cannot be a name is stepped over without a look-up.
    if (!first_[p[i]]) {
      if (kWordBytes.is[p[i]]) {
        while (i < n && kWordBytes.is[p[i]]) ++i;
      } else {
        ++i;
      }
      continue;
    }
    if (i > 0 && kWordBytes.is[p[i - 1]]) {
      ++i;  // inside a word that began with another byte
      continue;
    }
    const std::size_t begin = i;
    while (i < n && kWordBytes.is[p[i]]) ++i;
    const std::size_t len = i - begin;
    if (len < shortest_ || len > longest_) continue;
    for (int32_t k = index_of(text.substr(begin, len)); k >= 0; k = same_next_[static_cast<std::size_t>(k)]) {
      out.push_back(Hit{static_cast<uint32_t>(k), static_cast<uint32_t>(begin)});
    }
  }
  return out;
}

}  // namespace leakfix
