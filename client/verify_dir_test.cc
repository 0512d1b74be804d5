// VerifyDirectory and LoadOffline on directories written by the real
// Materialize from bundles built by the real store.
#include "client/verify_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/worktree.h"
#include "common/file.h"
#include "common/testing.h"
#include "format/file_index.h"
#include "store/store.h"

namespace arca::client {
namespace {

namespace fs = std::filesystem;
using arca::testing::TempDir;

void Write(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string Read(const std::string& path) { return *ReadFile(path, 1 << 30); }

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(offset));
  char c = 0;
  f.get(c);
  f.seekp(std::streamoff(offset));
  f.put(char(c ^ 0x20));
}

// A source directory pulled (built into a store, materialised) into out/.
struct Pulled {
  TempDir tmp;
  format::Manifest manifest;
  std::vector<format::FileIndex> indexes;
  std::string out;

  explicit Pulled(const std::vector<std::pair<std::string, std::string>>& files,
                  const std::vector<std::string>& envelopes = {}) {
    for (const auto& [path, data] : files) Write(tmp / ("src/" + path), data);
    std::unique_ptr<store::Store> store = std::move(*store::Store::Open(tmp / "store"));
    format::Metadata meta;
    meta.name = "acme/verify";
    Result<store::AddResult> r = store->AddDirectory(tmp / "src", meta, "", 2);
    EXPECT_OK(r);
    manifest = r->built.manifest;
    for (const std::string& idx : r->built.file_indexes) indexes.push_back(*format::FileIndex::Parse(AsBytes(idx)));
    out = tmp / "out";
    EXPECT_OK(Materialize(*store, manifest, r->built.manifest_bytes, indexes, envelopes, out, {}));
  }

  Result<DirCheck> Verify(int threads = 2) const {
    VerifyDirOptions o;
    o.threads = threads;
    return VerifyDirectory(out, manifest, DirIndexSource(out), o);
  }

  size_t Find(const std::string& path) const {
    for (size_t i = 0; i < manifest.files.size(); ++i) {
      if (manifest.files[i].path == path) return i;
    }
    ADD_FAILURE() << path;
    return 0;
  }
  std::string Path(const std::string& rel) const { return out + "/" + rel; }
};

// The slow reference: hash each chunk of the file on its own, cut at the
// index's lengths; the offset of the first chunk that differs, or -1.
int64_t NaiveFirstBadChunk(const std::string& path, const format::FileIndex& index) {
  const std::string data = Read(path);
  uint64_t offset = 0;
  for (const format::ChunkRef& c : index.chunks) {
    if (Sha256Of(std::string_view(data).substr(offset, c.raw_len)) != c.digest) return int64_t(offset);
    offset += c.raw_len;
  }
  return -1;
}

const std::string kLarge = arca::testing::RandomBytes(11 << 20, 7);  // ~200 chunks, several work items

std::vector<std::pair<std::string, std::string>> Files() {
  return {{"a.bin", arca::testing::RandomBytes(300000, 1)},
          {"sub/b.txt", "hello\n"},
          {"sub/deep/large.bin", kLarge},
          {"empty", ""}};
}

TEST(VerifyDirTest, IntactDirectoryIsOkWithOneOrTwoThreads) {
  Pulled p(Files());
  for (int threads : {1, 2, 5}) {
    Result<DirCheck> r = p.Verify(threads);
    ASSERT_OK(r);
    EXPECT_TRUE(r->files_ok());
    ASSERT_EQ(r->files.size(), 4u);
    for (const FileCheck& f : r->files) EXPECT_EQ(f.verdict, FileVerdict::kOk) << f.path << ": " << f.detail;
    EXPECT_EQ(r->bytes_hashed, 300000u + 6 + kLarge.size());
    EXPECT_TRUE(r->extra_files.empty());
    EXPECT_EQ(r->extra_files_total, 0u);
  }
}

TEST(VerifyDirTest, ProgressReachesTheBundleSize) {
  Pulled p(Files());
  std::ostringstream err;
  Progress progress("verifying", false, err);
  VerifyDirOptions o;
  o.progress = &progress;
  FlipByte(p.Path("a.bin"), 5);  // a bad file still counts its bytes once
  ASSERT_OK(VerifyDirectory(p.out, p.manifest, DirIndexSource(p.out), o));
  EXPECT_EQ(progress.done(), 300000u + 6 + kLarge.size());
}

TEST(VerifyDirTest, FlippedByteIsNamedWithItsChunkOffset) {
  Pulled p(Files());
  const size_t large = p.Find("sub/deep/large.bin");
  // Two flips: the first bad chunk is reported, wherever the threads start.
  FlipByte(p.Path("sub/deep/large.bin"), 9000000);
  FlipByte(p.Path("sub/deep/large.bin"), 5123457);
  const int64_t want = NaiveFirstBadChunk(p.Path("sub/deep/large.bin"), p.indexes[large]);
  ASSERT_GT(want, 0);
  ASSERT_LE(uint64_t(want), 5123457u);
  ASSERT_GT(uint64_t(want) + 128 * 1024, 5123457u);
  for (int threads : {1, 2, 3}) {
    Result<DirCheck> r = p.Verify(threads);
    ASSERT_OK(r);
    EXPECT_FALSE(r->files_ok());
    EXPECT_EQ(r->bad_files(), 1u);
    const FileCheck& f = r->files[large];
    EXPECT_EQ(f.path, "sub/deep/large.bin");
    EXPECT_EQ(f.verdict, FileVerdict::kChanged);
    EXPECT_EQ(f.first_bad_offset, uint64_t(want));
    EXPECT_NE(f.detail.find(std::to_string(want)), std::string::npos) << f.detail;
  }
}

TEST(VerifyDirTest, SameSizeEditOfASmallFileAmongManyIsFound) {
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 60; ++i) {
    files.push_back({"many/f" + std::to_string(100 + i), arca::testing::RandomBytes(1000 + 37 * i, uint64_t(i))});
  }
  Pulled p(files);
  FlipByte(p.Path("many/f141"), 0);
  Result<DirCheck> r = p.Verify();
  ASSERT_OK(r);
  ASSERT_EQ(r->bad_files(), 1u);
  const FileCheck& f = r->files[p.Find("many/f141")];
  EXPECT_EQ(f.verdict, FileVerdict::kChanged);
  EXPECT_EQ(f.first_bad_offset, 0u);
}

TEST(VerifyDirTest, ReportsTruncatedExtendedDeletedAndNonRegularFiles) {
  Pulled p({{"trunc.bin", arca::testing::RandomBytes(200000, 1)},
            {"ext.bin", arca::testing::RandomBytes(200000, 2)},
            {"gone.bin", "x"},
            {"link.txt", "target"},
            {"dir.txt", "a"},
            {"under/link/f.txt", "f"},
            {"ok.txt", "fine"}});
  fs::resize_file(p.Path("trunc.bin"), 150000);
  {
    std::ofstream(p.Path("ext.bin"), std::ios::binary | std::ios::app) << "more";
  }
  fs::remove(p.Path("gone.bin"));
  fs::remove(p.Path("link.txt"));
  Write(p.tmp / "elsewhere/f.txt", "f");
  fs::create_symlink(p.tmp / "elsewhere/f.txt", p.Path("link.txt"));
  fs::remove(p.Path("dir.txt"));
  fs::create_directory(p.Path("dir.txt"));
  // A symlinked directory on the way: the copy it points to is right, but
  // nothing outside DIR is read.
  fs::remove_all(p.Path("under/link"));
  fs::create_directory_symlink(p.tmp / "elsewhere", p.Path("under/link"));

  Result<DirCheck> r = p.Verify();
  ASSERT_OK(r);
  EXPECT_EQ(r->bad_files(), 6u);
  auto check = [&](const std::string& path) { return r->files[p.Find(path)]; };
  EXPECT_EQ(check("trunc.bin").verdict, FileVerdict::kWrongSize);
  EXPECT_EQ(check("trunc.bin").actual_size, 150000u);
  EXPECT_NE(check("trunc.bin").detail.find("150000"), std::string::npos);
  EXPECT_EQ(check("ext.bin").verdict, FileVerdict::kWrongSize);
  EXPECT_EQ(check("ext.bin").actual_size, 200004u);
  EXPECT_EQ(check("gone.bin").verdict, FileVerdict::kMissing);
  EXPECT_EQ(check("link.txt").verdict, FileVerdict::kNotRegular);
  EXPECT_NE(check("link.txt").detail.find("symbolic link"), std::string::npos);
  EXPECT_EQ(check("dir.txt").verdict, FileVerdict::kNotRegular);
  EXPECT_EQ(check("under/link/f.txt").verdict, FileVerdict::kNotRegular);
  EXPECT_NE(check("under/link/f.txt").detail.find("under/link"), std::string::npos);
  EXPECT_EQ(check("ok.txt").verdict, FileVerdict::kOk);
}

TEST(VerifyDirTest, ListsExtraFilesButNotArcaMetadata) {
  Pulled p(Files());
  Write(p.Path("notes.txt"), "mine");
  Write(p.Path("sub/new/extra.bin"), "x");
  fs::create_symlink("a.bin", p.Path("alias"));
  fs::create_directory(p.Path("emptydir"));
  Result<DirCheck> r = p.Verify();
  ASSERT_OK(r);
  EXPECT_TRUE(r->files_ok());
  EXPECT_EQ(r->extra_files, (std::vector<std::string>{"alias", "notes.txt", "sub/new/extra.bin"}));
  EXPECT_EQ(r->extra_files_total, 3u);
}

TEST(VerifyDirTest, TamperedOrMissingIndexObjectIsAnErrorNamingIt) {
  Pulled p(Files());
  const size_t a = p.Find("a.bin");
  const std::string index_path = p.Path(".arca/indexes/" + p.manifest.files[a].index.Hex());
  ASSERT_EQ(Read(index_path), p.indexes[a].Encode());
  FlipByte(index_path, 40);
  Result<DirCheck> r = p.Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("a.bin"), std::string_view::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find(p.manifest.files[a].index.ToString()), std::string_view::npos);

  fs::remove(index_path);
  r = p.Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(index_path), std::string_view::npos) << r.status().ToString();
}

TEST(VerifyDirTest, IndexThatHashesRightButDoesNotParseOrFitIsAnError) {
  Pulled p(std::vector<std::pair<std::string, std::string>>{{"f.txt", "content"}});
  // A manifest naming objects that are not valid indexes for it.
  format::Manifest m = p.manifest;
  const std::string garbage = "not an index at all, but 24+ bytes long";
  m.files[0].index = Sha256Of(garbage);
  auto source = [&](const std::string& bytes) {
    return [bytes](const Digest&, uint64_t max_bytes) -> Result<std::string> {
      if (bytes.size() > max_bytes) return ResourceExhaustedError("too large");
      return bytes;
    };
  };
  Result<DirCheck> r = VerifyDirectory(p.out, m, source(garbage), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("f.txt"), std::string_view::npos);

  format::FileIndex other = p.indexes[0];
  other.file_size += 1;
  other.chunks[0].raw_len += 1;
  m.files[0].index = Sha256Of(other.Encode());
  r = VerifyDirectory(p.out, m, source(other.Encode()), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("describes 8 bytes"), std::string_view::npos) << r.status().ToString();

  // An index far larger than the file could need is never read whole.
  r = VerifyDirectory(p.out, m, source(std::string(4096, 'x')), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);

  VerifyDirOptions zero;
  zero.threads = 0;
  EXPECT_EQ(VerifyDirectory(p.out, p.manifest, DirIndexSource(p.out), zero).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(LoadOfflineTest, ReadsManifestAndEnvelopes) {
  const std::vector<std::string> envelopes = {"{\"payload\":\"one\"}", "{\"payload\":\"two\"}"};
  Pulled p(Files(), envelopes);
  Result<Offline> o = LoadOffline(p.out);
  ASSERT_OK(o);
  EXPECT_EQ(o->manifest, p.manifest);
  EXPECT_EQ(o->bundle, p.manifest.BundleDigest());
  EXPECT_EQ(o->manifest_bytes, p.manifest.Canonical());
  std::vector<std::string> want = envelopes;
  std::sort(want.begin(), want.end(), [](const std::string& x, const std::string& y) {
    return Sha256Of(x).Hex() < Sha256Of(y).Hex();
  });
  EXPECT_EQ(o->envelopes, want);
  for (const std::string& e : envelopes) EXPECT_EQ(Read(p.Path(".arca/attestations/" + Sha256Of(e).Hex())), e);

  // A leftover temporary file is ignored; a changed envelope is not.
  Write(p.Path(".arca/attestations/x.tmp.1.0"), "partial");
  ASSERT_OK(LoadOffline(p.out));
  FlipByte(p.Path(".arca/attestations/" + Sha256Of(envelopes[1]).Hex()), 3);
  Result<Offline> bad = LoadOffline(p.out);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find(Sha256Of(envelopes[1]).Hex()), std::string_view::npos);
}

TEST(LoadOfflineTest, RematerialisingReplacesEnvelopesAndIndexes) {
  TempDir tmp;
  Write(tmp / "v1/a.txt", "one");
  Write(tmp / "v2/b.txt", "two");
  std::unique_ptr<store::Store> store = std::move(*store::Store::Open(tmp / "store"));
  format::Metadata meta;
  meta.name = "acme/verify";
  const std::string out = tmp / "out";
  std::vector<Digest> index_ids;
  for (const char* v : {"v1", "v2"}) {
    Result<store::AddResult> r = store->AddDirectory(tmp / v, meta, "", 1);
    ASSERT_OK(r);
    std::vector<format::FileIndex> idx{*format::FileIndex::Parse(AsBytes(r->built.file_indexes[0]))};
    ASSERT_OK(Materialize(*store, r->built.manifest, r->built.manifest_bytes, idx, {std::string("env-") + v}, out, {}));
    index_ids.push_back(r->built.manifest.files[0].index);
  }
  Result<Offline> o = LoadOffline(out);
  ASSERT_OK(o);
  EXPECT_EQ(o->envelopes, std::vector<std::string>{"env-v2"});
  EXPECT_FALSE(fs::exists(out + "/.arca/indexes/" + index_ids[0].Hex()));
  EXPECT_TRUE(fs::exists(out + "/.arca/indexes/" + index_ids[1].Hex()));
}

TEST(LoadOfflineTest, DirectoryWithoutArcaIsAClearError) {
  TempDir tmp;
  Write(tmp / "plain/file.txt", "x");
  Result<Offline> o = LoadOffline(tmp / "plain");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kNotFound);
  EXPECT_NE(o.status().message().find("is not a directory pulled by arca: no " + (tmp / "plain") +
                                      "/.arca/manifest.json"),
            std::string_view::npos)
      << o.status().ToString();
  EXPECT_EQ(LoadOffline(tmp / "nonexistent").status().code(), StatusCode::kNotFound);
}

TEST(LoadOfflineTest, TooManyEnvelopesAreRefused) {
  std::vector<std::string> many;
  for (size_t i = 0; i <= kMaxOfflineEnvelopes; ++i) many.push_back("e" + std::to_string(i));
  TempDir tmp;
  Write(tmp / "src/a.txt", "a");
  std::unique_ptr<store::Store> store = std::move(*store::Store::Open(tmp / "store"));
  format::Metadata meta;
  meta.name = "acme/verify";
  Result<store::AddResult> r = store->AddDirectory(tmp / "src", meta, "", 1);
  ASSERT_OK(r);
  std::vector<format::FileIndex> idx{*format::FileIndex::Parse(AsBytes(r->built.file_indexes[0]))};
  EXPECT_EQ(Materialize(*store, r->built.manifest, r->built.manifest_bytes, idx, many, tmp / "out", {}).status().code(),
            StatusCode::kResourceExhausted);
  // Written by hand past the limit: LoadOffline refuses too.
  many.pop_back();
  ASSERT_OK(Materialize(*store, r->built.manifest, r->built.manifest_bytes, idx, many, tmp / "out", {}));
  Write(tmp / ("out/.arca/attestations/" + Sha256Of("extra").Hex()), "extra");
  EXPECT_EQ(LoadOffline(tmp / "out").status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace arca::client
