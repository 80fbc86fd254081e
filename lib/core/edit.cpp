#include "core/edit.h"

#include <algorithm>
#include <stdexcept>

namespace leakfix {

bool overlap(const Fix& a, const Fix& b) {
  if (a.edits.empty() || b.edits.empty()) return false;
  return a.begin() < b.end() && b.begin() < a.end();
}

std::string apply_edits(std::string_view text, std::vector<Edit> edits) {
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& x, const Edit& y) {
    return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
  });
  std::string out;
  out.reserve(text.size() + 256);
  std::uint32_t at = 0;
  for (const auto& e : edits) {
    if (e.begin < at || e.end < e.begin || e.end > text.size()) throw std::logic_error("overlapping or out-of-range edits");
    out.append(text.substr(at, e.begin - at));
    out += e.text;
    at = e.end;
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace leakfix
