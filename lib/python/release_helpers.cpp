#include "python/release_helpers.h"

#include "core/word_search.h"
#include "python/statements.h"

namespace leakfix::python {

namespace {

// Whether the function defined at `name` (`def name(a, b): ...`) writes a release of one of its
// parameters (`b.close(`, `putconn(b`) in the lines that follow: what a release helper does.
bool releases_a_parameter(std::string_view text, std::size_t name, const std::set<std::string, std::less<>>& releases) {
  const std::size_t open = text.find('(', name);
  const std::size_t close = open == std::string_view::npos ? open : text.find(')', open);
  if (close == std::string_view::npos || close - open > 1000) return false;
  const auto body = text.substr(close, 4000);
  auto word_before = [&](std::size_t e) {
    std::size_t b = e;
    while (b > 0 && word_byte(body[b - 1])) --b;
    return body.substr(b, e - b);
  };
  for (std::size_t i = open + 1; i < close;) {
    if (!word_byte(text[i])) {
      ++i;
      continue;
    }
    std::size_t e = i;
    while (e < close && word_byte(text[e])) ++e;
    const auto param = text.substr(i, e - i);
    i = e;
    // Words of defaults and annotations are tried too: a superset does no harm, the analysis
    // decides. A method's own object is not what it releases.
    if (param == "self" || param == "cls") continue;
    for (auto p = body.find(param); p != std::string_view::npos; p = body.find(param, p + param.size())) {
      const std::size_t after = p + param.size();
      if (!whole_name_at(body, p, param.size())) continue;
      if (after < body.size() && body[after] == '.') {
        std::size_t w = after + 1;
        while (w < body.size() && word_byte(body[w])) ++w;
        if (w < body.size() && body[w] == '(' && releases.contains(body.substr(after + 1, w - after - 1))) return true;
      }
      if (p > 0 && body[p - 1] == '(' && releases.contains(word_before(p - 1))) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> handle_callees(std::string_view text, const std::vector<Finding>& findings) {
  std::set<std::string, std::less<>> variables;
  for (const auto& f : findings) {
    if (WordSearch::is_word(f.variable)) variables.insert(f.variable);
  }
  std::vector<std::string> out;
  const WordSearch search(std::vector<std::string>(variables.begin(), variables.end()));
  for (const auto& hit : search.find_all(text)) {
    // Back to the bracket that opens the argument list the variable is in, on its line.
    std::size_t p = hit.at;
    int depth = 0;
    while (p > 0 && text[p - 1] != '\n') {
      const char c = text[--p];
      if (c == ')' || c == ']' || c == '}') ++depth;
      else if ((c == '[' || c == '{') && depth-- == 0) break;
      else if (c == '(' && depth-- == 0) {
        std::size_t e = p;
        while (e > 0 && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
        std::size_t b = e;
        while (b > 0 && word_byte(text[b - 1])) --b;
        if (b < e) out.emplace_back(text.substr(b, e - b));
        break;
      }
    }
  }
  return out;
}

bool defines_release_helper(std::string_view text, const std::set<std::string, std::less<>>& called,
                            const std::set<std::string, std::less<>>& releases) {
  for (auto d = text.find("def"); d != std::string_view::npos; d = text.find("def", d + 3)) {
    if (!whole_name_at(text, d, 3)) continue;
    std::size_t b = d + 3;
    while (b < text.size() && (text[b] == ' ' || text[b] == '\t')) ++b;
    std::size_t e = b;
    while (e < text.size() && word_byte(text[e])) ++e;
    if (b == d + 3 || !called.contains(text.substr(b, e - b))) continue;
    if (releases_a_parameter(text, b, releases)) return true;
  }
  return false;
}

}  // namespace leakfix::python
