#include "core/walk.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace leakfix;

namespace {

class WalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("leakfix_walk_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    for (auto p : {"app/routes/a.py", "app/routes/b.py", "app/venv/lib/x.py", "app/.venv/y.py", "app/node_modules/z.py",
                   "app/__pycache__/c.py", "app/.hidden/d.py", "app/build/gen.py", "app/keep/readme.txt",
                   "app/keep/keep.py", "app/generated_1.py"}) {
      fs::create_directories((root_ / p).parent_path());
      std::ofstream(root_ / p) << "x = 1\n";
    }
    std::ofstream(root_ / "app/.gitignore") << "# comment\nbuild/\ngenerated_*.py\n";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::vector<std::string> displays(const WalkResult& r) {
    std::vector<std::string> out;
    for (const auto& f : r.files) out.push_back(f.display);
    return out;
  }

  fs::path root_;
};

TEST_F(WalkTest, SkipsHiddenVirtualenvsNodeModulesPycacheAndGitignored) {
  const auto app = (root_ / "app").string();
  const auto r = collect_files({app}, WalkOptions{});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(displays(r), (std::vector<std::string>{app + "/keep/keep.py", app + "/routes/a.py", app + "/routes/b.py"}));
}

TEST_F(WalkTest, ExcludeGlobsAndExplicitFiles) {
  const auto app = (root_ / "app").string();
  WalkOptions o;
  o.excludes = {"routes/b.py", "keep"};
  const auto r = collect_files({app, app + "/keep/readme.txt"}, o);
  EXPECT_EQ(displays(r), (std::vector<std::string>{app + "/routes/a.py", app + "/keep/readme.txt"}));
}

TEST_F(WalkTest, MissingPathIsAnErrorAndDuplicatesAreDropped) {
  const auto a = (root_ / "app/routes/a.py").string();
  const auto r = collect_files({a, a, (root_ / "nope").string()}, WalkOptions{});
  EXPECT_EQ(r.files.size(), 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("no such file"), std::string::npos);
}

}  // namespace
