// QuantileSketch: a mergeable, memory-bounded quantile sketch (DDSketch-style)
// for non-negative values such as pause durations in ns or rates.
//
// Error bound: with relative accuracy a (default 0.01), values are kept in
// logarithmic buckets (gamma^(i-1), gamma^i] with gamma = (1+a)/(1-a), and a
// bucket answers with 2*gamma^i/(gamma+1). So for any value v >= the zero
// threshold, the answer for the rank of v is within a*v of v (1% by default):
// Quantile(q) returns x' with |x' - x| <= a*x, where x is the exact value at
// rank floor(q * (count - 1)) of the sorted input. Two exceptions, both
// documented and both observable:
//  - values below the zero threshold (default 1.0; gctrace prints sub-us
//    pauses as "0") share one zero bucket and answer as 0 (then clamped to
//    min()), so their error is absolute (< threshold), not relative;
//  - the store is capped at max_buckets (default 2048) consecutive bucket
//    indexes; when a value would widen it past the cap, the lowest buckets are
//    collapsed into the lowest kept one (collapsed() turns true), and quantiles
//    that fall in collapsed buckets over-estimate. With the defaults the cap
//    spans a dynamic range of gamma^2048 ~= 6e17, so durations in ns never
//    collapse; the cap only guards memory against pathological input.
// count(), sum(), min() and max() are exact; Quantile(0) is min(), Quantile(1)
// is max(), and every answer is clamped into [min(), max()].
//
// Memory: at most max_buckets + 64 counters (8 bytes each) plus a few fields;
// an empty sketch holds no heap memory. Add() is O(1) amortized (one log() and
// an array increment; the dense array grows with slack as the range widens).
// Merging two sketches is O(buckets) and bucket-exact: the merge of sketches
// equals the sketch of the union of their inputs (also after collapsing, when
// the caps are equal).
//
// Thread-safety: not thread-safe; a const sketch may be read from several
// threads.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gcpilot {

class QuantileSketch {
 public:
  static constexpr double kDefaultRelativeAccuracy = 0.01;
  static constexpr double kDefaultZeroThreshold = 1.0;
  static constexpr int kDefaultMaxBuckets = 2048;

  // Out-of-range parameters are clamped: relative_accuracy into
  // [1e-4, 0.5], zero_threshold to at least 1e-9, max_buckets to at least 16.
  explicit QuantileSketch(double relative_accuracy = kDefaultRelativeAccuracy,
                          double zero_threshold = kDefaultZeroThreshold,
                          int max_buckets = kDefaultMaxBuckets);

  // Records one value. Negative values are recorded as 0 (into the zero
  // bucket); NaN and infinities are not recorded and are counted in
  // rejected_count().
  void Add(double value);

  // Adds every value recorded in `other` to this sketch. Fails with
  // InvalidArgument (and changes nothing) when the sketches differ in relative
  // accuracy or zero threshold; their bucket caps may differ (this sketch's cap
  // applies).
  Status Merge(const QuantileSketch& other);

  // An estimate of the value at rank floor(q * (count() - 1)) of the sorted
  // values, within the bound above. q is clamped into [0, 1]. Returns 0 for an
  // empty sketch.
  double Quantile(double q) const;

  // Forgets every value; keeps the parameters (and the allocated array, so a
  // reused sketch does not allocate again).
  void Clear();

  bool empty() const { return count_ == 0; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  // Exact extremes; 0 when empty.
  double min() const { return count_ == 0 ? 0 : min_; }
  double max() const { return count_ == 0 ? 0 : max_; }
  uint64_t zero_count() const { return zero_count_; }
  uint64_t rejected_count() const { return rejected_; }
  // True once any bucket was collapsed because of the cap.
  bool collapsed() const { return collapsed_; }

  double relative_accuracy() const { return relative_accuracy_; }
  double zero_threshold() const { return zero_threshold_; }
  int max_buckets() const { return max_buckets_; }

  // The non-empty logarithmic buckets as (index, count), by ascending index;
  // the zero bucket is not included (see zero_count()). For tests and for
  // exporters that convert to histograms.
  std::vector<std::pair<int32_t, uint64_t>> Buckets() const;
  // Bucket `index` holds values in (BucketUpperBound(index - 1),
  // BucketUpperBound(index)].
  double BucketUpperBound(int32_t index) const;
  // The value bucket `index` answers with.
  double BucketValue(int32_t index) const;
  // Counters currently allocated (the memory bound above).
  size_t allocated_buckets() const { return counts_.size(); }

 private:
  int32_t KeyFor(double value) const;
  void AddToStore(int32_t key, uint64_t n);
  // Makes counts_ cover keys [lo, hi]; keeps every stored count.
  void EnsureRange(int32_t lo, int32_t hi);

  double relative_accuracy_;
  double zero_threshold_;
  int max_buckets_;
  double gamma_;
  double log_gamma_;
  double inv_log_gamma_;

  uint64_t count_ = 0;
  uint64_t zero_count_ = 0;
  uint64_t rejected_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  bool collapsed_ = false;

  // Dense store: counts_[i] counts key offset_ + i. Keys with counts lie in
  // [min_key_, max_key_] (valid when store_count_ > 0), a range of at most
  // max_buckets_ keys; every counter outside it is zero.
  std::vector<uint64_t> counts_;
  int32_t offset_ = 0;
  int32_t min_key_ = 0;
  int32_t max_key_ = 0;
  uint64_t store_count_ = 0;
};

}  // namespace gcpilot
