#include "format/file_index.h"

#include <gtest/gtest.h>

#include "common/testing.h"
#include "format/chunker.h"

namespace arca::format {
namespace {

FileIndex Sample() {
  FileIndex fi;
  for (uint32_t i = 0; i < 5; ++i) {
    fi.chunks.push_back({Sha256Of(std::to_string(i)), 10000 + i});
    fi.file_size += 10000 + i;
  }
  return fi;
}

TEST(FileIndexTest, RoundTrip) {
  FileIndex fi = Sample();
  std::string enc = fi.Encode();
  EXPECT_EQ(enc.size(), 24u + 36u * 5);
  auto back = FileIndex::Parse(AsBytes(enc));
  ASSERT_OK(back);
  EXPECT_EQ(*back, fi);
  FileIndex empty;
  auto e = FileIndex::Parse(AsBytes(empty.Encode()));
  ASSERT_OK(e);
  EXPECT_TRUE(e->chunks.empty());
}

TEST(FileIndexTest, RejectsMalformed) {
  std::string good = Sample().Encode();
  auto parse = [](std::string s) { return FileIndex::Parse(AsBytes(s)).status(); };
  EXPECT_FALSE(parse(good.substr(0, 10)).ok());
  EXPECT_FALSE(parse(good.substr(0, good.size() - 1)).ok());
  EXPECT_FALSE(parse(good + "x").ok());
  std::string s = good; s[0] = 'X';
  EXPECT_EQ(parse(s).code(), StatusCode::kInvalidArgument);
  s = good; s[7] = '2';
  EXPECT_EQ(parse(s).code(), StatusCode::kUnimplemented);
  s = good; PutLE64(reinterpret_cast<uint8_t*>(s.data()) + 8, 12345);  // sizes do not add up
  EXPECT_FALSE(parse(s).ok());
  s = good; PutLE32(reinterpret_cast<uint8_t*>(s.data()) + 16, 0xFFFFFFFFu);  // absurd count
  EXPECT_FALSE(parse(s).ok());
  FileIndex fi = Sample();
  fi.chunks[2].raw_len = kMaxChunk + 1;
  fi.file_size += kMaxChunk + 1 - 10002;
  EXPECT_FALSE(parse(fi.Encode()).ok());
  fi = Sample();
  fi.chunks[1].raw_len = 0;
  fi.file_size -= 10001;
  EXPECT_FALSE(parse(fi.Encode()).ok());
}

}  // namespace
}  // namespace arca::format
