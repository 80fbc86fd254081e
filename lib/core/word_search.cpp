#include "core/word_search.h"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace leakfix {
namespace {

// A word's hash: eight bytes at a time, the last few zero-extended, mixed with the length and
// finished with splitmix64's finaliser; the lowest bit is set so that 0 can mark an empty slot.
// `overread`: the eight bytes from each chunk's start may be read (the word is not at the end
// of its buffer), so the last few bytes need no byte-by-byte copy. Every word of every file is
// hashed: a multiplication per byte (FNV-1a) was a tenth of a cold scan of the standard library.
inline uint64_t hash_bytes(const char* p, std::size_t n, bool overread) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (n > 0) {
    uint64_t w = 0;
    if (overread) {
      std::memcpy(&w, p, 8);
      w &= ~uint64_t{0} >> (64 - 8 * n);
    } else {
      std::memcpy(&w, p, n);
    }
    h = (h ^ w) * 0x94D049BB133111EBull;
  }
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return h | 1;
}

uint64_t hash_of(std::string_view s) { return hash_bytes(s.data(), s.size(), false); }

// The word bytes (word_byte) of 64 bytes as bits, bit i for p[i].
uint64_t word_mask64(const unsigned char* p) {
#if defined(__SSE2__)
  uint64_t m = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    // x in [lo, lo + span] as unsigned bytes: min(x - lo, span) == x - lo.
    auto in_range = [](__m128i x, char lo, char span) {
      const __m128i t = _mm_sub_epi8(x, _mm_set1_epi8(lo));
      return _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(span)), t);
    };
    const __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 25);
    const __m128i digit = in_range(v, '0', 9);
    const __m128i underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
    const __m128i word = _mm_or_si128(_mm_or_si128(letter, digit), _mm_or_si128(underscore, v));  // v: its high bit
    m |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(word))) << (16 * k);
  }
  return m;
#else
  uint64_t m = 0;
  for (int i = 0; i < 64; ++i) m |= static_cast<uint64_t>(word_byte(static_cast<char>(p[i]))) << i;
  return m;
#endif
}

// Calls f(begin, end) for every whole word of the text, in order. The bytes are classified 64 at
// a time and words found from where the class changes: a branch per word, not per byte.
template <typename F>
void for_each_word(std::string_view text, F&& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  uint64_t carry = 0;  // whether the byte before the block is a word byte
  std::size_t start = 0;
  for (std::size_t base = 0; base < n; base += 64) {
    uint64_t m;
    if (base + 64 <= n) {
      m = word_mask64(p + base);
    } else {
      unsigned char tail[64] = {};  // past the end: not word bytes
      std::memcpy(tail, p + base, n - base);
      m = word_mask64(tail);
    }
    for (uint64_t change = m ^ ((m << 1) | carry); change != 0; change &= change - 1) {
      const std::size_t at = base + static_cast<std::size_t>(std::countr_zero(change));
      if ((m >> (at - base)) & 1) start = at;
      else f(start, at);
    }
    carry = m >> 63;
  }
  if (carry) f(start, n);
}

// word_byte as a table: the scans below look every byte up.
struct WordBytes {
  bool is[256] = {};
  constexpr WordBytes() {
    for (int c = 0; c < 256; ++c) is[c] = word_byte(static_cast<char>(c));
  }
};
constexpr WordBytes kWordBytes;

// The slot of an open-addressing table (0 is empty) that holds h, or the empty one where it
// would go.
std::size_t slot_of(const std::vector<uint64_t>& table, uint64_t h) {
  const std::size_t mask = table.size() - 1;
  std::size_t k = (h >> 7) & mask;
  while (table[k] != h && table[k] != 0) k = (k + 1) & mask;
  return k;
}

// Puts h in the table unless it is there; whether it was added.
bool add_hash(std::vector<uint64_t>& table, uint64_t h) {
  uint64_t& slot = table[slot_of(table, h)];
  if (slot == h) return false;
  slot = h;
  return true;
}

}  // namespace

uint64_t WordSearch::hash(std::string_view word) { return hash_of(word); }

WordSet WordSearch::words_of(std::string_view text) {
  // Words repeat (a file writes `self` hundreds of times): each distinct one is kept once.
  WordSet set;
  set.table_.assign(std::bit_ceil(std::max<std::size_t>(64, text.size() / 8)), 0);
  for_each_word(text, [&](std::size_t begin, std::size_t end) {
    const uint64_t h = hash_bytes(text.data() + begin, end - begin, end + 8 <= text.size());
    if (!add_hash(set.table_, h)) return;
    set.hashes_.push_back(h);
    if (set.hashes_.size() * 2 > set.table_.size()) {
      set.table_.assign(set.table_.size() * 2, 0);
      for (const uint64_t x : set.hashes_) add_hash(set.table_, x);
    }
  });
  return set;
}

bool WordSet::contains(uint64_t hash) const { return !table_.empty() && table_[slot_of(table_, hash)] == hash; }

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
  // A word that cannot be a name (its first byte or its length rules it out) is stepped over
  // without a look-up.
  for_each_word(text, [&](std::size_t begin, std::size_t end) {
    const std::size_t len = end - begin;
    if (!first_[static_cast<unsigned char>(text[begin])] || len < shortest_ || len > longest_) return;
    for (int32_t k = index_of(text.substr(begin, len)); k >= 0; k = same_next_[static_cast<std::size_t>(k)]) {
      out.push_back(Hit{static_cast<uint32_t>(k), static_cast<uint32_t>(begin)});
    }
  });
  return out;
}

namespace {

constexpr int kProbes = 4;

// The probes of a word into `bits` bits: double hashing over the two halves of its hash, each
// mapped onto the range by a multiplication (the filter need not be a power of two long).
template <typename F>
void probe(uint64_t h, uint64_t bits, F&& at) {
  const uint64_t step = (h >> 32) | 1;
  for (int k = 0; k < kProbes; ++k) {
    const uint64_t x = h + static_cast<uint64_t>(k) * step * 0x9E3779B97F4A7C15ull;
    at(static_cast<std::size_t>(((x >> 32) * bits) >> 32));  // bits < 2^32
  }
}

}  // namespace

WordFilters::Handle WordFilters::add(const std::vector<uint64_t>& hashes) { return add_bits(filter_bits(hashes)); }

std::vector<uint64_t> WordFilters::filter_bits(const std::vector<uint64_t>& hashes) {
  if (hashes.empty()) return {};
  const std::size_t size = (hashes.size() * 10 + 63) / 64;  // 10 bits a word, 4 probes: about 1% false yes
  std::vector<uint64_t> b(size, 0);
  for (const uint64_t h : hashes) probe(h, size * 64, [&](std::size_t i) { b[i / 64] |= uint64_t{1} << (i % 64); });
  return b;
}

WordFilters::Handle WordFilters::add_bits(const std::vector<uint64_t>& words) {
  if (words.empty()) return Handle{};
  const std::size_t size = words.size();
  std::lock_guard guard(lock_);
  if (blocks_.empty() || used_ + size > block_sizes_.back()) {
    const std::size_t n = std::max(kBlock, size);
    blocks_.push_back(std::make_unique<uint64_t[]>(n));
    block_sizes_.push_back(n);
    used_ = 0;
  }
  const Handle filter{static_cast<uint32_t>(blocks_.size() - 1), static_cast<uint32_t>(used_), static_cast<uint32_t>(size)};
  used_ += size;
  std::copy(words.begin(), words.end(), blocks_.back().get() + filter.offset);
  return filter;
}

bool WordFilters::may_contain(Handle filter, uint64_t word_hash) const {
  if (filter.size == 0) return false;
  const uint64_t* b = bits(filter);
  bool all = true;
  probe(word_hash, uint64_t{filter.size} * 64, [&](std::size_t i) { all = all && (b[i / 64] >> (i % 64) & 1); });
  return all;
}

bool WordFilters::may_write(Handle filter, std::string_view text) const {
  for (std::size_t i = 0; i < text.size();) {
    if (!kWordBytes.is[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    while (i < text.size() && kWordBytes.is[static_cast<unsigned char>(text[i])]) ++i;
    if (!may_contain(filter, hash_of(text.substr(begin, i - begin)))) return false;
  }
  return true;
}

std::size_t WordFilters::bytes() const {
  std::size_t n = 0;
  for (const auto s : block_sizes_) n += s * sizeof(uint64_t);
  return n;
}

}  // namespace leakfix
