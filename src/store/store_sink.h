// StoreSink: a ModelSink that records what the model assembles (processes,
// GC cycles, stops, exits) into a HistoryStore, converting the records'
// times (CLOCK_MONOTONIC for live sources, time since process start for
// logs) to wall-clock time: wall = ts + wall_offset_ns.
//
// When the offset is not known yet (a log whose wall time is only known
// once its end is read), the sink holds the records until SetWallOffset(),
// then hands them to the store; ts_range() tells the span of times seen.
// The sink never calls Flush(): its owner does (the agent every second,
// `gcpilot ingest` at the end).
// Thread-safety: not thread-safe; called from the thread feeding the model.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "model/model_sink.h"
#include "store/history_store.h"

namespace gcpilot {

class StoreSink final : public ModelSink {
 public:
  // `wall_offset_ns`: nullopt to hold records until SetWallOffset().
  StoreSink(HistoryStore* store, std::optional<int64_t> wall_offset_ns)
      : store_(store), offset_(wall_offset_ns) {}

  // Sets (or changes, for records still to come) the offset and hands any
  // held records to the store.
  void SetWallOffset(int64_t wall_offset_ns);

  // Earliest and latest event time seen (a cycle counts until it ends);
  // nullopt before any record.
  std::optional<int64_t> first_ts_ns() const { return first_ts_; }
  std::optional<int64_t> last_ts_ns() const { return last_ts_; }
  size_t held() const { return held_.size(); }

  void OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) override;
  void OnCycle(const ProcessKey& p, const GcCycle& cycle) override;
  void OnPause(const ProcessKey& p, const StwPause& pause) override;
  void OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) override;

 private:
  struct Seen {
    ProcessInfo info;
    int64_t ts_ns;
  };
  struct Exit {
    ProcessExited exit;
    int64_t ts_ns;
  };
  struct Held {
    ProcessKey key;
    std::variant<Seen, GcCycle, StwPause, Exit> record;
  };

  void Note(int64_t first, int64_t last);
  void Write(const Held& h);

  HistoryStore* store_;
  std::optional<int64_t> offset_;
  std::vector<Held> held_;
  std::optional<int64_t> first_ts_, last_ts_;
};

}  // namespace gcpilot
