// Materialising bundles into directories, with a stat cache for warm pulls.
#include "client/worktree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "common/file.h"
#include "format/path.h"

namespace arca::client {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr std::string_view kMetaDir = ".arca";

int64_t MtimeNs(const struct stat& st) { return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

FileState StateOf(const std::string& path, const struct stat& st, const Digest& digest) {
  return FileState{path, uint64_t(st.st_size), MtimeNs(st), uint64_t(st.st_ino), digest};
}

// Whether the file on disk is still the one recorded.
bool Unchanged(const FileState& s, const struct stat& st) {
  return S_ISREG(st.st_mode) && s.size == uint64_t(st.st_size) && s.mtime_ns == MtimeNs(st) &&
         s.inode == uint64_t(st.st_ino);
}

Result<Digest> HashFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  UniqueFd owned(fd);
  Sha256 h;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "read " + path);
    if (n == 0) break;
    h.Update(ByteView(buf.data(), size_t(n)));
  }
  return h.Finish();
}

std::string ParentOf(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

// Hashes a stream on a thread of its own, so that hashing a large file (one
// core at ~300 MB/s) overlaps with reading, decoding and writing it. Update
// copies the bytes into blocks; at most kMaxBlocks wait to be hashed.
class BackgroundHasher {
 public:
  BackgroundHasher() : thread_([this] { Run(); }) {}
  ~BackgroundHasher() { Finish(); }
  BackgroundHasher(const BackgroundHasher&) = delete;
  BackgroundHasher& operator=(const BackgroundHasher&) = delete;

  void Update(ByteView data) {
    while (!data.empty()) {
      if (cur_.size() == kBlock) Hand();
      size_t n = std::min(data.size(), kBlock - cur_.size());
      cur_.append(reinterpret_cast<const char*>(data.data()), n);
      data = data.subspan(n);
    }
  }

  Digest Finish() {
    if (thread_.joinable()) {
      Hand();
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    return digest_;
  }

 private:
  static constexpr size_t kBlock = 4 << 20;
  static constexpr size_t kMaxBlocks = 4;

  void Hand() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kMaxBlocks; });
    queue_.push_back(std::move(cur_));
    if (!free_.empty()) {
      cur_ = std::move(free_.back());
      free_.pop_back();
    } else {
      cur_ = std::string();
      cur_.reserve(kBlock);
    }
    cur_.clear();
    lock.unlock();
    cv_.notify_all();
  }

  void Run() {
    Sha256 sha;
    for (;;) {
      std::string block;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
        if (queue_.empty()) break;
        block = std::move(queue_.front());
        queue_.pop_front();
      }
      cv_.notify_all();
      sha.Update(AsBytes(block));
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(std::move(block));
    }
    digest_ = sha.Finish();
  }

  std::string cur_;  // filled by the caller's thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_, free_;
  bool done_ = false;
  Digest digest_;
  std::thread thread_;  // last: starts after the fields above exist
};

// Files at least this large are hashed on a thread of their own.
constexpr uint64_t kBackgroundHashBytes = 8 << 20;

// Writes one file under tmp_dir, checks its digest, renames it into place.
Status WriteFile(const store::Store& store, const format::ManifestFile& f, const format::FileIndex& index,
                 const std::string& out_dir, const std::string& tmp_dir, int threads, Progress* progress,
                 struct stat* st) {
  ARCA_RETURN_IF_ERROR(MakeSafeDirs(out_dir, ParentOf(f.path)));
  const std::string final_path = out_dir + "/" + f.path;
  const std::string tmp = tmp_dir + "/" + f.digest.Hex().substr(0, 16) + "-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(errno, "create " + tmp);
  UniqueFd owned(fd);
  Sha256 hasher;
  std::optional<BackgroundHasher> background;
  if (f.size >= kBackgroundHashBytes) background.emplace();
  Status s = store.ReadChunks(index.chunks, threads, [&](ByteView data) {
    if (background) {
      background->Update(data);
    } else {
      hasher.Update(data);
    }
    if (progress) progress->Add(int64_t(data.size()));
    return WriteAll(fd, data, tmp);
  });
  Digest got = background ? background->Finish() : hasher.Finish();
  if (s.ok() && got != f.digest) {
    s = DataLossError("content does not match the manifest's digest " + f.digest.ToString());
  }
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
  owned.Reset();
  if (s.ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0) s = ErrnoToStatus(errno, "rename to " + final_path);
  if (s.ok() && ::lstat(final_path.c_str(), st) != 0) s = ErrnoToStatus(errno, "stat " + final_path);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

// Prepares OUT_DIR/.arca and an empty OUT_DIR/.arca/tmp.
Status PrepareMetaDir(const std::string& out_dir) {
  ARCA_RETURN_IF_ERROR(MakeDirs(out_dir));
  struct stat st;
  if (::lstat(out_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(out_dir + " is not a directory");
  }
  ARCA_RETURN_IF_ERROR(MakeSafeDirs(out_dir, std::string(kMetaDir) + "/tmp"));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out_dir + "/" + std::string(kMetaDir) + "/tmp", ec)) {
    fs::remove_all(e.path(), ec);
  }
  return Status::Ok();
}

// Removes files the previous pull wrote that the new bundle lacks, if they
// are unmodified; then their directories, if that leaves them empty.
uint64_t RemoveStale(const std::string& out_dir, const std::vector<FileState>& old_state,
                     const std::set<std::string>& keep) {
  uint64_t removed = 0;
  for (const FileState& s : old_state) {
    if (keep.count(s.path) || !format::ValidateBundlePath(s.path).ok()) continue;
    const std::string p = out_dir + "/" + s.path;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !Unchanged(s, st)) continue;
    if (::unlink(p.c_str()) != 0) continue;
    ++removed;
    for (std::string dir = ParentOf(s.path); !dir.empty(); dir = ParentOf(dir)) {
      if (::rmdir((out_dir + "/" + dir).c_str()) != 0) break;
    }
  }
  return removed;
}


bool IsHexName(std::string_view name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Makes OUT_DIR/.arca/<sub>/ hold `want` (file name -> bytes): entries missing
// or different are written under tmp_dir, fsynced and renamed into place (one
// directory fsync at the end). Returns the paths of the entries not in `want`,
// for the caller to remove once the new manifest.json is in place, so that a
// crash in between leaves the old bundle still verifiable.
Result<std::vector<std::string>> WriteMetaObjects(const std::string& out_dir, std::string_view sub,
                                                  const std::string& tmp_dir,
                                                  const std::map<std::string, std::string>& want) {
  ARCA_RETURN_IF_ERROR(MakeSafeDirs(out_dir, std::string(kMetaDir) + "/" + std::string(sub)));
  const std::string dir = out_dir + "/" + std::string(kMetaDir) + "/" + std::string(sub);
  bool wrote = false;
  for (const auto& [name, bytes] : want) {
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) == bytes.size()) {
      if (Result<std::string> old = ReadFile(path, bytes.size()); old.ok() && *old == bytes) continue;
    }
    const std::string tmp = tmp_dir + "/" + std::string(sub) + "-" + name.substr(0, 16) + "-" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoToStatus(errno, "create " + tmp);
    UniqueFd owned(fd);
    Status s = WriteAll(fd, AsBytes(bytes), tmp);
    if (s.ok() && ::fsync(fd) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
    owned.Reset();
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoToStatus(errno, "rename to " + path);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    wrote = true;
  }
  if (wrote) ARCA_RETURN_IF_ERROR(FsyncDir(dir));
  std::vector<std::string> stale;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!want.count(e.path().filename().string())) stale.push_back(e.path().string());
  }
  if (ec) return ErrnoToStatus(ec.value(), "list " + dir);
  return stale;
}

}  // namespace

std::string EncodeState(const Digest& bundle, const std::vector<FileState>& files) {
  Json arr = Json::array();
  for (const FileState& f : files) {
    arr.push_back(Json{{"path", f.path},
                       {"size", f.size},
                       {"mtime_ns", f.mtime_ns},
                       {"inode", f.inode},
                       {"digest", f.digest.ToString()}});
  }
  return Json{{"bundle", bundle.ToString()}, {"files", arr}}.dump(1) + "\n";
}

std::vector<FileState> ParseState(std::string_view text) {
  std::vector<FileState> out;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("files") || !j["files"].is_array()) return out;
  for (const Json& f : j["files"]) {
    if (!f.is_object()) return {};
    FileState s;
    auto path = f.find("path"), size = f.find("size"), mtime = f.find("mtime_ns"), inode = f.find("inode"),
         digest = f.find("digest");
    if (path == f.end() || !path->is_string() || size == f.end() || !size->is_number_unsigned() ||
        mtime == f.end() || !mtime->is_number_integer() || inode == f.end() || !inode->is_number_unsigned() ||
        digest == f.end() || !digest->is_string()) {
      return {};
    }
    Result<Digest> d = Digest::Parse(digest->get<std::string>());
    if (!d.ok()) return {};
    s.path = path->get<std::string>();
    s.size = size->get<uint64_t>();
    s.mtime_ns = mtime->get<int64_t>();
    s.inode = inode->get<uint64_t>();
    s.digest = *d;
    out.push_back(std::move(s));
  }
  return out;
}

Result<MaterializeReport> Materialize(const store::Store& store, const format::Manifest& manifest,
                                      std::string_view manifest_bytes, const std::vector<format::FileIndex>& indexes,
                                      const std::vector<std::string>& envelopes, const std::string& out_dir,
                                      const MaterializeOptions& options) {
  if (indexes.size() != manifest.files.size()) return InternalError("one file index per manifest file expected");
  if (envelopes.size() > kMaxOfflineEnvelopes) {
    return ResourceExhaustedError("bundle has " + std::to_string(envelopes.size()) + " envelopes, over the limit of " +
                                  std::to_string(kMaxOfflineEnvelopes));
  }
  // The index objects as stored: Encode() is the one byte form Parse accepts,
  // so it must hash to the id the manifest names.
  std::map<std::string, std::string> index_objects, envelope_files;
  for (size_t i = 0; i < indexes.size(); ++i) {
    std::string bytes = indexes[i].Encode();
    if (Sha256Of(bytes) != manifest.files[i].index) {
      return InternalError("file index of " + manifest.files[i].path + " does not hash to the manifest's " +
                           manifest.files[i].index.ToString());
    }
    index_objects.emplace(manifest.files[i].index.Hex(), std::move(bytes));
  }
  for (const std::string& e : envelopes) {
    if (e.size() > kMaxOfflineEnvelopeBytes) {
      return ResourceExhaustedError("an envelope of " + std::to_string(e.size()) + " bytes is over the limit of " +
                                    std::to_string(kMaxOfflineEnvelopeBytes));
    }
    envelope_files.emplace(Sha256Of(e).Hex(), e);
  }
  ARCA_RETURN_IF_ERROR(PrepareMetaDir(out_dir));
  const std::string meta_dir = out_dir + "/" + std::string(kMetaDir);
  const std::string tmp_dir = meta_dir + "/tmp";

  std::vector<FileState> old_state;
  if (Result<std::string> s = ReadFile(meta_dir + "/state.json", 64ull << 20); s.ok()) old_state = ParseState(*s);
  std::unordered_map<std::string, const FileState*> old_by_path;
  for (const FileState& s : old_state) old_by_path[s.path] = &s;

  MaterializeReport report;
  std::set<std::string> paths;
  for (const format::ManifestFile& f : manifest.files) {
    ARCA_RETURN_IF_ERROR(format::ValidateBundlePath(f.path));
    if (f.path == kMetaDir || f.path.rfind(std::string(kMetaDir) + "/", 0) == 0) {
      return InvalidArgumentError("bundle path " + f.path + " is inside the reserved .arca/ folder");
    }
    paths.insert(f.path);
  }
  report.files_removed = RemoveStale(out_dir, old_state, paths);

  if (options.progress) {
    uint64_t total = 0;
    for (const format::ManifestFile& f : manifest.files) total += f.size;
    options.progress->SetTotal(total);
  }
  std::vector<FileState> state;
  std::set<std::string> dirs;
  for (size_t i = 0; i < manifest.files.size(); ++i) {
    const format::ManifestFile& f = manifest.files[i];
    const std::string final_path = out_dir + "/" + f.path;
    struct stat st;
    bool exists = ::lstat(final_path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
      return FailedPreconditionError(final_path + " is a directory, but the bundle has a file there");
    }
    if (exists && S_ISREG(st.st_mode) && uint64_t(st.st_size) == f.size) {
      bool same = false;
      if (options.verify_existing) {
        Result<Digest> d = HashFile(final_path);
        same = d.ok() && *d == f.digest;
      } else if (auto it = old_by_path.find(f.path); it != old_by_path.end()) {
        same = it->second->digest == f.digest && Unchanged(*it->second, st);
      }
      if (same) {
        if (options.progress) options.progress->Add(int64_t(f.size));
        state.push_back(StateOf(f.path, st, f.digest));
        ++report.files_unchanged;
        continue;
      }
    }
    Status s = WriteFile(store, f, indexes[i], out_dir, tmp_dir, options.threads, options.progress, &st);
    if (!s.ok()) return s.WithContext(f.path);
    state.push_back(StateOf(f.path, st, f.digest));
    dirs.insert(ParentOf(f.path));
    ++report.files_written;
    report.bytes_written += f.size;
  }
  for (const std::string& d : dirs) ARCA_RETURN_IF_ERROR(FsyncDir(d.empty() ? out_dir : out_dir + "/" + d));
  ARCA_ASSIGN_OR_RETURN(std::vector<std::string> stale, WriteMetaObjects(out_dir, "indexes", tmp_dir, index_objects));
  ARCA_ASSIGN_OR_RETURN(std::vector<std::string> stale_envelopes,
                        WriteMetaObjects(out_dir, "attestations", tmp_dir, envelope_files));
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(meta_dir + "/manifest.json", manifest_bytes));
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(meta_dir + "/state.json", EncodeState(manifest.BundleDigest(), state)));
  stale.insert(stale.end(), stale_envelopes.begin(), stale_envelopes.end());
  for (const std::string& p : stale) {
    std::error_code ec;
    fs::remove_all(p, ec);  // only costs disk space if it stays
  }
  return report;
}

Result<Offline> LoadOffline(const std::string& dir) {
  const std::string meta_dir = dir + "/" + std::string(kMetaDir);
  const std::string manifest_path = meta_dir + "/manifest.json";
  struct stat st;
  if (::stat(manifest_path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return NotFoundError(dir + " is not a directory pulled by arca: no " + manifest_path +
                           " (pull the bundle into it with arca pull first)");
    }
    return ErrnoToStatus(errno, "stat " + manifest_path);
  }
  Offline out;
  ARCA_ASSIGN_OR_RETURN(out.manifest_bytes, ReadFile(manifest_path, format::kMaxManifestBytes));
  out.bundle = Sha256Of(out.manifest_bytes);
  Result<format::Manifest> manifest = format::Manifest::Parse(out.manifest_bytes);
  if (!manifest.ok()) return manifest.status().WithContext(manifest_path);
  out.manifest = std::move(*manifest);

  const std::string att_dir = meta_dir + "/attestations";
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(att_dir, ec)) {
    std::string name = e.path().filename().string();
    if (!IsHexName(name)) continue;
    if (names.size() == kMaxOfflineEnvelopes) {
      return ResourceExhaustedError(att_dir + " holds more than " + std::to_string(kMaxOfflineEnvelopes) +
                                    " envelopes; pull again to rewrite it");
    }
    names.push_back(std::move(name));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) return ErrnoToStatus(ec.value(), "list " + att_dir);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = att_dir + "/" + name;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
    if (!S_ISREG(st.st_mode)) return DataLossError(path + " is not a regular file; pull again to rewrite it");
    ARCA_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, kMaxOfflineEnvelopeBytes));
    if (Sha256Of(bytes).Hex() != name) {
      return DataLossError(path + " was changed: its bytes no longer hash to its name; pull again to restore it");
    }
    out.envelopes.push_back(std::move(bytes));
  }
  return out;
}

}  // namespace arca::client
