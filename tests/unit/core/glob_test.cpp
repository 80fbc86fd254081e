#include "core/glob.h"

#include <gtest/gtest.h>

using leakfix::glob_match;

TEST(Glob, StarStaysInsideOneSegment) {
  EXPECT_TRUE(glob_match("*.py", "a.py"));
  EXPECT_FALSE(glob_match("*.py", "dir/a.py"));
  EXPECT_TRUE(glob_match("src/*/x.py", "src/routes/x.py"));
}

TEST(Glob, DoubleStarSpansSegmentsIncludingNone) {
  EXPECT_TRUE(glob_match("**/migrations/**", "app/migrations/0001.py"));
  EXPECT_TRUE(glob_match("**/a.py", "a.py"));
  EXPECT_TRUE(glob_match("src/**/a.py", "src/x/y/a.py"));
}

TEST(Glob, QuestionMarkAndClasses) {
  EXPECT_TRUE(glob_match("file?.py", "file1.py"));
  EXPECT_FALSE(glob_match("file?.py", "file/.py"));
  EXPECT_TRUE(glob_match("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match("[!a-c]x", "bx"));
  EXPECT_FALSE(glob_match("[abc", "a"));
}
