// File helpers over POSIX calls; every failure becomes a Status naming the path.
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>

namespace arca {

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<UniqueFd> OpenForRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  return UniqueFd(fd);
}

Status WriteAll(int fd, ByteView data, std::string_view what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, std::string("write ") + std::string(what));
    }
    done += size_t(n);
  }
  return Status::Ok();
}

Status PreadAll(int fd, std::span<uint8_t> data, uint64_t offset, std::string_view what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd, data.data() + done, data.size() - done, off_t(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, std::string("read ") + std::string(what));
    }
    if (n == 0) return OutOfRangeError(std::string("unexpected end of file in ") + std::string(what));
    done += size_t(n);
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path, uint64_t max_size) {
  ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  if (uint64_t(st.st_size) > max_size) {
    return ResourceExhaustedError(path + ": file is " + std::to_string(st.st_size) +
                                  " bytes, over the limit of " + std::to_string(max_size));
  }
  std::string out(size_t(st.st_size), '\0');
  ARCA_RETURN_IF_ERROR(PreadAll(fd.get(), std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()), 0, path));
  return out;
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open directory " + dir);
  UniqueFd owned(fd);
  if (::fsync(fd) != 0) return ErrnoToStatus(errno, "fsync directory " + dir);
  return Status::Ok();
}

Status MakeSafeDirs(const std::string& root, std::string_view rel_dir) {
  std::string cur = root;
  size_t start = 0;
  while (start < rel_dir.size()) {
    size_t end = rel_dir.find('/', start);
    if (end == std::string_view::npos) end = rel_dir.size();
    cur += "/" + std::string(rel_dir.substr(start, end - start));
    struct stat st;
    if (::lstat(cur.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return FailedPreconditionError(cur + " exists and is not a directory (or is a symlink)");
    } else if (errno == ENOENT) {
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoToStatus(errno, "mkdir " + cur);
    } else {
      return ErrnoToStatus(errno, "stat " + cur);
    }
    start = end + 1;
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return ErrnoToStatus(ec.value(), "create directory " + path);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::filesystem::path p(path);
  std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoToStatus(errno, "create " + tmp);
  UniqueFd owned(fd);
  Status s = WriteAll(fd, AsBytes(data), tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
  owned.Reset();
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoToStatus(errno, "rename to " + path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

Result<MappedFile> MappedFile::Open(const std::string& path) {
  ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(path + " is not a regular file");
  MappedFile m;
  m.size_ = uint64_t(st.st_size);
  if (m.size_ == 0) return m;
  void* addr = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) return ErrnoToStatus(errno, "mmap " + path);
  m.addr_ = addr;
  return m;
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}
MappedFile::MappedFile(MappedFile&& o) noexcept : addr_(o.addr_), size_(o.size_) {
  o.addr_ = nullptr;
  o.size_ = 0;
}
MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (addr_ != nullptr) ::munmap(addr_, size_);
    addr_ = o.addr_;
    size_ = o.size_;
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

}  // namespace arca
