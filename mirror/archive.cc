// The .arca record layer (PROTOCOL.md §8.1-8.2): limits, writer, reader and
// typed bodies. The byte layout is in archive.h.
#include "mirror/archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "common/file.h"
#include "format/path.h"

namespace arca::mirror {

namespace {

constexpr std::string_view kChainDomain = "arca-archive-v1";
constexpr size_t kIoBuffer = 1 << 20;
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

std::string Num(uint64_t v) { return std::to_string(v); }

bool IsZero(const Digest& d) {
  return std::all_of(d.bytes.begin(), d.bytes.end(), [](uint8_t b) { return b == 0; });
}

// type u8 | flags u8 = 0 | reserved [6] = 0 | length u64
void PutRecordHeader(uint8_t* p, RecordType type, uint64_t length) {
  std::memset(p, 0, kRecordHeaderSize);
  p[0] = uint8_t(type);
  PutLE64(p + 8, length);
}

// magic [8] | version u32 | flags u32 | base [32]
std::string EncodeHeader(const ArchiveHeader& h) {
  std::string out(kArchiveMagic, sizeof kArchiveMagic);
  AppendLE32(&out, kArchiveVersion);
  AppendLE32(&out, h.incremental ? kArchiveFlagIncremental : 0);
  out.append(AsChars(h.base.view()));
  return out;
}

Result<ArchiveHeader> ParseHeader(const uint8_t* p) {
  if (std::memcmp(p, kArchiveMagic, sizeof kArchiveMagic) != 0) {
    return InvalidArgumentError("archive header: bad magic (not an .arca archive)");
  }
  const uint32_t version = GetLE32(p + 8);
  if (version != kArchiveVersion) {
    return InvalidArgumentError("archive header: unsupported version " + Num(version) + ", want 1");
  }
  const uint32_t flags = GetLE32(p + 12);
  if ((flags & ~kArchiveFlagIncremental) != 0) {
    return InvalidArgumentError("archive header: unknown flags " + Num(flags) +
                                " (only bit 0, incremental, is defined)");
  }
  ArchiveHeader h{(flags & kArchiveFlagIncremental) != 0, Digest::FromBytes(p + 16)};
  if (h.incremental && IsZero(h.base)) {
    return InvalidArgumentError("archive header: incremental archive with an all-zero base");
  }
  if (!h.incremental && !IsZero(h.base)) {
    return InvalidArgumentError("archive header: base set but the incremental flag is not");
  }
  return h;
}

Digest ChainStart(ByteView header) {
  Sha256 hash;
  hash.Update(kChainDomain);
  hash.Update(header);
  return hash.Finish();
}

// A body sink that appends to `out`.
std::function<Status(ByteView)> AppendTo(std::string* out) {
  return [out](ByteView piece) {
    out->append(AsChars(piece));
    return Status::Ok();
  };
}

// c[k] = HASH(c[k-1] || type [1] || length [8] || digest [32])
Digest ChainNext(const Digest& prev, RecordType type, uint64_t length, const Digest& digest) {
  uint8_t b[32 + 1 + 8 + 32];
  std::memcpy(b, prev.bytes.data(), 32);
  b[32] = uint8_t(type);
  PutLE64(b + 33, length);
  std::memcpy(b + 41, digest.bytes.data(), 32);
  return Sha256Of(ByteView(b, sizeof b));
}

}  // namespace

std::optional<RecordLimits> LimitsOf(uint8_t type) {
  // Indexed by type; a zero count marks an unknown type.
  // clang-format off
  static constexpr RecordLimits kLimits[16] = {
      {},
      {64 * kKiB, 1},                    // info: first, exactly once
      {1 * kMiB, 16},                    // checkpoint: one per origin
      {4 * kKiB, 16},                    // consistency
      {36 * kKiB, 200000},               // log entry (the entry itself: 32 KiB)
      {2 * kKiB, 10000},                 // tag
      {64 * kMiB, 1000000},              // object (a manifest: 16 MiB)
      {1 * kMiB + 32, 255 * 10000},      // attestation: 255 per bundle x 10,000 tags
      {256 * kMiB, kMaxArchiveRecords},  // pack: bounded by the record total only
      {}, {}, {}, {}, {}, {},            // 9 to 14: unassigned
      {kTrailerBodySize, 1},             // trailer: last, exactly once
  };
  // clang-format on
  if (type >= std::size(kLimits) || kLimits[type].max_count == 0) return std::nullopt;
  return kLimits[type];
}

std::string_view RecordTypeName(uint8_t type) {
  static constexpr std::string_view kNames[] = {"unknown",     "info",        "checkpoint",
                                                "consistency", "log entry",   "tag",
                                                "object",      "attestation", "pack"};
  if (type < std::size(kNames)) return kNames[type];
  return type == uint8_t(RecordType::kTrailer) ? "trailer" : "unknown";
}

Status RecordSequence::Check(uint8_t type, uint64_t length) const {
  const std::optional<RecordLimits> limits = LimitsOf(type);
  if (!limits) return InvalidArgumentError("unknown record type " + Num(type));
  const std::string name(RecordTypeName(type));
  // Record numbers fit in 32 bits, and the trailer needs one too.
  const uint64_t max_records = kMaxArchiveRecords - (type == uint8_t(RecordType::kTrailer) ? 0 : 1);
  if (records_ >= max_records) return ResourceExhaustedError("more than 2^32 - 1 records");
  if (records_ == 0 && type != uint8_t(RecordType::kInfo)) {
    return InvalidArgumentError(name + " record first: an archive starts with its info record");
  }
  if (type < last_type_) {
    return InvalidArgumentError(name + " record after a " +
                                std::string(RecordTypeName(last_type_)) +
                                " record: types must be in non-decreasing order");
  }
  if (type > uint8_t(RecordType::kCheckpoint) && counts_[uint8_t(RecordType::kCheckpoint)] == 0) {
    return InvalidArgumentError(name + " record before any checkpoint: at least one is required");
  }
  if (type == uint8_t(RecordType::kTrailer) && length != kTrailerBodySize) {
    return InvalidArgumentError("trailer body of " + Num(length) + " bytes, must be exactly 40");
  }
  if (length > limits->max_length) {
    return ResourceExhaustedError(name + " body of " + Num(length) +
                                  " bytes is above the length limit of " + Num(limits->max_length));
  }
  if (counts_[type] >= limits->max_count) {
    return ResourceExhaustedError("more than " + Num(limits->max_count) + " " + name +
                                  " records: count limit reached");
  }
  return Status::Ok();
}

void RecordSequence::Accept(RecordType type) {
  last_type_ = uint8_t(type);
  ++counts_[uint8_t(type)];
  ++records_;
}

// ---- ArchiveWriter ----

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Create(int fd, std::optional<Digest> base) {
  if (base && IsZero(*base)) {
    return InvalidArgumentError("archive: an incremental base must not be all zero");
  }
  const std::string header = EncodeHeader(ArchiveHeader{base.has_value(), base.value_or(Digest{})});
  std::unique_ptr<ArchiveWriter> w(new ArchiveWriter(fd));
  w->chain_ = ChainStart(AsBytes(header));
  ARCA_RETURN_IF_ERROR(w->Emit(AsBytes(header)));
  return w;
}

Status ArchiveWriter::Usable() const {
  if (!broken_.ok()) return broken_;
  if (finished_) return FailedPreconditionError("archive: already finished");
  return Status::Ok();
}

Status ArchiveWriter::Admit(RecordType type, uint64_t length) const {
  ARCA_RETURN_IF_ERROR(Usable());
  const std::string where = "archive record " + Num(sequence_.records() + 1);
  if (type == RecordType::kTrailer) {
    return InvalidArgumentError(where + ": the trailer is written by Finish");
  }
  return sequence_.Check(uint8_t(type), length).WithContext(where);
}

Status ArchiveWriter::Broken(Status s) {
  broken_ = s.WithContext("archive left incomplete");
  return broken_;
}

Status ArchiveWriter::Emit(ByteView bytes) {
  bytes_written_ += bytes.size();
  if (buffer_.size() + bytes.size() > kIoBuffer) ARCA_RETURN_IF_ERROR(Flush());
  if (bytes.size() >= kIoBuffer) return WriteAll(fd_, bytes, "archive");
  buffer_.append(AsChars(bytes));
  return Status::Ok();
}

Status ArchiveWriter::Flush() {
  Status s = WriteAll(fd_, AsBytes(buffer_), "archive");
  buffer_.clear();
  return s;
}

// Header, body (written and hashed by `body`), digest; then the chain.
Status ArchiveWriter::WriteRecord(RecordType type, uint64_t length,
                                  const std::function<Status(Sha256*)>& body) {
  uint8_t header[kRecordHeaderSize];
  PutRecordHeader(header, type, length);
  Sha256 hash;
  Status s = Emit(ByteView(header, sizeof header));
  if (s.ok()) s = body(&hash);
  const Digest digest = hash.Finish();
  if (s.ok()) s = Emit(digest.view());
  if (!s.ok()) return Broken(s);
  if (type != RecordType::kTrailer) {  // the trailer closes the chain, it is not in it
    chain_ = ChainNext(chain_, type, length, digest);
    sequence_.Accept(type);
  }
  return Status::Ok();
}

Status ArchiveWriter::Add(RecordType type, ByteView body) {
  ARCA_RETURN_IF_ERROR(Admit(type, body.size()));
  return WriteRecord(type, body.size(), [this, body](Sha256* hash) {
    hash->Update(body);
    return Emit(body);
  });
}

Status ArchiveWriter::AddFile(RecordType type, const std::string& path) {
  ARCA_RETURN_IF_ERROR(Usable());
  ARCA_ASSIGN_OR_RETURN(UniqueFd in, OpenForRead(path));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(path + ": not a regular file");
  const uint64_t length = uint64_t(st.st_size);
  ARCA_RETURN_IF_ERROR(Admit(type, length));
  return WriteRecord(type, length,
                     [&](Sha256* hash) { return StreamFile(in.get(), length, path, hash); });
}

// The header already promised `length` bytes, so a file that changed size
// since fstat cannot be written correctly: it is an error either way.
Status ArchiveWriter::StreamFile(int in_fd, uint64_t length, const std::string& path,
                                 Sha256* hash) {
  std::string chunk(kIoBuffer, '\0');
  uint64_t left = length;
  for (;;) {
    // One byte past the promised length, to see that the file did not grow.
    const size_t want = size_t(std::min<uint64_t>(left + 1, chunk.size()));
    const ssize_t n = ::read(in_fd, chunk.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "read " + path);
    if (n == 0) {
      if (left == 0) return Status::Ok();
      return DataLossError(path + ": file shrank while being archived");
    }
    if (uint64_t(n) > left) return DataLossError(path + ": file grew while being archived");
    const ByteView piece = AsBytes(std::string_view(chunk.data(), size_t(n)));
    hash->Update(piece);
    ARCA_RETURN_IF_ERROR(Emit(piece));
    left -= uint64_t(n);
  }
}

Result<Digest> ArchiveWriter::Finish() {
  ARCA_RETURN_IF_ERROR(Usable());
  const uint64_t n = sequence_.records();
  ARCA_RETURN_IF_ERROR(sequence_.Check(uint8_t(RecordType::kTrailer), kTrailerBodySize)
                           .WithContext("archive record " + Num(n + 1)));
  std::string body;
  AppendLE64(&body, n);
  body.append(AsChars(chain_.view()));
  ARCA_RETURN_IF_ERROR(WriteRecord(RecordType::kTrailer, body.size(), [&](Sha256* hash) {
    hash->Update(AsBytes(body));
    return Emit(AsBytes(body));
  }));
  Status s = Flush();
  if (!s.ok()) return Broken(s);
  finished_ = true;
  return Sha256Of(body);  // the archive id, also the trailer's digest field
}

// ---- ArchiveReader ----

ArchiveReader::ArchiveReader(int fd)
    : fd_(fd), buffer_(new uint8_t[kIoBuffer]), where_("archive header") {}
ArchiveReader::~ArchiveReader() = default;

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::Open(int fd) {
  std::unique_ptr<ArchiveReader> r(new ArchiveReader(fd));
  uint8_t header[kArchiveHeaderSize];
  ARCA_ASSIGN_OR_RETURN(const size_t got, r->ReadExact(header, sizeof header));
  if (got < sizeof header) return r->Truncated("header", got, sizeof header);
  ARCA_ASSIGN_OR_RETURN(r->header_, ParseHeader(header));
  r->chain_ = ChainStart(ByteView(header, sizeof header));
  return r;
}

Status ArchiveReader::Usable() const { return failed_; }

Status ArchiveReader::Fail(Status s) {
  failed_ = s;
  return s;
}

Status ArchiveReader::Truncated(std::string_view what, uint64_t got, uint64_t want) const {
  return DataLossError(where_ + ": truncated: " + std::string(what) + " ends after " + Num(got) +
                       " of " + Num(want) + " bytes");
}

Result<ByteView> ArchiveReader::Take(uint64_t max) {
  while (pos_ == end_ && !eof_) {
    const ssize_t n = ::read(fd_, buffer_.get(), kIoBuffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "read " + where_);
    pos_ = 0;
    end_ = size_t(n);
    eof_ = n == 0;
  }
  const size_t n = size_t(std::min<uint64_t>(max, end_ - pos_));
  const ByteView piece(buffer_.get() + pos_, n);
  pos_ += n;
  return piece;
}

Result<size_t> ArchiveReader::ReadExact(uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ARCA_ASSIGN_OR_RETURN(const ByteView piece, Take(n - got));
    if (piece.empty()) break;
    std::memcpy(out + got, piece.data(), piece.size());
    got += piece.size();
  }
  return got;
}

Result<std::optional<RecordHeader>> ArchiveReader::Next() {
  ARCA_RETURN_IF_ERROR(Usable());
  if (done_) return std::optional<RecordHeader>();
  if (in_body_) return Fail(FailedPreconditionError(where_ + ": body not consumed before Next"));
  Status s = ReadRecordHeader();
  if (!s.ok()) return Fail(s);
  if (done_) return std::optional<RecordHeader>();
  return std::optional<RecordHeader>(RecordHeader{type_, length_, number_});
}

// Everything here is decided from the 16 header bytes: no body byte has been
// read and nothing has been allocated for it yet.
Status ArchiveReader::ReadRecordHeader() {
  number_ = sequence_.records() + 1;
  where_ = "archive record " + Num(number_);
  uint8_t h[kRecordHeaderSize];
  ARCA_ASSIGN_OR_RETURN(const size_t got, ReadExact(h, sizeof h));
  if (got == 0) return DataLossError(where_ + ": truncated: the file ends before the trailer");
  if (got < sizeof h) return Truncated("record header", got, sizeof h);
  if (LimitsOf(h[0])) where_ += " (" + std::string(RecordTypeName(h[0])) + ")";
  if (h[1] != 0) return InvalidArgumentError(where_ + ": non-zero record flags");
  if (std::any_of(h + 2, h + 8, [](uint8_t b) { return b != 0; })) {
    return InvalidArgumentError(where_ + ": non-zero reserved bytes");
  }
  const uint64_t length = GetLE64(h + 8);
  Status s = sequence_.Check(h[0], length);
  if (!s.ok()) return Status(s.code(), where_ + ": " + std::string(s.message()));
  type_ = RecordType(h[0]);
  length_ = length;
  if (type_ == RecordType::kTrailer) return ReadTrailer();
  in_body_ = true;
  return Status::Ok();
}

Status ArchiveReader::ConsumeBody(const std::function<Status(ByteView)>& sink, Digest* digest) {
  Sha256 hash;
  uint64_t left = length_;
  while (left > 0) {
    ARCA_ASSIGN_OR_RETURN(const ByteView piece, Take(left));
    if (piece.empty()) return Truncated("body", length_ - left, length_);
    hash.Update(piece);
    ARCA_RETURN_IF_ERROR(sink(piece).WithContext(where_));
    left -= piece.size();
  }
  uint8_t stated[Digest::kSize];
  ARCA_ASSIGN_OR_RETURN(const size_t got, ReadExact(stated, sizeof stated));
  if (got < sizeof stated) return Truncated("body digest", got, sizeof stated);
  *digest = hash.Finish();
  if (*digest != Digest::FromBytes(stated)) {
    return DataLossError(where_ + ": body digest mismatch: stated " +
                         Digest::FromBytes(stated).ToString() + ", body hashes to " +
                         digest->ToString());
  }
  return Status::Ok();
}

Status ArchiveReader::Consume(const std::function<Status(ByteView)>& sink) {
  ARCA_RETURN_IF_ERROR(Usable());
  if (!in_body_) {
    return Fail(FailedPreconditionError(where_ + ": no record body to read (call Next first)"));
  }
  Digest digest;
  Status s = ConsumeBody(sink, &digest);
  if (!s.ok()) return Fail(s);
  chain_ = ChainNext(chain_, type_, length_, digest);
  sequence_.Accept(type_);
  in_body_ = false;
  return Status::Ok();
}

Result<std::string> ArchiveReader::ReadBody() {
  ARCA_RETURN_IF_ERROR(Usable());
  // Not sticky: the caller may still stream the body with CopyBodyTo.
  if (in_body_ && length_ > kMaxReadBodySize) {
    return ResourceExhaustedError(where_ + ": body of " + Num(length_) +
                                  " bytes is too large to read into memory; stream it");
  }
  // Grows with the bytes actually read, not with the stated length.
  std::string body;
  ARCA_RETURN_IF_ERROR(Consume(AppendTo(&body)));
  return body;
}

Status ArchiveReader::CopyBodyTo(int out_fd) {
  return Consume(
      [out_fd](ByteView piece) { return WriteAll(out_fd, piece, "copy of archive body"); });
}

Status ArchiveReader::SkipBody() {
  return Consume([](ByteView) { return Status::Ok(); });
}

// The trailer: N u64 | c[N], then the end of the file.
Status ArchiveReader::ReadTrailer() {
  std::string body;
  Digest digest;
  ARCA_RETURN_IF_ERROR(ConsumeBody(AppendTo(&body), &digest));
  const uint64_t n = GetLE64(AsBytes(body).data());
  if (n != sequence_.records()) {
    return DataLossError(where_ + ": the trailer counts " + Num(n) +
                         " records, the archive holds " + Num(sequence_.records()));
  }
  if (Digest::FromBytes(AsBytes(body).data() + 8) != chain_) {
    return DataLossError(where_ +
                         ": chain mismatch: the trailer does not commit to the records read");
  }
  ARCA_ASSIGN_OR_RETURN(const ByteView extra, Take(1));
  if (!extra.empty()) return InvalidArgumentError(where_ + ": data after the trailer");
  archive_id_ = digest;
  done_ = true;
  return Status::Ok();
}

// ---- Typed bodies ----

namespace {

// Bounds-checked field reads. The first failure sticks (later reads return
// empty values), so a decoder checks once, at the end.
class Cursor {
 public:
  explicit Cursor(ByteView b) : b_(b) {}

  const uint8_t* Take(size_t n, std::string_view what) {
    if (!error_.empty()) return nullptr;
    if (b_.size() - pos_ < n) {
      error_ = std::string(what) + " of " + Num(n) + " bytes overruns the body";
      return nullptr;
    }
    pos_ += n;
    return b_.data() + pos_ - n;
  }
  // A little-endian unsigned integer of `width` bytes.
  uint64_t Uint(size_t width, std::string_view what) {
    const uint8_t* p = Take(width, what);
    uint64_t v = 0;
    for (size_t i = width; p && i-- > 0;) v = (v << 8) | p[i];
    return v;
  }
  Digest Hash(std::string_view what) {
    const uint8_t* p = Take(32, what);
    return p ? Digest::FromBytes(p) : Digest{};
  }
  std::string Bytes(size_t n, std::string_view what) {
    const uint8_t* p = Take(n, what);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }
  std::string Str(std::string_view what) { return Bytes(Uint(2, what), what); }
  std::vector<Digest> Hashes() {
    const uint64_t n = Uint(1, "hash count");
    if (n > kMaxProofHashes) Fail(Num(n) + " proof hashes, at most " + Num(kMaxProofHashes));
    std::vector<Digest> out;
    for (uint64_t i = 0; i < n && error_.empty(); ++i) out.push_back(Hash("proof hash"));
    return out;
  }
  void Fail(std::string reason) {
    if (error_.empty()) error_ = std::move(reason);
  }

  // OK if every read fitted and the body is used up exactly.
  Status Finish(std::string_view record) {
    if (error_.empty() && pos_ != b_.size()) error_ = Num(b_.size() - pos_) + " trailing bytes";
    if (error_.empty()) return Status::Ok();
    return InvalidArgumentError(std::string(record) + " record: " + error_);
  }

 private:
  ByteView b_;
  size_t pos_ = 0;
  std::string error_;
};

void AppendStr(std::string* out, std::string_view s) {
  uint8_t n[2];
  PutLE16(n, uint16_t(s.size()));
  out->append(reinterpret_cast<char*>(n), 2);
  out->append(s);
}

void AppendHashes(std::string* out, const std::vector<Digest>& hashes) {
  out->push_back(char(uint8_t(hashes.size())));
  for (const Digest& d : hashes) out->append(AsChars(d.view()));
}

// Shared by Encode and Decode, so each refuses what the other would.
Status CheckStr(std::string_view record, std::string_view what, std::string_view s) {
  const std::string where = std::string(record) + " record: " + std::string(what);
  if (s.empty()) return InvalidArgumentError(where + " is empty");
  if (s.size() > 0xFFFF) return InvalidArgumentError(where + " is longer than 65535 bytes");
  if (!format::IsValidUtf8(s)) return InvalidArgumentError(where + " is not valid UTF-8");
  return Status::Ok();
}

Status CheckProof(std::string_view record, const std::vector<Digest>& proof) {
  if (proof.size() <= kMaxProofHashes) return Status::Ok();
  return InvalidArgumentError(std::string(record) + " record: " + Num(proof.size()) +
                              " proof hashes, at most 64");
}

Status CheckBodySize(RecordType type, size_t size) {
  const uint64_t limit = LimitsOf(uint8_t(type))->max_length;
  if (size <= limit) return Status::Ok();
  return ResourceExhaustedError(std::string(RecordTypeName(type)) + " record: body of " +
                                Num(size) + " bytes is above the length limit of " + Num(limit));
}

Status CheckFields(const ConsistencyRecord& r) {
  ARCA_RETURN_IF_ERROR(CheckStr("consistency", "origin", r.origin));
  if (r.from > r.to) {
    return InvalidArgumentError("consistency record: from " + Num(r.from) + " > to " + Num(r.to));
  }
  return CheckProof("consistency", r.proof);
}

Status CheckFields(const LogEntryRecord& r) {
  ARCA_RETURN_IF_ERROR(CheckStr("log entry", "origin", r.origin));
  if (r.index >= r.size) {
    return InvalidArgumentError("log entry record: index " + Num(r.index) + " not below size " +
                                Num(r.size));
  }
  if (r.entry.empty() || r.entry.size() > kMaxLogEntryBytes) {
    return InvalidArgumentError("log entry record: entry of " + Num(r.entry.size()) +
                                " bytes, want 1 to 32768");
  }
  return CheckProof("log entry", r.proof);
}

Status CheckFields(const TagRecord& r) {
  ARCA_RETURN_IF_ERROR(CheckStr("tag", "repository", r.repository));
  return CheckStr("tag", "tag", r.tag);
}

Status CheckFields(const ObjectRecord& r) {
  if (r.kind != ObjectRecord::kFileIndex && r.kind != ObjectRecord::kManifest) {
    return InvalidArgumentError("object record: unknown kind " + Num(uint8_t(r.kind)));
  }
  if (r.bytes.empty()) return InvalidArgumentError("object record: empty object");
  if (r.kind == ObjectRecord::kManifest && r.bytes.size() > kMaxManifestObjectBytes) {
    return ResourceExhaustedError("object record: manifest of " + Num(r.bytes.size()) +
                                  " bytes is above the limit of " + Num(kMaxManifestObjectBytes));
  }
  return Status::Ok();
}

Status CheckFields(const AttestationRecord& r) {
  if (r.envelope.empty()) return InvalidArgumentError("attestation record: empty envelope");
  return Status::Ok();
}

// Checks fields, serialises with `write`, checks the body's size.
template <typename T, typename Write>
Result<std::string> EncodeChecked(const T& r, RecordType type, Write write) {
  ARCA_RETURN_IF_ERROR(CheckFields(r));
  std::string out;
  write(&out);
  ARCA_RETURN_IF_ERROR(CheckBodySize(type, out.size()));
  return out;
}

}  // namespace

Result<std::string> ConsistencyRecord::Encode() const {
  return EncodeChecked(*this, RecordType::kConsistency, [this](std::string* out) {
    AppendStr(out, origin);
    AppendLE64(out, from);
    AppendLE64(out, to);
    AppendHashes(out, proof);
  });
}

Result<ConsistencyRecord> ConsistencyRecord::Decode(ByteView body) {
  ARCA_RETURN_IF_ERROR(CheckBodySize(RecordType::kConsistency, body.size()));
  Cursor c(body);
  ConsistencyRecord r{c.Str("origin"), c.Uint(8, "from"), c.Uint(8, "to"), c.Hashes()};
  ARCA_RETURN_IF_ERROR(c.Finish("consistency"));
  ARCA_RETURN_IF_ERROR(CheckFields(r));
  return r;
}

Result<std::string> LogEntryRecord::Encode() const {
  return EncodeChecked(*this, RecordType::kLogEntry, [this](std::string* out) {
    AppendStr(out, origin);
    AppendLE64(out, size);
    AppendLE64(out, index);
    AppendLE32(out, uint32_t(entry.size()));
    out->append(entry);
    AppendHashes(out, proof);
  });
}

Result<LogEntryRecord> LogEntryRecord::Decode(ByteView body) {
  ARCA_RETURN_IF_ERROR(CheckBodySize(RecordType::kLogEntry, body.size()));
  Cursor c(body);
  LogEntryRecord r;
  r.origin = c.Str("origin");
  r.size = c.Uint(8, "size");
  r.index = c.Uint(8, "index");
  const uint64_t n = c.Uint(4, "entry length");
  if (n > kMaxLogEntryBytes) c.Fail("entry of " + Num(n) + " bytes, at most 32768");
  r.entry = c.Bytes(n, "entry");
  r.proof = c.Hashes();
  ARCA_RETURN_IF_ERROR(c.Finish("log entry"));
  ARCA_RETURN_IF_ERROR(CheckFields(r));
  return r;
}

Result<std::string> TagRecord::Encode() const {
  return EncodeChecked(*this, RecordType::kTag, [this](std::string* out) {
    AppendStr(out, repository);
    AppendStr(out, tag);
    out->append(AsChars(bundle.view()));
  });
}

Result<TagRecord> TagRecord::Decode(ByteView body) {
  ARCA_RETURN_IF_ERROR(CheckBodySize(RecordType::kTag, body.size()));
  Cursor c(body);
  TagRecord r{c.Str("repository"), c.Str("tag"), c.Hash("bundle digest")};
  ARCA_RETURN_IF_ERROR(c.Finish("tag"));
  ARCA_RETURN_IF_ERROR(CheckFields(r));
  return r;
}

Result<std::string> ObjectRecord::Encode() const {
  return EncodeChecked(*this, RecordType::kObject, [this](std::string* out) {
    out->push_back(kind);
    out->append(bytes);
  });
}

Result<ObjectRecord> ObjectRecord::Decode(ByteView body) {
  ARCA_RETURN_IF_ERROR(CheckBodySize(RecordType::kObject, body.size()));
  if (body.empty()) return InvalidArgumentError("object record: empty body");
  ObjectRecord r{char(body[0]), std::string(AsChars(body.subspan(1)))};
  ARCA_RETURN_IF_ERROR(CheckFields(r));
  return r;
}

Result<std::string> AttestationRecord::Encode() const {
  return EncodeChecked(*this, RecordType::kAttestation, [this](std::string* out) {
    out->append(AsChars(bundle.view()));
    out->append(envelope);
  });
}

Result<AttestationRecord> AttestationRecord::Decode(ByteView body) {
  ARCA_RETURN_IF_ERROR(CheckBodySize(RecordType::kAttestation, body.size()));
  if (body.size() < Digest::kSize) {
    return InvalidArgumentError("attestation record: body shorter than 32 bytes");
  }
  AttestationRecord r{Digest::FromBytes(body.data()),
                      std::string(AsChars(body.subspan(Digest::kSize)))};
  ARCA_RETURN_IF_ERROR(CheckFields(r));
  return r;
}

}  // namespace arca::mirror
