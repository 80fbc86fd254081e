#include "lsp/transport.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string_view>

namespace leakfix::lsp {

namespace {

// Largest body accepted: a document of hundreds of megabytes is not source code.
constexpr std::size_t kMaxBody = 256u << 20;

bool starts_with_ci(std::string_view line, std::string_view prefix) {
  if (line.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto a = static_cast<unsigned char>(line[i]), b = static_cast<unsigned char>(prefix[i]);
    if (std::tolower(a) != std::tolower(b)) return false;
  }
  return true;
}

}  // namespace

bool Transport::fill(std::size_t n) {
  if (at_ > 0 && at_ == buffer_.size()) {
    buffer_.clear();
    at_ = 0;
  }
  while (buffer_.size() - at_ < n) {
    char chunk[65536];
    const ssize_t got = ::read(in_, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
  return true;
}

bool Transport::read_line(std::string& line) {
  line.clear();
  for (;;) {
    const auto nl = buffer_.find('\n', at_);
    if (nl != std::string::npos) {
      line.assign(buffer_, at_, nl - at_);
      at_ = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    if (!fill(buffer_.size() - at_ + 1)) return false;
  }
}

Incoming Transport::read() {
  Incoming out;
  std::optional<std::size_t> length;
  std::string line;
  bool any_header = false;
  for (;;) {
    if (!read_line(line)) {
      out.end = true;
      return out;
    }
    if (line.empty()) {
      if (any_header) break;
      continue;  // blank lines between messages
    }
    any_header = true;
    if (starts_with_ci(line, "content-length:")) {
      std::string_view v = std::string_view(line).substr(15);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc() && end == v.data() + v.size()) length = n;
    }
  }
  if (!length) {
    out.error = "a message without a valid Content-Length header";
    return out;
  }
  if (*length > kMaxBody) {
    out.error = "a message larger than 256 MB";
    // Its body is skipped so that the next message is read from its start.
    std::size_t left = *length;
    while (left > 0) {
      if (!fill(1)) {
        out.end = true;
        return out;
      }
      const std::size_t take = std::min(left, buffer_.size() - at_);
      at_ += take;
      left -= take;
    }
    return out;
  }
  if (!fill(*length)) {
    out.end = true;
    return out;
  }
  const std::string_view body(buffer_.data() + at_, *length);
  at_ += *length;
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    out.error = "a message that is not JSON";
    return out;
  }
  out.message = std::move(parsed);
  return out;
}

bool Transport::pending() {
  if (at_ < buffer_.size()) return true;
  pollfd p{in_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

void Transport::send(const json& message) {
  // Invalid UTF-8 in a path or a message must not stop the server: it is replaced.
  const std::string body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string framed = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::size_t done = 0;
  while (done < framed.size()) {
    const ssize_t n = ::write(out_, framed.data() + done, framed.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client is gone; the read side ends the loop
    done += static_cast<std::size_t>(n);
  }
}

json response(const json& id, json result) { return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

json error_response(const json& id, int code, const std::string& message) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json notification(const std::string& method, json params) {
  return json{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

}  // namespace leakfix::lsp
