// Tests of the .arca record layer (PROTOCOL.md §8.1-8.2).
//
// A naive encoder written straight from §8.1 (Reference below) cross-checks
// the writer byte for byte and builds hostile archives, one defect at a time,
// with everything else valid. Golden ids were computed independently (Python
// hashlib from the spec text) so that a change to the format shows up here.
#include "mirror/archive.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <random>
#include <thread>

#include "common/file.h"
#include "common/testing.h"

namespace arca::mirror {
namespace {

struct Rec {
  RecordType type;
  std::string body;
  bool operator==(const Rec&) const = default;
};

// ---- Reference encoder (§8.1), with knobs for hostile input ----

struct RawRecord {
  uint8_t type;
  std::string body;
  uint8_t flags = 0;
  uint8_t reserved = 0;                           // written into reserved[2] (byte 4)
  std::optional<uint64_t> length = std::nullopt;  // a claimed length other than body.size()
  bool header_only = false;                       // stop after the 16-byte record header
};

RawRecord Raw(RecordType t, std::string body) { return RawRecord{uint8_t(t), std::move(body)}; }

std::string Le32(uint32_t v) {
  std::string s;
  AppendLE32(&s, v);
  return s;
}
std::string Le64(uint64_t v) {
  std::string s;
  AppendLE64(&s, v);
  return s;
}

std::string RawHeader(uint32_t flags = 0, const Digest& base = {}, uint32_t version = 1,
                      std::string magic = "ARCAEXP1") {
  return magic + Le32(version) + Le32(flags) + std::string(AsChars(base.view()));
}

uint64_t LengthOf(const RawRecord& r) { return r.length.value_or(r.body.size()); }

std::string RecordBytes(const RawRecord& r) {
  std::string out{char(r.type), char(r.flags), 0, 0, char(r.reserved), 0, 0, 0};
  out += Le64(LengthOf(r));
  if (r.header_only) return out;
  return out + r.body + std::string(AsChars(Sha256Of(r.body).view()));
}

Digest ChainOver(const std::string& header, const std::vector<RawRecord>& records) {
  Digest c = Sha256Of("arca-archive-v1" + header);
  for (const RawRecord& r : records) {
    std::string link(AsChars(c.view()));
    link += char(r.type) + Le64(LengthOf(r)) + std::string(AsChars(Sha256Of(r.body).view()));
    c = Sha256Of(link);
  }
  return c;
}

std::string TrailerBytes(uint64_t n, const Digest& chain) {
  return RecordBytes(RawRecord{15, Le64(n) + std::string(AsChars(chain.view()))});
}

// header, `records`, and a trailer committing to `chained` (default: records).
std::string Reference(const std::string& header, const std::vector<RawRecord>& records,
                      const std::vector<RawRecord>* chained = nullptr) {
  if (!chained) chained = &records;
  std::string out = header;
  for (const RawRecord& r : records) out += RecordBytes(r);
  return out + TrailerBytes(chained->size(), ChainOver(header, *chained));
}

// The smallest valid archive: an info and a checkpoint record.
std::vector<RawRecord> Minimal() {
  return {Raw(RecordType::kInfo, R"({"schema":"arca.export.v1"})"),
          Raw(RecordType::kCheckpoint, "example.com/log\n1\nAAAA\n")};
}

// ---- Running the writer and the reader in memory ----

// An anonymous in-memory file holding `bytes`, positioned at 0.
UniqueFd MemFile(std::string_view bytes) {
  UniqueFd fd(::memfd_create("archive_test", MFD_CLOEXEC));
  EXPECT_TRUE(fd.valid());
  EXPECT_OK(WriteAll(fd.get(), AsBytes(bytes), "memfd"));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  return fd;
}

std::string ReadBack(int fd) {
  const off_t size = ::lseek(fd, 0, SEEK_END);
  std::string out(size_t(size), '\0');
  EXPECT_OK(PreadAll(fd, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()), 0,
                     "memfd"));
  return out;
}

struct Written {
  std::string bytes;
  Digest id;
  uint64_t bytes_written = 0;
};

Written Write(const std::vector<Rec>& records, std::optional<Digest> base = std::nullopt) {
  UniqueFd fd = MemFile("");
  auto w = ArchiveWriter::Create(fd.get(), base);
  EXPECT_OK(w);
  for (const Rec& r : records) EXPECT_OK((*w)->Add(r.type, AsBytes(r.body)));
  auto id = (*w)->Finish();
  EXPECT_OK(id);
  return Written{ReadBack(fd.get()), id.ok() ? *id : Digest{}, (*w)->bytes_written()};
}

enum class Consume { kReadBody, kMixed };

struct Outcome {
  Status status;
  ArchiveHeader header = {};
  std::vector<Rec> records = {};  // skipped bodies are left empty
  std::optional<Digest> id = std::nullopt;
};

// Reads all of `fd`. kMixed consumes bodies in turn by CopyBodyTo, ReadBody
// and SkipBody, so every path meets hostile input.
Outcome ReadAll(int fd, Consume how = Consume::kReadBody) {
  Outcome o;
  auto r = ArchiveReader::Open(fd);
  if (!r.ok()) return Outcome{r.status()};
  ArchiveReader& reader = **r;
  o.header = reader.header();
  for (;;) {
    auto next = reader.Next();
    if (!next.ok()) return Outcome{next.status(), o.header, o.records};
    if (!next->has_value()) break;
    Rec rec{(*next)->type, ""};
    Status s;
    const uint64_t mode = how == Consume::kMixed ? (*next)->number % 3 : 1;
    if (mode == 0) {
      UniqueFd out = MemFile("");
      s = reader.CopyBodyTo(out.get());
      rec.body = ReadBack(out.get());
    } else if (mode == 1) {
      auto body = reader.ReadBody();
      s = body.status();
      if (body.ok()) rec.body = *body;
    } else {
      s = reader.SkipBody();
    }
    if (!s.ok()) return Outcome{s, o.header, o.records};
    o.records.push_back(rec);
  }
  EXPECT_EQ(reader.records_read(), o.records.size());
  o.id = reader.archive_id();
  EXPECT_TRUE(o.id.has_value());
  return o;
}

Outcome ReadBytes(std::string_view bytes, Consume how = Consume::kReadBody) {
  UniqueFd fd = MemFile(bytes);
  return ReadAll(fd.get(), how);
}

// The refusal of `bytes`: fails the test if they are accepted.
std::string Refusal(std::string_view bytes, Consume how = Consume::kReadBody) {
  Outcome o = ReadBytes(bytes, how);
  EXPECT_FALSE(o.status.ok()) << "accepted a bad archive";
  return std::string(o.status.message());
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

// ---- Sample records of every type ----

std::string Hashes(int n) {
  std::string out(1, char(n));
  for (int i = 0; i < n; ++i) out += std::string(AsChars(Sha256Of(std::to_string(i)).view()));
  return out;
}

std::vector<Rec> EveryType() {
  const Digest bundle = Sha256Of("bundle");
  std::vector<Digest> proof = {Sha256Of("a"), Sha256Of("b"), Sha256Of("c")};
  std::vector<Rec> out = {
      {RecordType::kInfo, R"({"created":"2025-01-01T00:00:00Z","schema":"arca.export.v1"})"},
      {RecordType::kCheckpoint, "a.example/log\n10\nroot\n\n— a.example sig\n"},
      {RecordType::kCheckpoint, "b.example/log\n3\nroot\n\n— b.example sig\n"},
      {RecordType::kConsistency, *ConsistencyRecord{"a.example/log", 4, 10, proof}.Encode()},
      {RecordType::kLogEntry,
       *LogEntryRecord{"a.example/log", 10, 7, "publish entry", proof}.Encode()},
      {RecordType::kLogEntry, *LogEntryRecord{"a.example/log", 10, 8, "tag entry", {}}.Encode()},
      {RecordType::kTag, *TagRecord{"org/model", "v1", bundle}.Encode()},
      {RecordType::kTag, *TagRecord{"org/model", "latest", bundle}.Encode()},
      {RecordType::kObject, *ObjectRecord{'M', R"({"schema":"arca.manifest.v1"})"}.Encode()},
      {RecordType::kObject, *ObjectRecord{'F', testing::RandomBytes(5000, 1)}.Encode()},
      {RecordType::kAttestation, *AttestationRecord{bundle, R"({"payloadType":"x"})"}.Encode()},
      {RecordType::kPack, testing::RandomBytes(3 << 20, 2)},  // several I/O buffers
      {RecordType::kPack, testing::RandomBytes(100, 3)},
  };
  return out;
}

// ---- Round trips ----

TEST(ArchiveTest, RoundTripEveryRecordType) {
  testing::TempDir dir;
  const std::vector<Rec> records = EveryType();
  const std::string path = dir / "a.arca";
  const std::string pack_path = dir / "p.pack";
  {
    int fd = ::open(pack_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_OK(WriteAll(fd, AsBytes(records[11].body), "pack"));
    ::close(fd);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  auto w = ArchiveWriter::Create(fd, std::nullopt);
  ASSERT_OK(w);
  for (size_t i = 0; i < records.size(); ++i) {
    // The large pack is streamed from its file; everything else from memory.
    if (i == 11) {
      ASSERT_OK((*w)->AddFile(RecordType::kPack, pack_path));
    } else {
      ASSERT_OK((*w)->Add(records[i].type, AsBytes(records[i].body)));
    }
  }
  EXPECT_EQ((*w)->records_written(), records.size());
  auto id = (*w)->Finish();
  ASSERT_OK(id);
  ::close(fd);
  const std::string bytes = *ReadFile(path, 1 << 30);
  EXPECT_EQ((*w)->bytes_written(), bytes.size());

  // Byte for byte what the reference encoder makes of the same records.
  std::vector<RawRecord> raw;
  for (const Rec& r : records) raw.push_back(Raw(r.type, r.body));
  EXPECT_EQ(bytes, Reference(RawHeader(), raw));

  for (Consume how : {Consume::kReadBody, Consume::kMixed}) {
    auto in = OpenForRead(path);
    ASSERT_OK(in);
    Outcome o = ReadAll(in->get(), how);
    ASSERT_OK(o.status);
    EXPECT_FALSE(o.header.incremental);
    EXPECT_EQ(o.header.base, Digest{});
    EXPECT_EQ(o.id, *id);
    ASSERT_EQ(o.records.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(o.records[i].type, records[i].type) << i;
      const bool skipped = how == Consume::kMixed && (i + 1) % 3 == 2;
      if (!skipped) {
        EXPECT_EQ(o.records[i].body, records[i].body) << i;
      }
    }
  }

  // The typed bodies decode to what was encoded.
  auto log = LogEntryRecord::Decode(AsBytes(records[4].body));
  ASSERT_OK(log);
  EXPECT_EQ(log->entry, "publish entry");
  EXPECT_EQ(log->proof.size(), 3u);
}

TEST(ArchiveTest, IdIsStableAndMatchesGolden) {
  std::vector<Rec> records;
  for (const RawRecord& r : Minimal()) records.push_back({RecordType(r.type), r.body});
  const Written a = Write(records);
  const Written b = Write(records);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.bytes.size(), 282u);
  EXPECT_EQ(a.bytes_written, a.bytes.size());
  EXPECT_EQ(a.id.Hex(), "55525216c7912fa984f40817835a8fed314dbd51654a1812af0dbc8a8ed0d860");
  // The id is the hash of the trailer body, which is also its digest field.
  EXPECT_EQ(Sha256Of(std::string_view(a.bytes).substr(a.bytes.size() - 72, 40)), a.id);
  EXPECT_EQ(a.bytes.substr(a.bytes.size() - 32), std::string(AsChars(a.id.view())));
  Outcome o = ReadBytes(a.bytes);
  ASSERT_OK(o.status);
  EXPECT_EQ(o.id, a.id);
  // Any change of content changes the id.
  records[1].body += "x";
  EXPECT_NE(Write(records).id, a.id);
}

TEST(ArchiveTest, IncrementalHeaderRoundTrip) {
  const Digest base = Sha256Of("base");
  std::vector<Rec> records;
  for (const RawRecord& r : Minimal()) records.push_back({RecordType(r.type), r.body});
  const Written w = Write(records, base);
  EXPECT_EQ(w.bytes, Reference(RawHeader(1, base), Minimal()));
  EXPECT_EQ(w.id.Hex(), "fc86cdaee3d2fb5302ccfd5054b5825bad864977cb15bb42968d5634f6a9ac59");
  Outcome o = ReadBytes(w.bytes);
  ASSERT_OK(o.status);
  EXPECT_TRUE(o.header.incremental);
  EXPECT_EQ(o.header.base, base);
  EXPECT_EQ(o.records, records);
}

// The writer never seeks: a pipe carries an archive, and a pack bigger than
// the pipe's buffer streams through while the reader reads.
TEST(ArchiveTest, StreamsThroughAPipe) {
  testing::TempDir dir;
  const std::string pack = testing::RandomBytes(2 << 20, 9);
  ASSERT_OK(WriteFileAtomic(dir / "p.pack", pack));
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  Result<Digest> id = InternalError("not run");
  std::thread writer([&] {
    UniqueFd out(p[1]);
    auto w = ArchiveWriter::Create(out.get(), std::nullopt);
    if (!w.ok()) return;
    for (const RawRecord& r : Minimal())
      (*w)->Add(RecordType(r.type), AsBytes(r.body)).IgnoreError();
    (*w)->AddFile(RecordType::kPack, dir / "p.pack").IgnoreError();  // Finish reports any failure
    id = (*w)->Finish();
  });
  // Should the reader stop early, the writer gets EPIPE rather than a signal
  // or a pipe that never drains.
  ::signal(SIGPIPE, SIG_IGN);
  UniqueFd in(p[0]);
  Outcome o = ReadAll(in.get(), Consume::kMixed);
  in.Reset();
  writer.join();
  ASSERT_OK(id);
  ASSERT_OK(o.status);
  EXPECT_EQ(o.id, *id);
  ASSERT_EQ(o.records.size(), 3u);
  EXPECT_EQ(o.records[2].body, pack);  // record 3: CopyBodyTo
}

// ---- Header refusals ----

TEST(ArchiveReaderTest, RefusesBadHeaders) {
  const Digest base = Sha256Of("base");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(0, {}, 1, "ARCAEXP2"), Minimal())), "bad magic");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(0, {}, 2), Minimal())), "version 2");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(2), Minimal())), "unknown flags");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(0x80000001u, base), Minimal())), "unknown flags");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(0, base), Minimal())), "base set");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(1), Minimal())), "all-zero base");
  EXPECT_CONTAINS(Refusal(RawHeader().substr(0, 47)), "truncated");
  EXPECT_CONTAINS(Refusal(""), "truncated");
}

// ---- Record header refusals: decided before any body byte is read ----

std::string WithRecords(std::vector<RawRecord> extra) {
  std::vector<RawRecord> records = Minimal();
  for (RawRecord& r : extra) records.push_back(std::move(r));
  return Reference(RawHeader(), records);
}

TEST(ArchiveReaderTest, RefusesUnknownType) {
  for (uint8_t type : {0, 9, 14, 16, 255}) {
    const std::string why = Refusal(WithRecords({RawRecord{type, "x"}}));
    EXPECT_CONTAINS(why, "archive record 3");
    EXPECT_CONTAINS(why, "unknown record type " + std::to_string(type));
  }
}

TEST(ArchiveReaderTest, RefusesNonZeroFlagsAndReserved) {
  RawRecord flagged = Raw(RecordType::kTag, "t");
  flagged.flags = 1;
  EXPECT_CONTAINS(Refusal(WithRecords({flagged})), "record 3 (tag): non-zero record flags");
  RawRecord reserved = Raw(RecordType::kTag, "t");
  reserved.reserved = 0x40;
  EXPECT_CONTAINS(Refusal(WithRecords({reserved})), "record 3 (tag): non-zero reserved bytes");
}

TEST(ArchiveReaderTest, RefusesOutOfOrderTypes) {
  const std::string why =
      Refusal(WithRecords({Raw(RecordType::kTag, "t"), Raw(RecordType::kConsistency, "c")}));
  EXPECT_CONTAINS(why, "archive record 4");
  EXPECT_CONTAINS(why, "consistency record after a tag record");
  EXPECT_CONTAINS(why, "non-decreasing");
}

TEST(ArchiveReaderTest, RefusesInfoNotFirstAndMissingCheckpoint) {
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(), {Raw(RecordType::kCheckpoint, "c")})),
                  "archive record 1 (checkpoint): checkpoint record first");
  EXPECT_CONTAINS(
      Refusal(Reference(RawHeader(), {Raw(RecordType::kInfo, "{}"), Raw(RecordType::kTag, "t")})),
      "record 2 (tag): tag record before any checkpoint");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(), {Raw(RecordType::kInfo, "{}")})),
                  "record 2 (trailer): trailer record before any checkpoint");
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(), {})), "record 1 (trailer): trailer record first");
  EXPECT_CONTAINS(
      Refusal(Reference(RawHeader(), {Raw(RecordType::kInfo, "{}"), Raw(RecordType::kInfo, "{}")})),
      "record 2 (info): more than 1 info records");
}

// A header that claims a huge body, followed by nothing: refused for its
// length, not found truncated, so no body byte was read or allocated for.
TEST(ArchiveReaderTest, RefusesOverLimitBodyBeforeReadingIt) {
  struct Case {
    RecordType type;
    uint64_t length;
  };
  for (Case c : {Case{RecordType::kConsistency, 4097}, Case{RecordType::kObject, (64ull << 20) + 1},
                 Case{RecordType::kPack, (256ull << 20) + 1}, Case{RecordType::kPack, ~0ull},
                 Case{RecordType::kAttestation, (1ull << 20) + 33}}) {
    RawRecord huge = Raw(c.type, "");
    huge.length = c.length;
    huge.header_only = true;
    std::vector<RawRecord> records = Minimal();
    records.push_back(huge);
    std::string bytes = RawHeader();
    for (const RawRecord& r : records) bytes += RecordBytes(r);
    const std::string why = Refusal(bytes);
    EXPECT_CONTAINS(why, "archive record 3");
    EXPECT_CONTAINS(why, "above the length limit");
    EXPECT_EQ(why.find("truncated"), std::string::npos) << why;
  }
}

TEST(ArchiveReaderTest, RefusesTrailerOfWrongLength) {
  std::string bytes = RawHeader();
  for (const RawRecord& r : Minimal()) bytes += RecordBytes(r);
  bytes += RecordBytes(RawRecord{15, std::string(41, '\0')});
  EXPECT_CONTAINS(Refusal(bytes),
                  "record 3 (trailer): trailer body of 41 bytes, must be exactly 40");
}

TEST(ArchiveReaderTest, RefusesCountAboveLimit) {
  std::vector<RawRecord> consistency(17, Raw(RecordType::kConsistency, "c"));
  EXPECT_CONTAINS(Refusal(WithRecords(consistency)),
                  "archive record 19 (consistency): more than 16 consistency records");
  std::vector<RawRecord> checkpoints(16, Raw(RecordType::kCheckpoint, "c"));
  EXPECT_CONTAINS(Refusal(WithRecords(checkpoints)),
                  "archive record 18 (checkpoint): more than 16 checkpoint records");
  // Up to the limit is fine.
  consistency.pop_back();
  ASSERT_OK(ReadBytes(WithRecords(consistency)).status);
}

// ---- Digest and chain ----

TEST(ArchiveReaderTest, RefusesBodyDigestMismatch) {
  std::string bytes = Reference(RawHeader(), Minimal());
  bytes[48 + 16 + 3] ^= 1;  // a byte of record 1's body
  const std::string why = Refusal(bytes);
  EXPECT_CONTAINS(why, "archive record 1 (info): body digest mismatch");
  bytes = Reference(RawHeader(), Minimal());
  bytes[48 + 16 + 27 + 5] ^= 0x80;  // a byte of record 1's digest
  EXPECT_CONTAINS(Refusal(bytes), "record 1 (info): body digest mismatch");
}

TEST(ArchiveReaderTest, RefusesChainMismatch) {
  const RawRecord a = Raw(RecordType::kTag, "tag a");
  const RawRecord b = Raw(RecordType::kTag, "tag b");
  std::vector<RawRecord> chained = Minimal();
  chained.push_back(a);
  chained.push_back(b);
  ASSERT_OK(ReadBytes(Reference(RawHeader(), chained)).status);
  // Swapped: every record is valid alone, the trailer is not.
  std::vector<RawRecord> swapped = Minimal();
  swapped.push_back(b);
  swapped.push_back(a);
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(), swapped, &chained)),
                  "record 5 (trailer): chain mismatch");
  // Dropped.
  std::vector<RawRecord> dropped = Minimal();
  dropped.push_back(a);
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(), dropped, &chained)),
                  "record 4 (trailer): the trailer counts 4 records, the archive holds 3");
  // Replaced by another record of the same length: the count agrees, the chain does not.
  std::vector<RawRecord> replaced = Minimal();
  replaced.push_back(a);
  replaced.push_back(Raw(RecordType::kTag, "tag c"));
  EXPECT_CONTAINS(Refusal(Reference(RawHeader(), replaced, &chained)), "chain mismatch");
  // A different header under the same records.
  std::string spliced = Reference(RawHeader(), chained);
  const std::string other = Reference(RawHeader(1, Sha256Of("x")), chained);
  spliced.replace(0, 48, other.substr(0, 48));
  EXPECT_CONTAINS(Refusal(spliced), "chain mismatch");
}

// ---- Truncation and the end of the file ----

TEST(ArchiveReaderTest, RefusesTruncationAtEveryOffset) {
  std::vector<RawRecord> records = Minimal();
  records.push_back(Raw(RecordType::kTag, *TagRecord{"r", "t", Sha256Of("b")}.Encode()));
  records.push_back(Raw(RecordType::kPack, "pack bytes"));
  const std::string bytes = Reference(RawHeader(), records);
  ASSERT_OK(ReadBytes(bytes).status);
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    const std::string why =
        Refusal(std::string_view(bytes).substr(0, n), n % 2 ? Consume::kMixed : Consume::kReadBody);
    EXPECT_CONTAINS(why, "truncated");
    EXPECT_CONTAINS(why, n < 48 ? "archive header" : "archive record ");
  }
}

TEST(ArchiveReaderTest, RefusesMissingTrailer) {
  std::string bytes = RawHeader();
  for (const RawRecord& r : Minimal()) bytes += RecordBytes(r);
  EXPECT_CONTAINS(Refusal(bytes), "archive record 3: truncated: the file ends before the trailer");
}

TEST(ArchiveReaderTest, RefusesBytesAfterTrailer) {
  const std::string bytes = Reference(RawHeader(), Minimal());
  EXPECT_CONTAINS(Refusal(bytes + '\0'), "record 3 (trailer): data after the trailer");
  EXPECT_CONTAINS(Refusal(bytes + bytes), "data after the trailer");
}

// Seeded random flips, insertions and deletions of a valid archive: the
// reader must refuse every one cleanly (run under ARCA_SANITIZE to check
// "cleanly" for memory errors too).
TEST(ArchiveReaderTest, RefusesEveryMutation) {
  std::vector<RawRecord> records = Minimal();
  records.push_back(
      Raw(RecordType::kConsistency, *ConsistencyRecord{"o", 1, 2, {Sha256Of("p")}}.Encode()));
  records.push_back(Raw(RecordType::kTag, *TagRecord{"r", "t", Sha256Of("b")}.Encode()));
  records.push_back(
      Raw(RecordType::kObject, *ObjectRecord{'F', testing::RandomBytes(300, 4)}.Encode()));
  records.push_back(Raw(RecordType::kPack, testing::RandomBytes(200, 5)));
  const std::string original = Reference(RawHeader(), records);
  ASSERT_OK(ReadBytes(original, Consume::kMixed).status);
  std::mt19937_64 rng(20250101);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = original;
    const size_t at = rng() % bytes.size();
    switch (i % 3) {
      case 0:
        bytes[at] ^= char(1 + rng() % 255);
        break;
      case 1:
        bytes.insert(at, 1 + rng() % 3, char(rng()));
        break;
      default:
        bytes.erase(at, 1 + rng() % 3);
        break;
    }
    Outcome o = ReadBytes(bytes, Consume::kMixed);
    EXPECT_FALSE(o.status.ok()) << "mutation " << i << " at " << at << " accepted";
  }
}

// ---- Reader misuse ----

TEST(ArchiveReaderTest, RequiresBodiesToBeConsumed) {
  UniqueFd fd = MemFile(Reference(RawHeader(), Minimal()));
  auto r = ArchiveReader::Open(fd.get());
  ASSERT_OK(r);
  EXPECT_EQ((*r)->SkipBody().code(), StatusCode::kFailedPrecondition);
  // Errors are sticky: the reader refuses to go on.
  EXPECT_EQ((*r)->Next().status().code(), StatusCode::kFailedPrecondition);

  UniqueFd fd2 = MemFile(Reference(RawHeader(), Minimal()));
  auto r2 = ArchiveReader::Open(fd2.get());
  ASSERT_OK(r2);
  ASSERT_OK((*r2)->Next());
  EXPECT_CONTAINS((*r2)->Next().status().message(), "record 1 (info): body not consumed");
}

TEST(ArchiveReaderTest, ReadBodyRefusesBodiesTooLargeForMemory) {
  RawRecord pack = Raw(RecordType::kPack, "");
  pack.length = kMaxReadBodySize + 1;
  pack.header_only = true;
  std::string bytes = RawHeader();
  for (const RawRecord& r : Minimal()) bytes += RecordBytes(r);
  bytes += RecordBytes(pack);
  UniqueFd fd = MemFile(bytes);
  auto r = ArchiveReader::Open(fd.get());
  ASSERT_OK(r);
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK((*r)->Next());
    ASSERT_OK((*r)->SkipBody());
  }
  auto next = (*r)->Next();
  ASSERT_OK(next);
  EXPECT_EQ((*next)->number, 3u);
  EXPECT_EQ((*next)->length, kMaxReadBodySize + 1);
  EXPECT_EQ((*r)->ReadBody().status().code(), StatusCode::kResourceExhausted);
  // Not sticky: streaming is still possible (and finds the file truncated).
  EXPECT_CONTAINS((*r)->SkipBody().message(), "record 3 (pack): truncated: body ends after 0 of");
}

// ---- Writer refusals ----

TEST(ArchiveWriterTest, RefusesWhatTheReaderWould) {
  UniqueFd fd = MemFile("");
  EXPECT_FALSE(ArchiveWriter::Create(fd.get(), Digest{}).ok());  // zero base
  auto w = ArchiveWriter::Create(fd.get(), std::nullopt);
  ASSERT_OK(w);
  ArchiveWriter& a = **w;
  auto add = [&a](RecordType t, std::string_view body) { return a.Add(t, AsBytes(body)); };
  EXPECT_CONTAINS(add(RecordType::kCheckpoint, "c").message(), "record 1: checkpoint record first");
  EXPECT_CONTAINS(a.Finish().status().message(), "trailer record first");
  ASSERT_OK(add(RecordType::kInfo, "{}"));
  EXPECT_CONTAINS(add(RecordType::kTag, "t").message(), "before any checkpoint");
  EXPECT_CONTAINS(a.Finish().status().message(), "before any checkpoint");
  ASSERT_OK(add(RecordType::kCheckpoint, "c"));
  EXPECT_CONTAINS(add(RecordType::kTag, std::string(2049, 't')).message(),
                  "above the length limit of 2048");
  ASSERT_OK(add(RecordType::kTag, std::string(2048, 't')));
  EXPECT_CONTAINS(add(RecordType::kConsistency, "c").message(),
                  "record 4: consistency record after a tag");
  EXPECT_CONTAINS(add(RecordType::kTrailer, std::string(40, '\0')).message(), "written by Finish");
  EXPECT_CONTAINS(a.AddFile(RecordType::kPack, "/nonexistent/p.pack").message(),
                  "/nonexistent/p.pack");
  testing::TempDir dir;
  EXPECT_CONTAINS(a.AddFile(RecordType::kPack, dir.path()).message(), "not a regular file");
  // Refusals wrote nothing: the archive is still valid.
  auto id = a.Finish();
  ASSERT_OK(id);
  EXPECT_EQ(a.bytes_written(), ReadBack(fd.get()).size());
  ::lseek(fd.get(), 0, SEEK_SET);
  Outcome o = ReadAll(fd.get());
  ASSERT_OK(o.status);
  EXPECT_EQ(o.records.size(), 3u);
  EXPECT_EQ(o.id, *id);
  EXPECT_EQ(add(RecordType::kPack, "p").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.Finish().status().code(), StatusCode::kFailedPrecondition);
}

TEST(ArchiveWriterTest, CountLimits) {
  UniqueFd fd = MemFile("");
  auto w = ArchiveWriter::Create(fd.get(), std::nullopt);
  ASSERT_OK(w);
  ASSERT_OK((*w)->Add(RecordType::kInfo, AsBytes(std::string_view("{}"))));
  for (int i = 0; i < 16; ++i)
    ASSERT_OK((*w)->Add(RecordType::kCheckpoint, AsBytes(std::string_view("c"))));
  EXPECT_CONTAINS((*w)->Add(RecordType::kCheckpoint, AsBytes(std::string_view("c"))).message(),
                  "record 18: more than 16 checkpoint records");
}

// A failed write leaves a partial record: the writer refuses to go on.
TEST(ArchiveWriterTest, WriteFailureIsSticky) {
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir / "ro", ""));
  auto ro = OpenForRead(dir / "ro");
  ASSERT_OK(ro);
  auto w = ArchiveWriter::Create(ro->get(), std::nullopt);  // the header is buffered
  ASSERT_OK(w);
  for (const RawRecord& r : Minimal()) ASSERT_OK((*w)->Add(RecordType(r.type), AsBytes(r.body)));
  EXPECT_FALSE((*w)->Finish().ok());
  EXPECT_CONTAINS((*w)->Add(RecordType::kPack, AsBytes(std::string_view("p"))).message(),
                  "incomplete");
}

// ---- Typed bodies ----

std::string Body(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& p : parts) out += p;
  return out;
}

std::string Str(std::string_view s) {
  std::string out(2, '\0');
  PutLE16(reinterpret_cast<uint8_t*>(out.data()), uint16_t(s.size()));
  return out + std::string(s);
}

TEST(ArchiveBodyTest, RoundTrips) {
  std::vector<Digest> proof;
  for (int i = 0; i < 64; ++i) proof.push_back(Sha256Of(std::to_string(i)));
  const ConsistencyRecord c{"log.example/ü", 0, 1u << 20, proof};
  EXPECT_EQ(*ConsistencyRecord::Decode(AsBytes(*c.Encode())), c);
  EXPECT_EQ(*c.Encode(), Body({Str("log.example/ü"), Le64(0), Le64(1u << 20), Hashes(64)}));

  const LogEntryRecord l{"o", 5, 4, std::string(kMaxLogEntryBytes, 'e'), proof};
  EXPECT_EQ(*LogEntryRecord::Decode(AsBytes(*l.Encode())), l);
  const LogEntryRecord small{"o", 5, 4, "e", {}};
  EXPECT_EQ(*small.Encode(), Body({Str("o"), Le64(5), Le64(4), Le32(1), "e", Hashes(0)}));

  const TagRecord t{"org/model", "v1.0", Sha256Of("b")};
  EXPECT_EQ(*TagRecord::Decode(AsBytes(*t.Encode())), t);
  EXPECT_EQ(*t.Encode(),
            Body({Str("org/model"), Str("v1.0"), std::string(AsChars(Sha256Of("b").view()))}));

  const ObjectRecord m{'M', std::string(16 << 20, 'm')};
  EXPECT_EQ(*ObjectRecord::Decode(AsBytes(*m.Encode())), m);
  const ObjectRecord f{'F', std::string((64 << 20) - 1, 'f')};
  EXPECT_EQ(*ObjectRecord::Decode(AsBytes(*f.Encode())), f);

  const AttestationRecord a{Sha256Of("b"), std::string(1 << 20, 'a')};
  EXPECT_EQ(*AttestationRecord::Decode(AsBytes(*a.Encode())), a);
}

std::string DecodeError(Status s) {
  EXPECT_FALSE(s.ok()) << "decoded a bad body";
  return std::string(s.message());
}
template <typename T>
std::string Refused(std::string_view body) {
  return DecodeError(T::Decode(AsBytes(body)).status());
}

TEST(ArchiveBodyTest, StrictDecode) {
  const std::string h = std::string(AsChars(Sha256Of("h").view()));
  const std::string consistency = Body({Str("o"), Le64(1), Le64(2), Hashes(1)});
  ASSERT_OK(ConsistencyRecord::Decode(AsBytes(consistency)));
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(consistency + "x"), "1 trailing bytes");
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(consistency.substr(0, consistency.size() - 1)),
                  "overruns");
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(Body({Str("o"), Le64(1), Le64(2), Hashes(65)})),
                  "65 proof hashes, at most 64");
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(Body({Le32(0xFFFF), Le64(1)})),
                  "origin of 65535 bytes overruns");
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(Body({Str(""), Le64(1), Le64(2), Hashes(0)})),
                  "origin is empty");
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(Body({Str("\xff"), Le64(1), Le64(2), Hashes(0)})),
                  "not valid UTF-8");
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(Body({Str("o"), Le64(3), Le64(2), Hashes(0)})),
                  "from 3 > to 2");
  EXPECT_CONTAINS(Refused<ConsistencyRecord>(std::string(4097, 'x')),
                  "above the length limit of 4096");

  const std::string entry = Body({Str("o"), Le64(2), Le64(1), Le32(1), "e", Hashes(0)});
  ASSERT_OK(LogEntryRecord::Decode(AsBytes(entry)));
  EXPECT_CONTAINS(Refused<LogEntryRecord>(entry + "x"), "trailing bytes");
  EXPECT_CONTAINS(
      Refused<LogEntryRecord>(Body({Str("o"), Le64(2), Le64(1), Le32(0xFFFFFFFF), "e", Hashes(0)})),
      "entry of 4294967295 bytes, at most 32768");
  EXPECT_CONTAINS(Refused<LogEntryRecord>(Body({Str("o"), Le64(2), Le64(1), Le32(32769),
                                                std::string(32769, 'e'), Hashes(0)})),
                  "at most 32768");
  EXPECT_CONTAINS(
      Refused<LogEntryRecord>(Body({Str("o"), Le64(2), Le64(1), Le32(5), "e", Hashes(0)})),
      "overruns");
  EXPECT_CONTAINS(
      Refused<LogEntryRecord>(Body({Str("o"), Le64(2), Le64(2), Le32(1), "e", Hashes(0)})),
      "index 2 not below size 2");
  EXPECT_CONTAINS(Refused<LogEntryRecord>(Body({Str("o"), Le64(2), Le64(1), Le32(0), Hashes(0)})),
                  "entry of 0 bytes");

  const std::string tag = Body({Str("r"), Str("t"), h});
  ASSERT_OK(TagRecord::Decode(AsBytes(tag)));
  EXPECT_CONTAINS(Refused<TagRecord>(tag + "x"), "trailing bytes");
  EXPECT_CONTAINS(Refused<TagRecord>(tag.substr(0, tag.size() - 1)),
                  "bundle digest of 32 bytes overruns");
  EXPECT_CONTAINS(Refused<TagRecord>(Body({Str("r"), Str(""), h})), "tag record: tag is empty");

  EXPECT_CONTAINS(Refused<ObjectRecord>(""), "empty body");
  EXPECT_CONTAINS(Refused<ObjectRecord>("F"), "empty object");
  EXPECT_CONTAINS(Refused<ObjectRecord>("Xabc"), "unknown kind 88");
  EXPECT_CONTAINS(Refused<ObjectRecord>("M" + std::string((16 << 20) + 1, 'm')),
                  "manifest of 16777217 bytes");

  EXPECT_CONTAINS(Refused<AttestationRecord>(h.substr(0, 31)), "shorter than 32");
  EXPECT_CONTAINS(Refused<AttestationRecord>(h), "empty envelope");
  EXPECT_CONTAINS(Refused<AttestationRecord>(h + std::string((1 << 20) + 1, 'a')),
                  "above the length limit");
}

TEST(ArchiveBodyTest, EncodeRefusesWhatDecodeWould) {
  std::vector<Digest> proof(65);
  EXPECT_CONTAINS(DecodeError(ConsistencyRecord{"o", 1, 2, proof}.Encode().status()),
                  "65 proof hashes");
  EXPECT_CONTAINS(
      DecodeError(ConsistencyRecord{std::string(70000, 'o'), 1, 2, {}}.Encode().status()),
      "longer than 65535");
  EXPECT_CONTAINS(
      DecodeError(ConsistencyRecord{std::string(4090, 'o'), 1, 2, {}}.Encode().status()),
      "above the length limit of 4096");
  EXPECT_CONTAINS(
      DecodeError(LogEntryRecord{"o", 2, 1, std::string(32769, 'e'), {}}.Encode().status()),
      "entry of 32769 bytes");
  EXPECT_CONTAINS(DecodeError(TagRecord{"r", std::string(2100, 't'), {}}.Encode().status()),
                  "length limit of 2048");
  EXPECT_CONTAINS(DecodeError(ObjectRecord{'F', std::string(64 << 20, 'f')}.Encode().status()),
                  "length limit");
  EXPECT_CONTAINS(DecodeError(ObjectRecord{'Z', "x"}.Encode().status()), "unknown kind");
  EXPECT_CONTAINS(DecodeError(AttestationRecord{{}, ""}.Encode().status()), "empty envelope");
}

TEST(ArchiveTest, LimitsMatchTheTable) {
  EXPECT_EQ(LimitsOf(1)->max_length, 64u << 10);
  EXPECT_EQ(LimitsOf(2)->max_length, 1u << 20);
  EXPECT_EQ(LimitsOf(2)->max_count, 16u);
  EXPECT_EQ(LimitsOf(3)->max_length, 4096u);
  EXPECT_EQ(LimitsOf(4)->max_length, 36u << 10);
  EXPECT_EQ(LimitsOf(4)->max_count, 200000u);
  EXPECT_EQ(LimitsOf(5)->max_count, 10000u);
  EXPECT_EQ(LimitsOf(6)->max_length, 64u << 20);
  EXPECT_EQ(LimitsOf(6)->max_count, 1000000u);
  EXPECT_EQ(LimitsOf(7)->max_length, (1u << 20) + 32);
  EXPECT_EQ(LimitsOf(8)->max_length, 256u << 20);
  EXPECT_EQ(LimitsOf(15)->max_length, 40u);
  for (int t : {0, 9, 10, 14, 16, 255}) EXPECT_FALSE(LimitsOf(uint8_t(t)).has_value()) << t;
}

}  // namespace
}  // namespace arca::mirror
