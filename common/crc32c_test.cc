#include "common/crc32c.h"

#include <gtest/gtest.h>

#include "common/testing.h"

namespace arca {
namespace {

TEST(Crc32cTest, KnownValues) {
  EXPECT_EQ(Crc32c(AsBytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(AsBytes("")), 0u);
  // RFC 3720 B.4: 32 bytes of zeros.
  EXPECT_EQ(Crc32c(AsBytes(std::string(32, '\0'))), 0x8A9136AAu);
}

TEST(Crc32cTest, EverySingleByteChangeIsSeen) {
  std::string data = testing::RandomBytes(1000, 3);
  uint32_t base = Crc32c(AsBytes(data));
  for (size_t i = 0; i < data.size(); ++i) {
    std::string bad = data;
    bad[i] = char(bad[i] ^ (1 << (i % 8)));
    EXPECT_NE(Crc32c(AsBytes(bad)), base) << i;
  }
}

}  // namespace
}  // namespace arca
