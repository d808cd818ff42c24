// GoBinaryCache: parses each Go binary once. Get(path) stats the file and
// returns the GoBinary already parsed for the same (device, inode, mtime,
// size), or for the same build ID and size (the same build at another path,
// e.g. 50 replicas in 50 container root file systems; a copy rewritten by
// objcopy keeps the build ID but not the size); otherwise it parses the
// file. Failures (e.g. "not a Go binary") are remembered per file identity
// too, so re-scanning processes does not re-read non-Go executables.
// A binary found by build ID keeps the path it was first parsed from.
//
// Thread-safety: thread-safe; a mutex guards the maps. Parsing happens
// outside the lock, so two threads may parse the same new file at once; the
// first result inserted wins and both get it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "golang/file_bytes.h"
#include "golang/go_binary.h"

namespace gcpilot::golang {

class GoBinaryCache {
 public:
  struct Stats {
    uint64_t identity_hits = 0;  // Same file seen before.
    uint64_t build_id_hits = 0;  // Parsed a new file, reused an equal build.
    uint64_t parses = 0;         // Files parsed (successfully or not).
  };

  // Bounds the remembered failures; beyond it they are all forgotten.
  static constexpr size_t kMaxRememberedFailures = 4096;

  // The parsed binary at `path`, or the error of stat or GoBinary::Open.
  StatusOr<std::shared_ptr<const GoBinary>> Get(const std::string& path);
  // Forgets binaries that no caller holds any more, and all failures.
  // Returns the number of entries dropped.
  size_t Prune();
  // Distinct binaries held.
  size_t size() const;
  Stats stats() const;

 private:
  struct IdentityHash {
    size_t operator()(const FileIdentity& id) const;
  };

  mutable std::mutex mu_;
  std::unordered_map<FileIdentity, std::shared_ptr<const GoBinary>, IdentityHash> by_identity_;
  std::unordered_map<std::string, std::shared_ptr<const GoBinary>> by_build_id_;
  std::unordered_map<FileIdentity, Status, IdentityHash> failures_;
  Stats stats_;
};

}  // namespace gcpilot::golang
