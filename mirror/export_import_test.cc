// Helpers of export and import: the base archive reader an incremental
// export relies on, the log state layout import shares with the client, and
// the imports.json record.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "client/log_check.h"
#include "common/file.h"
#include "common/testing.h"
#include "format/codec.h"
#include "format/pack.h"
#include "mirror/archive.h"
#include "mirror/export.h"
#include "mirror/import.h"
#include "mirror/state.h"

namespace arca::mirror {
namespace {

// Writes an archive with a checkpoint, one object, one attestation and a pack
// of `chunks` raw chunks; returns its id.
Digest WriteArchive(const std::string& path, const std::string& tmp, const std::vector<std::string>& chunks,
                    std::optional<Digest> base = std::nullopt) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  EXPECT_TRUE(fd.valid());
  auto w = ArchiveWriter::Create(fd.get(), base);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE((*w)->Add(RecordType::kInfo, AsBytes(std::string("{}"))).ok());
  EXPECT_TRUE((*w)->Add(RecordType::kCheckpoint, AsBytes(std::string("example.org/log\n3\nroot\n\n— sig\n"))).ok());
  auto obj = ObjectRecord{ObjectRecord::kFileIndex, "index bytes"}.Encode();
  EXPECT_TRUE((*w)->Add(RecordType::kObject, AsBytes(*obj)).ok());
  Digest bundle = Sha256Of(std::string("bundle"));
  auto att = AttestationRecord{bundle, "{\"envelope\":1}"}.Encode();
  EXPECT_TRUE((*w)->Add(RecordType::kAttestation, AsBytes(*att)).ok());
  auto pw = format::PackWriter::Create(tmp);
  EXPECT_TRUE(pw.ok());
  for (const std::string& c : chunks) {
    EXPECT_TRUE(pw->Add(Sha256Of(c), format::Codec::kRaw, uint32_t(c.size()), AsBytes(c)).ok());
  }
  EXPECT_TRUE(pw->Finish().ok());
  EXPECT_TRUE((*w)->AddFile(RecordType::kPack, tmp).ok());
  auto id = (*w)->Finish();
  EXPECT_TRUE(id.ok());
  return *id;
}

TEST(ExportTest, ReadBaseArchiveCollectsWhatItHolds) {
  testing::TempDir dir;
  const std::vector<std::string> chunks = {testing::RandomBytes(1000, 1), testing::RandomBytes(2000, 2)};
  const Digest id = WriteArchive(dir / "a.arca", dir / "pack.tmp", chunks);
  Result<BaseArchive> base = ReadBaseArchive(dir / "a.arca", dir.path());
  ASSERT_OK(base.status());
  EXPECT_EQ(base->id, id);
  EXPECT_EQ(base->objects.count(Sha256Of(std::string("index bytes"))), 1u);
  EXPECT_EQ(base->chunks.size(), 2u);
  EXPECT_EQ(base->chunks.count(Sha256Of(chunks[1])), 1u);
  EXPECT_EQ(base->attestations.size(), 1u);
  ASSERT_EQ(base->checkpoints.size(), 1u);
  EXPECT_EQ(base->checkpoints.begin()->first, "example.org/log");
  // Staged pack bodies are removed.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.path().filename() != "a.arca" &&
                                                                             e.path().filename() != "pack.tmp";
  EXPECT_EQ(files, 0);
}

TEST(ExportTest, ReadBaseArchiveRefusesATruncatedOne) {
  testing::TempDir dir;
  WriteArchive(dir / "a.arca", dir / "pack.tmp", {testing::RandomBytes(5000, 3)});
  std::string bytes = *ReadFile(dir / "a.arca", 1 << 20);
  ASSERT_OK(WriteFileAtomic(dir / "cut.arca", bytes.substr(0, bytes.size() - 100)));
  Result<BaseArchive> base = ReadBaseArchive(dir / "cut.arca", dir.path());
  ASSERT_FALSE(base.ok());
  EXPECT_NE(base.status().message().find("truncated"), std::string_view::npos) << base.status().message();
}

TEST(ExportTest, NoteOrigin) {
  EXPECT_EQ(NoteOrigin("a.example/log\n12\nxyz\n"), "a.example/log");
  EXPECT_EQ(NoteOrigin(""), "");
}

TEST(ImportTest, LogStateUnderTheMirrorIsTheClientLayout) {
  testing::TempDir dir;
  ::setenv("ARCA_STATE_DIR", dir.path().c_str(), 1);
  for (std::string origin : {"arca-registry-0123abcd", "host.example/log", "a b+c\xe2\x80\x94"}) {
    EXPECT_EQ(client::LogStatePath(origin), client::LogStatePathUnder(dir.path(), origin)) << origin;
  }
  ::unsetenv("ARCA_STATE_DIR");
  EXPECT_EQ(client::LogStatePathUnder("/d", "host.example/log"), "/d/logs/host.example%2Flog");
}

TEST(ImportTest, ArchiveImportedReadsImportsJson) {
  testing::TempDir dir;
  const Digest a = Sha256Of(std::string("a")), b = Sha256Of(std::string("b"));
  Result<bool> r = ArchiveImported(dir.path(), a);
  ASSERT_OK(r.status());
  EXPECT_FALSE(*r);
  ASSERT_OK(MakeDirs(MirrorStateDir(dir.path())));
  ASSERT_OK(WriteFileAtomic(MirrorStateDir(dir.path()) + "/imports.json",
                            "{\"archive\":\"" + a.ToString() + "\",\"time\":1}\nnot json\n"));
  EXPECT_TRUE(*ArchiveImported(dir.path(), a));
  EXPECT_FALSE(*ArchiveImported(dir.path(), b));
}

}  // namespace
}  // namespace arca::mirror
