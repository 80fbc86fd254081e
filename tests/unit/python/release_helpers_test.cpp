// Which functions a file hands a finding's variable to, and which files define one that releases
// a parameter: what decides whether a file that names no acquirer is read for release helpers.
#include "python/release_helpers.h"

#include <gtest/gtest.h>

using leakfix::Finding;
using leakfix::python::defines_release_helper;
using leakfix::python::handle_callees;

namespace {

std::vector<Finding> finding_on(const std::string& variable) {
  Finding f;
  f.variable = variable;
  return {f};
}

const std::set<std::string, std::less<>> kReleases{"close", "putconn"};

}  // namespace

TEST(HandleCallees, NameTheFunctionsAVariableIsPassedTo) {
  const auto names = handle_callees("release(conn)\ndb.quietly('x', conn)\nprint(len(conn))\nconn.execute(q)\n",
                                    finding_on("conn"));
  EXPECT_EQ(names, (std::vector<std::string>{"release", "quietly", "len"}));
}

TEST(HandleCallees, IgnoreLongerNamesAndListsAndTemporaries) {
  EXPECT_TRUE(handle_callees("release(connection)\nitems = [conn]\n", finding_on("conn")).empty());
  EXPECT_TRUE(handle_callees("release(x)\n", finding_on("")).empty());
}

TEST(DefinesReleaseHelper, FindsAFunctionThatClosesItsParameter) {
  const std::set<std::string, std::less<>> called{"release"};
  EXPECT_TRUE(defines_release_helper("def release(conn):\n    conn.close()\n", called, kReleases));
  EXPECT_TRUE(defines_release_helper("def release(pool, conn):\n    pool.putconn(conn)\n", called, kReleases));
}

TEST(DefinesReleaseHelper, IgnoresOtherFunctionsAndOtherReleases) {
  const std::set<std::string, std::less<>> called{"release"};
  // Not called with a handle.
  EXPECT_FALSE(defines_release_helper("def other(conn):\n    conn.close()\n", called, kReleases));
  // Releases its own object, or nothing it was given.
  EXPECT_FALSE(defines_release_helper("def release(self):\n    self.close()\n", called, kReleases));
  EXPECT_FALSE(defines_release_helper("def release(conn):\n    other.close()\n", called, kReleases));
  // `undef release(` is not a definition.
  EXPECT_FALSE(defines_release_helper("undef release(conn): conn.close()\n", called, kReleases));
}
