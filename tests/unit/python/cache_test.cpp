#include "python/cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace leakfix::python {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("leakfix-cache-unit-" + std::to_string(::getpid()));
  TempDir() { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};

TEST(SummaryCache, ConfigurationChangesWithVersionRulesAndOptions) {
  Rule r;
  r.id = "db";
  Acquirer acq;
  acq.pattern = "get_db";
  r.acquirers.push_back(acq);
  const auto base = cache_config("0.1.0", {r}, false);
  EXPECT_NE(base, cache_config("0.1.1", {r}, false));
  EXPECT_NE(base, cache_config("0.1.0", {r}, true));
  Rule other = r;
  other.acquirers[0].with_closes = true;
  EXPECT_NE(base, cache_config("0.1.0", {other}, false));
  other = r;
  other.release_methods.push_back("close");
  EXPECT_NE(base, cache_config("0.1.0", {other}, false));
  EXPECT_EQ(base, cache_config("0.1.0", {r}, false));
}

TEST(SummaryCache, EntriesRoundTripAndStayWithTheirConfiguration) {
  TempDir dir;
  auto a = SummaryCache::open(dir.path, "aaaa", nullptr);
  auto b = SummaryCache::open(dir.path, "bbbb", nullptr);
  ASSERT_TRUE(a && b);
  CachedFile c;
  c.digest = 42;
  c.words = {1, 2, 3};
  c.shape = "s";
  c.knowledge = "k";
  FileResult r;
  Finding f;
  f.rule = "db";
  f.kind = Kind::LeakyPath;
  f.file = "x.py";
  f.span = {3, 5, 3, 9};
  f.exit = Span{4, 1, 4, 7};
  f.reason = "why";
  r.findings.push_back(f);
  r.acquirers.push_back(DiscoveredAcquirer{"open_db", "db", "get_db", true, "", "m", "", true, false});
  c.result = r;
  const auto key = SummaryCache::key_of("x.py", "text");
  EXPECT_EQ(key.size(), 32u);
  EXPECT_NE(key, SummaryCache::key_of("y.py", "text"));
  a->store(key, c);
  const auto back = a->load(key);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->digest, 42u);
  EXPECT_EQ(back->words, c.words);
  ASSERT_TRUE(back->result);
  ASSERT_EQ(back->result->findings.size(), 1u);
  EXPECT_EQ(back->result->findings[0].kind, Kind::LeakyPath);
  EXPECT_EQ(back->result->findings[0].exit->line, 4);
  EXPECT_EQ(back->result->findings[0].reason, "why");
  EXPECT_EQ(back->result->acquirers[0].function, "open_db");
  EXPECT_FALSE(b->load(key));  // another version or other rules: another folder
  // A torn entry reads as none.
  std::ofstream(dir.path / "v1" / "aaaa" / key.substr(0, 2) / key.substr(2), std::ios::trunc) << "\x85garbage";
  EXPECT_FALSE(a->load(key));
}

}  // namespace
}  // namespace leakfix::python
