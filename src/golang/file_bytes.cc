// FileBytes: private read-only mappings of files and heap copies of buffers.
#include "golang/file_bytes.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "core/unique_fd.h"

namespace gcpilot::golang {
namespace {

FileIdentity IdentityOf(const struct stat& st) {
  FileIdentity id;
  id.device = static_cast<uint64_t>(st.st_dev);
  id.inode = static_cast<uint64_t>(st.st_ino);
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  id.size = static_cast<uint64_t>(st.st_size);
  return id;
}

Status CheckRegular(const struct stat& st, const std::string& path) {
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + ": is a directory");
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  return Status::Ok();
}

}  // namespace

StatusOr<FileIdentity> StatFileIdentity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, path);
  GCPILOT_RETURN_IF_ERROR(CheckRegular(st, path));
  return IdentityOf(st);
}

StatusOr<FileBytes> FileBytes::MapFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, path);
  GCPILOT_RETURN_IF_ERROR(CheckRegular(st, path));
  if (st.st_size <= 0) return Status::InvalidArgument(path + ": empty file");
  const size_t size = static_cast<size_t>(st.st_size);
  // PROT_WRITE + MAP_PRIVATE: libelf takes a non-const image; any write it
  // might make stays in our copy-on-write pages.
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) return Status::FromErrno(errno, "mmap " + path);
  FileBytes bytes;
  bytes.data_ = static_cast<uint8_t*>(addr);
  bytes.size_ = size;
  bytes.mapped_ = true;
  bytes.identity_ = IdentityOf(st);
  return bytes;
}

FileBytes FileBytes::Copy(std::span<const uint8_t> bytes) {
  FileBytes copy;
  copy.heap_.assign(bytes.begin(), bytes.end());
  copy.data_ = copy.heap_.data();
  copy.size_ = copy.heap_.size();
  copy.identity_.size = copy.size_;
  return copy;
}

FileBytes::FileBytes(FileBytes&& other) noexcept { *this = std::move(other); }

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  if (this != &other) {
    Reset();
    // Moving a vector keeps its buffer, so data_ stays valid.
    heap_ = std::move(other.heap_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, false);
    identity_ = other.identity_;
    other.heap_.clear();
  }
  return *this;
}

FileBytes::~FileBytes() { Reset(); }

void FileBytes::Reset() {
  if (mapped_ && data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
  heap_.clear();
}

}  // namespace gcpilot::golang
