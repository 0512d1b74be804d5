// Store: opening, chunk reads, objects, refs, adding and checking out bundles.
#include "store/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>

#include "common/crc32c.h"
#include "common/file.h"
#include "common/sha256_mb.h"
#include "common/thread_pool.h"
#include "format/chunker.h"
#include "format/file_index.h"
#include "format/path.h"
#include "store/internal/keys.h"
#include "store/internal/store_impl.h"

namespace arca::store {

namespace fs = std::filesystem;
using format::ChunkRef;
using format::PackEntry;
using internal::DigestKey;

namespace {

// Consecutive chunks of one pack are read together, up to this many bytes.
constexpr uint64_t kMaxRunBytes = 8ull << 20;

}  // namespace

Status Store::Impl::FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return NotFoundError(msg);
  if (s.IsCorruption()) return DataLossError(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return UnavailableError(msg + " (is another arca process using this store?)");
  }
  if (s.IsBusy() || s.IsTryAgain()) return UnavailableError(msg);
  return InternalError(msg);
}

Status ValidateRefName(const std::string& name) {
  size_t colon = name.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("ref \"" + name + "\" must look like name:tag (e.g. org/model:v1)");
  }
  ARCA_RETURN_IF_ERROR(format::ValidateBundleName(name.substr(0, colon)));
  std::string tag = name.substr(colon + 1);
  bool ok = !tag.empty() && tag.size() <= 128 && tag[0] != '.' && tag[0] != '-';
  for (char c : tag) ok = ok && (std::isalnum(uint8_t(c)) || c == '_' || c == '.' || c == '-');
  if (!ok) return InvalidArgumentError("tag \"" + tag + "\" must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
  return Status::Ok();
}

Store::Store(std::string dir, std::unique_ptr<Impl> impl) : dir_(std::move(dir)), impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  impl->packs_dir = dir + "/packs";
  impl->tmp_dir = dir + "/tmp";
  ARCA_RETURN_IF_ERROR(MakeDirs(impl->packs_dir));
  ARCA_RETURN_IF_ERROR(MakeDirs(impl->tmp_dir));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  options.max_open_files = 256;
  rocksdb::DB* db = nullptr;
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(rocksdb::DB::Open(options, dir + "/db", &db), "open store " + dir));
  impl->db.reset(db);
  // Packs that were being written when a previous process stopped are garbage.
  // Only now, holding the database lock, is it safe to remove them.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(impl->tmp_dir, ec)) fs::remove(e.path(), ec);
  return std::unique_ptr<Store>(new Store(dir, std::move(impl)));
}

std::string Store::NewTempPath(std::string_view what) const {
  static std::atomic<uint64_t> counter{0};
  return impl_->tmp_dir + "/" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

Result<uint64_t> Store::Impl::CommitPack(const Store& store, const std::string& tmp_path, const Digest& pack,
                                         const std::vector<PackEntry>& entries) {
  std::string final_path = store.PackPath(pack);
  std::string dir = fs::path(final_path).parent_path().string();
  Status s = MakeDirs(dir);
  if (s.ok() && ::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    s = ErrnoToStatus(errno, "rename pack into " + final_path);
  }
  if (!s.ok()) {
    ::unlink(tmp_path.c_str());
    return s;
  }
  ARCA_RETURN_IF_ERROR(FsyncDir(dir));
  struct stat st;
  if (::stat(final_path.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat " + final_path);
  rocksdb::WriteBatch batch;
  std::string rec;
  AppendLE64(&rec, uint64_t(st.st_size));
  AppendLE32(&rec, uint32_t(entries.size()));
  batch.Put(DigestKey(internal::kPackPrefix, pack), rec);
  for (const PackEntry& e : entries) {
    batch.Put(DigestKey(internal::kChunkPrefix, e.digest), internal::EncodeChunkValue(pack, e));
  }
  ARCA_RETURN_IF_ERROR(FromRocks(db->Write(SyncWrite(), &batch), "record pack"));
  return uint64_t(st.st_size);
}

std::string Store::PackPath(const Digest& pack) const {
  std::string hex = pack.Hex();
  return impl_->packs_dir + "/" + hex.substr(0, 2) + "/" + hex + ".pack";
}

// ---------------------------------------------------------------- chunks

bool Store::HasChunk(const Digest& d) const {
  std::string v;
  return impl_->db->Get(rocksdb::ReadOptions(), DigestKey(internal::kChunkPrefix, d), &v).ok();
}

Result<ChunkLocation> Store::FindChunk(const Digest& d) const {
  std::string v;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), DigestKey(internal::kChunkPrefix, d), &v);
  if (s.IsNotFound()) return NotFoundError("chunk " + d.ToString() + " is not in the store");
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(s, "read chunk record"));
  ChunkLocation loc;
  ARCA_RETURN_IF_ERROR(internal::DecodeChunkValue(v, d, &loc.pack, &loc.entry));
  return loc;
}

namespace {

// A run of consecutive chunks of one pack: one read, then decode and verify.
struct Run {
  Digest pack;
  std::vector<PackEntry> entries;
  uint64_t raw_bytes = 0;
};

// Decoded bytes of a run, in a buffer of kMaxRunBytes that the caller owns
// and reuses (not zero-initialised: every byte of the run is written).
struct RunData {
  std::unique_ptr<uint8_t[]> bytes;
  size_t size = 0;
};

Status ReadRun(const Store& store, const Run& run, RunData* raw, bool verify) {
  if (run.raw_bytes > kMaxRunBytes) return InternalError("run larger than its buffer");
  const PackEntry& first = run.entries.front();
  const PackEntry& last = run.entries.back();
  uint64_t len = last.offset + last.stored_len - first.offset;
  std::string path = store.PackPath(run.pack);
  ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path));
  thread_local std::string stored;
  stored.resize(len);
  ARCA_RETURN_IF_ERROR(PreadAll(fd.get(), std::span<uint8_t>(reinterpret_cast<uint8_t*>(stored.data()), len),
                                first.offset, path));
  raw->size = run.raw_bytes;
  std::vector<ByteView> views;
  views.reserve(run.entries.size());
  uint64_t out = 0;
  for (const PackEntry& e : run.entries) {
    ByteView s = AsBytes(stored).subspan(e.offset - first.offset, e.stored_len);
    if (verify && Crc32c(s) != e.crc32c) {
      return DataLossError("chunk " + e.digest.ToString() + " in pack " + run.pack.ToString() +
                           ": stored bytes are corrupt (CRC-32C mismatch)");
    }
    uint8_t* dst = raw->bytes.get() + out;
    Status st = format::DecodeChunk(e.codec, s, dst, e.raw_len);
    if (!st.ok()) return DataLossError("chunk " + e.digest.ToString() + ": " + std::string(st.message()));
    views.emplace_back(dst, e.raw_len);
    out += e.raw_len;
  }
  if (!verify) return Status::Ok();
  std::vector<Digest> got(views.size());
  Sha256Batch(views, got);
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != run.entries[i].digest) {
      return DataLossError("chunk " + run.entries[i].digest.ToString() + " in pack " + run.pack.ToString() +
                           ": content does not match its digest");
    }
  }
  return Status::Ok();
}

}  // namespace

Status Store::ReadChunks(const std::vector<ChunkRef>& chunks, int threads,
                         const std::function<Status(ByteView)>& sink, bool verify_chunks) const {
  // Look up every location first (MultiGet), then group into runs.
  std::vector<Run> runs;
  const size_t kLookupBatch = 1024;
  for (size_t base = 0; base < chunks.size(); base += kLookupBatch) {
    size_t n = std::min(kLookupBatch, chunks.size() - base);
    std::vector<std::string> keys(n);
    std::vector<rocksdb::Slice> slices(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = DigestKey(internal::kChunkPrefix, chunks[base + i].digest);
      slices[i] = keys[i];
    }
    std::vector<std::string> values;
    std::vector<rocksdb::Status> st = impl_->db->MultiGet(rocksdb::ReadOptions(), slices, &values);
    for (size_t i = 0; i < n; ++i) {
      const ChunkRef& c = chunks[base + i];
      if (st[i].IsNotFound()) return NotFoundError("chunk " + c.digest.ToString() + " is not in the store");
      ARCA_RETURN_IF_ERROR(Impl::FromRocks(st[i], "read chunk record"));
      Digest pack;
      PackEntry e;
      ARCA_RETURN_IF_ERROR(internal::DecodeChunkValue(values[i], c.digest, &pack, &e));
      if (e.raw_len != c.raw_len) {
        return DataLossError("chunk " + c.digest.ToString() + " has length " + std::to_string(e.raw_len) +
                             " in the store but " + std::to_string(c.raw_len) + " in the file index");
      }
      bool extend = !runs.empty() && runs.back().pack == pack &&
                    runs.back().entries.back().offset + runs.back().entries.back().stored_len == e.offset &&
                    runs.back().raw_bytes + e.raw_len <= kMaxRunBytes;
      if (!extend) runs.push_back(Run{pack, {}, 0});
      runs.back().entries.push_back(e);
      runs.back().raw_bytes += e.raw_len;
    }
  }
  // Runs are decoded `window` at a time into buffers recycled from `free`
  // (no allocation or page faults per run), and handed to the sink in order.
  ThreadPool pool(threads > 1 ? threads : 0);
  const size_t window = size_t(std::max(1, 2 * threads));
  std::vector<std::unique_ptr<RunData>> free;
  std::deque<std::pair<std::unique_ptr<RunData>, std::future<Status>>> inflight;
  size_t next = 0;
  Status status;
  while (status.ok() && (next < runs.size() || !inflight.empty())) {
    while (next < runs.size() && inflight.size() < window) {
      std::unique_ptr<RunData> buf;
      if (free.empty()) {
        buf = std::make_unique<RunData>();
        buf->bytes.reset(new uint8_t[kMaxRunBytes]);
      } else {
        buf = std::move(free.back());
        free.pop_back();
      }
      const Run* run = &runs[next++];
      RunData* out = buf.get();
      inflight.emplace_back(std::move(buf), pool.Submit([this, run, out, verify_chunks] { return ReadRun(*this, *run, out, verify_chunks); }));
    }
    auto [buf, done] = std::move(inflight.front());
    inflight.pop_front();
    status = done.get();
    if (status.ok()) status = sink(ByteView(buf->bytes.get(), buf->size));
    free.push_back(std::move(buf));
  }
  for (auto& [buf, done] : inflight) done.wait();
  return status;
}

// ---------------------------------------------------------------- objects

Result<std::string> Store::GetObject(const Digest& d, ObjectKind kind) const {
  std::string v;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), DigestKey(internal::kObjectPrefix, d), &v);
  if (s.IsNotFound()) return NotFoundError("object " + d.ToString() + " is not in the store");
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(s, "read object"));
  if (v.empty() || v[0] != char(kind)) {
    return InvalidArgumentError("object " + d.ToString() + " is not of the expected kind");
  }
  v.erase(0, 1);
  if (Sha256Of(v) != d) return DataLossError("object " + d.ToString() + " is corrupt (digest mismatch)");
  return v;
}

bool Store::HasObject(const Digest& d) const {
  std::string v;
  return impl_->db->Get(rocksdb::ReadOptions(), DigestKey(internal::kObjectPrefix, d), &v).ok();
}

Result<format::Manifest> Store::GetManifest(const Digest& bundle) const {
  ARCA_ASSIGN_OR_RETURN(std::string bytes, GetObject(bundle, ObjectKind::kManifest));
  Result<format::Manifest> m = format::Manifest::Parse(bytes);
  if (!m.ok()) return m.status().WithContext("bundle " + bundle.ToString());
  return m;
}

// ---------------------------------------------------------------- refs

Status Store::SetRef(const std::string& name, const Digest& d) {
  ARCA_RETURN_IF_ERROR(ValidateRefName(name));
  if (!HasObject(d)) return FailedPreconditionError("bundle " + d.ToString() + " is not in the store");
  return Impl::FromRocks(impl_->db->Put(impl_->SyncWrite(), internal::RefKey(name),
                                        rocksdb::Slice(reinterpret_cast<const char*>(d.bytes.data()), 32)),
                         "write ref");
}

Result<Digest> Store::GetRef(const std::string& name) const {
  std::string v;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), internal::RefKey(name), &v);
  if (s.IsNotFound()) return NotFoundError("ref " + name + " does not exist");
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(s, "read ref"));
  if (v.size() != 32) return DataLossError("ref " + name + " is malformed");
  return Digest::FromBytes(reinterpret_cast<const uint8_t*>(v.data()));
}

Status Store::DeleteRef(const std::string& name) {
  ARCA_RETURN_IF_ERROR(GetRef(name).status());
  return Impl::FromRocks(impl_->db->Delete(impl_->SyncWrite(), internal::RefKey(name)), "delete ref");
}

std::vector<std::pair<std::string, Digest>> Store::ListRefs() const {
  std::vector<std::pair<std::string, Digest>> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, internal::kRefPrefix)); it->Valid() && it->key()[0] == internal::kRefPrefix;
       it->Next()) {
    if (it->value().size() != 32) continue;
    out.emplace_back(it->key().ToString().substr(1),
                     Digest::FromBytes(reinterpret_cast<const uint8_t*>(it->value().data())));
  }
  return out;
}

// ---------------------------------------------------------------- adding

Store::PackSink::PackSink(Store* store, uint64_t target) : store_(store), target_(target) {}

Store::PackSink::~PackSink() {
  if (writer_) {
    writer_.reset();
    ::unlink(tmp_path_.c_str());
  }
}

Status Store::PackSink::Add(const Digest& d, format::Codec codec, uint32_t raw_len, ByteView stored) {
  if (store_->HasChunk(d)) return Status::Ok();
  if (!writer_) {
    tmp_path_ = store_->NewTempPath("pack");
    ARCA_ASSIGN_OR_RETURN(format::PackWriter w, format::PackWriter::Create(tmp_path_));
    writer_ = std::make_unique<format::PackWriter>(std::move(w));
  }
  ARCA_RETURN_IF_ERROR(writer_->Add(d, codec, raw_len, stored));
  if (writer_->size() >= target_) return Seal();
  return Status::Ok();
}

Status Store::PackSink::Seal() {
  if (!writer_) return Status::Ok();
  std::unique_ptr<format::PackWriter> w = std::move(writer_);
  Result<Digest> pack = w->Finish();
  if (!pack.ok()) {
    ::unlink(tmp_path_.c_str());
    return pack.status();
  }
  Result<uint64_t> size = store_->impl_->CommitPack(*store_, tmp_path_, *pack, w->entries());
  if (!size.ok()) return size.status();
  ++packs_;
  pack_bytes_ += *size;
  return Status::Ok();
}

Result<AddResult> Store::AddDirectory(const std::string& dir, const format::Metadata& meta,
                                      const std::string& ref, int threads,
                                      format::ProgressFn progress) {
  if (!ref.empty()) ARCA_RETURN_IF_ERROR(ValidateRefName(ref));
  PackSink packs(this);
  format::ChunkSink sink{
      [this](const Digest& d) { return HasChunk(d); },
      [&packs](const Digest& d, format::Codec c, uint32_t raw_len, ByteView stored) {
        return packs.Add(d, c, raw_len, stored);
      }};
  Result<format::BuiltBundle> built = format::BuildBundle(dir, meta, {threads, std::move(progress)}, sink);
  if (!built.ok()) {
    packs.Seal().IgnoreError();  // keep what was packed: a retry reuses it
    return built.status();
  }
  ARCA_RETURN_IF_ERROR(packs.Seal());
  // File indexes, manifest and ref become visible together.
  rocksdb::WriteBatch batch;
  for (const std::string& index : built->file_indexes) {
    batch.Put(DigestKey(internal::kObjectPrefix, Sha256Of(index)), std::string(1, char(ObjectKind::kFileIndex)) + index);
  }
  batch.Put(DigestKey(internal::kObjectPrefix, built->digest),
            std::string(1, char(ObjectKind::kManifest)) + built->manifest_bytes);
  if (!ref.empty()) {
    batch.Put(internal::RefKey(ref), rocksdb::Slice(reinterpret_cast<const char*>(built->digest.bytes.data()), 32));
  }
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(impl_->db->Write(impl_->SyncWrite(), &batch), "record bundle"));
  AddResult r;
  r.bundle = built->digest;
  r.built = std::move(*built);
  r.new_packs = packs.packs();
  r.new_pack_bytes = packs.pack_bytes();
  return r;
}

// ---------------------------------------------------------------- checkout

Status Store::Checkout(const Digest& bundle, const std::string& out_dir, int threads) const {
  ARCA_ASSIGN_OR_RETURN(format::Manifest manifest, GetManifest(bundle));
  ARCA_RETURN_IF_ERROR(MakeDirs(out_dir));
  struct stat st;
  if (::lstat(out_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(out_dir + " is not a directory");
  }
  // Files are written and verified under OUT_DIR/.arca/tmp/ (same file
  // system, so the rename is atomic) and only then renamed into place:
  // nothing unverified ever appears under a bundle path.
  ARCA_RETURN_IF_ERROR(MakeSafeDirs(out_dir, ".arca/tmp"));
  const std::string tmp_dir = out_dir + "/.arca/tmp";
  std::vector<std::string> dirs_written;
  for (const format::ManifestFile& f : manifest.files) {
    ARCA_RETURN_IF_ERROR(format::ValidateBundlePath(f.path));  // Parse checked; cheap to be sure
    ARCA_ASSIGN_OR_RETURN(std::string index_bytes, GetObject(f.index, ObjectKind::kFileIndex));
    Result<format::FileIndex> index = format::FileIndex::Parse(AsBytes(index_bytes));
    if (!index.ok()) return index.status().WithContext(f.path);
    if (index->file_size != f.size) {
      return DataLossError(f.path + ": file index says " + std::to_string(index->file_size) +
                           " bytes, manifest says " + std::to_string(f.size));
    }
    size_t slash = f.path.rfind('/');
    std::string rel_dir = slash == std::string::npos ? "" : f.path.substr(0, slash);
    ARCA_RETURN_IF_ERROR(MakeSafeDirs(out_dir, rel_dir));
    std::string final_path = out_dir + "/" + f.path;
    std::string dir = rel_dir.empty() ? out_dir : out_dir + "/" + rel_dir;
    std::string tmp = tmp_dir + "/" + f.digest.Hex().substr(0, 16) + "-" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoToStatus(errno, "create " + tmp);
    UniqueFd owned(fd);
    Sha256 hasher;
    Status s = ReadChunks(index->chunks, threads, [&](ByteView data) {
      hasher.Update(data);
      return WriteAll(fd, data, tmp);
    });
    if (s.ok() && hasher.Finish() != f.digest) {
      s = DataLossError(f.path + ": content does not match the manifest's digest " + f.digest.ToString());
    }
    if (s.ok() && ::fsync(fd) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
    owned.Reset();
    if (s.ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0) s = ErrnoToStatus(errno, "rename to " + final_path);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s.WithContext(f.path);
    }
    if (dirs_written.empty() || dirs_written.back() != dir) dirs_written.push_back(dir);
  }
  std::sort(dirs_written.begin(), dirs_written.end());
  dirs_written.erase(std::unique(dirs_written.begin(), dirs_written.end()), dirs_written.end());
  for (const std::string& d : dirs_written) ARCA_RETURN_IF_ERROR(FsyncDir(d));
  ::rmdir(tmp_dir.c_str());  // fails harmlessly if another checkout is using it
  return FsyncDir(out_dir);
}

}  // namespace arca::store
