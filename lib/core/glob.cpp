#include "core/glob.h"

namespace leakfix {
namespace {

bool match_class(std::string_view pat, std::size_t& p, char c) {
  // pat[p] == '['
  std::size_t i = p + 1;
  bool negate = false;
  if (i < pat.size() && (pat[i] == '!' || pat[i] == '^')) { negate = true; ++i; }
  bool matched = false;
  bool first = true;
  for (; i < pat.size() && (first || pat[i] != ']'); ++i) {
    first = false;
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      if (c >= pat[i] && c <= pat[i + 2]) matched = true;
      i += 2;
    } else if (pat[i] == c) {
      matched = true;
    }
  }
  if (i >= pat.size()) return false;  // unterminated class never matches
  p = i + 1;
  return matched != negate;
}

bool match_from(std::string_view pat, std::size_t p, std::string_view s, std::size_t i) {
  while (p < pat.size()) {
    const char pc = pat[p];
    if (pc == '*') {
      const bool globstar = p + 1 < pat.size() && pat[p + 1] == '*';
      if (globstar) {
        std::size_t q = p + 2;
        // "**/" also matches zero segments
        if (q < pat.size() && pat[q] == '/' && match_from(pat, q + 1, s, i)) return true;
        for (std::size_t k = i; k <= s.size(); ++k) {
          if (match_from(pat, q, s, k)) return true;
        }
        return false;
      }
      for (std::size_t k = i; k <= s.size(); ++k) {
        if (match_from(pat, p + 1, s, k)) return true;
        if (k < s.size() && s[k] == '/') break;
      }
      return false;
    }
    if (i >= s.size()) return false;
    if (pc == '?') {
      if (s[i] == '/') return false;
      ++p; ++i;
      continue;
    }
    if (pc == '[') {
      if (s[i] == '/' || !match_class(pat, p, s[i])) return false;
      ++i;
      continue;
    }
    if (pc == '\\' && p + 1 < pat.size()) ++p;
    if (pat[p] != s[i]) return false;
    ++p; ++i;
  }
  return i == s.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) { return match_from(pattern, 0, path, 0); }

}  // namespace leakfix
