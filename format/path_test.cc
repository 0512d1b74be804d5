#include "format/path.h"

#include <gtest/gtest.h>

namespace arca::format {
namespace {

TEST(PathTest, AcceptsNormalPaths) {
  for (const char* p : {"model.gguf", "a/b/c.json", "tokenizer/vocab.txt", ".hidden", "a..b", "日本語/モデル.bin"}) {
    EXPECT_TRUE(ValidateBundlePath(p).ok()) << p;
  }
}

TEST(PathTest, RejectsEscapesAndOddities) {
  std::vector<std::string> bad = {"", "/etc/passwd", "../x", "a/../../x", "a/..", "..", ".", "./a",
                                  "a//b", "a/", "a\\b", std::string("a\0b", 3), "a\nb", "a\x7f",
                                  std::string(1025, 'a'), "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80",
                                  ".arca", ".arca/state.json", ".arca/tmp/x"};
  for (const std::string& p : bad) {
    EXPECT_EQ(ValidateBundlePath(p).code(), StatusCode::kInvalidArgument) << p;
  }
}

TEST(PathTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xf0\x9f\x98"));
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\x80"));      // overlong
}

}  // namespace
}  // namespace arca::format
