// Files: an owned descriptor, whole-file reads, atomic writes, read-only maps.
//
// Atomic write = write to a temporary name in the same directory, fsync,
// rename over the target, fsync the directory: a reader sees the old file or
// the whole new one, never a part, even across a crash.
#ifndef ARCA_COMMON_FILE_H_
#define ARCA_COMMON_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace arca {

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.Release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) { Reset(); fd_ = o.Release(); }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { int fd = fd_; fd_ = -1; return fd; }
  void Reset();

 private:
  int fd_ = -1;
};

Result<UniqueFd> OpenForRead(const std::string& path);

// Writes all of `data` at the current position (retries short writes, EINTR).
Status WriteAll(int fd, ByteView data, std::string_view what);
// Reads exactly data.size() bytes at `offset`; kOutOfRange on a short file.
Status PreadAll(int fd, std::span<uint8_t> data, uint64_t offset, std::string_view what);

// Reads a whole file, refusing files larger than `max_size` (kResourceExhausted).
Result<std::string> ReadFile(const std::string& path, uint64_t max_size);

// Atomically replaces `path` with `data` (see the file comment). `mode` is the
// permission of the new file.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);

// fsync of a directory, so that renames and creations in it are durable.
Status FsyncDir(const std::string& dir);

// mkdir -p.
Status MakeDirs(const std::string& path);
// Creates root/rel_dir one component at a time, refusing any component that
// exists as something other than a real directory (a symlink could point
// outside root). `root` itself must already exist.
Status MakeSafeDirs(const std::string& root, std::string_view rel_dir);

// A read-only memory map of a whole file. Move-only; unmaps on destruction.
// An empty file maps to an empty view.
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path);
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  ByteView bytes() const { return ByteView(static_cast<const uint8_t*>(addr_), size_); }
  uint64_t size() const { return size_; }

 private:
  void* addr_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace arca

#endif  // ARCA_COMMON_FILE_H_
