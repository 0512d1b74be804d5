#include "common/file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace arca {
namespace {

std::string TempDir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("arca_file_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST(FileTest, AtomicWriteReadAndMap) {
  std::string path = TempDir() + "/f.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "hello").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "hello world").ok());
  auto data = ReadFile(path, 1 << 20);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "hello world");
  EXPECT_EQ(ReadFile(path, 3).status().code(), StatusCode::kResourceExhausted);
  auto m = MappedFile::Open(path);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(AsChars(m->bytes()), "hello world");
  // No temporary left behind.
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(TempDir())) { (void)e; ++n; }
  EXPECT_EQ(n, 1);
}

TEST(FileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadFile("/nonexistent/x", 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MappedFile::Open("/nonexistent/x").status().code(), StatusCode::kNotFound);
}

TEST(FileTest, MakeSafeDirsCreatesComponentsAndRefusesSymlinks) {
  const std::filesystem::path tmp = TempDir() + "/safe";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp / "root");
  ASSERT_TRUE(MakeSafeDirs(tmp / "root", "a/b/c").ok());
  EXPECT_TRUE(std::filesystem::is_directory(tmp / "root/a/b/c"));
  ASSERT_TRUE(MakeSafeDirs(tmp / "root", "a/b/c").ok());  // again: already there
  // A symlinked component (which could lead outside root) is refused, and
  // nothing is created through it.
  std::filesystem::create_directories(tmp / "outside");
  std::filesystem::create_directory_symlink(tmp / "outside", tmp / "root/link");
  EXPECT_EQ(MakeSafeDirs(tmp / "root", "link/x").code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(tmp / "outside/x"));
  // So is a component that is a file.
  ASSERT_TRUE(WriteFileAtomic(tmp / "root/file", "x").ok());
  EXPECT_EQ(MakeSafeDirs(tmp / "root", "file/y").code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace arca
