// outline_scope: what a scope declares and where a function writes each name, from one walk.
#include "python/outline.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace leakfix;
using namespace leakfix::python;

namespace {

TSNode find_def(const ParsedFile& file, std::string_view name) {
  TSNode found{};
  preorder(file.root(), [&](TSNode n) {
    if ((is(n, "function_definition") || is(n, "class_definition")) && file.text(field(n, "name")) == name) found = n;
    return ts_node_is_null(found);
  });
  return found;
}

const char* kCode =
    "def helper():\n"
    "    pass\n"
    "if flag:\n"
    "    def other():\n"
    "        pass\n"
    "class Holder:\n"
    "    def method(self):\n"
    "        def inner():\n"
    "            pass\n"
    "        global counter\n"
    "        with open_replica() as conn:\n"
    "            conn.execute(conn)\n"
    "        return lambda: conn\n"
    "def lends():\n"
    "    db = Session()\n"
    "    try:\n"
    "        yield db\n"
    "    finally:\n"
    "        db.close()\n";

}  // namespace

TEST(Outline, AModuleDeclaresItsFunctionsNotTheirs) {
  const ParsedFile file(SourceFile("m.py", kCode));
  const auto module = outline_scope(file, file.root());
  EXPECT_EQ(module.nested_defs, (std::set<std::string, std::less<>>{"helper", "lends", "other"}));
  EXPECT_TRUE(module.globals.empty());
  EXPECT_TRUE(module.identifiers.empty());
  const auto cls = outline_scope(file, find_def(file, "Holder"));
  EXPECT_EQ(cls.nested_defs, (std::set<std::string, std::less<>>{"method"}));
}

TEST(Outline, AFunctionsDeclarationsAndEveryIdentifier) {
  const ParsedFile file(SourceFile("m.py", kCode));
  const TSNode method = find_def(file, "method");
  const auto o = outline_scope(file, method);
  EXPECT_EQ(o.nested_defs, (std::set<std::string, std::less<>>{"inner"}));
  EXPECT_EQ(o.globals, (std::set<std::string, std::less<>>{"counter"}));
  EXPECT_FALSE(o.context_manager());
  // `as conn` is found although its parent is exactly as long; the lambda's too.
  const auto conns = o.identifiers_in(method, "conn");
  ASSERT_TRUE(conns.has_value());
  EXPECT_EQ(conns->size(), 4u);
  EXPECT_FALSE(o.identifiers_in(file.root(), "conn").has_value());  // not inside the function
  EXPECT_TRUE(outline_scope(file, find_def(file, "lends")).lends_by_yield);
}
