// MultiSearch finds exactly the needles std::string_view::find finds, with few needles and with
// many (the automaton).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/multi_search.h"

using leakfix::MultiSearch;

namespace {

std::vector<char> naive(const std::vector<std::string>& needles, std::string_view text) {
  std::vector<char> out;
  for (const auto& n : needles) out.push_back(text.find(n) != std::string_view::npos ? 1 : 0);
  return out;
}

// Pads a needle list past the point where the automaton takes over.
std::vector<std::string> many(std::vector<std::string> needles) {
  for (int i = 0; needles.size() < 40; ++i) needles.push_back("zq" + std::to_string(i) + "qz");
  return needles;
}

TEST(MultiSearch, FindsNeedlesThatOverlapOrEndInsideOthers) {
  for (const auto& needles : {std::vector<std::string>{"he", "she", "his", "hers"}, many({"he", "she", "his", "hers"})}) {
    const MultiSearch search(needles);
    EXPECT_EQ(search.find_all("ushers"), naive(needles, "ushers"));
    EXPECT_EQ(search.find_all("this"), naive(needles, "this"));
    EXPECT_EQ(search.find_all(""), naive(needles, ""));
  }
  const auto needles = many({"he", "she", "his", "hers"});
  const auto found = MultiSearch(needles).find_all("ushers");
  EXPECT_EQ((std::vector<char>(found.begin(), found.begin() + 4)), (std::vector<char>{1, 1, 0, 1}));
}

TEST(MultiSearch, AnEmptyNeedleIsAlwaysFound) {
  const auto needles = many({"", "open"});
  const auto found = MultiSearch(needles).find_all("close");
  EXPECT_EQ(found[0], 1);
  EXPECT_EQ(found[1], 0);
}

TEST(MultiSearch, AgreesWithFindOnRandomTexts) {
  std::mt19937 random(7);
  auto word = [&](std::size_t max) {
    std::string w;
    const std::size_t n = 1 + random() % max;
    for (std::size_t i = 0; i < n; ++i) w += static_cast<char>("abc.\xc3\xa9_"[random() % 7]);
    return w;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> needles;
    const std::size_t count = round % 2 ? 5 : 30;
    for (std::size_t i = 0; i < count; ++i) needles.push_back(word(5));
    const MultiSearch search(needles);
    for (int t = 0; t < 5; ++t) {
      const std::string text = word(60);
      ASSERT_EQ(search.find_all(text), naive(needles, text)) << text;
    }
  }
}

}  // namespace
