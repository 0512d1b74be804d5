#include "format/builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "common/file.h"
#include "common/testing.h"

namespace arca::format {
namespace {

// Keeps chunks in memory, as a store would keep them in packs.
struct MemorySink {
  std::mutex mu;
  std::map<Digest, std::pair<Codec, std::string>> chunks;
  ChunkSink sink() {
    return ChunkSink{
        [this](const Digest& d) {
          std::lock_guard<std::mutex> l(mu);
          return chunks.count(d) > 0;
        },
        [this](const Digest& d, Codec c, uint32_t, ByteView stored) {
          std::lock_guard<std::mutex> l(mu);
          if (!chunks.emplace(d, std::make_pair(c, std::string(AsChars(stored)))).second) {
            return InternalError("chunk added twice");
          }
          return Status::Ok();
        }};
  }
};

void MakeModelDir(const std::string& dir) {
  std::filesystem::create_directories(dir + "/tokenizer");
  ASSERT_OK(WriteFileAtomic(dir + "/model.bin", testing::Bf16Normal(600000, 0.02f, 1)));
  ASSERT_OK(WriteFileAtomic(dir + "/copy.bin", testing::Bf16Normal(600000, 0.02f, 1)));  // same content
  ASSERT_OK(WriteFileAtomic(dir + "/tokenizer/vocab.txt", "hello\nworld\n"));
  ASSERT_OK(WriteFileAtomic(dir + "/LICENSE", "MIT License"));
  ASSERT_OK(WriteFileAtomic(dir + "/empty", ""));
}

BuildOptions Threads(int n) {
  BuildOptions o;
  o.threads = n;
  return o;
}

Metadata Meta() {
  Metadata m;
  m.name = "test/model";
  m.license = {"MIT", "LICENSE"};
  return m;
}

TEST(BuilderTest, BuildsDeterministicallyAndDedups) {
  testing::TempDir dir;
  MakeModelDir(dir.path());
  MemorySink a;
  auto b1 = BuildBundle(dir.path(), Meta(), Threads(1), a.sink());
  ASSERT_OK(b1);
  ASSERT_EQ(b1->manifest.files.size(), 5u);
  EXPECT_EQ(b1->manifest.files[0].path, "LICENSE");
  EXPECT_EQ(b1->manifest.files[4].path, "tokenizer/vocab.txt");
  EXPECT_EQ(b1->stats.raw_bytes, 2 * 1200000u + 12 + 11);
  // The duplicate file adds no chunks: the three small files are one chunk
  // each (the empty one none), and model.bin's chunks are counted twice.
  EXPECT_EQ(b1->stats.chunks, 2 * (b1->stats.unique_chunks - 2) + 2);
  EXPECT_EQ(b1->stats.new_chunks, b1->stats.unique_chunks);
  EXPECT_LT(b1->stats.new_stored_bytes, b1->stats.new_raw_bytes);
  EXPECT_EQ(b1->manifest.files[1].digest, b1->manifest.files[3].digest);  // copy.bin == model.bin

  // Same directory, more threads, a fresh sink: same digest, same manifest.
  MemorySink b;
  auto b2 = BuildBundle(dir.path(), Meta(), Threads(2), b.sink());
  ASSERT_OK(b2);
  EXPECT_EQ(b2->digest, b1->digest);
  EXPECT_EQ(b2->manifest_bytes, b1->manifest_bytes);
  // Rebuilding into the same sink adds nothing.
  auto b3 = BuildBundle(dir.path(), Meta(), Threads(2), a.sink());
  ASSERT_OK(b3);
  EXPECT_EQ(b3->stats.new_chunks, 0u);
  EXPECT_EQ(b3->digest, b1->digest);
  // Every file index reassembles the file from the sink's chunks.
  for (size_t i = 0; i < b1->manifest.files.size(); ++i) {
    auto fi = FileIndex::Parse(AsBytes(b1->file_indexes[i]));
    ASSERT_OK(fi);
    EXPECT_EQ(Sha256Of(b1->file_indexes[i]), b1->manifest.files[i].index);
    std::string content;
    for (const ChunkRef& c : fi->chunks) {
      auto& [codec, stored] = a.chunks.at(c.digest);
      std::string raw(c.raw_len, '\0');
      ASSERT_OK(DecodeChunk(uint8_t(codec), AsBytes(stored), reinterpret_cast<uint8_t*>(raw.data()), c.raw_len));
      content += raw;
    }
    EXPECT_EQ(Sha256Of(content), b1->manifest.files[i].digest);
  }
}

TEST(BuilderTest, MetadataChangesTheDigest) {
  testing::TempDir dir;
  MakeModelDir(dir.path());
  MemorySink s;
  Metadata m = Meta();
  auto b1 = BuildBundle(dir.path(), m, Threads(1), s.sink());
  m.provenance.revision = "v2";
  auto b2 = BuildBundle(dir.path(), m, Threads(1), s.sink());
  ASSERT_OK(b1);
  ASSERT_OK(b2);
  EXPECT_NE(b1->digest, b2->digest);
}

TEST(BuilderTest, RefusesSymlinksAndSkipsArcaFolder) {
  testing::TempDir dir;
  MakeModelDir(dir.path());
  std::filesystem::create_directories(dir / ".arca");
  ASSERT_OK(WriteFileAtomic(dir / ".arca/manifest.json", "{}"));
  MemorySink s;
  auto b = BuildBundle(dir.path(), Meta(), Threads(1), s.sink());
  ASSERT_OK(b);
  for (const auto& f : b->manifest.files) EXPECT_NE(f.path.substr(0, 5), ".arca");
  // A symlink naming the bundle directory itself is fine.
  std::filesystem::create_directory_symlink(dir.path(), dir.path() + "-link");
  auto via_link = BuildBundle(dir.path() + "-link", Meta(), Threads(1), s.sink());
  std::filesystem::remove(dir.path() + "-link");
  ASSERT_OK(via_link);
  EXPECT_EQ(via_link->digest, b->digest);
  std::filesystem::create_symlink("/etc/passwd", dir / "passwd");
  auto bad = BuildBundle(dir.path(), Meta(), Threads(1), s.sink());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("symbolic link"), std::string_view::npos);
}

TEST(BuilderTest, LicenseFileMustExist) {
  testing::TempDir dir;
  MakeModelDir(dir.path());
  MemorySink s;
  Metadata m = Meta();
  m.license.file = "COPYING";
  EXPECT_FALSE(BuildBundle(dir.path(), m, Threads(1), s.sink()).ok());
  EXPECT_FALSE(BuildBundle(dir / "missing", Meta(), Threads(1), s.sink()).ok());
}

}  // namespace
}  // namespace arca::format
