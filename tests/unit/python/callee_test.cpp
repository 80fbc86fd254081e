// may_call never rules out a file in which matches() would accept a call: the prefilter of
// later rounds uses it to skip files a discovered wrapper cannot be called from.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "python/callee.h"
#include "python/tree.h"

using namespace leakfix;
using namespace leakfix::python;

namespace {

using Bindings = std::vector<std::pair<std::string, std::string>>;

TEST(MayCall, TheModuleItselfAndQualifiedCalls) {
  EXPECT_TRUE(may_call("open(p)", "tokenize", {}, "tokenize", "open"));
  EXPECT_TRUE(may_call("tokenize.open(p)", "main", {}, "tokenize", "open"));
  EXPECT_TRUE(may_call("(tokenize  # why\n   .open(p))", "main", {}, "tokenize", "open"));
  EXPECT_TRUE(may_call("lib.tokenize.\\\nopen(p)", "main", {}, "tokenize", "open"));
  EXPECT_FALSE(may_call("mytokenize.open(p)", "main", {}, "tokenize", "open"));
  EXPECT_FALSE(may_call("tokenize.opener(p)", "main", {}, "tokenize", "open"));
  EXPECT_FALSE(may_call("import tokenize\nopen(p)", "main", Bindings{{"tokenize", "tokenize"}}, "tokenize", "open"));
}

TEST(MayCall, ImportsThatStandForTheModuleOrTheFunction) {
  EXPECT_TRUE(may_call("tk.open(p)", "main", Bindings{{"tk", "tokenize"}}, "tokenize", "open"));
  EXPECT_TRUE(may_call("t.open(p)", "main", Bindings{{"t", "lib.tokenize"}}, "tokenize", "open"));
  EXPECT_TRUE(may_call("o(p)", "main", Bindings{{"o", "tokenize.open"}}, "tokenize", "open"));
  EXPECT_TRUE(may_call("open(p)", "main", Bindings{{"open", "lib.tokenize.open"}}, "tokenize", "open"));
  EXPECT_FALSE(may_call("t.open(p)", "main", Bindings{{"t", "lib.mytokenize"}}, "tokenize", "open"));
  EXPECT_FALSE(may_call("o(p)", "main", Bindings{{"o", "tokenize.opener"}}, "tokenize", "open"));
}

// Every call matches() accepts, in code written every way a call can reach a module's function.
TEST(MayCall, NeverFalseWhereMatchesAccepts) {
  const std::vector<std::string> sources = {
      "import tokenize\ntokenize.open(p)\n",
      "import tokenize as tk\ntk.open(p)\n",
      "from tokenize import open\nopen(p)\n",
      "from tokenize import open as o\no(p)\n",
      "from lib import tokenize\ntokenize.open(p)\n",
      "from lib import tokenize as t\nt.open(p)\n",
      "import lib.tokenize\nlib.tokenize.open(p)\n",
      "from lib.tokenize import (\n    open as o,\n)\no(p)\n",
      "import lib\n(lib.tokenize  # c\n   .open(p))\n",
      "tokenize.open(p)\n",
  };
  int accepted = 0;
  for (const auto& text : sources) {
    const auto source = std::make_shared<const SourceFile>("main.py", text);
    const ParsedFile file(source);
    const auto imports = Imports::of(file);
    const Bindings bindings(imports.bindings().begin(), imports.bindings().end());
    preorder(file.root(), [&](TSNode n) {
      if (!is(n, "call")) return true;
      if (matches("open", "tokenize", "", callee_of(file, imports, n), CallSite{"main", ""})) {
        ++accepted;
        EXPECT_TRUE(may_call(source->text(), "main", bindings, "tokenize", "open")) << text;
      }
      return true;
    });
  }
  EXPECT_EQ(accepted, static_cast<int>(sources.size()));
}

}  // namespace
