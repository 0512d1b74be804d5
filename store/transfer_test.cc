// Moving bundles between stores: packs and objects from an untrusted peer.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/file.h"
#include "common/testing.h"
#include "format/file_index.h"
#include "store/store.h"

namespace arca::store {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) { return *ReadFile(path, 1 << 30); }

format::Metadata Meta() {
  format::Metadata m;
  m.name = "test/model";
  m.license = {"MIT", "LICENSE"};
  return m;
}

// A source store holding one bundle built from a generated directory.
struct Source {
  testing::TempDir tmp;
  std::unique_ptr<Store> store;
  AddResult added;

  explicit Source(uint64_t seed, size_t bytes = 3 << 20) {
    fs::create_directories(tmp / "in");
    EXPECT_OK(WriteFileAtomic(tmp / "in/model.bin", testing::Bf16Normal(bytes, 0.02f, seed)));
    EXPECT_OK(WriteFileAtomic(tmp / "in/LICENSE", "MIT"));
    store = std::move(*Store::Open(tmp / "store"));
    added = std::move(*store->AddDirectory(tmp / "in", Meta(), "", 2));
  }

  std::vector<std::string> PackFiles() const {
    std::vector<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(tmp / "store/packs")) {
      if (e.is_regular_file()) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

// Copies `file` to a fresh temporary path of `dst` and ingests it.
Result<IngestResult> Upload(Store& dst, const std::string& file) {
  std::string tmp = dst.NewTempPath("upload");
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(tmp, Slurp(file)));
  return dst.IngestPack(tmp);
}

size_t FilesUnder(const std::string& dir) {
  size_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(TransferTest, PacksAndObjectsMakeACompleteBundle) {
  Source src(1);
  testing::TempDir tmp;
  auto dst = Store::Open(tmp / "dst");
  ASSERT_OK(dst);
  Store& d = **dst;
  const format::BuiltBundle& b = src.added.built;

  // Nothing can be stored before what it refers to.
  std::vector<Digest> missing;
  Result<bool> put = d.PutFileIndex(Sha256Of(b.file_indexes[0]), b.file_indexes[0], &missing);
  EXPECT_EQ(put.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(missing.empty());
  missing.clear();
  put = d.PutManifest(b.digest, b.manifest_bytes, &missing);
  EXPECT_EQ(put.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(missing.size(), b.file_indexes.size());
  EXPECT_EQ(d.CheckBundleComplete(b.digest).code(), StatusCode::kFailedPrecondition);

  uint64_t new_chunks = 0;
  for (const std::string& p : src.PackFiles()) {
    auto r = Upload(d, p);
    ASSERT_OK(r);
    EXPECT_EQ(r->new_chunks, r->chunks);
    ASSERT_TRUE(r->pack.has_value());
    EXPECT_EQ(Slurp(d.PackPath(*r->pack)), Slurp(p));  // kept as uploaded
    new_chunks += r->new_chunks;
  }
  EXPECT_EQ(new_chunks, b.stats.new_chunks);
  for (const std::string& index : b.file_indexes) {
    auto r = d.PutFileIndex(Sha256Of(index), index);
    ASSERT_OK(r);
    EXPECT_TRUE(*r);
  }
  auto m = d.PutManifest(b.digest, b.manifest_bytes);
  ASSERT_OK(m);
  EXPECT_TRUE(*m);
  EXPECT_FALSE(*d.PutManifest(b.digest, b.manifest_bytes));  // again: already held
  ASSERT_OK(d.CheckBundleComplete(b.digest));
  ASSERT_OK(d.SetRef("test/model:v1", b.digest));
  ASSERT_OK(d.Checkout(b.digest, tmp / "out", 2));
  EXPECT_EQ(Slurp(tmp / "out/model.bin"), Slurp(src.tmp / "in/model.bin"));
  EXPECT_TRUE(d.Fsck().ok());
  EXPECT_EQ(FilesUnder(tmp / "dst/tmp"), 0u);
}

TEST(TransferTest, ObjectsAreChecked) {
  Source src(2);
  const format::BuiltBundle& b = src.added.built;
  Store& s = *src.store;
  // Wrong digest for the bytes.
  Digest wrong = Sha256Of(std::string("something else"));
  EXPECT_EQ(s.PutManifest(wrong, b.manifest_bytes).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.PutFileIndex(wrong, b.file_indexes[0]).status().code(), StatusCode::kInvalidArgument);
  // A manifest sent as a file index, and the reverse.
  EXPECT_EQ(s.PutFileIndex(b.digest, b.manifest_bytes).status().code(), StatusCode::kInvalidArgument);
  const std::string& index = *std::max_element(
      b.file_indexes.begin(), b.file_indexes.end(), [](auto& x, auto& y) { return x.size() < y.size(); });
  EXPECT_EQ(s.PutManifest(Sha256Of(index), index).status().code(), StatusCode::kInvalidArgument);
  // A file index whose chunk lengths disagree with the store's records.
  auto parsed = format::FileIndex::Parse(AsBytes(index));
  ASSERT_OK(parsed);
  ASSERT_GE(parsed->chunks.size(), 2u);
  format::FileIndex liar = *parsed;
  liar.chunks[0].raw_len -= 1;
  liar.chunks[1].raw_len += 1;
  std::string liar_bytes = liar.Encode();
  EXPECT_EQ(s.PutFileIndex(Sha256Of(liar_bytes), liar_bytes).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(s.HasObject(Sha256Of(liar_bytes)));
}

TEST(TransferTest, HeldChunksAreDroppedFromUploads) {
  Source a(3), b(3, 4 << 20);  // b's file starts with a's bytes, then more
  testing::TempDir tmp;
  std::unique_ptr<Store> owned = std::move(*Store::Open(tmp / "dst"));
  Store& d = *owned;
  for (const std::string& p : a.PackFiles()) ASSERT_OK(Upload(d, p));
  uint64_t held = d.Fsck().chunks;
  // Uploading a's packs again stores nothing.
  for (const std::string& p : a.PackFiles()) {
    auto r = Upload(d, p);
    ASSERT_OK(r);
    EXPECT_EQ(r->new_chunks, 0u);
    EXPECT_FALSE(r->pack.has_value());
  }
  // b shares a prefix with a: only its new chunks are kept, in a fresh pack.
  uint64_t fresh = 0;
  for (const std::string& p : b.PackFiles()) {
    auto r = Upload(d, p);
    ASSERT_OK(r);
    EXPECT_LT(r->new_chunks, r->chunks);
    fresh += r->new_chunks;
  }
  EXPECT_GT(fresh, 0u);
  FsckReport report = d.Fsck();
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.chunks, held + fresh);
  EXPECT_EQ(FilesUnder(tmp / "dst/tmp"), 0u);
}

TEST(TransferTest, RacingUploadsStoreEachChunkOnce) {
  Source a(4, 6 << 20);
  std::vector<std::string> packs = a.PackFiles();
  testing::TempDir tmp;
  std::unique_ptr<Store> owned = std::move(*Store::Open(tmp / "dst"));
  Store& d = *owned;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (const std::string& p : packs) failures += !Upload(d, p).ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  FsckReport report = d.Fsck();
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.chunks, a.added.built.stats.new_chunks);
  EXPECT_EQ(report.packs, packs.size());  // no pack holds a duplicate
}

TEST(TransferTest, BadPacksAreRefusedAndNothingIsStored) {
  Source src(5);
  std::string pack = Slurp(src.PackFiles().front());
  testing::TempDir tmp;
  std::unique_ptr<Store> owned = std::move(*Store::Open(tmp / "dst"));
  Store& d = *owned;
  auto try_bytes = [&](const std::string& bytes) {
    std::string path = d.NewTempPath("upload");
    EXPECT_OK(WriteFileAtomic(path, bytes));
    Status s = d.IngestPack(path).status();
    EXPECT_FALSE(fs::exists(path));
    return s;
  };
  // A flipped byte in chunk data: refused, naming the chunk.
  std::string flipped = pack;
  flipped[100] ^= 1;
  Status s = try_bytes(flipped);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("chunk sha256:"), std::string::npos) << s;
  // Truncated, empty, not a pack.
  EXPECT_FALSE(try_bytes(pack.substr(0, pack.size() / 2)).ok());
  EXPECT_FALSE(try_bytes("").ok());
  EXPECT_FALSE(try_bytes(std::string(4096, 'x')).ok());
  // Index bytes flipped.
  std::string bad_index = pack;
  bad_index[bad_index.size() - 100] ^= 0x40;
  EXPECT_FALSE(try_bytes(bad_index).ok());
  FsckReport report = d.Fsck();
  EXPECT_EQ(report.chunks, 0u);
  EXPECT_EQ(report.packs, 0u);
  EXPECT_TRUE(report.orphans.empty());
}

TEST(TransferTest, PackSinkSkipsHeldChunks) {
  Source src(6);
  Store& s = *src.store;
  std::vector<Digest> digests;
  auto index = format::FileIndex::Parse(AsBytes(src.added.built.file_indexes.back()));
  ASSERT_OK(index);
  for (const auto& c : index->chunks) digests.push_back(c.digest);
  std::vector<std::optional<ChunkLocation>> found = s.FindChunks(digests);
  for (const auto& f : found) ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(s.FindChunks(std::vector<Digest>{Sha256Of(std::string("absent"))})[0].has_value());
  Store::PackSink sink(&s);
  std::string stored(found[0]->entry.stored_len, '\0');
  ASSERT_OK(sink.Add(found[0]->entry.digest, format::Codec(found[0]->entry.codec), found[0]->entry.raw_len,
                     AsBytes(stored)));
  ASSERT_OK(sink.Seal());
  EXPECT_EQ(sink.packs(), 0u);  // held already: nothing written
  auto info = s.GetPack(found[0]->pack);
  ASSERT_OK(info);
  EXPECT_GT(info->chunks, 0u);
}

}  // namespace
}  // namespace arca::store
