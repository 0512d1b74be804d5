#include "store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "common/testing.h"
#include "format/chunker.h"
#include "format/file_index.h"

namespace arca::store {
namespace {

namespace fs = std::filesystem;

void MakeModelDir(const std::string& dir, uint64_t seed) {
  fs::create_directories(dir + "/sub");
  ASSERT_OK(WriteFileAtomic(dir + "/model.bin", testing::Bf16Normal(1 << 20, 0.02f, seed)));
  ASSERT_OK(WriteFileAtomic(dir + "/sub/config.json", "{\"dim\": 64}"));
  ASSERT_OK(WriteFileAtomic(dir + "/LICENSE", "MIT"));
}

format::Metadata Meta() {
  format::Metadata m;
  m.name = "test/model";
  m.license = {"MIT", "LICENSE"};
  return m;
}

std::string Slurp(const std::string& path) { return *ReadFile(path, 1 << 30); }

TEST(StoreTest, AddCheckoutRoundTrip) {
  testing::TempDir tmp;
  MakeModelDir(tmp / "in", 1);
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  auto added = (*store)->AddDirectory(tmp / "in", Meta(), "test/model:v1", 2);
  ASSERT_OK(added);
  EXPECT_GT(added->new_packs, 0u);
  auto ref = (*store)->GetRef("test/model:v1");
  ASSERT_OK(ref);
  EXPECT_EQ(*ref, added->bundle);
  ASSERT_OK((*store)->Checkout(added->bundle, tmp / "out", 2));
  for (const char* f : {"model.bin", "sub/config.json", "LICENSE"}) {
    EXPECT_EQ(Slurp(tmp / (std::string("out/") + f)), Slurp(tmp / (std::string("in/") + f))) << f;
  }
  // No temporary files left behind.
  EXPECT_FALSE(fs::exists(tmp / "out/.arca/tmp"));
  FsckReport r = (*store)->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
  EXPECT_TRUE(r.orphans.empty());
  EXPECT_EQ(r.refs, 1u);
}

TEST(StoreTest, SecondVersionStoresOnlyWhatChanged) {
  testing::TempDir tmp;
  MakeModelDir(tmp / "v1", 1);
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  auto a = (*store)->AddDirectory(tmp / "v1", Meta(), "test/model:v1", 1);
  ASSERT_OK(a);
  // v2: same files, 64 KiB in the middle of model.bin rewritten.
  fs::copy(tmp / "v1", tmp / "v2", fs::copy_options::recursive);
  std::string data = Slurp(tmp / "v2/model.bin");
  std::string fresh = testing::RandomBytes(65536, 99);
  data.replace(1 << 20, fresh.size(), fresh);
  ASSERT_OK(WriteFileAtomic(tmp / "v2/model.bin", data));
  auto b = (*store)->AddDirectory(tmp / "v2", Meta(), "test/model:v2", 1);
  ASSERT_OK(b);
  EXPECT_NE(a->bundle, b->bundle);
  EXPECT_LE(b->built.stats.new_raw_bytes, 65536u + 3 * format::kMaxChunk);
  EXPECT_GT(b->built.stats.new_raw_bytes, 0u);
  // Re-adding v1 adds nothing.
  auto again = (*store)->AddDirectory(tmp / "v1", Meta(), "test/model:v1", 2);
  ASSERT_OK(again);
  EXPECT_EQ(again->built.stats.new_chunks, 0u);
  EXPECT_EQ(again->new_packs, 0u);
  EXPECT_EQ(again->bundle, a->bundle);
}

TEST(StoreTest, FsckNamesCorruptPackAndCheckoutRefuses) {
  testing::TempDir tmp;
  MakeModelDir(tmp / "in", 2);
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  auto added = (*store)->AddDirectory(tmp / "in", Meta(), "test/model:v1", 1);
  ASSERT_OK(added);
  // Flip one byte in the middle of the first pack's chunk data.
  std::string pack;
  for (auto& e : fs::recursive_directory_iterator(tmp / "store/packs")) {
    if (e.is_regular_file()) pack = e.path().string();
  }
  ASSERT_FALSE(pack.empty());
  {
    std::fstream f(pack, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    char c;
    f.seekg(1000);
    f.get(c);
    f.seekp(1000);
    f.put(char(c ^ 0x20));
  }
  FsckReport r = (*store)->Fsck();
  ASSERT_FALSE(r.ok());
  bool named = false;
  for (const auto& p : r.problems) named = named || p.find("chunk sha256:") != std::string::npos;
  EXPECT_TRUE(named) << r.problems.front();
  Status s = (*store)->Checkout(added->bundle, tmp / "out", 1);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s;
  EXPECT_FALSE(fs::exists(tmp / "out/model.bin"));  // nothing unverified appears
}

TEST(StoreTest, ReadWithoutChunkChecksStillLeavesTheFileHashToCatchCorruption) {
  testing::TempDir tmp;
  MakeModelDir(tmp / "in", 2);
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  auto added = (*store)->AddDirectory(tmp / "in", Meta(), "test/model:v1", 1);
  ASSERT_OK(added);
  auto manifest = (*store)->GetManifest(added->bundle);
  ASSERT_OK(manifest);
  // Every file reads back to its digest either way.
  auto file_hash = [&](size_t i, bool verify, Digest* out) {
    auto index = (*store)->GetObject(manifest->files[i].index, ObjectKind::kFileIndex);
    EXPECT_OK(index);
    auto fi = format::FileIndex::Parse(AsBytes(*index));
    EXPECT_OK(fi);
    Sha256 h;
    Status s = (*store)->ReadChunks(fi->chunks, 2, [&h](ByteView b) {
      h.Update(b);
      return Status::Ok();
    }, verify);
    *out = h.Finish();
    return s;
  };
  for (size_t i = 0; i < manifest->files.size(); ++i) {
    for (bool verify : {true, false}) {
      Digest d;
      ASSERT_OK(file_hash(i, verify, &d));
      EXPECT_EQ(d, manifest->files[i].digest);
    }
  }
  // One byte flipped in a pack: the checked read refuses; the unchecked one
  // either fails to decode or yields bytes whose file hash is wrong.
  std::string pack;
  for (auto& e : fs::recursive_directory_iterator(tmp / "store/packs")) {
    if (e.is_regular_file()) pack = e.path().string();
  }
  {
    std::fstream f(pack, std::ios::in | std::ios::out | std::ios::binary);
    char c;
    f.seekg(1000);
    f.get(c);
    f.seekp(1000);
    f.put(char(c ^ 0x20));
  }
  bool caught_checked = false, caught_unchecked = false;
  for (size_t i = 0; i < manifest->files.size(); ++i) {
    Digest d;
    caught_checked = caught_checked || !file_hash(i, true, &d).ok();
    Status s = file_hash(i, false, &d);
    caught_unchecked = caught_unchecked || !s.ok() || d != manifest->files[i].digest;
  }
  EXPECT_TRUE(caught_checked);
  EXPECT_TRUE(caught_unchecked);
}

TEST(StoreTest, GcRemovesUnreferenced) {
  testing::TempDir tmp;
  MakeModelDir(tmp / "a", 3);
  MakeModelDir(tmp / "b", 4);
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  auto a = (*store)->AddDirectory(tmp / "a", Meta(), "test/model:a", 1);
  auto b = (*store)->AddDirectory(tmp / "b", Meta(), "test/model:b", 1);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK((*store)->DeleteRef("test/model:b"));
  auto gc = (*store)->Gc();
  ASSERT_OK(gc);
  EXPECT_GT(gc->packs_removed, 0u);
  EXPECT_GT(gc->objects_removed, 0u);
  EXPECT_FALSE((*store)->HasObject(b->bundle));
  EXPECT_TRUE((*store)->HasObject(a->bundle));
  FsckReport r = (*store)->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
  ASSERT_OK((*store)->Checkout(a->bundle, tmp / "out", 1));
}

TEST(StoreTest, GcKeepsPacksWithSomeLiveChunks) {
  testing::TempDir tmp;
  MakeModelDir(tmp / "full", 6);
  fs::create_directories(tmp / "part");
  fs::copy_file(tmp / "full/model.bin", tmp / "part/model.bin");
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  format::Metadata meta = Meta();
  ASSERT_OK((*store)->AddDirectory(tmp / "full", meta, "test/model:full", 1));
  meta.license = {};
  auto part = (*store)->AddDirectory(tmp / "part", meta, "test/model:part", 1);
  ASSERT_OK(part);
  EXPECT_EQ(part->new_packs, 0u);  // all its chunks are in the first bundle's pack
  ASSERT_OK((*store)->DeleteRef("test/model:full"));
  auto gc = (*store)->Gc();
  ASSERT_OK(gc);
  EXPECT_EQ(gc->packs_removed, 0u);
  EXPECT_EQ(gc->packs_kept_partial, 1u);
  EXPECT_GT(gc->chunks_removed, 0u);
  FsckReport r = (*store)->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
  ASSERT_OK((*store)->Checkout(part->bundle, tmp / "out", 1));
}

TEST(StoreTest, CheckoutRefusesSymlinkedDirectory) {
  testing::TempDir tmp;
  MakeModelDir(tmp / "in", 5);
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  auto added = (*store)->AddDirectory(tmp / "in", Meta(), "", 1);
  ASSERT_OK(added);
  fs::create_directories(tmp / "out");
  fs::create_directories(tmp / "elsewhere");
  fs::create_directory_symlink(tmp / "elsewhere", tmp / "out/sub");
  Status s = (*store)->Checkout(added->bundle, tmp / "out", 1);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  EXPECT_FALSE(fs::exists(tmp / "elsewhere/config.json"));
}

TEST(StoreTest, RefsAndErrors) {
  testing::TempDir tmp;
  auto store = Store::Open(tmp / "store");
  ASSERT_OK(store);
  EXPECT_EQ((*store)->GetRef("a/b:v1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*store)->SetRef("a/b:v1", Sha256Of(std::string_view("x"))).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->SetRef("noTag", Sha256Of(std::string_view("x"))).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->Checkout(Sha256Of(std::string_view("x")), tmp / "o", 1).code(), StatusCode::kNotFound);
  // A second process (here: a second open) is refused while the store is open.
  auto second = Store::Open(tmp / "store");
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace arca::store
