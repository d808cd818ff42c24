// RiskRangeTracker implementation.
// Thread-safety: see risk_ranges.h.
#include "analysis/risk_ranges.h"

#include <algorithm>

namespace gcpilot {

RiskRange RiskRangeTracker::Closed(const RiskRange& open, double rate_sum) {
  RiskRange r = open;
  r.mean_alloc_bytes_per_sec = r.windows > 0 ? rate_sum / static_cast<double>(r.windows) : 0;
  return r;
}

void RiskRangeTracker::Close() {
  if (!open_) return;
  open_ = false;
  if (closed_.size() < kMaxRanges) {
    closed_.push_back(Closed(current_, rate_sum_));
  } else {
    ++unlisted_;
  }
}

void RiskRangeTracker::Add(const WindowStats& w) {
  if (has_last_ && w.end_ns <= last_end_ns_) {
    ++out_of_order_;
    return;
  }
  has_last_ = true;
  last_end_ns_ = w.end_ns;
  const bool hot = w.complete && w.alloc_bytes_per_sec > threshold_;
  if (!hot) {
    Close();
    return;
  }
  if (open_ && w.start_ns <= current_.end_ns) {
    current_.end_ns = w.end_ns;
    ++current_.windows;
    current_.peak_alloc_bytes_per_sec =
        std::max(current_.peak_alloc_bytes_per_sec, w.alloc_bytes_per_sec);
    rate_sum_ += w.alloc_bytes_per_sec;
    return;
  }
  Close();
  open_ = true;
  current_ = RiskRange{};
  current_.start_ns = w.start_ns;
  current_.end_ns = w.end_ns;
  current_.windows = 1;
  current_.peak_alloc_bytes_per_sec = w.alloc_bytes_per_sec;
  rate_sum_ = w.alloc_bytes_per_sec;
}

std::vector<RiskRange> RiskRangeTracker::Ranges() const {
  std::vector<RiskRange> out = closed_;
  if (open_ && out.size() < kMaxRanges) out.push_back(Closed(current_, rate_sum_));
  return out;
}

}  // namespace gcpilot
