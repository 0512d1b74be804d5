// Air-gap archives (`.arca`, PROTOCOL.md §8.1-8.2): the record layer.
//
// An archive is written front to back and read front to back, never seeking,
// so it can go through a pipe (`arca export -o -`):
//
//   header (48)   magic "ARCAEXP1" | version u32 = 1 | flags u32 | base [32]
//   record ...    type u8 | flags u8 = 0 | reserved [6] = 0 | length u64
//                 | body [length] | SHA-256(body) [32]
//   trailer       a record of type 15 whose 40-byte body is
//                 N u64 (records before it) | c[N]
//
// All integers are little-endian. The chain c[0] = SHA-256("arca-archive-v1"
// || header), c[k] = SHA-256(c[k-1] || type [1] || length [8] || digest [32])
// makes the trailer commit to every record before it, so truncation, dropped,
// reordered or spliced records are caught at the end. The archive id is
// SHA-256 of the trailer body. Records come in non-decreasing type order, each
// type within a length and count limit (LimitsOf, §8.2), so an importer
// refuses a bad archive from its record headers, before reading or allocating
// any body; metadata types come first for the same reason.
//
// This layer checks framing, limits, digests and the chain only. What the
// bodies mean (signatures, proofs, policy) is the importer's business; the
// typed bodies at the end of this file only encode and strictly decode them.
#ifndef ARCA_MIRROR_ARCHIVE_H_
#define ARCA_MIRROR_ARCHIVE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"

namespace arca::mirror {

inline constexpr char kArchiveMagic[8] = {'A', 'R', 'C', 'A', 'E', 'X', 'P', '1'};
inline constexpr uint32_t kArchiveVersion = 1;
inline constexpr uint32_t kArchiveFlagIncremental = 1;
inline constexpr size_t kArchiveHeaderSize = 48;
inline constexpr size_t kRecordHeaderSize = 16;
inline constexpr size_t kTrailerBodySize = 40;
// Record numbers (1-based, trailer included) may not pass this.
inline constexpr uint64_t kMaxArchiveRecords = 0xFFFFFFFFull;
// The longest body ArchiveReader::ReadBody returns in memory (the largest
// object); packs above it are streamed with CopyBodyTo.
inline constexpr uint64_t kMaxReadBodySize = 64ull << 20;

enum class RecordType : uint8_t {
  kInfo = 1,         // canonical JSON, shown, never trusted
  kCheckpoint = 2,   // a signed note verbatim
  kConsistency = 3,  // ConsistencyRecord
  kLogEntry = 4,     // LogEntryRecord
  kTag = 5,          // TagRecord
  kObject = 6,       // ObjectRecord
  kAttestation = 7,  // AttestationRecord
  kPack = 8,         // a complete pack (FORMAT.md §3)
  kTrailer = 15,     // N u64 | c[N]; written by Finish, consumed by Next
};

// The §8.2 limits of one record type. The attestation count is bounded in
// total (255 per bundle x 10,000 tags); the per-bundle bound needs the body
// and is the importer's check. Packs have no count limit of their own.
struct RecordLimits {
  uint64_t max_length;  // body bytes
  uint64_t max_count;   // records of this type in one archive
};

// Limits of `type`, or nullopt if `type` is not a known record type.
std::optional<RecordLimits> LimitsOf(uint8_t type);
// "info", "checkpoint", ..., "trailer"; "unknown" for anything else.
std::string_view RecordTypeName(uint8_t type);
inline std::string_view RecordTypeName(RecordType t) { return RecordTypeName(uint8_t(t)); }

// The rules of §8.2 that depend on record headers alone: known type,
// non-decreasing order, info exactly once and first, at least one checkpoint
// before anything after it, length and count limits, the trailer's length and
// the record total. Shared by the writer (which refuses to produce what the
// reader would refuse) and the reader (which refuses before reading a body).
class RecordSequence {
 public:
  // OK if a record of `type` and body `length` may come next. The message
  // says why not; it does not name the record (the caller knows its number).
  Status Check(uint8_t type, uint64_t length) const;
  // Counts a record that passed Check.
  void Accept(RecordType type);
  // Records accepted so far.
  uint64_t records() const { return records_; }

 private:
  uint8_t last_type_ = 0;
  std::array<uint64_t, 16> counts_{};
  uint64_t records_ = 0;
};

// The archive header, parsed.
struct ArchiveHeader {
  bool incremental = false;
  Digest base;  // archive id of the base; all zero unless incremental
};

// The 16-byte header of one record, checked against §8.2 by ArchiveReader.
struct RecordHeader {
  RecordType type = RecordType::kInfo;
  uint64_t length = 0;  // body bytes
  uint64_t number = 0;  // 1-based position in the archive
};

// Writes an archive to a file descriptor, front to back, never seeking: a
// file, a pipe or standard output. Usage: Create, Add/AddFile..., Finish.
// The caller owns `fd` and keeps it open until Finish returns or the writer
// is destroyed; the writer neither closes nor fsyncs it. Not thread-safe.
//
// A record the rules refuse is refused before anything of it is written, and
// the writer stays usable. A failed write (or a file that changes under
// AddFile) leaves a partial record: the writer then refuses everything and
// the output must be discarded.
class ArchiveWriter {
 public:
  // Writes the header. `base` (an archive id, not all zero) makes the archive
  // incremental.
  static Result<std::unique_ptr<ArchiveWriter>> Create(int fd, std::optional<Digest> base);

  // Appends one record of `type` (not kTrailer) with `body`.
  Status Add(RecordType type, ByteView body);
  // Appends one record whose body is the whole regular file at `path` (a
  // pack), streamed in chunks: the file is never held in memory. Its length
  // is taken from fstat; a file that shrinks or grows meanwhile is an error.
  Status AddFile(RecordType type, const std::string& path);

  // Writes the trailer, flushes, and returns the archive id. Refuses an
  // archive without info or checkpoint records. Nothing may be added after.
  Result<Digest> Finish();

  // Archive bytes produced so far (some may still be buffered before Finish).
  uint64_t bytes_written() const { return bytes_written_; }
  // Records added so far, trailer excluded.
  uint64_t records_written() const { return sequence_.records(); }

 private:
  explicit ArchiveWriter(int fd) : fd_(fd) {}
  Status Usable() const;
  Status Admit(RecordType type, uint64_t length) const;
  Status Emit(ByteView bytes);
  Status Flush();
  Status WriteRecord(RecordType type, uint64_t length, const std::function<Status(Sha256*)>& body);
  Status StreamFile(int in_fd, uint64_t length, const std::string& path, Sha256* hash);
  Status Broken(Status s);

  int fd_;
  std::string buffer_;  // coalesces small writes
  uint64_t bytes_written_ = 0;
  RecordSequence sequence_;
  Digest chain_;  // c[k] after the last record
  bool finished_ = false;
  Status broken_;  // set once a write failed part-way through a record
};

// Reads an archive from a file descriptor, front to back, checking each
// record header before its body is read or any memory is allocated for it,
// each body against its digest, and at the end the trailer, the chain and
// that the file ends right there. The caller owns `fd`. Not thread-safe.
//
// Usage: Open; then loop on Next, and after each record it returns consume
// the body with exactly one of ReadBody, CopyBodyTo or SkipBody; Next returns
// nullopt once the trailer checked out. A body's digest is checked when it
// has been consumed, so a caller must not act on a streamed body (CopyBodyTo)
// before the call returns OK, nor on any record before the archive as a whole
// checked out. Every error names the record number and the reason; a file
// that ends early says "truncated". Errors are sticky: after one, every call
// returns it again.
class ArchiveReader {
 public:
  // Reads and checks the 48-byte header.
  static Result<std::unique_ptr<ArchiveReader>> Open(int fd);
  ~ArchiveReader();

  const ArchiveHeader& header() const { return header_; }

  // The next record's header, checked (§8.2); nullopt after the trailer has
  // been read and verified and the end of the file confirmed.
  Result<std::optional<RecordHeader>> Next();

  // The body of the current record, in memory (up to kMaxReadBodySize).
  Result<std::string> ReadBody();
  // Writes the body of the current record to `out_fd`, checking its digest
  // at the end (on failure the caller discards what was written).
  Status CopyBodyTo(int out_fd);
  // Reads past the body of the current record, still checking its digest.
  Status SkipBody();

  // Records whose body was consumed and checked (the trailer excluded).
  uint64_t records_read() const { return sequence_.records(); }
  // The archive id, once Next has returned nullopt.
  const std::optional<Digest>& archive_id() const { return archive_id_; }

 private:
  explicit ArchiveReader(int fd);
  Status Usable() const;
  Status Fail(Status s);
  Status Truncated(std::string_view what, uint64_t got, uint64_t want) const;
  // Up to `max` buffered bytes (refilling the buffer first if it is empty),
  // consumed; empty at end of file. Valid until the next read.
  Result<ByteView> Take(uint64_t max);
  // Reads up to n bytes; fewer only at end of file.
  Result<size_t> ReadExact(uint8_t* out, size_t n);
  Status ReadRecordHeader();
  Status ReadTrailer();
  // Reads the current body into `sink` and checks it against its digest.
  Status ConsumeBody(const std::function<Status(ByteView)>& sink, Digest* digest);
  // ConsumeBody, then chains the record.
  Status Consume(const std::function<Status(ByteView)>& sink);

  int fd_;
  std::unique_ptr<uint8_t[]> buffer_;  // fixed size: never sized from the input
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  std::string where_;  // "archive record 3 (tag)": the prefix of every error
  ArchiveHeader header_;
  RecordSequence sequence_;
  Digest chain_;         // c[k] after the last record consumed
  uint64_t number_ = 0;  // of the current record
  RecordType type_ = RecordType::kInfo;
  uint64_t length_ = 0;
  bool in_body_ = false;  // Next returned a record whose body is not consumed
  bool done_ = false;     // the trailer checked out
  std::optional<Digest> archive_id_;
  Status failed_;  // sticky
};

// Typed bodies. Each Encode refuses what Decode would refuse, so whatever is
// written decodes again. Decode is strict: exact lengths, no trailing bytes,
// every count and length bounded before use; beyond the layout, only what no
// valid record can break (empty names, from > to, index >= size). Layouts use
// `str` = u16 length | non-empty UTF-8 bytes and `hashes` = u8 count (at most
// 64) | count x [32].

inline constexpr size_t kMaxProofHashes = 64;
inline constexpr size_t kMaxLogEntryBytes = 32 << 10;
inline constexpr uint64_t kMaxManifestObjectBytes = 16ull << 20;  // FORMAT.md §5

// Type 3: str origin | from u64 | to u64 | hashes. Proves the log of
// `origin` at size `to` (>= from) extends the one at size `from`.
struct ConsistencyRecord {
  std::string origin;
  uint64_t from = 0;
  uint64_t to = 0;
  std::vector<Digest> proof;

  Result<std::string> Encode() const;
  static Result<ConsistencyRecord> Decode(ByteView body);
  bool operator==(const ConsistencyRecord&) const = default;
};

// Type 4: str origin | size u64 | index u64 | n u32 | entry [n] | hashes.
// `entry` is a log entry's bytes verbatim; `proof` its inclusion at index
// `index` (< size) in the tree of size `size` (that of the origin's checkpoint).
struct LogEntryRecord {
  std::string origin;
  uint64_t size = 0;
  uint64_t index = 0;
  std::string entry;  // at most kMaxLogEntryBytes
  std::vector<Digest> proof;

  Result<std::string> Encode() const;
  static Result<LogEntryRecord> Decode(ByteView body);
  bool operator==(const LogEntryRecord&) const = default;
};

// Type 5: str repository | str tag | bundle [32].
struct TagRecord {
  std::string repository;
  std::string tag;
  Digest bundle;

  Result<std::string> Encode() const;
  static Result<TagRecord> Decode(ByteView body);
  bool operator==(const TagRecord&) const = default;
};

// Type 6: kind u8 ('F' file index, 'M' manifest) | the object's bytes.
struct ObjectRecord {
  static constexpr char kFileIndex = 'F';
  static constexpr char kManifest = 'M';
  char kind = kFileIndex;
  std::string bytes;  // non-empty; a manifest at most kMaxManifestObjectBytes

  Result<std::string> Encode() const;
  static Result<ObjectRecord> Decode(ByteView body);
  bool operator==(const ObjectRecord&) const = default;
};

// Type 7: bundle [32] | the DSSE envelope's bytes verbatim.
struct AttestationRecord {
  Digest bundle;
  std::string envelope;  // non-empty

  Result<std::string> Encode() const;
  static Result<AttestationRecord> Decode(ByteView body);
  bool operator==(const AttestationRecord&) const = default;
};

}  // namespace arca::mirror

#endif  // ARCA_MIRROR_ARCHIVE_H_
