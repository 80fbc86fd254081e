#pragma once
// Which of several strings occur in a text, found in one pass over it (Aho–Corasick): after a
// round of discovery the prefilter looks for every name discovered, and the module each lives
// in, in every file of the tree; a search per name read the whole tree once per name. A few
// needles are looked for one by one: the library's search skips ahead faster than an
// automaton steps.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leakfix {

class MultiSearch {
 public:
  explicit MultiSearch(const std::vector<std::string>& needles);
  // found[i] is 1 when needles[i] occurs in text (an empty needle always does).
  std::vector<char> find_all(std::string_view text) const;

 private:
  static constexpr std::size_t kFew = 16;
  std::vector<std::string> few_;                // the needles, when there are few
  std::size_t count_;
  std::vector<std::array<int32_t, 256>> next_;  // the automaton's moves, failures folded in
  std::vector<std::vector<int32_t>> ends_;      // needles ending at each state, by suffix too
  std::vector<char> ends_any_;                  // whether any needle ends at a state
};

}  // namespace leakfix
