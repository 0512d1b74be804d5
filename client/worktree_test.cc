#include "client/worktree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "common/testing.h"

namespace arca::client {
namespace {

namespace fs = std::filesystem;
using arca::testing::TempDir;

void Write(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string Read(const std::string& path) { return *ReadFile(path, 1 << 30); }

// A bundle built into a store, ready to materialise.
struct Built {
  std::unique_ptr<store::Store> store;
  format::Manifest manifest;
  std::string manifest_bytes;
  std::vector<format::FileIndex> indexes;
};

Built Build(const std::string& store_dir, const std::string& src) {
  Built b;
  b.store = std::move(*store::Store::Open(store_dir));
  format::Metadata meta;
  meta.name = "acme/test";
  Result<store::AddResult> r = b.store->AddDirectory(src, meta, "", 1);
  EXPECT_OK(r);
  b.manifest = r->built.manifest;
  b.manifest_bytes = r->built.manifest_bytes;
  for (const std::string& idx : r->built.file_indexes) b.indexes.push_back(*format::FileIndex::Parse(AsBytes(idx)));
  return b;
}

TEST(WorktreeTest, WritesThenSkipsUnchangedFiles) {
  TempDir dir;
  Write(dir / "src/a.bin", arca::testing::RandomBytes(300000, 1));
  Write(dir / "src/sub/b.txt", "hello\n");
  Write(dir / "src/sub/large.bin", arca::testing::RandomBytes(9 << 20, 2));  // hashed on its own thread
  Built b = Build(dir / "store", dir / "src");
  const std::string out = dir / "out";

  Result<MaterializeReport> r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, {});
  ASSERT_OK(r);
  EXPECT_EQ(r->files_written, 3u);
  EXPECT_EQ(Read(out + "/sub/large.bin"), Read(dir / "src/sub/large.bin"));
  EXPECT_EQ(Read(out + "/a.bin"), Read(dir / "src/a.bin"));
  EXPECT_EQ(Read(out + "/sub/b.txt"), "hello\n");
  EXPECT_EQ(Read(out + "/.arca/manifest.json"), b.manifest_bytes);
  std::vector<FileState> state = ParseState(Read(out + "/.arca/state.json"));
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[0].path, "a.bin");
  EXPECT_EQ(state[0].size, 300000u);
  EXPECT_EQ(state[0].digest, b.manifest.files[0].digest);
  EXPECT_TRUE(fs::is_empty(out + "/.arca/tmp"));

  // Warm: nothing rewritten.
  r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, {});
  ASSERT_OK(r);
  EXPECT_EQ(r->files_written, 0u);
  EXPECT_EQ(r->files_unchanged, 3u);

  // An edited file (new inode and mtime) is rewritten; the other is not.
  Write(out + "/sub/b.txt.new", "HELLO\n");
  fs::rename(out + "/sub/b.txt.new", out + "/sub/b.txt");
  r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, {});
  ASSERT_OK(r);
  EXPECT_EQ(r->files_written, 1u);
  EXPECT_EQ(r->files_unchanged, 2u);
  EXPECT_EQ(Read(out + "/sub/b.txt"), "hello\n");

  // A deleted file comes back.
  fs::remove(out + "/a.bin");
  r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, {});
  ASSERT_OK(r);
  EXPECT_EQ(r->files_written, 1u);
  EXPECT_EQ(Read(out + "/a.bin"), Read(dir / "src/a.bin"));
}

TEST(WorktreeTest, VerifyExistingRehashes) {
  TempDir dir;
  Write(dir / "src/a.txt", "original content");
  Built b = Build(dir / "store", dir / "src");
  const std::string out = dir / "out";
  // A same-size edit that keeps the recorded mtime and inode slips past the stat check...
  ASSERT_OK(Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, {}));
  struct stat before;
  ASSERT_EQ(::stat((out + "/a.txt").c_str(), &before), 0);
  {
    std::fstream f(out + "/a.txt", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << "O";
  }
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (out + "/a.txt").c_str(), times, 0), 0);
  Result<MaterializeReport> r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, {});
  ASSERT_OK(r);
  EXPECT_EQ(r->files_unchanged, 1u);
  // ...and --verify-existing catches it.
  MaterializeOptions verify;
  verify.verify_existing = true;
  r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, verify);
  ASSERT_OK(r);
  EXPECT_EQ(r->files_written, 1u);
  EXPECT_EQ(Read(out + "/a.txt"), "original content");
  // A correct file found without any state is adopted, not rewritten.
  fs::remove(out + "/.arca/state.json");
  r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, verify);
  ASSERT_OK(r);
  EXPECT_EQ(r->files_unchanged, 1u);
}

TEST(WorktreeTest, RemovesUnmodifiedFilesOfThePreviousBundleOnly) {
  TempDir dir;
  Write(dir / "v1/keep.txt", "same");
  Write(dir / "v1/old/gone.txt", "old");
  Write(dir / "v1/edited.txt", "mine");
  Write(dir / "v2/keep.txt", "same");
  Write(dir / "v2/new.txt", "new");
  Built v1 = Build(dir / "store", dir / "v1");
  const std::string out = dir / "out";
  ASSERT_OK(Materialize(*v1.store, v1.manifest, v1.manifest_bytes, v1.indexes, {}, out, {}));
  Write(out + "/edited.txt.tmp", "user edit");
  fs::rename(out + "/edited.txt.tmp", out + "/edited.txt");
  Write(out + "/notes.txt", "not ours");
  v1.store.reset();

  Built v2 = Build(dir / "store", dir / "v2");
  Result<MaterializeReport> r = Materialize(*v2.store, v2.manifest, v2.manifest_bytes, v2.indexes, {}, out, {});
  ASSERT_OK(r);
  EXPECT_EQ(r->files_removed, 1u);
  EXPECT_EQ(r->files_unchanged, 1u);
  EXPECT_EQ(r->files_written, 1u);
  EXPECT_FALSE(fs::exists(out + "/old"));
  EXPECT_EQ(Read(out + "/edited.txt"), "user edit");
  EXPECT_EQ(Read(out + "/notes.txt"), "not ours");
  EXPECT_EQ(Read(out + "/new.txt"), "new");
}

TEST(WorktreeTest, RefusesSymlinkedDirectories) {
  TempDir dir;
  Write(dir / "src/sub/b.txt", "x");
  Built b = Build(dir / "store", dir / "src");
  const std::string out = dir / "out";
  fs::create_directories(out);
  fs::create_directories(dir / "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", out + "/sub");
  Result<MaterializeReport> r = Materialize(*b.store, b.manifest, b.manifest_bytes, b.indexes, {}, out, {});
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(dir / "elsewhere/b.txt"));
}

TEST(WorktreeTest, StateParsingIsLenient) {
  EXPECT_TRUE(ParseState("").empty());
  EXPECT_TRUE(ParseState("{\"files\": [{\"path\": 1}]}").empty());
  FileState s{"a/b", 5, -3, 77, Sha256Of("x")};
  EXPECT_EQ(ParseState(EncodeState(Sha256Of("m"), {s})), std::vector<FileState>{s});
}

}  // namespace
}  // namespace arca::client
