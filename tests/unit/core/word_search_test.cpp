// WordSearch finds exactly the whole-word occurrences a search per name finds.
#include "core/word_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

using leakfix::WordSearch;
using leakfix::WordFilters;
using leakfix::WordSet;

namespace {

std::vector<uint64_t> sorted_hashes(std::string_view text) {
  auto hashes = WordSearch::words_of(text).hashes();
  std::sort(hashes.begin(), hashes.end());
  return hashes;
}

std::vector<std::pair<uint32_t, uint32_t>> by_find(const std::vector<std::string>& names, std::string_view text) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (uint32_t i = 0; i < names.size(); ++i) {
    const auto& n = names[i];
    for (auto p = text.find(n); p != std::string_view::npos; p = text.find(n, p + 1)) {
      const bool starts = p == 0 || !leakfix::word_byte(text[p - 1]);
      const bool ends = p + n.size() == text.size() || !leakfix::word_byte(text[p + n.size()]);
      if (starts && ends) out.emplace_back(static_cast<uint32_t>(p), i);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<uint32_t, uint32_t>> by_search(const std::vector<std::string>& names, std::string_view text) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const auto& h : WordSearch(names).find_all(text)) out.emplace_back(h.at, h.name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

using Hits = std::vector<std::pair<uint32_t, uint32_t>>;  // (byte, name), as by_search gives them

TEST(WordSearch, FindsWholeWordsOnly) {
  const std::string text = "with connection_ctx() as c: reopen(x); open(y).close()";
  EXPECT_EQ(by_search({"connect", "open", "close"}, text), (Hits{{39, 1}, {47, 2}}));
}

TEST(WordSearch, ANameGivenTwiceIsFoundUnderBothIndices) {
  EXPECT_EQ(by_search({"release", "other", "release"}, "pool.release(conn)"), (Hits{{5, 0}, {5, 2}}));
}

TEST(WordSearch, NonAsciiBytesAreWordBytes) {
  const std::vector<std::string> names{"open"};
  EXPECT_TRUE(WordSearch(names).find_all("\xc3\xa9open(x)").empty());
  EXPECT_EQ(WordSearch(names).find_all("(open)").size(), 1u);
}

TEST(WordSearch, AgreesWithFindOnRandomTexts) {
  std::mt19937 rng(7);
  const std::string alphabet = "abc_ .(1";
  auto random_word = [&](std::size_t max) {
    std::string w(1 + rng() % max, 'a');
    for (auto& c : w) c = "abc_"[rng() % 4];
    return w;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> names;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 12); i < n; ++i) names.push_back(random_word(4));
    std::string text(rng() % 300, ' ');
    for (auto& c : text) c = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(by_search(names, text), by_find(names, text)) << text;
  }
}

TEST(WordHashes, HoldEveryDistinctWordOnceInOrder) {
  std::mt19937 rng(11);
  for (int round = 0; round < 100; ++round) {
    std::string text;
    std::set<std::string> words;
    for (int i = 0, n = static_cast<int>(rng() % 2000); i < n; ++i) {
      std::string w(1 + rng() % 3, 'a');
      for (auto& c : w) c = "abcd_"[rng() % 5];
      words.insert(w);
      text += w + (rng() % 2 ? " " : ".(");
    }
    std::vector<uint64_t> expected;
    for (const auto& w : words) expected.push_back(WordSearch::hash(w));
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    ASSERT_EQ(sorted_hashes(text), expected);
  }
}

// Long words, non-ASCII bytes, words across the 64-byte blocks the pass reads and at the very
// end of the text: the words found are those a byte-by-byte split finds.
TEST(WordHashes, AgreeWithAByteByByteSplitOnAnyBytes) {
  std::mt19937 rng(5);
  for (int round = 0; round < 300; ++round) {
    std::string text(rng() % 300, ' ');
    for (auto& c : text) {
      const auto r = rng() % 10;
      c = r < 5 ? "abcXYZ019_"[rng() % 10] : r < 7 ? " .(\n\t"[rng() % 5] : r < 8 ? static_cast<char>(0x80 + rng() % 128) : static_cast<char>(rng() % 128);
    }
    std::set<std::string> words;
    for (std::size_t i = 0; i < text.size();) {
      if (!leakfix::word_byte(text[i])) {
        ++i;
        continue;
      }
      const std::size_t begin = i;
      while (i < text.size() && leakfix::word_byte(text[i])) ++i;
      words.insert(text.substr(begin, i - begin));
    }
    std::vector<uint64_t> expected;
    for (const auto& w : words) expected.push_back(WordSearch::hash(w));
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    ASSERT_EQ(sorted_hashes(text), expected) << "round " << round;
  }
}

TEST(WordSet, ContainsEveryWordOfTheTextAndNoOther) {
  const auto set = WordSearch::words_of("conn = get_db_connection()\nconn.close()  # é\n");
  for (const char* w : {"conn", "get_db_connection", "close", "é"}) EXPECT_TRUE(set.contains(WordSearch::hash(w))) << w;
  for (const char* w : {"con", "connection", "get_db", "open"}) EXPECT_FALSE(set.contains(WordSearch::hash(w))) << w;
  EXPECT_EQ(set.hashes().size(), 4u);
  EXPECT_FALSE(WordSet{}.contains(WordSearch::hash("conn")));
}

TEST(WordFilters, NeverSayNoToAWordOfTheTextAndRarelyYesToAnother) {
  std::mt19937 rng(5);
  WordFilters store;
  std::vector<std::pair<WordFilters::Handle, std::set<std::string>>> texts;
  for (int round = 0; round < 400; ++round) {
    std::string text;
    std::set<std::string> words;
    for (int i = 0, n = static_cast<int>(rng() % 600); i < n; ++i) {
      std::string w(3 + rng() % 6, 'a');
      for (auto& c : w) c = "abcdefgh_"[rng() % 9];
      words.insert(w);
      text += w + (rng() % 2 ? " " : ".(");
    }
    texts.emplace_back(store.add(WordSearch::words_of(text).hashes()), words);
  }
  int asked = 0, wrong_yes = 0;
  for (const auto& [filter, words] : texts) {
    for (const auto& w : words) {
      ASSERT_TRUE(store.may_contain(filter, WordSearch::hash(w))) << w;
      ASSERT_TRUE(store.may_write(filter, w + "."));
    }
    for (int i = 0; i < 200; ++i) {
      const std::string other = "zz" + std::to_string(rng());  // a word no text writes
      ++asked;
      if (store.may_contain(filter, WordSearch::hash(other))) ++wrong_yes;
    }
    if (words.empty()) {
      EXPECT_FALSE(store.may_contain(filter, WordSearch::hash("abc")));
    }
  }
  // 10 bits a word and 4 probes: about 1% in theory.
  EXPECT_LT(wrong_yes, asked * 3 / 100) << wrong_yes << " of " << asked;
  // The bits of 400 texts sit in a few blocks, not 400 allocations.
  EXPECT_LE(store.bytes(), std::size_t{4} << 20);
}

TEST(WordFilters, WriteAsksForEveryWholeWord) {
  WordFilters store;
  const auto f = store.add(WordSearch::words_of("x = g.db\ncfg.close()\n").hashes());
  EXPECT_TRUE(store.may_write(f, "g."));
  EXPECT_TRUE(store.may_write(f, "db"));
  EXPECT_TRUE(store.may_write(f, "(.)"));  // no word: nothing can rule it out
  EXPECT_FALSE(store.may_write(f, "g.missing_name_here"));
}
