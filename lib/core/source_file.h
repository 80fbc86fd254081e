#pragma once
// The bytes of one input file and what the reporters and rewriters need to know about them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace leakfix {

struct Position {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

class SourceFile {
 public:
  SourceFile(std::string path, std::string bytes);

  // Reads a file. Fails (with a message naming the file) when it cannot be read, looks binary,
  // or is neither UTF-8 nor declared (PEP 263 coding cookie) as latin-1 or cp1252; those two are
  // turned into UTF-8 here and encoding() says which they were.
  static Result<SourceFile> read(const std::string& path, const std::string& display_path);
  // What read() makes of bytes already read.
  static Result<SourceFile> decode(std::string bytes, const std::string& display_path);

  // "utf-8", "latin-1" or "cp1252": what the file is encoded in on disk.
  const std::string& encoding() const { return encoding_; }

  const std::string& path() const { return path_; }
  const std::string& bytes() const { return bytes_; }
  // The text after a UTF-8 byte-order mark, if any; offsets into the tree are relative to it.
  std::string_view text() const { return std::string_view(bytes_).substr(bom_size_); }
  std::size_t bom_size() const { return bom_size_; }
  bool crlf() const { return crlf_; }
  // Lines end in a lone CR on disk (classic Mac OS; CPython reads them as newlines). The text
  // holds LF in their place, byte for byte, so offsets are the same; to_disk() puts them back.
  bool cr_only() const { return cr_only_; }
  // Text of this file (UTF-8, as text() is) in the file's own encoding and line endings.
  Result<std::string> to_disk(std::string_view utf8) const;

  Position position(std::uint32_t text_offset) const;
  int line_count() const { return static_cast<int>(line_starts_.size()); }
  // Offset in text() where a 1-based line starts; text().size() past the last line.
  std::uint32_t line_offset(int number) const {
    return number >= 1 && number <= line_count() ? line_starts_[static_cast<std::size_t>(number - 1)]
                                                 : static_cast<std::uint32_t>(text().size());
  }
  // The text of a 1-based line, without its line ending.
  std::string_view line(int number) const;
  // The 1-based column, in Unicode characters, of a 0-based byte offset within a 1-based line.
  int character_column(int line_number, std::uint32_t byte_in_line) const;

 private:
  std::string path_;
  std::string bytes_;  // UTF-8
  std::string encoding_ = "utf-8";
  std::size_t bom_size_ = 0;
  bool crlf_ = false;
  bool cr_only_ = false;
  std::vector<std::uint32_t> line_starts_;
};

// UTF-8 text (as SourceFile holds it) back in the file's encoding on disk: "utf-8", "latin-1"
// or "cp1252". Fails when a character has no byte in that encoding.
Result<std::string> encode_text(std::string_view utf8, std::string_view encoding);

// True when the bytes are valid UTF-8; `bad_offset` receives the first bad byte otherwise.
bool valid_utf8(std::string_view bytes, std::size_t* bad_offset = nullptr);

}  // namespace leakfix
