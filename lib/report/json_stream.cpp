#include "report/json_stream.h"

#include <fmt/format.h>

namespace leakfix {

void JsonStream::indent(std::size_t depth) { out_.append(2 * depth, ' '); }

void JsonStream::element() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (counts_.empty()) return;
  out_ += counts_.back()++ == 0 ? "\n" : ",\n";
  indent(counts_.size());
}

void JsonStream::key(std::string_view k) {
  element();
  string(k);
  out_ += ": ";
  after_key_ = true;
}

void JsonStream::open(char c) {
  element();
  out_ += c;
  counts_.push_back(0);
}

void JsonStream::close(char c) {
  const std::size_t n = counts_.back();
  counts_.pop_back();
  if (n > 0) {
    out_ += '\n';
    indent(counts_.size());
  }
  out_ += c;
}

void JsonStream::value(std::string_view s) {
  element();
  string(s);
}

void JsonStream::value(std::int64_t n) {
  element();
  fmt::format_to(std::back_inserter(out_), "{}", n);
}

void JsonStream::value(std::size_t n) {
  element();
  fmt::format_to(std::back_inserter(out_), "{}", n);
}

void JsonStream::value(bool b) {
  element();
  out_ += b ? "true" : "false";
}

void JsonStream::null() {
  element();
  out_ += "null";
}

void JsonStream::value(const nlohmann::ordered_json& j) {
  element();
  const std::string text = j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // Strings hold no raw newline, so every newline starts a line to indent.
  const std::string pad = "\n" + std::string(2 * counts_.size(), ' ');
  for (const char c : text) {
    if (c == '\n') out_ += pad;
    else out_ += c;
  }
}

// As nlohmann writes strings: UTF-8 kept, control characters escaped; a byte that is not valid
// UTF-8 becomes U+FFFD (nlohmann's `replace` handler) rather than an invalid document.
void JsonStream::string(std::string_view s) {
  out_ += '"';
  for (std::size_t i = 0; i < s.size();) {
    // Printable ASCII other than the two escaped characters goes out as one run.
    std::size_t plain = i;
    while (plain < s.size()) {
      const auto p = static_cast<unsigned char>(s[plain]);
      if (p < 0x20 || p >= 0x80 || p == '"' || p == '\\') break;
      ++plain;
    }
    if (plain > i) {
      out_.append(s.data() + i, plain - i);
      i = plain;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (c < 0x20) fmt::format_to(std::back_inserter(out_), "\\u{:04x}", c);
          else out_ += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // The length of a well-formed sequence starting here, or 0.
    std::size_t len = 0;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    if (len && i + len <= s.size()) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      bool ok = (c1 & 0xC0) == 0x80;
      if (c == 0xE0) ok = ok && c1 >= 0xA0;
      if (c == 0xED) ok = ok && c1 <= 0x9F;
      if (c == 0xF0) ok = ok && c1 >= 0x90;
      if (c == 0xF4) ok = ok && c1 <= 0x8F;
      for (std::size_t k = 2; k < len; ++k) ok = ok && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (ok) {
        out_.append(s.substr(i, len));
        i += len;
        continue;
      }
    }
    out_ += "\xEF\xBF\xBD";
    ++i;
  }
  out_ += '"';
}

}  // namespace leakfix
