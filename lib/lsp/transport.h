#pragma once
// JSON-RPC over a byte stream with LSP's framing: `Content-Length: N\r\n\r\n` then N bytes.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace leakfix::lsp {

using nlohmann::json;

// One message read, or why none could be: a body that is not JSON, a header without a length.
// The stream goes on after either; `end` is set when the input is closed.
struct Incoming {
  std::optional<json> message;
  std::string error;
  bool end = false;
};

class Transport {
 public:
  // Reads from the file descriptor `in`, writes to `out`; neither is closed here.
  Transport(int in, int out) : in_(in), out_(out) {}

  Incoming read();
  // Whether a message has begun to arrive: bytes are buffered or `in` is readable now.
  bool pending();
  void send(const json& message);

 private:
  // Fills the buffer until it holds `n` bytes; false at the end of input.
  bool fill(std::size_t n);
  bool read_line(std::string& line);

  int in_, out_;
  std::string buffer_;
  std::size_t at_ = 0;  // read position in buffer_
};

// The JSON-RPC error codes this server answers with.
enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kServerNotInitialized = -32002,
};

json response(const json& id, json result);
json error_response(const json& id, int code, const std::string& message);
json notification(const std::string& method, json params);

}  // namespace leakfix::lsp
