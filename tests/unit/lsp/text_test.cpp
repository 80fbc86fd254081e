#include "lsp/text.h"

#include <gtest/gtest.h>

#include "lsp/transport.h"

#include <unistd.h>

namespace leakfix::lsp {
namespace {

// "a😀é=" : a (1 byte), an emoji (4 bytes, 2 UTF-16 units), é (2 bytes), = (1 byte).
const std::string kLine = "a\xF0\x9F\x98\x80\xC3\xA9=";

TEST(LspText, UnitsCountEachEncoding) {
  EXPECT_EQ(units_of(kLine, 8, Encoding::Utf16), 5);
  EXPECT_EQ(units_of(kLine, 8, Encoding::Utf8), 8);
  EXPECT_EQ(units_of(kLine, 8, Encoding::Utf32), 4);  // four characters
  EXPECT_EQ(units_of(kLine, 5, Encoding::Utf16), 3);
}

TEST(LspText, BytesOfUnitsStopAtCharacterStarts) {
  EXPECT_EQ(bytes_of(kLine, 3, Encoding::Utf16), 5u);
  // The second unit of the emoji's surrogate pair is inside it: its start is taken.
  EXPECT_EQ(bytes_of(kLine, 2, Encoding::Utf16), 1u);
  EXPECT_EQ(bytes_of(kLine, 2, Encoding::Utf32), 5u);
  EXPECT_EQ(bytes_of(kLine, 100, Encoding::Utf16), kLine.size());
  EXPECT_EQ(bytes_of("ab\ncd", 10, Encoding::Utf16), 2u);
}

TEST(LspText, FileUrisRoundTrip) {
  EXPECT_EQ(uri_of_path("/tmp/a b/é.py"), "file:///tmp/a%20b/%C3%A9.py");
  EXPECT_EQ(path_of_uri("file:///tmp/a%20b/%C3%A9.py"), "/tmp/a b/é.py");
  EXPECT_EQ(path_of_uri("file://localhost/x.py"), "/x.py");
  EXPECT_EQ(path_of_uri("untitled:Untitled-1"), std::nullopt);
  EXPECT_EQ(path_of_uri("file://otherhost/x.py"), std::nullopt);
  EXPECT_EQ(path_of_uri("file:///x%2.py"), "/x%2.py");
}

TEST(LspText, LineEditCoversOnlyTheChangedLines) {
  const auto e = line_edit("a\nb\nc\n", "a\nB\nB2\nc\n", Encoding::Utf16);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["range"]["start"]["line"], 1);
  EXPECT_EQ((*e)["range"]["end"]["line"], 2);
  EXPECT_EQ((*e)["range"]["end"]["character"], 0);
  EXPECT_EQ((*e)["newText"], "B\nB2\n");
  EXPECT_FALSE(line_edit("same", "same", Encoding::Utf16));
  // The last line without a newline ends inside it, counted in the encoding.
  const auto tail = line_edit("x\n\xC3\xA9t", "x\n\xC3\xA9u", Encoding::Utf16);
  ASSERT_TRUE(tail);
  EXPECT_EQ((*tail)["range"]["end"]["line"], 1);
  EXPECT_EQ((*tail)["range"]["end"]["character"], 2);
  const auto added = line_edit("a\n", "a\nb\n", Encoding::Utf16);
  ASSERT_TRUE(added);
  EXPECT_EQ((*added)["range"]["start"]["line"], 1);
  EXPECT_EQ((*added)["newText"], "b\n");
}

TEST(LspTransport, ReadsFramedMessagesAndSurvivesBadOnes) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string input =
      "Content-Length: 17\r\n\r\n{\"jsonrpc\":\"2.0\"}"
      "content-length: 5\r\nContent-Type: x\r\n\r\n{bad}"
      "X: 1\r\n\r\n"
      "Content-Length: 2\r\n\r\n[]";
  ASSERT_EQ(write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(fds[1]);
  Transport t(fds[0], -1);
  auto a = t.read();
  ASSERT_TRUE(a.message);
  EXPECT_EQ((*a.message)["jsonrpc"], "2.0");
  EXPECT_TRUE(t.pending());
  auto b = t.read();
  EXPECT_FALSE(b.message);
  EXPECT_EQ(b.error, "a message that is not JSON");
  auto c = t.read();
  EXPECT_NE(c.error.find("Content-Length"), std::string::npos);
  auto d = t.read();
  ASSERT_TRUE(d.message);
  EXPECT_TRUE(d.message->is_array());
  EXPECT_TRUE(t.read().end);
  close(fds[0]);
}

}  // namespace
}  // namespace leakfix::lsp
