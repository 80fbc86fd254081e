#pragma once
// A value or a user-facing error, for module boundaries (std::expected is C++23).
#include <string>
#include <utility>
#include <variant>

namespace leakfix {

struct Error {
  std::string file;     // may be empty when no file is involved
  int line = 0;         // 1-based; 0 when unknown
  std::string message;  // what is wrong and, where possible, what to do

  std::string to_string() const;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace leakfix
