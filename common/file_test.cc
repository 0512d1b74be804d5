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

}  // namespace
}  // namespace arca
