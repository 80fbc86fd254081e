#include <gtest/gtest.h>

#include "plan/plan.h"
#include "plan/traffic.h"

namespace leakfix::plan {
namespace {

TEST(AccessLog, ReadsCommonCombinedAndGunicornLines) {
  const auto log = parse_access_log(
      "10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] \"GET /api/branding/acme?x=1 HTTP/1.1\" 200 512\n"
      "10.0.0.2 - bob [26/Nov/2026:10:00:01 +0000] \"POST /register/ HTTP/1.1\" 201 - \"-\" \"curl/8\"\r\n"
      "10.0.0.3 - - [26/Nov/2026:10:00:02 +0000] \"GET http://example.com/leaderboard/ HTTP/1.1\" 304 0 \"-\" \"x\"\n");
  ASSERT_EQ(log.requests.size(), 3u);
  EXPECT_EQ(log.requests[0].method, "GET");
  EXPECT_EQ(log.requests[0].path, "/api/branding/acme");
  EXPECT_EQ(log.requests[1].method, "POST");
  EXPECT_EQ(log.requests[2].path, "/leaderboard/");
  EXPECT_EQ(log.unreadable, 0u);
}

TEST(AccessLog, CountsMalformedLinesAndGoesOn) {
  const auto log = parse_access_log(
      "[2026-11-26 04:00:01 +0000] [42] [INFO] Booting worker\n"
      "\n"
      "10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] \"\\x16\\x03\" 400 -\n"
      "10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n"
      "10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 2000 1\n");
  EXPECT_EQ(log.lines, 4u);
  EXPECT_EQ(log.unreadable, 3u);
  EXPECT_EQ(log.requests.size(), 1u);
  EXPECT_EQ(log.unreadable_lines, (std::vector<std::size_t>{1, 2, 4}));
}

TEST(AccessLog, AVeryLongLineIsReadByAScanNotARecursion) {
  const std::string line = "10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] \"GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\" 200 1 " +
                           std::string(1 << 20, 'b') + "\n";
  const auto log = parse_access_log(line + "10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n");
  EXPECT_EQ(log.lines, 2u);
  ASSERT_EQ(log.requests.size(), 2u);  // long, but well formed
  EXPECT_EQ(log.requests[0].path.size(), (1u << 20) + 1);
}

TEST(Routes, ConvertersMatch) {
  EXPECT_TRUE(route_matches("/api/branding/<tenant>", "/api/branding/acme"));
  EXPECT_FALSE(route_matches("/api/branding/<tenant>", "/api/branding/acme/logo"));
  EXPECT_TRUE(route_matches("/api/sports/<int:sport_id>/events", "/api/sports/12/events"));
  EXPECT_FALSE(route_matches("/api/sports/<int:sport_id>/events", "/api/sports/abc/events"));
  EXPECT_TRUE(route_matches("/price/<float:p>", "/price/1.5"));
  EXPECT_FALSE(route_matches("/price/<float:p>", "/price/15"));
  EXPECT_TRUE(route_matches("/files/<path:p>", "/files/a/b/c.txt"));
  EXPECT_TRUE(route_matches("/files/<path:p>/raw", "/files/a/b/raw"));
  EXPECT_TRUE(route_matches("/u/<uuid:id>", "/u/123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(route_matches("/u/<uuid:id>", "/u/123"));
  EXPECT_TRUE(route_matches("/leaderboard/", "/leaderboard"));
  EXPECT_FALSE(route_matches("/leaderboard", "/leaderboard/"));
  EXPECT_FALSE(route_matches("/a/<x>", "/a/"));
}

TEST(Routes, CountsByMethodAndRoute) {
  const auto log = parse_access_log(
      "h - - [t] \"GET /theme/acme HTTP/1.1\" 200 1\n"
      "h - - [t] \"PUT /theme/acme HTTP/1.1\" 200 1\n"
      "h - - [t] \"PUT /theme/acme HTTP/1.1\" 200 1\n"
      "h - - [t] \"GET /static/x.css HTTP/1.1\" 200 1\n");
  const auto counts = count_traffic(log, {"GET /theme/<tenant>", "PUT /theme/<tenant>", "every request under /theme"});
  EXPECT_EQ(counts.by_route.at("GET /theme/<tenant>"), 1);
  EXPECT_EQ(counts.by_route.at("PUT /theme/<tenant>"), 2);
  EXPECT_EQ(counts.by_route.at("every request under /theme"), 3);
  EXPECT_EQ(counts.unmatched, 1);
}

TEST(Plan, PhasesAndPriorities) {
  auto finding = [](Kind kind, const char* exposure, bool fixable, int line) {
    Finding f;
    f.rule = "db-connection";
    f.kind = kind;
    f.file = "a.py";
    f.span.line = line;
    f.function = "f";
    f.exposure = exposure;
    f.fixable = fixable;
    return f;
  };
  PlanInput in;
  in.findings = {finding(Kind::LeakyPath, "admin", true, 1), finding(Kind::NeverClosed, "public", true, 2),
                 finding(Kind::ExceptionUnsafe, "internal", false, 3), finding(Kind::Escapes, "public", false, 4)};
  const auto plan = build_plan(in);
  ASSERT_EQ(plan.phases.size(), 2u);
  EXPECT_EQ(plan.phases[0].number, 1);
  ASSERT_EQ(plan.phases[0].files.size(), 1u);
  EXPECT_EQ(plan.phases[0].files[0].items[0].finding.span.line, 2);  // public before admin
  EXPECT_EQ(plan.phases[0].effort_minutes, 2 * kMinutesPerAutoFix + kMinutesPerPhaseDeploy);
  EXPECT_EQ(plan.phases[1].number, 2);
  EXPECT_TRUE(plan.phases[1].fixable_files.empty());
  ASSERT_EQ(plan.review.size(), 2u);  // the escape and the unfixable one
}

}  // namespace
}  // namespace leakfix::plan
