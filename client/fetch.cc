// Range planning and verified chunk fetching for pull.
#include "client/fetch.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <numeric>
#include <unordered_set>

#include "common/crc32c.h"
#include "common/sha256_mb.h"
#include "format/chunker.h"
#include "format/codec.h"
#include "format/pack.h"

namespace arca::client {

namespace {

// Chunks verified together: decoded into one buffer, hashed as one batch.
constexpr size_t kVerifyBatch = 32;

}  // namespace

std::vector<PackRange> CoalesceRanges(std::span<const RemoteChunk> chunks, uint64_t max_gap, uint64_t max_length) {
  std::vector<size_t> order(chunks.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const RemoteChunk& x = chunks[a];
    const RemoteChunk& y = chunks[b];
    if (x.pack != y.pack) return x.pack < y.pack;
    if (x.offset != y.offset) return x.offset < y.offset;
    return a < b;
  });
  std::vector<PackRange> out;
  for (size_t i : order) {
    const RemoteChunk& c = chunks[i];
    const uint64_t end = c.offset + c.stored;
    if (!out.empty()) {
      PackRange& r = out.back();
      const uint64_t r_end = r.offset + r.length;
      const uint64_t new_end = std::max(end, r_end);
      if (r.pack == c.pack && c.offset <= r_end + max_gap && new_end - r.offset <= max_length) {
        r.length = new_end - r.offset;
        r.chunks.push_back(i);
        continue;
      }
    }
    out.push_back(PackRange{c.pack, c.offset, c.stored, {i}});
  }
  return out;
}

Status CheckLocations(const LocateResult& located, const std::unordered_map<Digest, uint32_t, DigestHash>& wanted,
                      const Registry& registry, const std::function<std::string(const Digest&)>& describe) {
  const std::string from = "registry " + registry.Address();
  if (!located.missing.empty()) {
    const Digest& d = located.missing.front();
    return FailedPreconditionError(from + " lacks " + std::to_string(located.missing.size()) +
                                   " chunks of this bundle, e.g. " + d.ToString() + " of " + describe(d) +
                                   "; the bundle is incomplete there (ask its operator to run fsck)");
  }
  std::unordered_set<Digest, DigestHash> seen;
  for (const RemoteChunk& c : located.chunks) {
    auto it = wanted.find(c.digest);
    auto bad = [&](const std::string& why) {
      return DataLossError(from + " gave an impossible location for chunk " + c.digest.ToString() + " (" + why + ")");
    };
    if (it == wanted.end()) return bad("it was not asked for");
    if (!seen.insert(c.digest).second) return bad("it was listed twice");
    if (c.raw != it->second) {
      return bad("raw length " + std::to_string(c.raw) + ", but the file index says " + std::to_string(it->second));
    }
    if (c.raw == 0 || c.raw > format::kMaxChunk) return bad("raw length out of range");
    if (c.codec > format::kMaxCodecId) return bad("unknown codec " + std::to_string(c.codec));
    bool stored_ok = c.codec == uint8_t(format::Codec::kRaw) ? c.stored == c.raw
                                                              : c.stored > 0 && c.stored <= c.raw + 16;
    if (!stored_ok) return bad("stored length " + std::to_string(c.stored) + " does not fit its codec");
    if (c.offset < format::kPackHeaderSize || c.offset > format::kPackMaxSize) return bad("offset out of range");
  }
  if (seen.size() != wanted.size()) {
    for (const auto& [d, raw] : wanted) {
      if (!seen.count(d)) return DataLossError(from + " did not answer for chunk " + d.ToString());
    }
  }
  return Status::Ok();
}

namespace {

// One connection's state: its receive buffer, decode buffer, and cache sink.
struct Worker {
  std::string buf;
  std::vector<uint8_t> raw;
  std::unique_ptr<store::Store::PackSink> sink;
  uint64_t bytes = 0, chunks = 0;
};

// Verifies the chunks of one received range and adds them to the sink.
Status VerifyAndAdd(const PackRange& r, std::span<const RemoteChunk> chunks, Worker* w, const Registry& registry,
                    const std::function<std::string(const Digest&)>& describe) {
  ByteView data = AsBytes(w->buf);
  w->raw.resize(kVerifyBatch * format::kMaxChunk);
  for (size_t b = 0; b < r.chunks.size(); b += kVerifyBatch) {
    const size_t n = std::min(kVerifyBatch, r.chunks.size() - b);
    ByteView raws[kVerifyBatch];
    Digest got[kVerifyBatch];
    ByteView stored[kVerifyBatch];
    for (size_t k = 0; k < n; ++k) {
      const RemoteChunk& c = chunks[r.chunks[b + k]];
      auto fail = [&](std::string_view why) {
        return DataLossError("chunk " + c.digest.ToString() + " of " + describe(c.digest) + " from registry " +
                             registry.Address() + " is corrupt (" + std::string(why) +
                             "); the pull was stopped before anything was written");
      };
      if (c.offset < r.offset || c.offset + c.stored > r.offset + data.size()) return fail("outside its range");
      stored[k] = data.subspan(c.offset - r.offset, c.stored);
      if (Crc32c(stored[k]) != c.crc32c) return fail("CRC-32C mismatch");
      uint8_t* out = w->raw.data() + k * format::kMaxChunk;
      Status s = format::DecodeChunk(c.codec, stored[k], out, c.raw);
      if (!s.ok()) return fail(s.message());
      raws[k] = ByteView(out, c.raw);
    }
    Sha256Batch(std::span<const ByteView>(raws, n), std::span<Digest>(got, n));
    for (size_t k = 0; k < n; ++k) {
      const RemoteChunk& c = chunks[r.chunks[b + k]];
      if (got[k] != c.digest) {
        return DataLossError("chunk " + c.digest.ToString() + " of " + describe(c.digest) + " from registry " +
                             registry.Address() + " does not match its digest (got " + got[k].ToString() +
                             "); the pull was stopped before anything was written");
      }
      ARCA_RETURN_IF_ERROR(w->sink->Add(c.digest, format::Codec(c.codec), c.raw, stored[k]));
      ++w->chunks;
    }
  }
  return Status::Ok();
}

}  // namespace

Status FetchRanges(const Endpoint& endpoint, store::Store* store, std::span<const RemoteChunk> chunks,
                   const std::vector<PackRange>& ranges, int jobs, Progress* progress,
                   const std::function<std::string(const Digest&)>& describe, FetchStats* stats) {
  jobs = std::max(1, jobs);
  std::vector<Worker> workers(static_cast<size_t>(jobs));
  for (Worker& w : workers) w.sink = std::make_unique<store::Store::PackSink>(store, kPullPackTarget);
  ByteCounter count = nullptr;
  if (progress) count = [progress](int64_t d) { progress->Add(d); };
  Status s = ForEachOnConnections(endpoint, jobs, ranges.size(), [&](Remote& remote, int wi, size_t i) -> Status {
    Worker& w = workers[size_t(wi)];
    const PackRange& r = ranges[i];
    ARCA_RETURN_IF_ERROR(remote.GetPackRange(r.pack, r.offset, r.length, &w.buf, count));
    w.bytes += r.length;
    return VerifyAndAdd(r, chunks, &w, endpoint.registry, describe);
  });
  // Commit what was verified, also after a failure: the next pull resumes.
  for (Worker& w : workers) {
    Status sealed = w.sink->Seal();
    if (s.ok() && !sealed.ok()) s = sealed;
    stats->bytes += w.bytes;
    stats->chunks += w.chunks;
    stats->packs += w.sink->packs();
  }
  return s;
}

}  // namespace arca::client
