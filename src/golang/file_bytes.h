// FileBytes: the whole content of one file, read-only, owned (RAII): either a
// private memory mapping of a file on disk or a heap copy of a buffer. The
// bytes never move for the lifetime of the object (also across moves), so
// spans and string_views into them stay valid while it lives.
//
// A mapping of a file that another process truncates afterwards would fault
// on access (SIGBUS); binaries of running processes cannot be written
// (ETXTBSY) and replacing them by rename keeps our inode, so this only
// matters for arbitrary paths being rewritten in place while read.
// Thread-safety: immutable after construction; const access from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace gcpilot::golang {

// What identifies a file's content on disk without reading it: used as a
// cache key when a binary has no build ID. All zero for in-memory buffers.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;

  bool operator==(const FileIdentity&) const = default;
};

// stat(2) of `path` as a FileIdentity. NotFound / PermissionDenied /
// InvalidArgument (not a regular file) on failure.
StatusOr<FileIdentity> StatFileIdentity(const std::string& path);

class FileBytes {
 public:
  // Maps `path` (a regular, non-empty file) privately. Errors: NotFound,
  // PermissionDenied, InvalidArgument (directory, device, empty file).
  static StatusOr<FileBytes> MapFile(const std::string& path);
  // Copies `bytes` to the heap.
  static FileBytes Copy(std::span<const uint8_t> bytes);

  FileBytes(FileBytes&& other) noexcept;
  FileBytes& operator=(FileBytes&& other) noexcept;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes();

  std::span<const uint8_t> span() const { return {data_, size_}; }
  // Writable view for C libraries that take a non-const image (libelf's
  // elf_memory). Writes stay private: never reach the file.
  uint8_t* mutable_data() { return data_; }
  size_t size() const { return size_; }
  const FileIdentity& identity() const { return identity_; }

 private:
  FileBytes() = default;
  void Reset();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;        // true: munmap(data_); false: heap_ owns it.
  std::vector<uint8_t> heap_;  // Storage of a Copy().
  FileIdentity identity_;
};

}  // namespace gcpilot::golang
