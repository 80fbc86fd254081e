#include "core/source_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace leakfix {

std::string Error::to_string() const {
  if (file.empty()) return message;
  if (line > 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}: {}", file, message);
}

bool valid_utf8(std::string_view s, std::size_t* bad_offset) {
  std::size_t i = 0;
  const auto n = s.size();
  while (i < n) {
    // Source is nearly all ASCII: eight bytes without a high bit are stepped over at once.
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; }
    else { if (bad_offset) *bad_offset = i; return false; }
    if (i + len > n) { if (bad_offset) *bad_offset = i; return false; }
    std::uint32_t cp = c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) { if (bad_offset) *bad_offset = i; return false; }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

SourceFile::SourceFile(std::string path, std::string bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {
  if (bytes_.size() >= 3 && bytes_.compare(0, 3, "\xEF\xBB\xBF") == 0) bom_size_ = 3;
  const auto t = text();
  line_starts_.push_back(0);
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes at a time: a branch per line, not per byte.
  const __m128i newline = _mm_set1_epi8('\n');
  for (; i + 16 <= t.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + i));
    for (unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline))); m != 0; m &= m - 1) {
      line_starts_.push_back(static_cast<std::uint32_t>(i + static_cast<std::size_t>(std::countr_zero(m)) + 1));
    }
  }
#endif
  for (; i < t.size(); ++i) {
    if (t[i] == '\n') line_starts_.push_back(static_cast<std::uint32_t>(i + 1));
  }
  const auto first_nl = t.find('\n');
  crlf_ = first_nl != std::string_view::npos && first_nl > 0 && t[first_nl - 1] == '\r';
}

namespace {

// The encoding a PEP 263 cookie names in one line (`# -*- coding: latin-1 -*-`), as CPython's
// tokenizer reads it: a comment line, the first `coding` followed by `:` or `=`, blanks, then the
// name. A scan, not a regular expression: a line may be megabytes long.
std::string cookie_in(std::string_view line) {
  const auto hash = line.find_first_not_of(" \t\f");
  if (hash == std::string_view::npos || line[hash] != '#') return "";
  for (auto at = line.find("coding", hash); at != std::string_view::npos; at = line.find("coding", at + 1)) {
    std::size_t i = at + 6;
    if (i >= line.size() || (line[i] != ':' && line[i] != '=')) continue;
    ++i;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string name;
    for (; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) break;
      name += c == '_' ? '-' : static_cast<char>(std::tolower(c));
    }
    if (!name.empty()) return name;
  }
  return "";
}

// The encoding a PEP 263 cookie names in the first two lines, normalised; "" when none. The
// second line counts only when the first is a comment or blank.
std::string coding_cookie(std::string_view bytes) {
  std::size_t start = 0;
  for (int line = 0; line < 2 && start < bytes.size(); ++line) {
    auto end = bytes.find('\n', start);
    if (end == std::string_view::npos) end = bytes.size();
    const auto text = bytes.substr(start, end - start);
    if (auto name = cookie_in(text); !name.empty()) return name;
    const auto first = text.find_first_not_of(" \t\f\r");
    if (first != std::string_view::npos && text[first] != '#') return "";
    start = end + 1;
  }
  return "";
}

// Windows-1252 code points for bytes 0x80..0x9F (0: undefined).
constexpr char32_t kCp1252[32] = {0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
                                  0x2039, 0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
                                  0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Latin-1 or cp1252 bytes as UTF-8; false when a byte has no character in cp1252.
bool to_utf8(std::string_view bytes, bool cp1252, std::string& out) {
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    char32_t cp = b;
    if (cp1252 && b >= 0x80 && b <= 0x9F) {
      cp = kCp1252[b - 0x80];
      if (cp == 0) return false;
    }
    append_utf8(out, cp);
  }
  return true;
}

}  // namespace

Result<std::string> encode_text(std::string_view utf8, std::string_view encoding) {
  if (encoding == "utf-8") return std::string(utf8);
  const bool cp1252 = encoding == "cp1252";
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    char32_t cp = b;
    std::size_t len = 1;
    if (b >= 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else if (b >= 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if (b >= 0xC0) {
      len = 2;
      cp = b & 0x1F;
    }
    for (std::size_t k = 1; k < len && i + k < utf8.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    i += len;
    int byte = -1;
    if (cp < 0x80 || (cp < 0x100 && !(cp1252 && cp >= 0x80 && cp <= 0x9F))) byte = static_cast<int>(cp);
    if (cp1252 && byte < 0) {
      for (int k = 0; k < 32; ++k) {
        if (kCp1252[k] == cp && cp != 0) byte = 0x80 + k;
      }
    }
    if (byte < 0) return Error{"", 0, fmt::format("U+{:04X} cannot be written in {}", static_cast<std::uint32_t>(cp), encoding)};
    out += static_cast<char>(byte);
  }
  return out;
}

Result<SourceFile> SourceFile::read(const std::string& path, const std::string& display_path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{display_path, 0, fmt::format("cannot read file: {}", std::strerror(errno))};
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Error{display_path, 0, "cannot read file: I/O error"};
  return decode(std::move(buf).str(), display_path);
}

Result<SourceFile> SourceFile::decode(std::string bytes, const std::string& display_path) {
  const auto probe = std::string_view(bytes).substr(0, 8192);
  if (probe.find('\0') != std::string_view::npos) {
    return Error{display_path, 0, "skipped: binary file (contains NUL bytes)"};
  }
  const auto cookie = coding_cookie(bytes);
  const bool latin1 = cookie == "latin-1" || cookie == "latin1" || cookie == "iso-8859-1" || cookie == "iso8859-1" ||
                      cookie == "l1" || cookie == "iso-latin-1";
  const bool cp1252 = cookie == "cp1252" || cookie == "windows-1252";
  // CR-only line endings: the parser reads LF only, so the text gets LF in their place.
  const bool cr_only = bytes.find('\n') == std::string::npos && bytes.find('\r') != std::string::npos;
  if (cr_only) std::replace(bytes.begin(), bytes.end(), '\r', '\n');
  if (latin1 || cp1252) {
    std::string utf8;
    if (!to_utf8(bytes, cp1252, utf8)) {
      return Error{display_path, 0, fmt::format("skipped: not valid {} (its coding cookie)", cookie)};
    }
    SourceFile f(display_path, std::move(utf8));
    f.encoding_ = latin1 ? "latin-1" : "cp1252";
    f.cr_only_ = cr_only;
    return f;
  }
  std::size_t bad = 0;
  if (!valid_utf8(bytes, &bad)) {
    const auto line = 1 + std::count(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    const auto hint = cookie.empty() || cookie == "utf-8" || cookie == "utf8"
                          ? std::string("re-encode it as UTF-8")
                          : fmt::format("its coding cookie says {}; leakfix reads UTF-8, latin-1 and cp1252", cookie);
    return Error{display_path, static_cast<int>(line),
                 fmt::format("skipped: not valid UTF-8 (byte {} of the file); {}", bad + 1, hint)};
  }
  SourceFile f(display_path, std::move(bytes));
  f.cr_only_ = cr_only;
  return f;
}

Result<std::string> SourceFile::to_disk(std::string_view utf8) const {
  auto out = encode_text(utf8, encoding_);
  if (out && cr_only_) std::replace(out->begin(), out->end(), '\n', '\r');
  return out;
}

Position SourceFile::position(std::uint32_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const auto line = static_cast<int>(it - line_starts_.begin());
  return Position{line, static_cast<int>(offset - line_starts_[static_cast<std::size_t>(line - 1)]) + 1};
}

int SourceFile::character_column(int line_number, std::uint32_t byte_in_line) const {
  const auto text = line(line_number);
  int column = 1;
  for (std::uint32_t i = 0; i < byte_in_line && i < text.size(); ++i) {
    // Count every byte that does not continue a UTF-8 sequence.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return column + static_cast<int>(byte_in_line > text.size() ? byte_in_line - text.size() : 0);
}

std::string_view SourceFile::line(int number) const {
  if (number < 1 || number > line_count()) return {};
  const auto t = text();
  const auto start = line_starts_[static_cast<std::size_t>(number - 1)];
  auto end = number < line_count() ? line_starts_[static_cast<std::size_t>(number)] - 1 : static_cast<std::uint32_t>(t.size());
  if (end > start && t[end - 1] == '\r') --end;
  if (end < start) end = start;
  return t.substr(start, end - start);
}

}  // namespace leakfix
