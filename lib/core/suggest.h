#pragma once
// "Did you mean": the known word closest to a mistyped one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leakfix {

// The candidate nearest `word` by edit distance, when it is near enough to be a typo (at most a
// third of the word's length, and at least 1 edit allowed).
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean `x`?)", or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace leakfix
