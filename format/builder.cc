// The build pipeline. Per file: one task hashes the whole file (the file
// digest is one sequential SHA-256 stream), while the calling thread cuts
// chunks and queues batches of them; workers hash each batch, skip chunks
// the sink already has and encode the rest; the calling thread hands the
// results to the sink in file order, so packs are deterministic.
#include "format/builder.h"

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <unordered_set>

#include "common/file.h"
#include "common/sha256_mb.h"
#include "common/thread_pool.h"
#include "format/chunker.h"
#include "format/path.h"

namespace arca::format {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kBatchBytes = 4ull << 20;

struct Batch {
  size_t first = 0;  // index of the first chunk
  std::vector<ByteView> raw;
  std::vector<Digest> digests;
  std::vector<uint8_t> known;         // sink already had it
  std::vector<Codec> codecs;
  std::vector<std::string> stored;    // empty for known chunks
};

void ProcessBatch(Batch* b, const ChunkSink& sink) {
  const size_t n = b->raw.size();
  b->digests.resize(n);
  Sha256Batch(b->raw, b->digests);
  b->known.assign(n, 0);
  b->codecs.assign(n, Codec::kRaw);
  b->stored.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (sink.has_chunk && sink.has_chunk(b->digests[i])) {
      b->known[i] = 1;
      continue;
    }
    b->codecs[i] = EncodeChunk(b->raw[i], &b->stored[i]);
  }
}

}  // namespace

Result<std::vector<std::string>> ListBundleFiles(const std::string& dir) {
  std::error_code ec;
  // The directory the user named may itself be a symlink; links inside it may not.
  fs::file_status root = fs::status(dir, ec);
  if (ec || !fs::is_directory(root)) return InvalidArgumentError(dir + " is not a directory");
  std::vector<std::string> out;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return ErrnoToStatus(ec.value(), "read directory " + dir);
  for (; it != end; it.increment(ec)) {
    if (ec) return ErrnoToStatus(ec.value(), "read directory " + dir);
    const fs::path rel = fs::relative(it->path(), dir, ec);
    if (ec) return ErrnoToStatus(ec.value(), "resolve " + it->path().string());
    std::string name = rel.generic_string();
    fs::file_status st = it->symlink_status(ec);
    if (ec) return ErrnoToStatus(ec.value(), "stat " + it->path().string());
    if (it.depth() == 0 && name == ".arca" && fs::is_directory(st)) {
      it.disable_recursion_pending();
      continue;
    }
    if (fs::is_symlink(st)) {
      return InvalidArgumentError(name + " is a symbolic link; bundles hold regular files only (copy the target in)");
    }
    if (fs::is_directory(st)) continue;
    if (!fs::is_regular_file(st)) return InvalidArgumentError(name + " is not a regular file");
    ARCA_RETURN_IF_ERROR(ValidateBundlePath(name));
    out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  if (out.size() > kMaxManifestFiles) return ResourceExhaustedError("a bundle has at most 100000 files");
  return out;
}

Result<FileIndex> BuildFile(ByteView data, const BuildOptions& options, const ChunkSink& sink,
                            BuildStats* stats, ChunkSet* seen, Digest* file_digest,
                            uint64_t progress_base, uint64_t progress_total) {
  const int workers = options.threads > 1 ? options.threads : 0;
  ThreadPool pool(workers);
  std::future<Digest> whole = pool.Submit([data] { return Sha256Of(data); });

  FileIndex index;
  index.file_size = data.size();
  std::deque<std::pair<std::unique_ptr<Batch>, std::future<void>>> inflight;
  const size_t max_inflight = size_t(std::max(2, 2 * workers + 2));

  uint64_t drained = 0;
  auto drain_one = [&]() -> Status {
    auto [batch, done] = std::move(inflight.front());
    inflight.pop_front();
    done.get();
    for (ByteView r : batch->raw) drained += r.size();
    if (options.progress) options.progress(progress_base + drained, progress_total);
    for (size_t i = 0; i < batch->raw.size(); ++i) {
      const Digest& d = batch->digests[i];
      uint32_t len = uint32_t(batch->raw[i].size());
      index.chunks.push_back({d, len});
      ++stats->chunks;
      if (!seen->insert(d).second) continue;
      ++stats->unique_chunks;
      if (batch->known[i]) continue;
      ARCA_RETURN_IF_ERROR(sink.add_chunk(d, batch->codecs[i], len, AsBytes(batch->stored[i])));
      ++stats->new_chunks;
      stats->new_raw_bytes += len;
      stats->new_stored_bytes += batch->stored[i].size();
      ++stats->codec_chunks[uint8_t(batch->codecs[i])];
    }
    return Status::Ok();
  };

  size_t off = 0;
  size_t chunk_no = 0;
  while (off < data.size()) {
    auto batch = std::make_unique<Batch>();
    batch->first = chunk_no;
    uint64_t bytes = 0;
    while (off < data.size() && bytes < kBatchBytes) {
      uint32_t len = NextChunkLength(data.subspan(off));
      batch->raw.push_back(data.subspan(off, len));
      off += len;
      bytes += len;
      ++chunk_no;
    }
    Batch* raw_batch = batch.get();
    std::future<void> done = pool.Submit([raw_batch, &sink] { ProcessBatch(raw_batch, sink); });
    inflight.emplace_back(std::move(batch), std::move(done));
    if (inflight.size() >= max_inflight) {
      Status s = drain_one();
      if (!s.ok()) {
        for (auto& [b, f] : inflight) f.wait();
        whole.wait();
        return s;
      }
    }
  }
  Status s;
  while (!inflight.empty() && s.ok()) s = drain_one();
  for (auto& [b, f] : inflight) f.wait();
  *file_digest = whole.get();
  if (!s.ok()) return s;
  stats->raw_bytes += data.size();
  ++stats->files;
  return index;
}

Result<BuiltBundle> BuildBundle(const std::string& dir, const Metadata& meta,
                                const BuildOptions& options, const ChunkSink& sink) {
  ARCA_RETURN_IF_ERROR(ValidateBundleName(meta.name));
  ARCA_ASSIGN_OR_RETURN(std::vector<std::string> paths, ListBundleFiles(dir));
  BuiltBundle out;
  out.manifest.meta = meta;
  ChunkSet seen;
  uint64_t total = 0;
  for (const std::string& path : paths) {
    std::error_code ec;
    total += fs::file_size(fs::path(dir) / path, ec);
  }
  for (const std::string& path : paths) {
    std::string full = (fs::path(dir) / path).string();
    ARCA_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(full));
    Digest file_digest;
    Result<FileIndex> index = BuildFile(file.bytes(), options, sink, &out.stats, &seen, &file_digest,
                                        out.stats.raw_bytes, total);
    if (!index.ok()) return index.status().WithContext(path);
    std::string encoded = index->Encode();
    out.manifest.files.push_back(ManifestFile{path, file.size(), file_digest, Sha256Of(encoded),
                                              MediaTypeForPath(path)});
    out.file_indexes.push_back(std::move(encoded));
  }
  ARCA_RETURN_IF_ERROR(out.manifest.Validate());
  out.manifest_bytes = out.manifest.Canonical();
  out.digest = Sha256Of(out.manifest_bytes);
  return out;
}

}  // namespace arca::format
