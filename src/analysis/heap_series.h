// HeapSeries: live heap and heap goal over a run as a bounded series, for
// the final report's chart. Samples go into time buckets of equal width
// (starting at 1 s from the first sample); when the run outgrows
// 2 x max_points buckets, the width doubles and neighbouring buckets merge.
// Each bucket keeps min / max / last live heap and max / last goal, so spikes
// survive downsampling. Memory: at most 2 x max_points buckets.
// Thread-safety: not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gcpilot {

struct HeapPoint {
  int64_t start_ns = 0;  // Bucket [start_ns, end_ns) on the process's time axis.
  int64_t end_ns = 0;
  uint64_t samples = 0;
  uint64_t live_min_bytes = 0;
  uint64_t live_max_bytes = 0;
  uint64_t live_last_bytes = 0;
  uint64_t goal_max_bytes = 0;
  uint64_t goal_last_bytes = 0;
  int64_t last_at_ns = 0;  // Time of the latest sample in the bucket.
};

class HeapSeries {
 public:
  static constexpr int64_t kInitialBucketNs = 1'000'000'000;

  explicit HeapSeries(size_t max_points = 60);

  // Adds a sample (e.g. a cycle's live heap and goal at its end). Samples
  // earlier than the first one go into the first bucket.
  void Add(int64_t at_ns, uint64_t live_bytes, uint64_t goal_bytes);

  // At most max_points non-empty buckets, in time order.
  std::vector<HeapPoint> Points() const;

 private:
  // Doubles the bucket width of `buckets` (index i covers width x i from
  // origin_ns_), merging pairs.
  static void Coarsen(std::vector<HeapPoint>* buckets);
  static void MergeInto(const HeapPoint& from, HeapPoint* into);

  size_t max_points_;
  bool has_origin_ = false;
  int64_t origin_ns_ = 0;
  int64_t width_ns_ = kInitialBucketNs;
  std::vector<HeapPoint> buckets_;
};

}  // namespace gcpilot
