#include <gtest/gtest.h>

#include <filesystem>

#include "core/baseline.h"
#include "core/git.h"

namespace leakfix {
namespace {

Finding finding(std::string file, int line, std::string function, std::string snippet) {
  Finding f;
  f.rule = "db-connection";
  f.kind = Kind::LeakyPath;
  f.file = std::move(file);
  f.span.line = line;
  f.function = std::move(function);
  f.snippet = std::move(snippet);
  return f;
}

TEST(Snippet, CollapsesWhitespace) {
  EXPECT_EQ(normalise_snippet("    conn  =\tget_db_connection()  # x\r"), "conn = get_db_connection() # x");
}

TEST(Baseline, MatchesByIdentityNotLine) {
  const auto dir = std::filesystem::temp_directory_path() / "leakfix-baseline-test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / ".leakfix-baseline.json").string();
  const auto file = (dir / "a.py").string();
  Baseline b{path, entries_of({finding(file, 5, "f", "conn = get()"), finding(file, 9, "f", "conn = get()")}, path)};
  EXPECT_EQ(b.entries[0].file, "a.py");
  EXPECT_EQ(b.entries[0].occurrence, 0);
  EXPECT_EQ(b.entries[1].occurrence, 1);
  ASSERT_FALSE(save_baseline(b).has_value());
  auto loaded = load_baseline(path);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->entries.size(), 2u);

  // Lines moved: still known. A third identical one is new; a changed snippet is new and its
  // old entry stale.
  const auto m = match_baseline(*loaded, {finding(file, 15, "f", "conn = get()"), finding(file, 19, "f", "conn = get()"),
                                          finding(file, 30, "f", "conn = get()")});
  EXPECT_EQ(m.known, (std::vector<bool>{true, true, false}));
  EXPECT_TRUE(m.stale.empty());
  const auto changed = match_baseline(*loaded, {finding(file, 5, "f", "conn = get(timeout=3)"), finding(file, 9, "f", "conn = get()")});
  EXPECT_EQ(changed.known, (std::vector<bool>{false, true}));
  EXPECT_EQ(changed.stale.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(Baseline, FingerprintIsStable) {
  BaselineEntry a{"r", "a.py", "f", "conn = get()", 0, "leaky-path"};
  BaselineEntry b = a;
  b.kind = "never-closed";
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  b.occurrence = 1;
  EXPECT_NE(fingerprint(a), fingerprint(b));
  EXPECT_EQ(fingerprint(a).size(), 16u);
}

TEST(Baseline, BrokenFileIsAnError) {
  const auto path = (std::filesystem::temp_directory_path() / "leakfix-broken-baseline.json").string();
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("{\"entries\": [{\"rule\": 1}]}", f);
    std::fclose(f);
  }
  const auto loaded = load_baseline(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().to_string().find("not a leakfix baseline"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(GitDiff, ChangedLinesFromZeroContextDiff) {
  const auto changed = parse_zero_context_diff(
      "diff --git a/src/a.py b/src/a.py\n--- a/src/a.py\n+++ b/src/a.py\n@@ -3,0 +4,2 @@\n+x\n+y\n@@ -10 +12 @@\n-a\n+b\n"
      "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n",
      "/repo");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed.at("/repo/src/a.py"), (std::set<int>{4, 5, 12}));
}

}  // namespace
}  // namespace leakfix
