// Rewrite targets: which context managers of a project are recognised, how a created one reads,
// and how module names are found on disk.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/rule.h"
#include "python/callee.h"
#include "python/targets.h"
#include "python/tree.h"

using namespace leakfix;
using namespace leakfix::python;
namespace fs = std::filesystem;

namespace {

std::vector<ProjectContextManager> cms_of(const std::string& text) {
  const ParsedFile parsed(SourceFile("db.py", text));
  return context_managers_in(parsed);
}

TEST(ContextManagers, AGeneratorThatAcquiresYieldsAndGivesBack) {
  const auto cms = cms_of(
      "import contextlib\n"
      "@contextlib.contextmanager\n"
      "def session(*args, **kwargs):\n"
      "    \"\"\"Doc.\"\"\"\n"
      "    conn = get_db_connection(*args, **kwargs)\n"
      "    try:\n"
      "        yield conn\n"
      "    finally:\n"
      "        release_db_connection(conn)\n");
  ASSERT_EQ(cms.size(), 1u);
  EXPECT_EQ(cms[0].name, "session");
  EXPECT_EQ(cms[0].acquirer, "get_db_connection");
  EXPECT_TRUE(cms[0].pure);
  EXPECT_EQ(cms[0].params, ProjectContextManager::Params::Forward);
  EXPECT_EQ(cms[0].release, (ReleaseUse{"", "release_db_connection"}));
}

TEST(ContextManagers, OneThatCommitsIsRecognisedButNotPure) {
  const auto cms = cms_of(
      "from contextlib import contextmanager\n"
      "@contextmanager\n"
      "def transaction(name):\n"
      "    conn = connect(name)\n"
      "    try:\n"
      "        yield conn\n"
      "        conn.commit()\n"
      "    finally:\n"
      "        conn.close()\n");
  ASSERT_EQ(cms.size(), 1u);
  EXPECT_FALSE(cms[0].pure);
  EXPECT_NE(cms[0].impure.find("conn.commit()"), std::string::npos);
  EXPECT_EQ(cms[0].params, ProjectContextManager::Params::Positional);
  EXPECT_EQ(cms[0].positional, 1);
}

TEST(ContextManagers, ARollbackHandlerIsNotPure) {
  const auto cms = cms_of(
      "@contextmanager\n"
      "def tx():\n"
      "    conn = connect()\n"
      "    try:\n"
      "        yield conn\n"
      "    except Exception:\n"
      "        conn.rollback()\n"
      "        raise\n"
      "    finally:\n"
      "        conn.close()\n");
  ASSERT_EQ(cms.size(), 1u);
  EXPECT_FALSE(cms[0].pure);
}

TEST(ContextManagers, WithoutFinallyOrWithOtherParametersItIsNone) {
  EXPECT_TRUE(cms_of("@contextmanager\ndef a():\n    conn = connect()\n    yield conn\n    conn.close()\n").empty());
  EXPECT_TRUE(cms_of("@contextmanager\ndef b(x):\n    conn = connect(x, 1)\n    try:\n        yield conn\n"
                     "    finally:\n        conn.close()\n")
                  .empty());
  EXPECT_TRUE(cms_of("def c():\n    conn = connect()\n    try:\n        yield conn\n    finally:\n        conn.close()\n").empty());
}

TEST(ContextManagers, AClassWithEnterAndExit) {
  const auto cms = cms_of(
      "class Db:\n"
      "    def __enter__(self):\n"
      "        self.conn = get_db_connection()\n"
      "        return self.conn\n"
      "    def __exit__(self, *exc):\n"
      "        self.conn.close()\n");
  ASSERT_EQ(cms.size(), 1u);
  EXPECT_TRUE(cms[0].is_class);
  EXPECT_EQ(cms[0].name, "Db");
  EXPECT_EQ(cms[0].release, (ReleaseUse{"close", ""}));
}

TEST(Creation, NextToTheAcquirerWithTheProjectsRelease) {
  const std::string text =
      "\"\"\"Doc.\"\"\"\n"
      "from psycopg2 import pool\n"
      "\n"
      "def get_db_connection():\n"
      "    return POOL.getconn()\n"
      "\n"
      "\n"
      "def release_db_connection(conn):\n"
      "    POOL.putconn(conn)\n";
  std::string why;
  const auto out = add_context_manager("db.py", text, Creation{"db.py", "connection_ctx", "get_db_connection", "conn",
                                                               ReleaseUse{"", "release_db_connection"}},
                                       &why);
  ASSERT_TRUE(out) << why;
  EXPECT_EQ(*out,
            "\"\"\"Doc.\"\"\"\n"
            "import contextlib\n"
            "from psycopg2 import pool\n"
            "\n"
            "def get_db_connection():\n"
            "    return POOL.getconn()\n"
            "\n"
            "\n"
            "@contextlib.contextmanager\n"
            "def connection_ctx(*args, **kwargs):\n"
            "    \"\"\"Yields get_db_connection(...) and gives it back with release_db_connection(conn), also on an exception.\"\"\"\n"
            "    conn = get_db_connection(*args, **kwargs)\n"
            "    try:\n"
            "        yield conn\n"
            "    finally:\n"
            "        release_db_connection(conn)\n"
            "\n"
            "\n"
            "def release_db_connection(conn):\n"
            "    POOL.putconn(conn)\n");
  // What it adds parses, and is found as the project's own afterwards.
  const auto cms = cms_of(*out);
  ASSERT_EQ(cms.size(), 1u);
  EXPECT_TRUE(cms[0].pure);
}

TEST(Creation, AtTheEndOfAFileWithoutANewlineAndWithContextmanagerImported) {
  std::string why;
  const auto out = add_context_manager("db.py", "from contextlib import contextmanager\ndef get():\n\treturn connect()",
                                       Creation{"db.py", "get_ctx", "get", "conn", ReleaseUse{"close", ""}}, &why);
  ASSERT_TRUE(out) << why;
  EXPECT_NE(out->find("\treturn connect()\n\n\n@contextmanager\ndef get_ctx(*args, **kwargs):\n"), std::string::npos) << *out;
  EXPECT_NE(out->find("\tfinally:\n\t\tconn.close()\n"), std::string::npos) << *out;
  EXPECT_EQ(out->find("import contextlib"), std::string::npos);
}

TEST(Creation, FailsWhenTheAcquirerIsGone) {
  std::string why;
  EXPECT_FALSE(add_context_manager("db.py", "x = 1\n", Creation{"db.py", "c", "get", "conn", ReleaseUse{"close", ""}}, &why));
  EXPECT_NE(why.find("no longer defines get()"), std::string::npos);
}

TEST(ModuleFile, AbsoluteFromAnAncestorAndRelativeFromThePackage) {
  const fs::path root = fs::temp_directory_path() / "leakfix_targets_test";
  fs::remove_all(root);
  fs::create_directories(root / "app/routes");
  fs::create_directories(root / "app/db");
  for (const char* f : {"app/__init__.py", "app/routes/__init__.py", "app/routes/x.py", "app/db/__init__.py", "app/db/core.py"})
    std::ofstream(root / f) << "\n";
  const TargetResolver r;
  const std::string site = (root / "app/routes/x.py").string();
  const auto core = r.module_file(site, "app.db.core");
  ASSERT_TRUE(core);
  EXPECT_TRUE(fs::equivalent(*core, root / "app/db/core.py"));
  const auto pkg = r.module_file(site, "app.db");
  ASSERT_TRUE(pkg);
  EXPECT_TRUE(fs::equivalent(*pkg, root / "app/db/__init__.py"));
  const auto rel = r.module_file(site, "..db.core");
  ASSERT_TRUE(rel);
  EXPECT_TRUE(fs::equivalent(*rel, root / "app/db/core.py"));
  EXPECT_FALSE(r.module_file(site, "app.nothing"));
  EXPECT_FALSE(r.module_file(site, ".core"));
  fs::remove_all(root);
}

}  // namespace
