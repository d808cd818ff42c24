// GctraceFollower: a `gcpilot serve` source for services the agent cannot
// probe: it follows a log file that receives a Go program's gctrace output
// (GODEBUG=gctrace=1[,gcpacertrace=1] on its stderr), like `tail -F`: it
// starts at the end of the file, reads what is appended, and follows
// truncation (also when the file was rewritten past the old offset before
// the next poll: the last bytes read are checked) and rotation (a new file
// at the path). Lines go through the
// same GctraceSource as `gcpilot ingest`.
//
// Time: gctrace's "@T s" counts from the process start, which the agent does
// not know; the first cycle read is taken to have ended when it was read, and
// every later event keeps that offset (so charts and windows line up with
// the eBPF processes on CLOCK_MONOTONIC). A restart of the service (its
// cycle counter starting again) ends the old process (exited) and starts a
// new generation.
//
// Thread-safety: not thread-safe; polled from the agent's ingest thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "model/events.h"
#include "sources/gctrace/gctrace_source.h"
#include "sources/line_splitter.h"

namespace gcpilot::serve {

struct GctraceTarget {
  std::string path;  // The log file.
  std::string name;  // Shown as comm / binary (default: the file name).
  int32_t pid = 0;   // The API's id for it (default: assigned).
};

class GctraceFollower {
 public:
  using Emit = std::function<void(const Event&)>;
  using Notice = std::function<void(const std::string&)>;

  GctraceFollower(GctraceTarget target, Emit emit, Notice notice);

  // Reads what was appended since the last call; now_ns on CLOCK_MONOTONIC.
  void Poll(int64_t now_ns);

  const GctraceTarget& target() const { return target_; }
  const gctrace::SourceStats& stats() const { return source_.stats(); }
  uint64_t rotations() const { return rotations_; }

 private:
  static constexpr size_t kTailBytes = 256;  // More than a gctrace line.

  void Open(bool at_end);
  void RememberTail(std::string_view data);
  bool TailStillThere() const;
  void OnEvent(Event e);
  void Release(Event e);

  GctraceTarget target_;
  Emit emit_;
  Notice notice_;
  gctrace::GctraceSource source_;
  LineSplitter splitter_;
  UniqueFd fd_;
  ino_t inode_ = 0;
  off_t offset_ = 0;
  std::string tail_;  // The last bytes read, to notice a truncate-and-rewrite.
  bool missing_noted_ = false;
  uint64_t rotations_ = 0;
  uint64_t long_bytes_ = 0;
  int64_t now_ns_ = 0;
  std::optional<int64_t> shift_ns_;  // Added to every event time once known.
  std::vector<Event> held_;          // Until the first cycle fixes shift_ns_.
  std::optional<ProcessKey> last_key_;
  int64_t last_ts_ns_ = 0;
};

}  // namespace gcpilot::serve
