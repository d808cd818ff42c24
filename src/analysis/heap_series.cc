// HeapSeries implementation: equal-width buckets that double in width.
// Thread-safety: see heap_series.h.
#include "analysis/heap_series.h"

#include <algorithm>

namespace gcpilot {

HeapSeries::HeapSeries(size_t max_points) : max_points_(std::max<size_t>(max_points, 1)) {}

void HeapSeries::MergeInto(const HeapPoint& from, HeapPoint* into) {
  if (from.samples == 0) return;
  if (into->samples == 0) {
    *into = from;
    return;
  }
  into->samples += from.samples;
  into->live_min_bytes = std::min(into->live_min_bytes, from.live_min_bytes);
  into->live_max_bytes = std::max(into->live_max_bytes, from.live_max_bytes);
  into->goal_max_bytes = std::max(into->goal_max_bytes, from.goal_max_bytes);
  if (from.last_at_ns >= into->last_at_ns) {
    into->live_last_bytes = from.live_last_bytes;
    into->goal_last_bytes = from.goal_last_bytes;
    into->last_at_ns = from.last_at_ns;
  }
}

void HeapSeries::Coarsen(std::vector<HeapPoint>* buckets) {
  std::vector<HeapPoint> merged((buckets->size() + 1) / 2);
  for (size_t i = 0; i < buckets->size(); ++i) MergeInto((*buckets)[i], &merged[i / 2]);
  buckets->swap(merged);
}

void HeapSeries::Add(int64_t at_ns, uint64_t live_bytes, uint64_t goal_bytes) {
  if (!has_origin_) {
    has_origin_ = true;
    origin_ns_ = at_ns;
  }
  const int64_t offset = std::max<int64_t>(0, at_ns - origin_ns_);
  while (offset / width_ns_ >= static_cast<int64_t>(2 * max_points_)) {
    Coarsen(&buckets_);
    width_ns_ *= 2;
  }
  const auto index = static_cast<size_t>(offset / width_ns_);
  if (buckets_.size() <= index) buckets_.resize(index + 1);
  HeapPoint sample;
  sample.samples = 1;
  sample.live_min_bytes = sample.live_max_bytes = sample.live_last_bytes = live_bytes;
  sample.goal_max_bytes = sample.goal_last_bytes = goal_bytes;
  sample.last_at_ns = at_ns;
  MergeInto(sample, &buckets_[index]);
}

std::vector<HeapPoint> HeapSeries::Points() const {
  std::vector<HeapPoint> buckets = buckets_;
  int64_t width = width_ns_;
  while (buckets.size() > max_points_) {
    Coarsen(&buckets);
    width *= 2;
  }
  std::vector<HeapPoint> out;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i].samples == 0) continue;
    HeapPoint p = buckets[i];
    p.start_ns = origin_ns_ + static_cast<int64_t>(i) * width;
    p.end_ns = p.start_ns + width;
    out.push_back(p);
  }
  return out;
}

}  // namespace gcpilot
