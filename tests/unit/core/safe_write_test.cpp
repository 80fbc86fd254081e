#include "core/safe_write.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace leakfix;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class SafeWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("leakfix_safe_write_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    file_ = dir_ / "app.py";
    std::ofstream(file_) << "old\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator())); }

  fs::path dir_, file_;
};

}  // namespace

TEST_F(SafeWrite, ReplacesTheBytesItWasToldAbout) {
  WriteOptions o;
  o.expected = "old\n";
  EXPECT_FALSE(safe_write(file_.string(), "app.py", "new\n", o));
  EXPECT_EQ(slurp(file_), "new\n");
  EXPECT_EQ(entries(), 1u);  // no temporary left
}

TEST_F(SafeWrite, AnEditSavedInPlaceJustBeforeTheSwapIsKept) {
  WriteOptions o;
  o.expected = "old\n";
  o.before_swap = [&] { std::ofstream(file_, std::ios::trunc) << "edited in place\n"; };
  const auto err = safe_write(file_.string(), "app.py", "new\n", o);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("changed while it was being written"), std::string::npos) << err->message;
  EXPECT_EQ(slurp(file_), "edited in place\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(SafeWrite, AnEditSavedByRenameJustBeforeTheSwapIsKept) {
  // What editors do: write a new file beside it and rename it over the old one.
  WriteOptions o;
  o.expected = "old\n";
  o.before_swap = [&] {
    std::ofstream(dir_ / "app.py.swp") << "saved by the editor\n";
    fs::rename(dir_ / "app.py.swp", file_);
  };
  ASSERT_TRUE(safe_write(file_.string(), "app.py", "new\n", o));
  EXPECT_EQ(slurp(file_), "saved by the editor\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(SafeWrite, WithoutExpectedBytesWhateverIsThereIsReplaced) {
  WriteOptions o;
  o.before_swap = [&] { std::ofstream(file_, std::ios::trunc) << "edited\n"; };
  EXPECT_FALSE(safe_write(file_.string(), "app.py", "plan\n", o));
  EXPECT_EQ(slurp(file_), "plan\n");
}
