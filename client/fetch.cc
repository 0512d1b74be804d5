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
                   const std::function<std::string(const Digest&)>& describe, FetchStats* stats,
                   const ByteCounter& meter) {
  jobs = std::max(1, jobs);
  std::vector<Worker> workers(static_cast<size_t>(jobs));
  for (Worker& w : workers) w.sink = std::make_unique<store::Store::PackSink>(store, kPullPackTarget);
  ByteCounter count = nullptr;
  if (progress || meter) {
    count = [progress, &meter](int64_t d) {
      if (meter && d > 0) meter(d);
      if (progress) progress->Add(d);
    };
  }
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

// The manifest from the cache if it holds it, else from the registry.
Result<std::string> FetchManifest(const store::Store& store, Remote& remote, const Digest& d) {
  if (store.HasObject(d)) {
    Result<std::string> b = store.GetObject(d, store::ObjectKind::kManifest);
    if (b.ok() && Sha256Of(*b) == d) return b;
  }
  return remote.GetObject(d, format::kMaxManifestBytes);
}

// Every file index, from the cache where held, the rest from the registry
// on several connections; each checked against its digest and the manifest.
Status FetchIndexes(const store::Store& store, const Endpoint& endpoint, int jobs, FetchedBundle* b) {
  std::unordered_map<Digest, size_t, DigestHash> slot;
  std::vector<size_t> file_slot;
  for (const format::ManifestFile& f : b->manifest.files) {
    auto [it, fresh] = slot.emplace(f.index, b->index_ids.size());
    if (fresh) b->index_ids.push_back(f.index);
    file_slot.push_back(it->second);
  }
  b->index_bytes.assign(b->index_ids.size(), std::string());
  std::vector<size_t> remote_slots;
  for (size_t i = 0; i < b->index_ids.size(); ++i) {
    const Digest& d = b->index_ids[i];
    Result<std::string> local = store.HasObject(d) ? store.GetObject(d, store::ObjectKind::kFileIndex)
                                                   : Result<std::string>(NotFoundError(""));
    if (local.ok() && Sha256Of(*local) == d) {
      b->index_bytes[i] = std::move(*local);
    } else {
      remote_slots.push_back(i);
    }
  }
  ARCA_RETURN_IF_ERROR(ForEachOnConnections(endpoint, jobs, remote_slots.size(), [&](Remote& r, int, size_t k) {
    size_t i = remote_slots[k];
    Result<std::string> bytes = r.GetObject(b->index_ids[i], kMaxObjectBytes);
    if (!bytes.ok()) return bytes.status();
    b->index_bytes[i] = std::move(*bytes);
    return Status::Ok();
  }));
  std::vector<format::FileIndex> parsed;
  for (size_t i = 0; i < b->index_ids.size(); ++i) {
    Result<format::FileIndex> fi = format::FileIndex::Parse(AsBytes(b->index_bytes[i]));
    if (!fi.ok()) return fi.status().WithContext("file index " + b->index_ids[i].ToString());
    parsed.push_back(std::move(*fi));
  }
  for (size_t i = 0; i < b->manifest.files.size(); ++i) {
    const format::ManifestFile& f = b->manifest.files[i];
    b->indexes.push_back(parsed[file_slot[i]]);
    if (b->indexes.back().file_size != f.size) {
      return DataLossError(f.path + ": its file index says " + std::to_string(b->indexes.back().file_size) +
                           " bytes, the manifest says " + std::to_string(f.size));
    }
  }
  return Status::Ok();
}

// "a.gguf", "a.gguf and b.bin", "a.gguf, b.bin, c.bin and 4 more files".
std::string FilesWithChunk(const FetchedBundle& b, const Digest& d) {
  std::vector<std::string> files;
  for (size_t i = 0; i < b.indexes.size(); ++i) {
    for (const format::ChunkRef& c : b.indexes[i].chunks) {
      if (c.digest == d) {
        files.push_back(b.manifest.files[i].path);
        break;
      }
    }
  }
  if (files.empty()) return "(no file)";
  std::string out = "file " + files[0];
  size_t shown = std::min<size_t>(files.size(), 3);
  for (size_t i = 1; i < shown; ++i) out += (i + 1 == files.size() ? " and " : ", ") + files[i];
  if (files.size() > shown) out += " and " + std::to_string(files.size() - shown) + " more files";
  return out;
}

Status FetchBundleChunks(store::Store* store, Remote& remote, const Endpoint& endpoint, const FetchedBundle& b,
                         int jobs, Progress* progress, const ByteCounter& meter, FetchStats* stats,
                         uint64_t* chunks_held) {
  std::unordered_map<Digest, uint32_t, DigestHash> raw_len;
  std::vector<Digest> all;
  for (const format::FileIndex& fi : b.indexes) {
    for (const format::ChunkRef& c : fi.chunks) {
      if (raw_len.emplace(c.digest, c.raw_len).second) all.push_back(c.digest);
    }
  }
  std::vector<std::optional<store::ChunkLocation>> held = store->FindChunks(all);
  std::vector<Digest> wanted;
  std::unordered_map<Digest, uint32_t, DigestHash> wanted_len;
  for (size_t i = 0; i < all.size(); ++i) {
    if (held[i]) continue;
    wanted.push_back(all[i]);
    wanted_len[all[i]] = raw_len[all[i]];
  }
  *chunks_held = all.size() - wanted.size();
  if (wanted.empty()) return Status::Ok();
  auto describe = [&b](const Digest& d) { return FilesWithChunk(b, d); };
  ARCA_ASSIGN_OR_RETURN(LocateResult located, remote.Locate(wanted));
  ARCA_RETURN_IF_ERROR(CheckLocations(located, wanted_len, endpoint.registry, describe));
  std::vector<PackRange> ranges = CoalesceRanges(located.chunks);
  uint64_t total = 0;
  for (const PackRange& r : ranges) total += r.length;
  if (progress) progress->SetTotal(total);
  return FetchRanges(endpoint, store, located.chunks, ranges, jobs, progress, describe, stats, meter);
}

}  // namespace arca::client
