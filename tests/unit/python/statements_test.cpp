// Top-level statements found from the text agree with the grammar's, and a parse of the selected
// statements gives the same nodes as the parse of the whole file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "python/statements.h"
#include "python/tree.h"

using namespace leakfix;
using namespace leakfix::python;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> starts_of(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& s : top_level_statements(text)) {
    const auto line_end = text.find('\n', s.begin);
    out.emplace_back(text.substr(s.begin, (line_end == std::string_view::npos ? text.size() : line_end) - s.begin));
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(TopLevelStatements, AStatementStartsAtEachLineOfCodeAtColumnZero) {
  EXPECT_EQ(starts_of("import os\nx = 1\n\ndef f():\n    return 1\nclass C:\n    pass\n"),
            (Lines{"import os", "x = 1", "def f():", "class C:"}));
}

TEST(TopLevelStatements, CommentsAndBlankLinesBelongToTheStatementAbove) {
  const std::string text = "x = 1\n# about f\n\ndef f():\n# at column 0 inside f\n    pass\n";
  const auto s = top_level_statements(text);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(text.substr(s[0].begin, s[0].end - s[0].begin), "x = 1\n# about f\n\n");
  EXPECT_EQ(s[1].row, 3u);
  EXPECT_EQ(s[1].end, text.size());
}

TEST(TopLevelStatements, StringsBracketsAndContinuationsDoNotEndAStatement) {
  EXPECT_EQ(starts_of("x = \"\"\"\ndef not_a_function():\n\"\"\"\n"
                      "y = '''it''s\n'''\n"
                      "z = (1,\n2)\n"
                      "w = [\n]\n"
                      "v = 1 + \\\n2\n"
                      "u = \"a\\\"b\" # \"(\n"
                      "t = r'\\''\n"
                      "s = f\"{x}\"\"\"\n"
                      "def g(): pass\n"),
            (Lines{"x = \"\"\"", "y = '''it''s", "z = (1,", "w = [", "v = 1 + \\", "u = \"a\\\"b\" # \"(", "t = r'\\''",
                   "s = f\"{x}\"\"\"", "def g(): pass"}));
}

TEST(TopLevelStatements, ClausesAtColumnZeroContinueTheirStatement) {
  EXPECT_EQ(starts_of("try:\n    pass\nexcept* E:\n    pass\nelse:\n    pass\nfinally:\n    pass\n"
                      "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\nelsewhere = 1\n"),
            (Lines{"try:", "if a:", "elsewhere = 1"}));
}

TEST(TopLevelStatements, DecoratorsStartTheirDefinition) {
  const std::string text = "@bp.route(\n    \"/x\",\n)\n# why\n@login_required\nasync def handler():\n    pass\n@dataclass\nclass C:\n    x: int\n";
  const auto s = top_level_statements(text);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(s[0].definition);
  EXPECT_EQ(s[0].name, "handler");
  EXPECT_FALSE(s[0].is_class);
  EXPECT_EQ(s[1].row, 7u);
  EXPECT_EQ(s[1].name, "C");
  EXPECT_TRUE(s[1].is_class);
}

TEST(TopLevelStatements, CrlfAndAMissingFinalNewline) {
  EXPECT_EQ(starts_of("x = (1,\r\n2)\r\ndef f():\r\n    pass"), (Lines{"x = (1,\r", "def f():\r"}));
}

const std::vector<std::string> kNames{"get_db_connection", "close"};

// The text left out by a selection that keeps one run of statements from the start.
std::string left_out(const std::string& text, const std::optional<Selection>& s) {
  if (!s || s->ranges.size() != 1 || s->ranges[0].start_byte != 0) return "(not one range from the start)";
  return text.substr(s->ranges[0].end_byte);
}

TEST(SelectStatements, KeepsTheFunctionsThatNameACallAndEveryOtherStatement) {
  const std::string text =
      "from db import get_db_connection\n"
      "bp = Blueprint('x', __name__)\n"
      "def reads():\n    conn = get_db_connection()\n    return 1\n"
      "def pure():\n    return 2\n"
      "class Shape:\n    pass\n"
      "def also_pure():\n    return 3\n";
  const auto s = select_statements(text, kNames);
  EXPECT_EQ(left_out(text, s), "def pure():\n    return 2\nclass Shape:\n    pass\ndef also_pure():\n    return 3\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->skipped_functions, (std::vector<std::string>{"pure", "also_pure"}));  // not the class
}

TEST(SelectStatements, KeepsFunctionsThatImportOrRegisterBlueprints) {
  const std::string text =
      "def a():\n    conn = get_db_connection()\n"
      "def b():\n    import psycopg2\n"
      "def c(app):\n    app.register_blueprint(bp)\n"
      "def d():\n    pass\n";
  const auto s = select_statements(text, kNames);
  EXPECT_EQ(left_out(text, s), "def d():\n    pass\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ranges[0].end_point.row, 6u);
  EXPECT_EQ(s->ranges[0].end_point.column, 0u);
}

TEST(SelectStatements, FollowsAnAliasGivenInAnImport) {
  const std::string text =
      "from db import (get_db_connection as\n    gdc)\n"
      "def a():\n    conn = gdc()\n"
      "def b():\n    pass\n";
  const auto s = select_statements(text, kNames);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->skipped_functions, (std::vector<std::string>{"b"}));
}

TEST(SelectStatements, ParsesEverythingWhenTheModuleScopeNamesACall) {
  EXPECT_FALSE(select_statements("conn = get_db_connection()\ndef a():\n    conn.execute()\ndef b():\n    pass\n", kNames));
  EXPECT_FALSE(select_statements("if True:\n    x = get_db_connection()\ndef b():\n    pass\n", kNames));
}

TEST(SelectStatements, ParsesEverythingWhenEveryFunctionIsNeeded) {
  EXPECT_FALSE(select_statements("import os\ndef a():\n    get_db_connection()\n", kNames));
  EXPECT_FALSE(select_statements("", kNames));
}

TEST(SelectStatements, TheEndOfTheFileEndsTheLastRange) {
  const std::string text = "def skip():\n    pass\ndef a():\n    c = get_db_connection()\n    c.close()";
  const auto s = select_statements(text, kNames);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->ranges.size(), 1u);
  EXPECT_EQ(s->ranges[0].start_point.row, 2u);
  EXPECT_EQ(s->ranges[0].end_byte, text.size());
  EXPECT_EQ(s->ranges[0].end_point.row, 4u);
  EXPECT_EQ(s->ranges[0].end_point.column, 13u);
}

TEST(ForCalls, AFileThatDoesNotParseIsParsedWhole) {
  const auto source = std::make_shared<const SourceFile>("x.py", "def skip():\n    pass\ndef a(:\n    c = get_db_connection()\n");
  const auto file = ParsedFile::for_calls(source, kNames);
  EXPECT_TRUE(file.skipped_functions().empty());
  EXPECT_EQ(ts_node_start_byte(ts_node_named_child(file.root(), 0)), 0u);
}

// Every Python file of the repository: fixtures, the example app, the test and bench scripts.
std::vector<fs::path> python_files() {
  std::vector<fs::path> out;
  for (const auto* dir : {"/tests", "/examples", "/bench", "/scripts", "/docs"}) {
    const fs::path root = fs::path(LEAKFIX_SOURCE_DIR) / fs::path(dir).relative_path();
    if (!fs::is_directory(root)) continue;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && (it->path().filename() == "out" || it->path().filename().string().starts_with("."))) {
        it.disable_recursion_pending();  // bench/out holds generated corpora
        continue;
      }
      if (it->is_regular_file() && it->path().extension() == ".py") out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<const SourceFile> read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::make_shared<const SourceFile>(p.string(), std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

std::string sexp(TSNode n) {
  char* s = ts_node_string(n);
  std::string out(s);
  std::free(s);
  return out;
}

TEST(TopLevelStatements, AgreeWithTheGrammarOnEveryTestFile) {
  std::size_t checked = 0;
  for (const auto& path : python_files()) {
    const auto source = read(path);
    const ParsedFile whole(source);
    if (ts_node_has_error(whole.root())) continue;
    std::vector<uint32_t> expected, found;
    for (uint32_t i = 0; i < ts_node_named_child_count(whole.root()); ++i) {
      const TSNode c = ts_node_named_child(whole.root(), i);
      if (!is(c, "comment")) expected.push_back(ts_node_start_byte(c));
    }
    for (const auto& s : top_level_statements(source->text())) found.push_back(s.begin);
    EXPECT_EQ(found, expected) << path;
    ++checked;
  }
  EXPECT_GT(checked, 40u);
}

// The statements kept parse to the very nodes, at the same places, as in the whole file.
TEST(ForCalls, KeptStatementsParseAsInTheWholeFile) {
  const std::vector<std::string> names{"get_db_connection", "connect", "getconn", "putconn", "close", "open"};
  std::size_t partial = 0;
  for (const auto& path : python_files()) {
    const auto source = read(path);
    const ParsedFile whole(source);
    const auto part = ParsedFile::for_calls(source, names);
    std::vector<std::string> kept;
    for (uint32_t i = 0; i < ts_node_named_child_count(part.root()); ++i) {
      const TSNode c = ts_node_named_child(part.root(), i);
      kept.push_back(std::to_string(ts_node_start_byte(c)) + ":" + std::to_string(ts_node_start_point(c).row) + " " + sexp(c));
    }
    std::vector<std::string> expected;
    std::size_t k = 0;
    for (uint32_t i = 0; i < ts_node_named_child_count(whole.root()) && k < kept.size(); ++i) {
      const TSNode c = ts_node_named_child(whole.root(), i);
      const auto s = std::to_string(ts_node_start_byte(c)) + ":" + std::to_string(ts_node_start_point(c).row) + " " + sexp(c);
      if (s == kept[k]) ++k;
    }
    EXPECT_EQ(k, kept.size()) << path << ": statement " << (k < kept.size() ? kept[k].substr(0, 200) : "");
    if (!part.skipped_functions().empty()) ++partial;
  }
  EXPECT_GT(partial, 5u);
}

}  // namespace

namespace {

TEST(SelectStatements, CountsAMentionOnlyWhereItCanBeTheCallLookedFor) {
  const std::string text =
      "import tokenize\n"
      "def reads(p):\n    return tokenize.open(p)\n"
      "def writes(p):\n    return open(p, 'w')\n"
      "from tokenize import open as topen\n"
      "def aliased(p):\n    return topen(p)\n";
  std::vector<std::pair<std::string, std::size_t>> asked;
  const auto s = select_statements_where(text, {"open"}, [&](std::string_view statement, std::size_t i) {
    asked.emplace_back(std::string(statement.substr(0, statement.find('\n'))), i);
    return statement.find("tokenize.open") != std::string_view::npos || statement.find("topen(") != std::string_view::npos;
  });
  ASSERT_TRUE(s);
  EXPECT_EQ(s->skipped_functions, (std::vector<std::string>{"writes"}));
  // Asked once per statement that names `open` or its alias, always about name 0.
  for (const auto& [line, i] : asked) EXPECT_EQ(i, 0u) << line;
  EXPECT_EQ(asked.size(), 4u);
}

}  // namespace
