// The classifier's decisions and messages, on whole snippets.
#include <gtest/gtest.h>

#include "test_support.h"

using namespace leakfix;
using leakfix::testing::analyze_snippet;

namespace {

const Finding& only(const python::FileResult& r) {
  EXPECT_EQ(r.findings.size(), 1u);
  return r.findings.front();
}

}  // namespace

TEST(Verdict, EarlyReturnNamesTheReturnLine) {
  const auto r = analyze_snippet(
      "def f(k):\n"
      "    conn = get_db_connection()\n"
      "    if k:\n"
      "        return None\n"
      "    conn.close()\n");
  const auto& f = only(r);
  EXPECT_EQ(f.kind, Kind::LeakyPath);
  EXPECT_EQ(f.message, "connection from get_db_connection() is not closed on the return at line 4");
  ASSERT_TRUE(f.exit.has_value());
  EXPECT_EQ(f.exit->line, 4);
  EXPECT_EQ(f.variable, "conn");
  EXPECT_EQ(f.function, "f");
}

TEST(Verdict, ExceptionPathNamesTheRaisingCall) {
  const auto r = analyze_snippet(
      "def f():\n"
      "    conn = get_db_connection()\n"
      "    rows = conn.execute('q').fetchall()\n"
      "    conn.close()\n"
      "    return rows\n");
  const auto& f = only(r);
  EXPECT_EQ(f.kind, Kind::ExceptionUnsafe);
  EXPECT_EQ(f.message, "connection from get_db_connection() leaks if the call at line 3 raises");
}

TEST(Verdict, MethodsAndNestedFunctionsHaveDottedNames) {
  const auto r = analyze_snippet(
      "class Repo:\n"
      "    def load(self):\n"
      "        def inner():\n"
      "            c = get_db_connection()\n"
      "            return c.execute('q')\n"
      "        return inner()\n");
  EXPECT_EQ(only(r).function, "Repo.load.inner");
}

TEST(Verdict, ModuleLevelConnectionIsAGlobalEscape) {
  const auto r = analyze_snippet("import sqlite3\nDB = sqlite3.connect('x')\n");
  const auto& f = only(r);
  EXPECT_EQ(f.kind, Kind::Escapes);
  EXPECT_EQ(f.function, "<module>");
}

TEST(Verdict, SyntaxErrorsAreReportedAndTheirCodeSkipped) {
  const auto r = analyze_snippet(
      "def ok():\n"
      "    conn = get_db_connection()\n"
      "    return conn\n"
      "def broken(:\n"
      "    conn = get_db_connection()\n");
  bool parse_error = false;
  for (const auto& f : r.findings) parse_error |= f.kind == Kind::ParseError;
  EXPECT_TRUE(parse_error);
}

TEST(Verdict, OpenFileRuleClosesOnWith) {
  EXPECT_TRUE(analyze_snippet("def f():\n    with open('x') as fh:\n        return fh.read()\n").findings.empty());
  const auto r = analyze_snippet("def f():\n    fh = open('x')\n    return fh.read()\n");
  EXPECT_EQ(only(r).rule, "open-file");
}

TEST(Verdict, WrapperDiscoveryReportsTheWrapperAsAnAcquirer) {
  const auto r = analyze_snippet(
      "def my_conn():\n"
      "    c = get_db_connection()\n"
      "    return c\n");
  ASSERT_EQ(r.acquirers.size(), 1u);
  EXPECT_EQ(r.acquirers[0].function, "my_conn");
  EXPECT_EQ(only(r).kind, Kind::Escapes);
}

TEST(Verdict, ReleaseDiscoveryFindsFunctionsThatCloseTheirArgument) {
  const auto r = analyze_snippet(
      "def done(c):\n"
      "    c.close()\n"
      "class P:\n"
      "    def give(self, c):\n"
      "        c.close()\n");
  ASSERT_EQ(r.releases.size(), 2u);
  EXPECT_EQ(r.releases[0].pattern, "done");
  EXPECT_EQ(r.releases[0].module, "snippet");
  EXPECT_EQ(r.releases[1].pattern, "give");
  EXPECT_EQ(r.releases[1].owner_class, "P");
  EXPECT_EQ(r.releases[1].argument, 0);
}
