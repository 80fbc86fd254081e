#include "core/multi_search.h"

#include <algorithm>
#include <queue>

namespace leakfix {

MultiSearch::MultiSearch(const std::vector<std::string>& needles) : count_(needles.size()) {
  if (needles.size() <= kFew) {
    few_ = needles;
    return;
  }
  std::array<int32_t, 256> none;
  none.fill(-1);
  next_.push_back(none);
  ends_.emplace_back();
  // The trie of the needles.
  for (std::size_t i = 0; i < needles.size(); ++i) {
    int32_t state = 0;
    for (const char c : needles[i]) {
      auto& move = next_[static_cast<std::size_t>(state)][static_cast<unsigned char>(c)];
      if (move < 0) {
        move = static_cast<int32_t>(next_.size());
        next_.push_back(none);
        ends_.emplace_back();
      }
      state = next_[static_cast<std::size_t>(state)][static_cast<unsigned char>(c)];
    }
    ends_[static_cast<std::size_t>(state)].push_back(static_cast<int32_t>(i));
  }
  // Breadth first, each state's failure (its longest proper suffix in the trie) is complete
  // before its children's: missing moves become the failure's, and the needles ending at the
  // failure end here too.
  std::vector<int32_t> failure(next_.size(), 0);
  std::queue<int32_t> todo;
  for (auto& move : next_[0]) {
    if (move < 0) {
      move = 0;
    } else {
      todo.push(move);
    }
  }
  while (!todo.empty()) {
    const auto state = static_cast<std::size_t>(todo.front());
    todo.pop();
    const auto fail = static_cast<std::size_t>(failure[state]);
    ends_[state].insert(ends_[state].end(), ends_[fail].begin(), ends_[fail].end());
    for (std::size_t c = 0; c < 256; ++c) {
      const int32_t child = next_[state][c];
      if (child < 0) {
        next_[state][c] = next_[fail][c];
      } else {
        failure[static_cast<std::size_t>(child)] = next_[fail][c];
        todo.push(child);
      }
    }
  }
  for (const auto& e : ends_) ends_any_.push_back(e.empty() ? 0 : 1);
}

std::vector<char> MultiSearch::find_all(std::string_view text) const {
  std::vector<char> found(count_, 0);
  if (next_.empty()) {
    for (std::size_t i = 0; i < few_.size(); ++i) found[i] = text.find(few_[i]) != std::string_view::npos;
    return found;
  }
  for (const int32_t i : ends_[0]) found[static_cast<std::size_t>(i)] = 1;  // empty needles
  std::size_t state = 0;
  for (const char c : text) {
    state = static_cast<std::size_t>(next_[state][static_cast<unsigned char>(c)]);
    if (!ends_any_[state]) continue;
    for (const int32_t i : ends_[state]) found[static_cast<std::size_t>(i)] = 1;
  }
  return found;
}

}  // namespace leakfix
