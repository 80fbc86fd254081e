#include "python/cfg.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace leakfix;
using namespace leakfix::python;

namespace {

struct Built {
  ParsedFile file;
  Cfg cfg;
};

Built build(const std::string& code) {
  ParsedFile f(SourceFile("t.py", code));
  TSNode fn = ts_node_named_child(f.root(), 0);
  Cfg g = build_cfg(f, fn);
  return Built{std::move(f), std::move(g)};
}

int count(const Cfg& g, CfgKind k, int line = 0) {
  return static_cast<int>(std::count_if(g.nodes.begin(), g.nodes.end(), [&](const CfgNode& n) {
    return n.kind == k && (line == 0 || n.line == line);
  }));
}

bool reaches(const Cfg& g, int from, int to) {
  std::vector<bool> seen(g.nodes.size());
  std::vector<int> stack{from};
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    if (n == to) return true;
    if (seen[static_cast<std::size_t>(n)]) continue;
    seen[static_cast<std::size_t>(n)] = true;
    for (const auto& e : g.nodes[static_cast<std::size_t>(n)].succ) stack.push_back(e.to);
  }
  return false;
}

int node_at(const Cfg& g, CfgKind k, int line) {
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].kind == k && g.nodes[i].line == line) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

TEST(Cfg, FinallyIsCopiedForEachWayOut) {
  auto b = build(
      "def f(x):\n"
      "    try:\n"
      "        if x:\n"
      "            return 1\n"
      "        g()\n"
      "    finally:\n"
      "        cleanup()\n");
  // fall-through, return, exception
  EXPECT_EQ(count(b.cfg, CfgKind::Stmt, 7), 3);
}

TEST(Cfg, WhileTrueHasNoExitButBreak) {
  auto b = build(
      "def f():\n"
      "    while True:\n"
      "        if g():\n"
      "            break\n");
  const int head = node_at(b.cfg, CfgKind::Cond, 2);
  ASSERT_GE(head, 0);
  EXPECT_EQ(b.cfg.nodes[static_cast<std::size_t>(head)].succ.size(), 1u);
  EXPECT_TRUE(reaches(b.cfg, node_at(b.cfg, CfgKind::Break, 4), b.cfg.exit_normal));
}

TEST(Cfg, NarrowHandlersLetExceptionsThroughBroadOnesDoNot) {
  auto narrow = build(
      "def f():\n"
      "    try:\n"
      "        g()\n"
      "    except KeyError:\n"
      "        pass\n");
  auto broad = build(
      "def f():\n"
      "    try:\n"
      "        g()\n"
      "    except Exception:\n"
      "        pass\n");
  auto dispatch_propagates = [](const Cfg& g) {
    for (const auto& n : g.nodes) {
      if (n.kind != CfgKind::Dispatch) continue;
      for (const auto& e : n.succ) {
        if (e.kind == EdgeKind::Propagate) return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(dispatch_propagates(narrow.cfg));
  EXPECT_FALSE(dispatch_propagates(broad.cfg));
}

TEST(Cfg, AbortIsAnExplicitRaiseAndContinueGoesRoundTheLoop) {
  auto b = build(
      "def f(xs):\n"
      "    for x in xs:\n"
      "        if not x:\n"
      "            continue\n"
      "        abort(404)\n");
  const int raise = node_at(b.cfg, CfgKind::Raise, 5);
  ASSERT_GE(raise, 0);
  EXPECT_EQ(b.cfg.nodes[static_cast<std::size_t>(raise)].succ.front().kind, EdgeKind::Explicit);
  const int cont = node_at(b.cfg, CfgKind::Continue, 4);
  EXPECT_TRUE(reaches(b.cfg, cont, node_at(b.cfg, CfgKind::LoopHead, 2)));
}

TEST(Cfg, StatementsWithoutCallsDoNotRaise) {
  auto b = build(
      "def f(conn):\n"
      "    x = conn\n"
      "    y = conn.execute(1)\n");
  EXPECT_FALSE(b.cfg.nodes[static_cast<std::size_t>(node_at(b.cfg, CfgKind::Stmt, 2))].may_raise);
  EXPECT_TRUE(b.cfg.nodes[static_cast<std::size_t>(node_at(b.cfg, CfgKind::Stmt, 3))].may_raise);
}

TEST(Cfg, MatchWithWildcardHasNoFallThrough) {
  auto b = build(
      "def f(k):\n"
      "    match k:\n"
      "        case 1:\n"
      "            return 1\n"
      "        case _:\n"
      "            return 2\n");
  const int head = node_at(b.cfg, CfgKind::Stmt, 2);
  EXPECT_EQ(b.cfg.nodes[static_cast<std::size_t>(head)].succ.size(), 2u);
}

TEST(Cfg, DeepNestingIsRefusedNotACrash) {
  std::string code = "def f():\n";
  std::string indent = "    ";
  for (int i = 0; i < 200; ++i) {
    code += indent + "if x:\n";
    indent += " ";
  }
  code += indent + "pass\n";
  ParsedFile f(SourceFile("deep.py", code));
  EXPECT_THROW(build_cfg(f, ts_node_named_child(f.root(), 0)), CfgTooComplex);
}
