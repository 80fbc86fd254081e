#include "report/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace leakfix;

namespace {

Report sample() {
  Report r;
  r.files = 2;
  Finding f;
  f.rule = "db-connection";
  f.kind = Kind::LeakyPath;
  f.file = "src/a.py";
  f.span = Span{2, 12, 2, 31};
  f.function = "get_logo";
  f.variable = "conn";
  f.message = "connection from get_db_connection() is not closed on the return at line 4";
  f.exit = Span{4, 9, 4, 19};
  f.exit_label = "leaks here";
  f.reason = "not yet";
  r.findings.push_back(f);
  r.errors.push_back(Error{"src/b.py", 0, "skipped: binary file"});
  r.sources.emplace("src/a.py", SourceFile("src/a.py", "def get_logo(t):\n    conn = get_db_connection()\n    if t:\n        return None\n"));
  return r;
}

}  // namespace

TEST(JsonReport, FollowsTheContract) {
  std::ostringstream out;
  render_json(out, sample());
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["version"], 1);
  const auto& f = j["findings"][0];
  for (const char* key : {"rule", "kind", "severity", "file", "line", "column", "end_line", "end_column", "function",
                          "variable", "route", "exposure", "phase", "fixable", "reason", "message"}) {
    EXPECT_TRUE(f.contains(key)) << key;
  }
  EXPECT_EQ(f["kind"], "leaky-path");
  EXPECT_EQ(f["severity"], "error");
  EXPECT_EQ(f["phase"], 1);
  EXPECT_TRUE(f["route"].is_null());
  EXPECT_EQ(j["errors"][0]["file"], "src/b.py");
  EXPECT_EQ(j["summary"]["files"], 2);
  EXPECT_EQ(j["summary"]["by_kind"]["leaky-path"], 1);
}

TEST(SarifReport, HasRunsToolRulesAndResults) {
  std::ostringstream out;
  render_sarif(out, sample(), "0.1.0");
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["version"], "2.1.0");
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "leakfix");
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), std::size(kKinds));
  const auto& res = run["results"][0];
  EXPECT_EQ(res["ruleId"], "leaky-path");
  EXPECT_EQ(res["level"], "error");
  EXPECT_EQ(res["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
  EXPECT_EQ(res["relatedLocations"][0]["physicalLocation"]["region"]["startLine"], 4);
  EXPECT_EQ(run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"], "skipped: binary file");
}

TEST(SarifReport, RuleSummariesAreWholeSentences) {
  std::ostringstream out;
  render_sarif(out, sample(), "0.1.0");
  const auto j = nlohmann::json::parse(out.str());
  for (const auto& rule : j["runs"][0]["tool"]["driver"]["rules"]) {
    const std::string text = rule["shortDescription"]["text"];
    EXPECT_TRUE(!text.empty() && text.back() == '.') << rule["id"] << ": " << text;
    EXPECT_EQ(text.find("Severity"), std::string::npos) << rule["id"] << ": " << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << rule["id"] << ": " << text;
  }
}

TEST(TextReport, CompilerStyleLineAndCodeFrame) {
  std::ostringstream out;
  render_text(out, sample(), TextOptions{false, true});
  const auto text = out.str();
  EXPECT_NE(text.find("src/a.py:2:12: leaky-path: connection from get_db_connection() is not closed on the return at line 4 [db-connection]"), std::string::npos);
  EXPECT_NE(text.find("  |            ^^^^^^^^^^^^^^^^^^^ acquired here"), std::string::npos);
  EXPECT_NE(text.find("4 |         return None"), std::string::npos);
  EXPECT_NE(text.find("leaks here"), std::string::npos);
  EXPECT_EQ(text.find("\x1b["), std::string::npos);
  EXPECT_EQ(summary_line(sample()), "Found 1 finding (1 leaky-path) in 2 files.");
}
