#include "format/pack.h"

#include <gtest/gtest.h>

#include "common/testing.h"
#include "format/chunker.h"

namespace arca::format {
namespace {

struct Built {
  std::string bytes;
  std::vector<std::string> raws;
  Digest digest;
};

Built BuildPack(const testing::TempDir& dir, int chunks, size_t chunk_size) {
  Built b;
  std::string path = dir / "p.pack";
  auto w = PackWriter::Create(path);
  EXPECT_OK(w);
  for (int i = 0; i < chunks; ++i) {
    std::string raw = i % 2 ? testing::Bf16Normal(chunk_size / 2, 0.02f, i) : testing::RandomBytes(chunk_size, i);
    std::string stored;
    Codec c = EncodeChunk(AsBytes(raw), &stored);
    EXPECT_OK(w->Add(Sha256Of(raw), c, uint32_t(raw.size()), AsBytes(stored)));
    b.raws.push_back(raw);
  }
  auto d = w->Finish();
  EXPECT_OK(d);
  b.digest = *d;
  b.bytes = *ReadFile(path, 1 << 30);
  return b;
}

TEST(PackTest, WriteReadVerify) {
  testing::TempDir dir;
  Built b = BuildPack(dir, 6, 20000);
  ASSERT_OK(VerifyPackBytes(AsBytes(b.bytes)));
  auto idx = PackIndex::Parse(AsBytes(b.bytes), b.bytes.size());
  ASSERT_OK(idx);
  // A pack is named by the SHA-256 of its index (the entries, which pin
  // every chunk's digest, place, lengths, codec and CRC).
  const size_t index_bytes = idx->entries.size() * kPackEntrySize;
  EXPECT_EQ(Sha256Of(AsBytes(b.bytes).subspan(idx->index_offset, index_bytes)), b.digest);
  EXPECT_EQ(idx->name, b.digest);
  ASSERT_EQ(idx->entries.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    const PackEntry& e = idx->entries[i];
    std::string out(e.raw_len, '\0');
    ASSERT_OK(DecodePackChunk(e, AsBytes(b.bytes).subspan(e.offset, e.stored_len),
                              reinterpret_cast<uint8_t*>(out.data())));
    EXPECT_EQ(out, b.raws[i]);
  }
  // The file-based reader agrees.
  auto fd = OpenForRead(dir / "p.pack");
  ASSERT_OK(fd);
  auto idx2 = PackIndex::ReadFromFile(fd->get(), b.bytes.size(), "p.pack");
  ASSERT_OK(idx2);
  EXPECT_EQ(idx2->entries.size(), 6u);
}

// One flipped byte anywhere is detected; inside chunk data, the chunk is named.
TEST(PackTest, EveryFlippedByteIsDetected) {
  testing::TempDir dir;
  Built b = BuildPack(dir, 4, 3000);
  auto idx = PackIndex::Parse(AsBytes(b.bytes), b.bytes.size());
  ASSERT_OK(idx);
  for (size_t pos = 0; pos < b.bytes.size(); ++pos) {
    std::string bad = b.bytes;
    bad[pos] = char(bad[pos] ^ 0x01);
    Status s = VerifyPackBytes(AsBytes(bad));
    ASSERT_FALSE(s.ok()) << "flip at " << pos << " not detected";
    for (const PackEntry& e : idx->entries) {
      if (pos >= e.offset && pos < e.offset + e.stored_len) {
        EXPECT_NE(s.message().find(e.digest.ToString()), std::string_view::npos)
            << "flip at " << pos << ": " << s;
      }
    }
  }
}

TEST(PackTest, RejectsHostileIndexes) {
  testing::TempDir dir;
  Built b = BuildPack(dir, 3, 10000);
  auto idx = PackIndex::Parse(AsBytes(b.bytes), b.bytes.size());
  ASSERT_OK(idx);
  // Rebuild a pack with a tampered index (and a consistent index digest), so
  // that the structural checks, not the digest, must catch it.
  auto repack = [&](std::vector<PackEntry> entries) {
    std::string data = b.bytes.substr(0, idx->index_offset);
    std::string index = EncodePackIndex(entries);
    std::string out = data + index;
    AppendLE64(&out, idx->index_offset);
    AppendLE32(&out, uint32_t(entries.size()));
    AppendLE32(&out, 0);
    Digest d = Sha256Of(index);
    out.append(reinterpret_cast<const char*>(d.bytes.data()), 32);
    out.append(kPackMagic, 8);
    return VerifyPackBytes(AsBytes(out));
  };
  ASSERT_OK(repack(idx->entries));
  auto e = idx->entries;
  e[1].offset += 1;
  EXPECT_FALSE(repack(e).ok());  // gap
  e = idx->entries;
  e[1].stored_len = 1u << 30;
  EXPECT_FALSE(repack(e).ok());  // runs past the data
  e = idx->entries;
  e[0].raw_len = kMaxChunk + 1;
  EXPECT_FALSE(repack(e).ok());
  e = idx->entries;
  e[2].codec = 7;
  EXPECT_FALSE(repack(e).ok());
  e = idx->entries;
  e[2].digest = e[0].digest;
  EXPECT_FALSE(repack(e).ok());  // duplicate (and wrong) digest
  e = idx->entries;
  e.pop_back();
  EXPECT_FALSE(repack(e).ok());  // data not covered
  // Truncations of every length are refused, never a crash.
  for (size_t n = 0; n < b.bytes.size(); n += 97) {
    EXPECT_FALSE(VerifyPackBytes(AsBytes(b.bytes).subspan(0, n)).ok());
  }
  // A trailer claiming billions of entries.
  std::string huge = b.bytes;
  PutLE32(reinterpret_cast<uint8_t*>(huge.data()) + huge.size() - 48, 0xFFFFFFFFu);
  EXPECT_EQ(VerifyPackBytes(AsBytes(huge)).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::format
