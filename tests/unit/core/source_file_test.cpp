#include "core/source_file.h"
#include "core/sources.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace leakfix;

TEST(SourceFile, PositionsAreOneBasedAndSkipTheByteOrderMark) {
  SourceFile f("a.py", "\xEF\xBB\xBFx = 1\r\ny = 2\r\n");
  EXPECT_EQ(f.bom_size(), 3u);
  EXPECT_TRUE(f.crlf());
  EXPECT_EQ(f.line(1), "x = 1");
  EXPECT_EQ(f.line(2), "y = 2");
  const auto p = f.position(7);
  EXPECT_EQ(p.line, 2);
  EXPECT_EQ(p.column, 1);
}

TEST(SourceFile, ColumnsCountCharactersNotBytes) {
  SourceFile f("a.py", "x = 'é€'; conn = get()\n");
  // é is 2 bytes and € 3: "conn" starts at byte 13 (0-based), in character column 11.
  EXPECT_EQ(f.character_column(1, 13), 11);
  EXPECT_EQ(f.character_column(1, 0), 1);
}

TEST(SourceFile, Pep263Latin1AndCp1252AreReadAsUtf8) {
  const auto dir = std::filesystem::temp_directory_path() / "leakfix_pep263_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "l1.py", std::ios::binary) << "# -*- coding: latin-1 -*-\nx = '\xE9'\n";
  std::ofstream(dir / "w.py", std::ios::binary) << "# vim: set fileencoding=cp1252 :\nx = '\x80'\n";
  std::ofstream(dir / "k.py", std::ios::binary) << "# coding: koi8-r\nx = '\xC1'\n";
  auto l1 = SourceFile::read((dir / "l1.py").string(), "l1.py");
  ASSERT_TRUE(l1.ok()) << l1.error().to_string();
  EXPECT_EQ(l1->encoding(), "latin-1");
  EXPECT_EQ(l1->line(2), "x = '\xC3\xA9'");
  auto w = SourceFile::read((dir / "w.py").string(), "w.py");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->encoding(), "cp1252");
  EXPECT_EQ(w->line(2), "x = '\xE2\x82\xAC'");
  auto k = SourceFile::read((dir / "k.py").string(), "k.py");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message.find("koi8-r"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// The cookie is read by a scan: a regular expression over a long first line overflowed the stack.
TEST(SourceFile, Pep263CookieIsFoundPastLongCommentsAndOnlyWhereCPythonLooks) {
  const auto dir = std::filesystem::temp_directory_path() / "leakfix_pep263_long_test";
  std::filesystem::create_directories(dir);
  const std::string pad(200000, 'x');
  std::ofstream(dir / "long.py", std::ios::binary) << "# " << pad << "\nx = 1\n";
  std::ofstream(dir / "far.py", std::ios::binary) << "# " << pad << " coding=latin_1\nx = '\xE9'\n";
  std::ofstream(dir / "second.py", std::ios::binary) << "#!/usr/bin/env python3\n# coding: latin-1\nx = '\xE9'\n";
  std::ofstream(dir / "late.py", std::ios::binary) << "x = 1\n# coding: latin-1\ny = 2\n";
  std::ofstream(dir / "word.py", std::ios::binary) << "# decoding:utf-8, then coding: cp1252\nx = 1\n";
  auto read = [&](const char* name) { return SourceFile::read((dir / name).string(), name); };
  auto l = read("long.py");
  ASSERT_TRUE(l.ok()) << l.error().to_string();
  EXPECT_EQ(l->encoding(), "utf-8");
  auto f = read("far.py");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->encoding(), "latin-1");
  auto s = read("second.py");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->encoding(), "latin-1");
  auto late = read("late.py");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->encoding(), "utf-8");  // the second line counts only after a comment or a blank line
  auto w = read("word.py");
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  EXPECT_EQ(w->encoding(), "utf-8");  // the first `coding:` wins, inside `decoding` too, as in CPython
  std::filesystem::remove_all(dir);
}

// The line table is read sixteen bytes at a time: lines of every length, ends at every offset.
TEST(SourceFile, LinesAreThoseASplitOnNewlinesGives) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    std::string text;
    std::vector<std::string> lines(1);
    for (int i = 0, n = static_cast<int>(rng() % 200); i < n; ++i) {
      if (rng() % 8 == 0) {
        text += '\n';
        lines.emplace_back();
      } else {
        const char c = "ab \t=("[rng() % 6];
        text += c;
        lines.back() += c;
      }
    }
    const SourceFile f("a.py", text);
    ASSERT_EQ(f.line_count(), static_cast<int>(lines.size())) << "round " << round;
    for (std::size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(f.line(static_cast<int>(i) + 1), lines[i]) << "round " << round;
  }
}

TEST(Utf8, EightAsciiBytesAtOnceStillFindTheBadByte) {
  for (std::size_t at = 0; at < 40; ++at) {
    std::string s(40, 'a');
    s[at] = '\xFF';
    std::size_t bad = 99;
    EXPECT_FALSE(valid_utf8(s, &bad));
    EXPECT_EQ(bad, at);
  }
}

TEST(SourceFile, LineOutOfRangeIsEmpty) {
  SourceFile f("a.py", "x\n");
  EXPECT_EQ(f.line(0), "");
  EXPECT_EQ(f.line(5), "");
}

TEST(Utf8, AcceptsValidAndRejectsOverlongSurrogatesAndTruncated) {
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  std::size_t bad = 0;
  EXPECT_FALSE(valid_utf8("ab\xC0\xAF", &bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));
  EXPECT_FALSE(valid_utf8("\xE2\x82"));
  EXPECT_FALSE(valid_utf8("\xFF"));
}

TEST(SourceFile, ReadingBinaryOrInvalidFilesGivesAMessageNamingTheFile) {
  const auto dir = std::filesystem::temp_directory_path() / "leakfix_sf_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "bin.py", std::ios::binary) << std::string("ab\0cd", 5);
    std::ofstream(dir / "latin1.py", std::ios::binary) << "x = '\xE9'\n";
  }
  auto bin = SourceFile::read((dir / "bin.py").string(), "bin.py");
  ASSERT_FALSE(bin.ok());
  EXPECT_EQ(bin.error().file, "bin.py");
  EXPECT_NE(bin.error().message.find("binary"), std::string::npos);
  auto latin = SourceFile::read((dir / "latin1.py").string(), "latin1.py");
  ASSERT_FALSE(latin.ok());
  EXPECT_EQ(latin.error().line, 1);
  EXPECT_NE(latin.error().message.find("UTF-8"), std::string::npos);
  auto missing = SourceFile::read((dir / "nope.py").string(), "nope.py");
  ASSERT_FALSE(missing.ok());
  std::filesystem::remove_all(dir);
}

TEST(Sources, ReadAgainOnlyWhatWasAnalysed) {
  const auto dir = std::filesystem::temp_directory_path() / "leakfix_sources_test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "a.py").string();
  std::ofstream(path) << "conn = connect()\n";
  auto first = SourceFile::read(path, "a.py");
  ASSERT_TRUE(first);
  Sources sources;
  sources.add("a.py", path, content_digest(*first));
  sources.emplace("held.py", SourceFile("held.py", "x = 1\n"));
  EXPECT_EQ(sources.files(), (std::vector<std::string>{"a.py", "held.py"}));
  const auto again = sources.find("a.py");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->text(), "conn = connect()\n");
  EXPECT_EQ(sources.find("held.py")->line(1), "x = 1");
  EXPECT_FALSE(sources.find("other.py"));
  // Edited since the scan: its old line numbers would point at other code, so no text at all.
  std::ofstream(path) << "# new first line\nconn = connect()\n";
  Sources fresh;
  fresh.add("a.py", path, content_digest(*first));
  EXPECT_FALSE(fresh.find("a.py"));
  std::filesystem::remove_all(dir);
}
