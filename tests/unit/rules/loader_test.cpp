#include "rules/loader.h"

#include <gtest/gtest.h>

using namespace leakfix;

TEST(RuleLoader, ParsesAcquirersReleasesAndWithCloses) {
  const auto r = parse_rules(R"(
id: cursor
resource: cursor
with-closes: true
acquirers:
  - "*.cursor"
  - call: make_cursor
    with-closes: false
    context-manager: cursor_ctx
releases:
  methods: [close]
  functions:
    - call: release_cursor
      argument: 1
)", "r.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  const Rule& rule = r->front();
  EXPECT_EQ(rule.id, "cursor");
  ASSERT_EQ(rule.acquirers.size(), 2u);
  EXPECT_TRUE(rule.acquirer_with_closes(rule.acquirers[0]));
  EXPECT_FALSE(rule.acquirer_with_closes(rule.acquirers[1]));
  EXPECT_EQ(rule.acquirers[1].context_manager, "cursor_ctx");
  ASSERT_EQ(rule.release_functions.size(), 1u);
  EXPECT_EQ(rule.release_functions[0].argument, 1);
}

TEST(RuleLoader, UnknownKeyIsAnErrorWithItsLine) {
  const auto r = parse_rules("id: x\nacquirers: [a]\nreleases: {methods: [close]}\nacquires: [b]\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "bad.yaml");
  EXPECT_EQ(r.error().line, 4);
  EXPECT_NE(r.error().message.find("unknown key `acquires`"), std::string::npos);
}

TEST(RuleLoader, InvalidYamlNamesTheLine) {
  const auto r = parse_rules("id: x\nacquirers: [a\nreleases: {}\n", "broken.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_GT(r.error().line, 0);
  EXPECT_NE(r.error().message.find("invalid YAML"), std::string::npos);
}

TEST(RuleLoader, MissingPartsAndBadPatternsAreExplained) {
  EXPECT_FALSE(parse_rules("id: x\nreleases: {methods: [close]}\n", "f").ok());
  EXPECT_FALSE(parse_rules("id: x\nacquirers: [a]\n", "f").ok());
  const auto bad = parse_rules("id: x\nacquirers: [\"get conn\"]\nreleases: {methods: [close]}\n", "f");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_NE(bad.error().message.find("not a call pattern"), std::string::npos);
  EXPECT_FALSE(parse_rules("id: x\nwith-closes: maybe\nacquirers: [a]\nreleases: {methods: [close]}\n", "f").ok());
  EXPECT_FALSE(parse_rules("", "f").ok());
}

TEST(RuleLoader, ShippedRulesLoadAndCoverTheDriverRoots) {
  const auto rules = builtin_rules();
  auto db = std::find_if(rules.begin(), rules.end(), [](const Rule& r) { return r.id == "db-connection"; });
  ASSERT_NE(db, rules.end());
  std::vector<std::string> patterns;
  for (const auto& a : db->acquirers) patterns.push_back(a.pattern);
  for (const char* p : {"get_db_connection", "sqlite3.connect", "psycopg2.connect", "psycopg.connect", "pymysql.connect",
                        "mysql.connector.connect", "MySQLdb.connect", "pyodbc.connect", "*.getconn"}) {
    EXPECT_NE(std::find(patterns.begin(), patterns.end(), p), patterns.end()) << p;
  }
  EXPECT_NE(std::find_if(rules.begin(), rules.end(), [](const Rule& r) { return r.id == "open-file"; }), rules.end());
}

TEST(RuleLoader, ProjectRulesReplaceShippedOnesWithTheSameId) {
  auto rules = builtin_rules();
  auto extra = parse_rules("id: db-connection\nacquirers: [connect_db]\nreleases: {methods: [close]}\n", "p.yaml");
  ASSERT_TRUE(extra.ok());
  const auto before = rules.size();
  merge_rules(rules, std::move(*extra));
  EXPECT_EQ(rules.size(), before);
  auto db = std::find_if(rules.begin(), rules.end(), [](const Rule& r) { return r.id == "db-connection"; });
  EXPECT_EQ(db->acquirers.size(), 1u);
}
