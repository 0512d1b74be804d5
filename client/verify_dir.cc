// Offline directory verification: plan the chunks of every file into batches
// of about kItemBytes, read each batch with pread into a per-thread buffer and
// hash its chunks in one multi-buffer SHA-256 call.
#include "client/verify_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/file.h"
#include "common/sha256_mb.h"
#include "format/file_index.h"
#include "format/path.h"

namespace arca::client {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMetaDir = ".arca";
// Index objects larger than this are refused, as pull refuses them.
constexpr uint64_t kMaxIndexBytes = 64ull << 20;
constexpr uint64_t kIndexHeaderBytes = 24, kIndexEntryBytes = 36;
// Bytes read and hashed per work item: enough chunks (~80 of the average
// 48 KiB) to keep all 16 lanes of a Sha256Batch busy, small enough to stay in
// the cache between the copy and the hashing.
constexpr size_t kItemBytes = 4 << 20;
constexpr int kMaxThreads = 256;
constexpr uint64_t kNoBadOffset = std::numeric_limits<uint64_t>::max();

std::string Kind(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

struct Opened {
  UniqueFd fd;
  FileVerdict verdict = FileVerdict::kOk;
  std::string detail;
  uint64_t size = 0;
};

// Opens root/rel read-only, one component at a time, following no symlink:
// every directory on the way must be a real directory under root and the file
// a regular file (checked before opening it, so that no device or FIFO is
// ever opened, and again on the descriptor).
Opened OpenBelow(int root, const std::string& rel) {
  Opened out;
  UniqueFd dir_holder;
  int cur = root;
  size_t start = 0;
  for (;;) {
    const size_t slash = rel.find('/', start);
    const bool last = slash == std::string::npos;
    const std::string name = rel.substr(start, last ? std::string::npos : slash - start);
    const std::string so_far = rel.substr(0, last ? rel.size() : slash);
    struct stat st;
    if (::fstatat(cur, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      out.verdict = err == ENOENT ? FileVerdict::kMissing : FileVerdict::kUnreadable;
      out.detail = err == ENOENT ? (last ? "no such file" : "directory " + so_far + " is missing")
                                 : std::string(ErrnoToStatus(err, "stat " + so_far).message());
      return out;
    }
    const bool want_dir = !last;
    if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
      out.verdict = FileVerdict::kNotRegular;
      out.detail = last ? "is " + Kind(st.st_mode) : so_far + " is " + Kind(st.st_mode) + ", not a directory";
      return out;
    }
    const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (want_dir ? O_DIRECTORY : O_NONBLOCK | O_NOCTTY);
    const int fd = ::openat(cur, name.c_str(), flags);
    if (fd < 0) {
      const int err = errno;
      // The entry changed between the fstatat and the open.
      out.verdict = err == ENOENT ? FileVerdict::kMissing
                    : (err == ELOOP || err == ENOTDIR) ? FileVerdict::kNotRegular
                                                       : FileVerdict::kUnreadable;
      out.detail = ErrnoToStatus(err, "open " + so_far).message();
      return out;
    }
    if (want_dir) {
      dir_holder = UniqueFd(fd);
      cur = fd;
      start = slash + 1;
      continue;
    }
    out.fd = UniqueFd(fd);
    if (::fstat(fd, &st) != 0) {
      out.verdict = FileVerdict::kUnreadable;
      out.detail = ErrnoToStatus(errno, "stat " + rel).message();
      out.fd.Reset();
    } else if (!S_ISREG(st.st_mode)) {
      out.verdict = FileVerdict::kNotRegular;
      out.detail = "is " + Kind(st.st_mode);
      out.fd.Reset();
    }
    out.size = uint64_t(st.st_size);
    return out;
  }
}

// Opened, with its size checked against the manifest's.
Opened OpenChecked(int root, const std::string& rel, uint64_t want_size) {
  Opened o = OpenBelow(root, rel);
  if (o.verdict == FileVerdict::kOk && o.size != want_size) {
    o.verdict = FileVerdict::kWrongSize;
    o.detail = "is " + std::to_string(o.size) + " bytes, the bundle's file is " + std::to_string(want_size);
    o.fd.Reset();
  }
  return o;
}

// A contiguous run of one file's chunks inside a work item.
struct Piece {
  uint32_t file = 0;
  uint32_t first_chunk = 0, end_chunk = 0;
  uint64_t offset = 0;  // of first_chunk in the file
  uint32_t bytes = 0;
};

// Consecutive pieces, at most kItemBytes in all, hashed in one batch.
struct Item {
  size_t first_piece = 0, end_piece = 0;
  uint64_t bytes = 0;
};

// Shared by the workers: the plan (read-only) and the findings.
class Checker {
 public:
  Checker(int root, const format::Manifest& manifest, const std::vector<const format::FileIndex*>& indexes,
          std::vector<FileCheck>* files, Progress* progress)
      : root_(root), manifest_(manifest), indexes_(indexes), files_(files), progress_(progress),
        bad_offset_(manifest.files.size()), broken_(manifest.files.size()) {
    for (auto& b : bad_offset_) b.store(kNoBadOffset, std::memory_order_relaxed);
  }

  // Plans the chunks of file i (which passed the open checks).
  void Add(uint32_t file) {
    const format::FileIndex& index = *indexes_[file];
    uint64_t offset = 0;
    for (uint32_t c = 0; c < index.chunks.size(); ++c) {
      const uint32_t len = index.chunks[c].raw_len;
      if (items_.empty() || items_.back().bytes + len > kItemBytes) {
        items_.push_back(Item{pieces_.size(), pieces_.size(), 0});
      }
      Item& item = items_.back();
      if (item.end_piece == item.first_piece || pieces_.back().file != file) {
        pieces_.push_back(Piece{file, c, c, offset, 0});
        item.end_piece = pieces_.size();
      }
      Piece& p = pieces_.back();
      p.end_chunk = c + 1;
      p.bytes += len;
      item.bytes += len;
      offset += len;
    }
  }

  size_t items() const { return items_.size(); }

  void Work() {
    std::vector<uint8_t> buf(kItemBytes);
    std::vector<ByteView> views;
    std::vector<Digest> got;
    struct Loc {
      uint32_t file, chunk;
      uint64_t offset;
    };
    std::vector<Loc> locs;
    uint32_t open_file = 0;
    UniqueFd fd;
    for (;;) {
      const size_t k = next_.fetch_add(1, std::memory_order_relaxed);
      if (k >= items_.size()) break;
      const Item& item = items_[k];
      views.clear();
      locs.clear();
      size_t used = 0;
      for (size_t pi = item.first_piece; pi < item.end_piece; ++pi) {
        const Piece& p = pieces_[pi];
        // Past a problem already found in this file: nothing more to learn.
        if (broken_[p.file].load(std::memory_order_relaxed) ||
            p.offset > bad_offset_[p.file].load(std::memory_order_relaxed)) {
          continue;
        }
        const format::ManifestFile& f = manifest_.files[p.file];
        if (!fd.valid() || open_file != p.file) {
          Opened o = OpenChecked(root_, f.path, f.size);
          if (o.verdict != FileVerdict::kOk) {
            Broken(p.file, o.verdict, "changed while being verified: " + o.detail, o.size);
            continue;
          }
          fd = std::move(o.fd);
          open_file = p.file;
        }
        Status s = PreadAll(fd.get(), std::span<uint8_t>(buf.data() + used, p.bytes), p.offset, f.path);
        if (!s.ok()) {
          const bool short_read = s.code() == StatusCode::kOutOfRange;
          Broken(p.file, short_read ? FileVerdict::kWrongSize : FileVerdict::kUnreadable,
                 short_read ? std::string("was truncated while being verified") : std::string(s.message()), 0);
          fd.Reset();
          continue;
        }
        const format::FileIndex& index = *indexes_[p.file];
        uint64_t offset = p.offset;
        size_t at = used;
        for (uint32_t c = p.first_chunk; c < p.end_chunk; ++c) {
          const uint32_t len = index.chunks[c].raw_len;
          views.push_back(ByteView(buf.data() + at, len));
          locs.push_back(Loc{p.file, c, offset});
          at += len;
          offset += len;
        }
        used += p.bytes;
      }
      got.resize(views.size());
      Sha256Batch(views, got);
      for (size_t i = 0; i < views.size(); ++i) {
        if (got[i] != indexes_[locs[i].file]->chunks[locs[i].chunk].digest) BadChunk(locs[i].file, locs[i].offset);
      }
      hashed_.fetch_add(used, std::memory_order_relaxed);
      if (progress_) progress_->Add(int64_t(item.bytes));
    }
  }

  // Moves the findings into *files.
  void Finish() {
    for (size_t i = 0; i < files_->size(); ++i) {
      FileCheck& fc = (*files_)[i];
      const uint64_t bad = bad_offset_[i].load();
      if (fc.verdict == FileVerdict::kOk && bad != kNoBadOffset) {
        fc.verdict = FileVerdict::kChanged;
        fc.first_bad_offset = bad;
        fc.detail = "content differs from the bundle's in the chunk at byte offset " + std::to_string(bad);
      }
    }
  }

  uint64_t hashed() const { return hashed_.load(); }

 private:
  // A file that was fine at the first open but not later: it is changing.
  void Broken(uint32_t file, FileVerdict verdict, std::string detail, uint64_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    broken_[file].store(true);
    FileCheck& fc = (*files_)[file];
    if (fc.verdict != FileVerdict::kOk) return;
    fc.verdict = verdict;
    fc.detail = std::move(detail);
    fc.actual_size = size;
  }

  void BadChunk(uint32_t file, uint64_t offset) {
    uint64_t cur = bad_offset_[file].load(std::memory_order_relaxed);
    while (offset < cur && !bad_offset_[file].compare_exchange_weak(cur, offset)) {
    }
  }

  const int root_;
  const format::Manifest& manifest_;
  const std::vector<const format::FileIndex*>& indexes_;
  std::vector<FileCheck>* files_;  // guarded by mu_ while workers run
  Progress* progress_;
  std::vector<Piece> pieces_;
  std::vector<Item> items_;
  std::atomic<size_t> next_{0};
  std::atomic<uint64_t> hashed_{0};
  std::vector<std::atomic<uint64_t>> bad_offset_;  // per file: lowest offset of a bad chunk
  std::vector<std::atomic<bool>> broken_;          // per file: open/read failed during hashing
  std::mutex mu_;
};

// Non-directory entries under dir (outside the top-level .arca/) that are not
// bundle paths. Symlinked directories are listed, not followed.
Status FindExtraFiles(const std::string& dir, const std::set<std::string>& paths, DirCheck* out) {
  std::error_code ec;
  const fs::path root(dir);
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() == 0 && it->path().filename() == kMetaDir) {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code sec;
    if (it->symlink_status(sec).type() == fs::file_type::directory) continue;
    std::string rel = it->path().lexically_relative(root).generic_string();
    if (paths.count(rel)) continue;
    ++out->extra_files_total;
    if (out->extra_files.size() < kMaxListedExtraFiles) out->extra_files.push_back(std::move(rel));
  }
  if (ec) return ErrnoToStatus(ec.value(), "list the files in " + dir);
  std::sort(out->extra_files.begin(), out->extra_files.end());
  return Status::Ok();
}

}  // namespace

std::string_view FileVerdictName(FileVerdict v) {
  switch (v) {
    case FileVerdict::kOk: return "ok";
    case FileVerdict::kMissing: return "missing";
    case FileVerdict::kWrongSize: return "wrong size";
    case FileVerdict::kChanged: return "changed";
    case FileVerdict::kNotRegular: return "not a regular file";
    case FileVerdict::kUnreadable: return "unreadable";
  }
  return "unknown";
}

bool DirCheck::files_ok() const { return bad_files() == 0; }

size_t DirCheck::bad_files() const {
  return size_t(std::count_if(files.begin(), files.end(),
                              [](const FileCheck& f) { return f.verdict != FileVerdict::kOk; }));
}

IndexSource DirIndexSource(const std::string& dir) {
  return [dir](const Digest& id, uint64_t max_bytes) -> Result<std::string> {
    const std::string path = dir + "/" + std::string(kMetaDir) + "/indexes/" + id.Hex();
    Result<std::string> bytes = ReadFile(path, max_bytes);
    if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) {
      return NotFoundError("no file index object " + path + " (.arca/ is damaged or from an older arca; pull again)");
    }
    return bytes;
  };
}

Result<DirCheck> VerifyDirectory(const std::string& dir, const format::Manifest& manifest,
                                 const IndexSource& indexes, const VerifyDirOptions& options) {
  if (options.threads < 1) return InvalidArgumentError("threads must be at least 1");
  const int root_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return ErrnoToStatus(errno, "open directory " + dir);
  UniqueFd root(root_fd);

  // The bundle's own metadata first: any fault here is an error, not a verdict.
  std::vector<format::FileIndex> parsed;
  parsed.reserve(manifest.files.size());
  std::unordered_map<Digest, size_t, DigestHash> by_id;
  std::vector<size_t> index_of(manifest.files.size());
  std::set<std::string> paths;
  uint64_t total = 0;
  for (size_t i = 0; i < manifest.files.size(); ++i) {
    const format::ManifestFile& f = manifest.files[i];
    ARCA_RETURN_IF_ERROR(format::ValidateBundlePath(f.path));
    if (f.path == kMetaDir || f.path.rfind(std::string(kMetaDir) + "/", 0) == 0) {
      return InvalidArgumentError("bundle path " + f.path + " is inside the reserved .arca/ folder");
    }
    paths.insert(f.path);
    total += f.size;
    auto [it, inserted] = by_id.emplace(f.index, parsed.size());
    index_of[i] = it->second;
    if (inserted) {
      const std::string what = "file index " + f.index.ToString() + " of " + f.path;
      // A valid index has at most one chunk per byte: never read more than that.
      const uint64_t max_bytes =
          std::min(kMaxIndexBytes, kIndexHeaderBytes + kIndexEntryBytes * std::min(f.size, kMaxIndexBytes));
      Result<std::string> bytes = indexes(f.index, max_bytes);
      if (!bytes.ok()) return bytes.status().WithContext(what);
      if (Sha256Of(*bytes) != f.index) {
        return DataLossError(what + " does not hash to that digest: the stored object was changed or damaged; pull again");
      }
      Result<format::FileIndex> fi = format::FileIndex::Parse(AsBytes(*bytes));
      if (!fi.ok()) return fi.status().WithContext(what);
      parsed.push_back(std::move(*fi));
    }
    if (parsed[index_of[i]].file_size != f.size) {
      return DataLossError("file index " + f.index.ToString() + " of " + f.path + " describes " +
                           std::to_string(parsed[index_of[i]].file_size) + " bytes, the manifest " +
                           std::to_string(f.size));
    }
  }
  std::vector<const format::FileIndex*> file_index(manifest.files.size());
  for (size_t i = 0; i < manifest.files.size(); ++i) file_index[i] = &parsed[index_of[i]];

  DirCheck out;
  out.files.resize(manifest.files.size());
  if (options.progress) options.progress->SetTotal(total);
  Checker checker(root.get(), manifest, file_index, &out.files, options.progress);
  for (size_t i = 0; i < manifest.files.size(); ++i) {
    const format::ManifestFile& f = manifest.files[i];
    FileCheck& fc = out.files[i];
    fc.path = f.path;
    fc.size = f.size;
    Opened o = OpenChecked(root.get(), f.path, f.size);
    if (o.verdict != FileVerdict::kOk) {
      fc.verdict = o.verdict;
      fc.detail = std::move(o.detail);
      fc.actual_size = o.size;
      if (options.progress) options.progress->Add(int64_t(f.size));
      continue;
    }
    checker.Add(uint32_t(i));
  }

  const int threads = int(std::min<size_t>({size_t(options.threads), size_t(kMaxThreads), checker.items()}));
  if (threads <= 1) {
    checker.Work();
  } else {
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back([&checker] { checker.Work(); });
  }
  checker.Finish();
  out.bytes_hashed = checker.hashed();

  ARCA_RETURN_IF_ERROR(FindExtraFiles(dir, paths, &out));
  return out;
}

}  // namespace arca::client
