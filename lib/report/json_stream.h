#pragma once
// JSON written as it is produced, laid out as nlohmann's dump(2) lays it out. A scan of a large
// tree reports tens of thousands of findings, and building the document first cost more than a
// tenth of the scan; subtrees that are rare and small (a fix) still come from nlohmann.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leakfix {

class JsonStream {
 public:
  explicit JsonStream(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // The key of the next value, inside an object.
  void key(std::string_view k);

  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(std::int64_t n);
  void value(int n) { value(static_cast<std::int64_t>(n)); }
  void value(std::size_t n);
  void value(bool b);
  void null();
  // A value built with nlohmann, indented to sit where it is written.
  void value(const nlohmann::ordered_json& j);

  template <typename T>
  void member(std::string_view k, const T& v) {
    key(k);
    value(v);
  }

 private:
  void element();  // before any value: the separator and indentation an array element needs
  void open(char c);
  void close(char c);
  void indent(std::size_t depth);
  void string(std::string_view s);

  std::string& out_;
  std::vector<std::size_t> counts_;  // values written in each open container
  bool after_key_ = false;
};

}  // namespace leakfix
