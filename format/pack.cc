// Pack writing and strict index parsing.
#include "format/pack.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "common/crc32c.h"
#include "format/chunker.h"

namespace arca::format {

namespace {

constexpr size_t kWriteBuffer = 1 << 20;

void EncodeEntry(const PackEntry& e, uint8_t* p) {
  std::memcpy(p, e.digest.bytes.data(), 32);
  PutLE64(p + 32, e.offset);
  PutLE32(p + 40, e.stored_len);
  PutLE32(p + 44, e.raw_len);
  p[48] = e.codec;
  std::memset(p + 49, 0, 3);
  PutLE32(p + 52, e.crc32c);
}

std::string Header() {
  std::string h(kPackMagic, 8);
  AppendLE32(&h, kPackVersion);
  AppendLE32(&h, 0);
  return h;
}

}  // namespace

std::string EncodePackIndex(const std::vector<PackEntry>& entries) {
  std::string out(entries.size() * kPackEntrySize, '\0');
  for (size_t i = 0; i < entries.size(); ++i) {
    EncodeEntry(entries[i], reinterpret_cast<uint8_t*>(out.data()) + i * kPackEntrySize);
  }
  return out;
}

Result<PackWriter> PackWriter::Create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(errno, "create pack " + path);
  PackWriter w;
  w.path_ = path;
  w.fd_ = UniqueFd(fd);
  std::string h = Header();
  ARCA_RETURN_IF_ERROR(w.Write(AsBytes(h)));
  return w;
}

Status PackWriter::Write(ByteView b) {
  offset_ += b.size();
  if (buffer_.size() + b.size() > kWriteBuffer) {
    ARCA_RETURN_IF_ERROR(WriteAll(fd_.get(), AsBytes(buffer_), path_));
    buffer_.clear();
  }
  if (b.size() >= kWriteBuffer) return WriteAll(fd_.get(), b, path_);
  buffer_.append(reinterpret_cast<const char*>(b.data()), b.size());
  return Status::Ok();
}

Status PackWriter::Add(const Digest& digest, Codec codec, uint32_t raw_len, ByteView stored) {
  if (!fd_.valid()) return FailedPreconditionError("pack already finished");
  PackEntry e{digest, offset_, uint32_t(stored.size()), raw_len, uint8_t(codec), Crc32c(stored)};
  ARCA_RETURN_IF_ERROR(Write(stored));
  entries_.push_back(e);
  return Status::Ok();
}

Result<Digest> PackWriter::Finish() {
  if (!fd_.valid()) return FailedPreconditionError("pack already finished");
  const uint64_t index_offset = offset_;
  std::string index = EncodePackIndex(entries_);
  ARCA_RETURN_IF_ERROR(Write(AsBytes(index)));
  std::string trailer;
  AppendLE64(&trailer, index_offset);
  AppendLE32(&trailer, uint32_t(entries_.size()));
  AppendLE32(&trailer, 0);
  Digest index_digest = Sha256Of(index);
  trailer.append(reinterpret_cast<const char*>(index_digest.bytes.data()), 32);
  trailer.append(kPackMagic, 8);
  ARCA_RETURN_IF_ERROR(Write(AsBytes(trailer)));
  ARCA_RETURN_IF_ERROR(WriteAll(fd_.get(), AsBytes(buffer_), path_));
  buffer_.clear();
  if (::fsync(fd_.get()) != 0) return ErrnoToStatus(errno, "fsync " + path_);
  fd_.Reset();
  return index_digest;
}

Result<uint64_t> PackIndex::RequiredTailSize(ByteView trailer, uint64_t pack_size) {
  if (pack_size < kPackHeaderSize + kPackTrailerSize || pack_size > kPackMaxSize) {
    return InvalidArgumentError("pack size " + std::to_string(pack_size) + " is out of range");
  }
  if (trailer.size() != kPackTrailerSize) return InternalError("trailer must be 56 bytes");
  if (std::memcmp(trailer.data() + 48, kPackMagic, 8) != 0) {
    return InvalidArgumentError("pack trailer magic is wrong (not an Arca pack, or truncated)");
  }
  uint64_t index_offset = GetLE64(trailer.data());
  uint64_t count = GetLE32(trailer.data() + 8);
  if (GetLE32(trailer.data() + 12) != 0) return InvalidArgumentError("pack trailer reserved field is not zero");
  uint64_t max_count = (pack_size - kPackHeaderSize - kPackTrailerSize) / kPackEntrySize;
  if (count > max_count || index_offset < kPackHeaderSize ||
      index_offset + count * kPackEntrySize + kPackTrailerSize != pack_size) {
    return InvalidArgumentError("pack trailer: index of " + std::to_string(count) +
                                " entries at offset " + std::to_string(index_offset) +
                                " does not fit a pack of " + std::to_string(pack_size) + " bytes");
  }
  return count * kPackEntrySize + kPackTrailerSize;
}

Result<PackIndex> PackIndex::Parse(ByteView tail, uint64_t pack_size) {
  if (tail.size() < kPackTrailerSize) return InvalidArgumentError("pack is shorter than its trailer");
  ByteView trailer = tail.subspan(tail.size() - kPackTrailerSize);
  ARCA_ASSIGN_OR_RETURN(uint64_t need, RequiredTailSize(trailer, pack_size));
  if (tail.size() < need) return InternalError("pack tail does not cover the index");
  ByteView index = tail.subspan(tail.size() - need, need - kPackTrailerSize);
  if (Sha256Of(index) != Digest::FromBytes(trailer.data() + 16)) {
    return DataLossError("pack index digest does not match (index corrupt)");
  }
  PackIndex out;
  out.name = Digest::FromBytes(trailer.data() + 16);
  out.index_offset = GetLE64(trailer.data());
  const size_t count = index.size() / kPackEntrySize;
  out.entries.reserve(count);
  std::unordered_set<Digest, DigestHash> seen;
  seen.reserve(count);
  uint64_t expect_offset = kPackHeaderSize;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = index.data() + i * kPackEntrySize;
    PackEntry e;
    e.digest = Digest::FromBytes(p);
    e.offset = GetLE64(p + 32);
    e.stored_len = GetLE32(p + 40);
    e.raw_len = GetLE32(p + 44);
    e.codec = p[48];
    e.crc32c = GetLE32(p + 52);
    std::string where = "pack entry " + std::to_string(i) + " (" + e.digest.ToString() + ")";
    for (int k = 49; k < 52; ++k) {
      if (p[k] != 0) return InvalidArgumentError(where + ": reserved bytes are not zero");
    }
    if (e.codec > kMaxCodecId) return InvalidArgumentError(where + ": unknown codec " + std::to_string(e.codec));
    if (e.raw_len == 0 || e.raw_len > kMaxChunk) {
      return InvalidArgumentError(where + ": raw length " + std::to_string(e.raw_len) + " is out of range");
    }
    if (e.codec == uint8_t(Codec::kRaw) ? e.stored_len != e.raw_len : e.stored_len > e.raw_len + 16) {
      return InvalidArgumentError(where + ": stored length " + std::to_string(e.stored_len) +
                                  " is impossible for raw length " + std::to_string(e.raw_len));
    }
    if (e.offset != expect_offset) {
      return InvalidArgumentError(where + ": starts at " + std::to_string(e.offset) + ", expected " +
                                  std::to_string(expect_offset) + " (gap or overlap)");
    }
    expect_offset += e.stored_len;
    if (expect_offset > out.index_offset) return InvalidArgumentError(where + ": runs into the index");
    if (!seen.insert(e.digest).second) return InvalidArgumentError(where + ": duplicate chunk");
    out.entries.push_back(e);
  }
  if (expect_offset != out.index_offset) {
    return InvalidArgumentError("pack: chunk data ends at " + std::to_string(expect_offset) +
                                " but the index starts at " + std::to_string(out.index_offset));
  }
  return out;
}

Result<PackIndex> PackIndex::ReadFromFile(int fd, uint64_t pack_size, const std::string& what) {
  if (pack_size < kPackHeaderSize + kPackTrailerSize) {
    return InvalidArgumentError(what + ": too short to be a pack (" + std::to_string(pack_size) + " bytes)");
  }
  uint8_t header[kPackHeaderSize];
  ARCA_RETURN_IF_ERROR(PreadAll(fd, header, 0, what));
  ARCA_RETURN_IF_ERROR(CheckPackHeader(ByteView(header, kPackHeaderSize), what));
  uint8_t trailer[kPackTrailerSize];
  ARCA_RETURN_IF_ERROR(PreadAll(fd, trailer, pack_size - kPackTrailerSize, what));
  Result<uint64_t> need = RequiredTailSize(ByteView(trailer, kPackTrailerSize), pack_size);
  if (!need.ok()) return need.status().WithContext(what);
  std::string tail(*need, '\0');
  ARCA_RETURN_IF_ERROR(PreadAll(fd, std::span<uint8_t>(reinterpret_cast<uint8_t*>(tail.data()), tail.size()),
                                pack_size - *need, what));
  Result<PackIndex> idx = Parse(AsBytes(tail), pack_size);
  if (!idx.ok()) return idx.status().WithContext(what);
  return idx;
}

Status CheckPackHeader(ByteView header, const std::string& what) {
  if (header.size() < kPackHeaderSize || std::memcmp(header.data(), kPackMagic, 8) != 0) {
    return InvalidArgumentError(what + ": not an Arca pack (bad magic)");
  }
  if (GetLE32(header.data() + 8) != kPackVersion) {
    return UnimplementedError(what + ": pack version " + std::to_string(GetLE32(header.data() + 8)) +
                              " is not supported");
  }
  if (GetLE32(header.data() + 12) != 0) return InvalidArgumentError(what + ": pack flags are not zero");
  return Status::Ok();
}

Status VerifyPackBytes(ByteView pack) {
  ARCA_RETURN_IF_ERROR(CheckPackHeader(pack, "pack"));
  ARCA_ASSIGN_OR_RETURN(PackIndex index, PackIndex::Parse(pack, pack.size()));
  std::string raw(kMaxChunk, '\0');
  for (const PackEntry& e : index.entries) {
    ARCA_RETURN_IF_ERROR(DecodePackChunk(e, pack.subspan(e.offset, e.stored_len),
                                         reinterpret_cast<uint8_t*>(raw.data())));
  }
  return Status::Ok();
}

Status DecodePackChunk(const PackEntry& e, ByteView stored, uint8_t* out) {
  if (stored.size() != e.stored_len || Crc32c(stored) != e.crc32c) {
    return DataLossError("chunk " + e.digest.ToString() + ": stored bytes are corrupt (CRC-32C mismatch)");
  }
  Status s = DecodeChunk(e.codec, stored, out, e.raw_len);
  if (!s.ok()) return DataLossError("chunk " + e.digest.ToString() + ": " + std::string(s.message()));
  if (Sha256Of(ByteView(out, e.raw_len)) != e.digest) {
    return DataLossError("chunk " + e.digest.ToString() + ": content does not match its digest");
  }
  return Status::Ok();
}

}  // namespace arca::format
