#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include "core/edit.h"
#include "core/source_file.h"
#include "fix/diff.h"
#include "fix/write.h"

namespace leakfix {
namespace {

TEST(Edits, AppliesInAnyOrderAndKeepsInsertOrder) {
  std::vector<Edit> edits{{6, 11, "there"}, {0, 0, "A"}, {0, 0, "B"}};
  EXPECT_EQ(apply_edits("hello world", edits), "ABhello there");
}

TEST(Edits, RejectsOverlaps) {
  EXPECT_THROW(apply_edits("abcdef", {{0, 3, "x"}, {2, 4, "y"}}), std::logic_error);
}

TEST(Edits, FixesOverlapByRange) {
  Fix a, b, c;
  a.edits = {{0, 10, ""}};
  b.edits = {{5, 20, ""}};
  c.edits = {{10, 12, ""}};
  EXPECT_TRUE(overlap(a, b));
  EXPECT_FALSE(overlap(a, c));
}

TEST(Diff, EmptyWhenEqual) { EXPECT_EQ(unified_diff("f.py", "a\n", "a\n"), ""); }

TEST(Diff, HunkHeadersAndContext) {
  const std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  EXPECT_EQ(unified_diff("f.py", before, after),
            "--- a/f.py\n+++ b/f.py\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(Diff, InsertionAtTheTop) {
  EXPECT_EQ(unified_diff("f.py", "a\n", "new\na\n"), "--- a/f.py\n+++ b/f.py\n@@ -1,1 +1,2 @@\n+new\n a\n");
}

TEST(Diff, InsertionIntoAnEmptyFileCountsFromZero) {
  EXPECT_EQ(unified_diff("f.py", "", "new\n"), "--- a/f.py\n+++ b/f.py\n@@ -0,0 +1,1 @@\n+new\n");
}

TEST(Diff, MarksMissingNewlineAtEnd) {
  EXPECT_EQ(unified_diff("f.py", "a\nb", "a\nc"),
            "--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n");
}

TEST(Diff, KeepsCarriageReturns) {
  const auto d = unified_diff("f.py", "a\r\nb\r\n", "a\r\nc\r\n");
  EXPECT_NE(d.find("-b\r\n+c\r\n"), std::string::npos);
}

TEST(Encoding, RoundTripsLatin1AndCp1252) {
  EXPECT_EQ(*encode_text("caf\xc3\xa9", "latin-1"), "caf\xe9");
  EXPECT_EQ(*encode_text("\xe2\x82\xac", "cp1252"), "\x80");
  EXPECT_FALSE(encode_text("\xe2\x82\xac", "latin-1").ok());
  EXPECT_EQ(*encode_text("x", "utf-8"), "x");
}

TEST(Write, RefusesAChangedFileAndKeepsMode) {
  const auto dir = std::filesystem::temp_directory_path() / "leakfix-write-test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "f.py").string();
  {
    std::ofstream(path) << "old\n";
  }
  ::chmod(path.c_str(), 0640);
  EXPECT_TRUE(write_if_unchanged(path, "f.py", "something else\n", "new\n").has_value());
  EXPECT_FALSE(write_if_unchanged(path, "f.py", "old\n", "new\n").has_value());
  std::ifstream in(path);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "new\n");
  struct stat st {};
  ::stat(path.c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace leakfix
