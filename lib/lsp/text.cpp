#include "lsp/text.h"

#include <algorithm>
#include <vector>

namespace leakfix::lsp {

namespace {

// The length of the UTF-8 sequence led by `c`; 1 for a stray continuation byte.
std::size_t sequence_length(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

int units_of_sequence(std::size_t length, Encoding e) {
  if (e == Encoding::Utf8) return static_cast<int>(length);
  if (e == Encoding::Utf16) return length == 4 ? 2 : 1;
  return 1;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Offsets where each line starts; a text ending in a newline has an empty last line.
std::vector<std::size_t> line_starts(std::string_view text) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts.push_back(i + 1);
  }
  return starts;
}

}  // namespace

std::string_view to_string(Encoding e) {
  switch (e) {
    case Encoding::Utf8: return "utf-8";
    case Encoding::Utf32: return "utf-32";
    case Encoding::Utf16: break;
  }
  return "utf-16";
}

int units_of(std::string_view line, std::size_t bytes, Encoding e) {
  bytes = std::min(bytes, line.size());
  int units = 0;
  for (std::size_t i = 0; i < bytes;) {
    const std::size_t n = sequence_length(static_cast<unsigned char>(line[i]));
    units += units_of_sequence(n, e);
    i += n;
  }
  return units;
}

std::size_t bytes_of(std::string_view line, int units, Encoding e) {
  std::size_t i = 0;
  int seen = 0;
  while (i < line.size() && line[i] != '\n' && line[i] != '\r') {
    const std::size_t n = std::min(sequence_length(static_cast<unsigned char>(line[i])), line.size() - i);
    const int u = units_of_sequence(n, e);
    if (seen + u > units) break;
    seen += u;
    i += n;
  }
  return i;
}

std::optional<std::string> path_of_uri(std::string_view uri) {
  constexpr std::string_view scheme = "file://";
  if (uri.substr(0, scheme.size()) != scheme) return std::nullopt;
  uri.remove_prefix(scheme.size());
  // file://host/path: only the local host is ours.
  const auto slash = uri.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto host = uri.substr(0, slash);
  if (!host.empty() && host != "localhost") return std::nullopt;
  uri.remove_prefix(slash);
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      out += static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2]));
      i += 2;
    } else if (uri[i] == '?' || uri[i] == '#') {
      break;
    } else {
      out += uri[i];
    }
  }
  return out;
}

std::string uri_of_path(std::string_view absolute_path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (const char ch : absolute_path) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<nlohmann::json> line_edit(std::string_view before, std::string_view after, Encoding e) {
  if (before == after) return std::nullopt;
  const auto a = line_starts(before), b = line_starts(after);
  auto line_a = [&](std::size_t i) { return before.substr(a[i], (i + 1 < a.size() ? a[i + 1] : before.size()) - a[i]); };
  auto line_b = [&](std::size_t i) { return after.substr(b[i], (i + 1 < b.size() ? b[i + 1] : after.size()) - b[i]); };
  std::size_t first = 0;
  while (first < a.size() && first < b.size() && line_a(first) == line_b(first)) ++first;
  std::size_t tail = 0;  // equal lines at the end, not overlapping the head
  while (tail < a.size() - first && tail < b.size() - first && line_a(a.size() - 1 - tail) == line_b(b.size() - 1 - tail)) ++tail;
  const std::size_t end_a = a.size() - tail, end_b = b.size() - tail;
  const std::size_t from = a[first];
  const std::size_t to = end_a < a.size() ? a[end_a] : before.size();
  const std::size_t new_from = b[std::min(first, b.size() - 1)];
  const std::size_t new_to = end_b < b.size() ? b[end_b] : after.size();
  auto position = [&](std::size_t offset) {
    // The line of a start offset, at character 0; the end of the text may be inside its last line.
    const auto it = std::upper_bound(a.begin(), a.end(), offset);
    const auto line = static_cast<int>(it - a.begin()) - 1;
    const auto column = offset - a[static_cast<std::size_t>(line)];
    return nlohmann::json{{"line", line}, {"character", units_of(before.substr(a[static_cast<std::size_t>(line)]), column, e)}};
  };
  return nlohmann::json{{"range", {{"start", position(from)}, {"end", position(to)}}},
                        {"newText", std::string(after.substr(new_from, new_to - new_from))}};
}

}  // namespace leakfix::lsp
