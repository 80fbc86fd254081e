// The tree index answers as tree-sitter does: parent, fields, named children and pre-order, for
// every node of every Python fixture and of the example app, before a statement is covered (the
// answers then come from tree-sitter) and after (from the index).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "python/tree.h"

using namespace leakfix;
using namespace leakfix::python;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> python_files() {
  std::vector<fs::path> out;
  for (const auto* dir : {LEAKFIX_FIXTURES "/python", LEAKFIX_SOURCE_DIR "/examples/sportsbook", LEAKFIX_SOURCE_DIR "/tests/fix/cases"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file() && e.path().extension() == ".py") out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every visible node, by tree-sitter's own child API.
void all_nodes(TSNode n, std::vector<TSNode>& out) {
  out.push_back(n);
  for (uint32_t i = 0; i < ts_node_child_count(n); ++i) all_nodes(ts_node_child(n, i), out);
}

void named_preorder(TSNode n, std::vector<TSNode>& out) {
  if (ts_node_is_named(n)) out.push_back(n);
  for (uint32_t i = 0; i < ts_node_child_count(n); ++i) named_preorder(ts_node_child(n, i), out);
}

bool same_nodes(const std::vector<TSNode>& a, const std::vector<TSNode>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!ts_node_eq(a[i], b[i])) return false;
  }
  return true;
}

// Compares every answer for every node; returns how many nodes were checked.
std::size_t compare(const ParsedFile& file, const std::string& name) {
  const Navigator nav(file);
  std::vector<TSNode> nodes;
  all_nodes(file.root(), nodes);
  const uint32_t fields = ts_language_field_count(tree_sitter_python());
  for (const TSNode n : nodes) {
    const std::string where = name + ":" + std::to_string(ts_node_start_point(n).row + 1) + " " + std::string(type(n));
    if (!ts_node_eq(n, file.root())) {
      EXPECT_TRUE(ts_node_eq(file.parent(n), ts_node_parent(n))) << where << ": parent";
    }
    for (TSFieldId id = 1; id <= fields; ++id) {
      const TSNode expected = ts_node_child_by_field_id(n, id);
      // tree-sitter also answers a field inherited through a visible child: a match statement's
      // `alternative` is a case clause inside its block. The index answers a node's own
      // children, which is all the analysis asks for.
      if (!ts_node_is_null(expected) && !ts_node_eq(ts_node_parent(expected), n)) continue;
      const TSNode got = field(n, id);
      EXPECT_TRUE(ts_node_is_null(expected) ? ts_node_is_null(got) : ts_node_eq(expected, got))
          << where << ": field " << ts_language_field_name_for_id(tree_sitter_python(), id);
    }
    std::vector<TSNode> expected_children, got_children;
    for (uint32_t i = 0; i < ts_node_named_child_count(n); ++i) expected_children.push_back(ts_node_named_child(n, i));
    for_each_named_child(n, [&](TSNode c) { got_children.push_back(c); });
    EXPECT_TRUE(same_nodes(expected_children, got_children)) << where << ": named children";
    std::vector<TSNode> expected_order, got_order;
    named_preorder(n, expected_order);
    preorder(n, [&](TSNode c) {
      got_order.push_back(c);
      return true;
    });
    EXPECT_TRUE(same_nodes(expected_order, got_order)) << where << ": pre-order";
  }
  return nodes.size();
}

TEST(TreeIndex, AnswersAsTreeSitterDoesBeforeAndAfterCovering) {
  const auto files = python_files();
  ASSERT_GT(files.size(), 10u);
  std::size_t checked = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const ParsedFile file(SourceFile(path.string(), text));
    // Uncovered: every answer comes from tree-sitter (parent() covers as it goes).
    compare(file, path.filename().string());
    // Covered: the statements are all indexed now.
    for (const TSNode top : file.index().tops()) file.index().cover(top);
    checked += compare(file, path.filename().string());
  }
  EXPECT_GT(checked, 10000u);
}

TEST(TreeIndex, SkippingChildrenInPreorderJumpsOverTheSubtree) {
  const ParsedFile file(SourceFile("t.py", "def f(a):\n    g(lambda: h(a))\n    return [x for x in a]\n"));
  const Navigator nav(file);
  file.index().cover(file.root());
  for (const TSNode top : file.index().tops()) file.index().cover(top);
  std::vector<std::string> seen;
  preorder(file.root(), [&](TSNode n) {
    seen.emplace_back(type(n));
    return !is(n, "lambda") && !is(n, "list_comprehension");
  });
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "lambda"), 1);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "list_comprehension"), 1);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "for_in_clause"), 0);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "return_statement"), 1);
}

TEST(TreeIndex, NodesOfAnotherTreeAreAnsweredByTreeSitter) {
  const ParsedFile a(SourceFile("a.py", "def f():\n    return g(1)\n"));
  const ParsedFile b(SourceFile("b.py", "x = h(2)\n"));
  const Navigator nav(a);
  const TSNode assignment = ts_node_named_child(ts_node_named_child(b.root(), 0), 0);
  EXPECT_EQ(type(field(assignment, "right")), "call");
  EXPECT_EQ(b.text(field(field(assignment, "right"), "function")), "h");
}

}  // namespace

namespace {

TEST(TreeIndex, InsideAClassOnlyTheStatementHoldingTheNodeIsIndexed) {
  const ParsedFile file(SourceFile("t.py",
                                   "@decorate\n"
                                   "class Repo(Base):\n"
                                   "    limit = 3\n"
                                   "\n"
                                   "    def load(self):\n"
                                   "        conn = connect()\n"
                                   "        return conn\n"
                                   "\n"
                                   "    class Inner:\n"
                                   "        def save(self):\n"
                                   "            close(self)\n"));
  const Navigator nav(file);
  std::vector<TSNode> calls;
  preorder(file.root(), [&](TSNode n) {
    if (is(n, "call")) calls.push_back(n);
    return true;
  });
  ASSERT_EQ(calls.size(), 2u);  // connect() and close(self); the decorator and the base are not calls
  for (const TSNode call : calls) {
    // Every step up answers as tree-sitter does, through indexed and unindexed nodes alike.
    for (TSNode n = call; !ts_node_eq(n, file.root()); n = ts_node_parent(n)) {
      EXPECT_TRUE(ts_node_eq(file.parent(n), ts_node_parent(n))) << type(n);
    }
  }
  auto& ix = file.index();
  const TSNode decorated = file.index().tops()[0];
  const TSNode cls = field(decorated, "definition");
  EXPECT_EQ(ix.find(decorated), TreeIndex::kNone);
  EXPECT_EQ(ix.find(cls), TreeIndex::kNone);
  EXPECT_NE(ix.find(calls[0]), TreeIndex::kNone);
  EXPECT_NE(ix.find(calls[1]), TreeIndex::kNone);
  // The class attribute was never asked about, so it is not indexed.
  const TSNode attribute = ts_node_named_child(field(cls, "body"), 0);
  EXPECT_EQ(type(attribute), "expression_statement");
  EXPECT_EQ(ix.find(attribute), TreeIndex::kNone);
}

}  // namespace

#include "python/tree_walk.h"

namespace {

struct Seen {
  TSNode node;
  uint32_t depth;
  TSFieldId field;
  TSSymbol symbol;
  bool named;
  bool has_children;
};

// What tree-sitter's cursor says of every visible node below root, in pre-order.
std::vector<Seen> by_cursor(TSNode root) {
  std::vector<Seen> out;
  TSTreeCursor c = ts_tree_cursor_new(root);
  uint32_t depth = 0;
  for (;;) {
    const TSNode n = ts_tree_cursor_current_node(&c);
    out.push_back({n, depth, depth ? ts_tree_cursor_current_field_id(&c) : TSFieldId{0}, ts_node_symbol(n), ts_node_is_named(n),
                   ts_node_child_count(n) > 0});
    if (ts_tree_cursor_goto_first_child(&c)) {
      ++depth;
      continue;
    }
    while (depth > 0 && !ts_tree_cursor_goto_next_sibling(&c)) {
      ts_tree_cursor_goto_parent(&c);
      --depth;
    }
    if (depth == 0) break;
  }
  ts_tree_cursor_delete(&c);
  return out;
}

std::vector<Seen> by_walk(TSNode root) {
  std::vector<Seen> out;
  EXPECT_TRUE(leakfix_walk_visible(
      root,
      [](void* context, const LeakfixVisit* v) {
        static_cast<std::vector<Seen>*>(context)->push_back({v->node, v->depth, v->field, v->symbol, v->named, v->has_children});
      },
      &out));
  return out;
}

void expect_same_walk(TSNode root, const std::string& name) {
  const auto expected = by_cursor(root), got = by_walk(root);
  ASSERT_EQ(expected.size(), got.size()) << name;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& e = expected[i];
    const auto& g = got[i];
    const std::string where = name + ":" + std::to_string(ts_node_start_point(e.node).row + 1) + " " + ts_node_type(e.node);
    // ts_node_eq compares id and tree only: the position and the alias must agree too.
    ASSERT_TRUE(ts_node_eq(e.node, g.node)) << where;
    EXPECT_EQ(0, std::memcmp(e.node.context, g.node.context, sizeof e.node.context)) << where << ": position or alias";
    EXPECT_EQ(e.depth, g.depth) << where;
    EXPECT_EQ(e.field, g.field) << where;
    EXPECT_EQ(e.symbol, g.symbol) << where;
    EXPECT_EQ(e.named, g.named) << where;
    EXPECT_EQ(e.has_children, g.has_children) << where;
  }
}

TEST(TreeWalk, ReportsWhatTheCursorDoesForEveryFixture) {
  for (const auto& path : python_files()) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const ParsedFile file(SourceFile(path.string(), text));
    expect_same_walk(file.root(), path.filename().string());
    // From a statement down, as the index walks.
    for (const TSNode top : file.index().tops()) expect_same_walk(top, path.filename().string());
  }
}

TEST(TreeWalk, ReportsWhatTheCursorDoesOnErrorsExtrasAndDeepNesting) {
  std::string deep = "x = ";
  for (int i = 0; i < 300; ++i) deep += "f(";
  deep += "1";
  for (int i = 0; i < 300; ++i) deep += ")";
  deep += "\n";
  const std::vector<std::string> sources = {
      "def f(:\n    return g(\n",                                   // errors, missing nodes
      "x = [1,  # a comment between elements\n     2] \\\n    + y\n",  // extras inside expressions
      "match p:\n    case {'k': [a, *rest]} if a:\n        pass\n",    // fields through hidden rules
      "print >> sys.stderr, 'x'\nexec 'code'\n",                     // Python 2 forms
      "async def g():\n    async with a as (b, c):\n        await d\n",
      "@dec\nclass A(B, metaclass=M):\n    x: int = 1\n    def m(self, *a, **k) -> None: ...\n",
      deep,
      "",
  };
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const ParsedFile file(SourceFile("t" + std::to_string(i) + ".py", sources[i]));
    expect_same_walk(file.root(), "source " + std::to_string(i));
  }
}

TEST(TreeIndex, DeepestAtFindsTheSmallestIndexedNodeHoldingAByte) {
  const std::string text = "import os\n\nclass A:\n    def m(self):\n        return get_conn(self.x)\n";
  const ParsedFile file(SourceFile("t.py", text));
  auto& ix = file.index();
  const auto at = [&](std::string_view what) { return static_cast<uint32_t>(text.find(what)); };
  const int32_t name = ix.deepest_at(at("get_conn"));
  ASSERT_NE(name, TreeIndex::kNone);
  EXPECT_EQ(file.text(ix[name].node), "get_conn");
  EXPECT_EQ(type(ix.parent(name)), "call");
  EXPECT_EQ(file.text(ix[ix.deepest_at(at("x)"))].node), "x");
  // `return` is an anonymous token: the smallest indexed node holding it is the statement.
  EXPECT_EQ(type(ix[ix.deepest_at(at("return"))].node), "return_statement");
  // The class's own header is not indexed; neither is the blank line between statements.
  EXPECT_EQ(ix.deepest_at(at("class")), TreeIndex::kNone);
  EXPECT_EQ(ix.deepest_at(at("\n\nclass") + 1), TreeIndex::kNone);
  EXPECT_EQ(ix.deepest_at(static_cast<uint32_t>(text.size()) + 5), TreeIndex::kNone);
}

}  // namespace
