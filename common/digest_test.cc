#include "common/digest.h"

#include <gtest/gtest.h>

#include <random>

namespace arca {
namespace {

TEST(DigestTest, KnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(Sha256Of(std::string_view("")).ToString(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Of(std::string_view("abc")).Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, IncrementalMatchesOneShot) {
  std::mt19937 rng(1);
  std::string data(100000, '\0');
  for (auto& c : data) c = char(rng());
  Sha256 h;
  for (size_t off = 0; off < data.size(); off += 7777) {
    h.Update(std::string_view(data).substr(off, 7777));
  }
  EXPECT_EQ(h.Finish(), Sha256Of(data));
  // Finish resets.
  h.Update(std::string_view("abc"));
  EXPECT_EQ(h.Finish(), Sha256Of(std::string_view("abc")));
}

TEST(DigestTest, ParseIsStrict) {
  Digest d = Sha256Of(std::string_view("x"));
  auto back = Digest::Parse(d.ToString());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, d);
  EXPECT_FALSE(Digest::Parse(d.Hex()).ok());                     // no prefix
  EXPECT_FALSE(Digest::Parse("sha256:" + d.Hex().substr(1)).ok());  // short
  std::string upper = d.ToString();
  for (auto& c : upper) if (c >= 'a' && c <= 'f') c = char(c - 32);
  upper.replace(0, 7, "sha256:");
  EXPECT_FALSE(Digest::Parse(upper).ok());
  EXPECT_FALSE(Digest::Parse("sha256:" + std::string(63, '0') + "g").ok());
  EXPECT_FALSE(Digest::Parse("sha512:" + d.Hex()).ok());
}

}  // namespace
}  // namespace arca
