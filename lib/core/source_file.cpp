#include "core/source_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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
  for (std::uint32_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\n') line_starts_.push_back(i + 1);
  }
  const auto first_nl = t.find('\n');
  crlf_ = first_nl != std::string_view::npos && first_nl > 0 && t[first_nl - 1] == '\r';
}

Result<SourceFile> SourceFile::read(const std::string& path, const std::string& display_path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{display_path, 0, fmt::format("cannot read file: {}", std::strerror(errno))};
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Error{display_path, 0, "cannot read file: I/O error"};
  std::string bytes = std::move(buf).str();
  const auto probe = std::string_view(bytes).substr(0, 8192);
  if (probe.find('\0') != std::string_view::npos) {
    return Error{display_path, 0, "skipped: binary file (contains NUL bytes)"};
  }
  std::size_t bad = 0;
  if (!valid_utf8(bytes, &bad)) {
    const auto line = 1 + std::count(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    return Error{display_path, static_cast<int>(line),
                 fmt::format("skipped: not valid UTF-8 (byte {} of the file); re-encode it as UTF-8", bad + 1)};
  }
  return SourceFile(display_path, std::move(bytes));
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
