// RiskRangeTracker: finds "risk ranges", the maximal time ranges in which
// consecutive complete windows (of one view, fed in time order) all had an
// allocation rate above a threshold. Consecutive means each window starts no
// later than the previous one ended (overlapping or abutting windows); an
// incomplete window, a window at or below the threshold, or a gap ends a
// range. Memory: at most kMaxRanges ranges are kept (the first ones); later
// ones are only counted.
// Thread-safety: not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "analysis/window_stats.h"

namespace gcpilot {

struct RiskRange {
  int64_t start_ns = 0;  // Start of the first window.
  int64_t end_ns = 0;    // End of the last window.
  uint64_t windows = 0;
  double peak_alloc_bytes_per_sec = 0;
  double mean_alloc_bytes_per_sec = 0;  // Mean of the windows' rates.
};

class RiskRangeTracker {
 public:
  static constexpr size_t kMaxRanges = 1000;

  explicit RiskRangeTracker(double threshold_bytes_per_sec) : threshold_(threshold_bytes_per_sec) {}

  // Feeds the next window. A window that does not end after the previous one
  // is ignored and counted in out_of_order().
  void Add(const WindowStats& w);

  // Every range found, in time order, including one still open.
  std::vector<RiskRange> Ranges() const;
  // Ranges found beyond kMaxRanges (not listed).
  uint64_t unlisted() const { return unlisted_ + (open_ && closed_.size() >= kMaxRanges ? 1 : 0); }
  uint64_t out_of_order() const { return out_of_order_; }
  double threshold() const { return threshold_; }

 private:
  static RiskRange Closed(const RiskRange& open, double rate_sum);
  void Close();

  double threshold_;
  std::vector<RiskRange> closed_;
  uint64_t unlisted_ = 0;
  uint64_t out_of_order_ = 0;
  bool has_last_ = false;
  int64_t last_end_ns_ = 0;
  bool open_ = false;
  RiskRange current_;
  double rate_sum_ = 0;
};

}  // namespace gcpilot
