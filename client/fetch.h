// Fetching chunks from a registry's packs into the local cache, for pull.
//
// The registry says where each chunk lies (`locate`); CheckLocations refuses
// an answer that does not fit what was asked; CoalesceRanges turns the chunk
// positions into a few large byte ranges per pack; FetchRanges reads them on
// several connections, verifies every chunk (CRC-32C of the stored bytes,
// decoding, SHA-256 of the decoded bytes) and adds it to the cache through a
// Store::PackSink per connection whose packs are sealed every few MiB, so an
// interrupted pull keeps what it verified and the next one fetches the rest.
#ifndef ARCA_CLIENT_FETCH_H_
#define ARCA_CLIENT_FETCH_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/progress.h"
#include "client/remote.h"
#include "common/digest.h"
#include "format/file_index.h"
#include "format/manifest.h"
#include "store/store.h"

namespace arca::client {

// Chunks whose stored bytes are at most this far apart share a range.
inline constexpr uint64_t kMaxRangeGap = 64 << 10;
// No range is longer than this.
inline constexpr uint64_t kMaxRangeBytes = 16 << 20;
// Verified chunks are committed to the cache in packs of about this size.
inline constexpr uint64_t kPullPackTarget = 16 << 20;

// A byte range of one registry pack and the chunks inside it.
struct PackRange {
  Digest pack;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::vector<size_t> chunks;  // indexes into the chunk list, by offset
  bool operator==(const PackRange&) const = default;
};

// Groups chunks by pack and merges neighbours into ranges: a chunk joins the
// current range when it starts at most `max_gap` bytes after the range's end
// and the range stays within `max_length` bytes. A chunk alone longer than
// `max_length` gets a range of its own. Ranges come out ordered by pack, then
// offset. Pure; the chunks' positions are taken as given.
std::vector<PackRange> CoalesceRanges(std::span<const RemoteChunk> chunks, uint64_t max_gap = kMaxRangeGap,
                                      uint64_t max_length = kMaxRangeBytes);

// Checks a locate answer against what was asked: `wanted` maps each asked
// digest to the raw length its file index states. Every chunk must be one
// asked for, once, with that raw length, a known codec and a stored length
// that FORMAT.md allows; every asked digest must be answered. `describe`
// names the files that hold a chunk, for messages.
Status CheckLocations(const LocateResult& located, const std::unordered_map<Digest, uint32_t, DigestHash>& wanted,
                      const Registry& registry, const std::function<std::string(const Digest&)>& describe);

struct FetchStats {
  uint64_t bytes = 0;   // pack bytes received
  uint64_t chunks = 0;  // chunks verified and added
  uint64_t packs = 0;   // cache packs sealed
};

// Fetches `ranges` of `chunks` on up to `jobs` connections into `store`.
// A chunk that fails verification stops the fetch with DATA_LOSS naming the
// chunk and (through `describe`) its files. Whatever the outcome, chunks
// already verified are committed to the store. `progress` may be null.
// `meter`, if given, is called with every delta of received bytes from the
// thread that received them, before they are used; it may block (a
// bandwidth limit).
Status FetchRanges(const Endpoint& endpoint, store::Store* store, std::span<const RemoteChunk> chunks,
                   const std::vector<PackRange>& ranges, int jobs, Progress* progress,
                   const std::function<std::string(const Digest&)>& describe, FetchStats* stats,
                   const ByteCounter& meter = nullptr);

// --- a whole bundle, as pull and the mirror fetch it ---

// Objects of at most this size are file indexes (docs/API.md, Limits).
inline constexpr uint64_t kMaxObjectBytes = 64ull << 20;

// A bundle's objects, verified and parsed.
struct FetchedBundle {
  Digest digest;
  std::string manifest_bytes;
  format::Manifest manifest;
  std::vector<Digest> index_ids;           // distinct file index digests
  std::vector<std::string> index_bytes;    // by distinct index
  std::vector<format::FileIndex> indexes;  // by manifest file
};

// The manifest from `store` if it holds it, else from the registry (checked
// against `d` either way; not parsed).
Result<std::string> FetchManifest(const store::Store& store, Remote& remote, const Digest& d);

// Every file index of b->manifest, from `store` where held, the rest from the
// registry on up to `jobs` connections; each checked against its digest,
// parsed strictly, and its size against the manifest's.
Status FetchIndexes(const store::Store& store, const Endpoint& endpoint, int jobs, FetchedBundle* b);

// "file a.gguf", "file a.gguf and b.bin", ...: the files of `b` holding chunk `d`.
std::string FilesWithChunk(const FetchedBundle& b, const Digest& d);

// Fetches every chunk of `b` that `store` lacks: located, checked
// (CheckLocations), coalesced and fetched verified (FetchRanges). Sets
// *chunks_held to the number of distinct chunks already in the store.
Status FetchBundleChunks(store::Store* store, Remote& remote, const Endpoint& endpoint, const FetchedBundle& b,
                         int jobs, Progress* progress, const ByteCounter& meter, FetchStats* stats,
                         uint64_t* chunks_held);

}  // namespace arca::client

#endif  // ARCA_CLIENT_FETCH_H_
