// QuantileSketch implementation: logarithmic bucket keys, a dense counter
// array with an offset, and collapsing of the lowest buckets at the cap.
// Thread-safety: see quantile_sketch.h.
#include "analysis/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace gcpilot {
namespace {

// Extra counters allocated beyond the needed range when the array grows, so a
// widening range does not reallocate on every Add.
constexpr int32_t kMinSlack = 16;
constexpr int32_t kMaxSlack = 64;

}  // namespace

QuantileSketch::QuantileSketch(double relative_accuracy, double zero_threshold, int max_buckets)
    : relative_accuracy_(std::clamp(
          std::isnan(relative_accuracy) ? kDefaultRelativeAccuracy : relative_accuracy, 1e-4, 0.5)),
      zero_threshold_(std::isnan(zero_threshold) ? kDefaultZeroThreshold
                                                 : std::max(zero_threshold, 1e-9)),
      max_buckets_(std::max(max_buckets, 16)),
      gamma_((1 + relative_accuracy_) / (1 - relative_accuracy_)),
      log_gamma_(std::log(gamma_)),
      inv_log_gamma_(1 / log_gamma_) {}

int32_t QuantileSketch::KeyFor(double value) const {
  return static_cast<int32_t>(std::ceil(std::log(value) * inv_log_gamma_));
}

double QuantileSketch::BucketUpperBound(int32_t index) const {
  return std::exp(static_cast<double>(index) * log_gamma_);
}

double QuantileSketch::BucketValue(int32_t index) const {
  return BucketUpperBound(index) * 2 / (gamma_ + 1);
}

void QuantileSketch::Add(double value) {
  if (!std::isfinite(value)) {
    ++rejected_;
    return;
  }
  if (value < 0) value = 0;
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
  if (value < zero_threshold_) {
    ++zero_count_;
    return;
  }
  AddToStore(KeyFor(value), 1);
}

void QuantileSketch::AddToStore(int32_t key, uint64_t n) {
  if (store_count_ == 0) {
    min_key_ = max_key_ = key;
    EnsureRange(key, key);
  } else if (key > max_key_) {
    const int32_t floor = key - max_buckets_ + 1;
    uint64_t moved = 0;
    if (floor > min_key_) {
      // Collapse keys [min_key_, floor) into `floor`.
      const int32_t last = std::min(floor - 1, max_key_);
      for (int32_t k = min_key_; k <= last; ++k) {
        uint64_t& c = counts_[static_cast<size_t>(k - offset_)];
        moved += c;
        c = 0;
      }
      min_key_ = floor;
      collapsed_ = true;
    }
    max_key_ = key;
    EnsureRange(min_key_, max_key_);
    counts_[static_cast<size_t>(min_key_ - offset_)] += moved;
  } else if (key < min_key_) {
    const int32_t floor = max_key_ - max_buckets_ + 1;
    if (key < floor) {
      key = floor;
      collapsed_ = true;
    }
    min_key_ = key;
    EnsureRange(min_key_, max_key_);
  }
  counts_[static_cast<size_t>(key - offset_)] += n;
  store_count_ += n;
}

void QuantileSketch::EnsureRange(int32_t lo, int32_t hi) {
  const int32_t size = static_cast<int32_t>(counts_.size());
  if (size > 0 && lo >= offset_ && hi < offset_ + size) return;
  const int32_t needed = hi - lo + 1;
  const int32_t slack =
      std::min(std::clamp(needed / 2, kMinSlack, kMaxSlack), max_buckets_ + kMaxSlack - needed);
  int32_t new_lo = lo;
  if (size > 0 && lo < offset_) {
    new_lo = lo - slack;  // Growing downwards: leave room below.
  } else if (size == 0) {
    new_lo = lo - slack / 2;  // First allocation: room on both sides.
  }
  const int32_t new_size = needed + std::max(slack, 0);
  std::vector<uint64_t> grown(static_cast<size_t>(new_size), 0);
  if (store_count_ > 0 && size > 0) {
    // Every count lies in [lo, hi] (the caller already moved collapsed ones).
    const int32_t from = std::max(offset_, new_lo);
    const int32_t to = std::min(offset_ + size, new_lo + new_size);
    for (int32_t k = from; k < to; ++k) {
      grown[static_cast<size_t>(k - new_lo)] = counts_[static_cast<size_t>(k - offset_)];
    }
  }
  counts_.swap(grown);
  offset_ = new_lo;
}

Status QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.relative_accuracy_ != relative_accuracy_ || other.zero_threshold_ != zero_threshold_) {
    return Status::InvalidArgument(
        "cannot merge quantile sketches with different parameters (relative accuracy " +
        std::to_string(relative_accuracy_) + " vs " + std::to_string(other.relative_accuracy_) +
        ", zero threshold " + std::to_string(zero_threshold_) + " vs " +
        std::to_string(other.zero_threshold_) + ")");
  }
  if (&other == this) {
    const QuantileSketch copy = other;  // NOLINT(performance-unnecessary-copy-initialization)
    return Merge(copy);
  }
  rejected_ += other.rejected_;
  if (other.count_ == 0) return Status::Ok();
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
  zero_count_ += other.zero_count_;
  collapsed_ = collapsed_ || other.collapsed_;
  if (other.store_count_ > 0) {
    // Highest key first, so the range (and any collapse) is settled once.
    for (int32_t k = other.max_key_; k >= other.min_key_; --k) {
      const uint64_t c = other.counts_[static_cast<size_t>(k - other.offset_)];
      if (c != 0) AddToStore(k, c);
    }
  }
  return Status::Ok();
}

double QuantileSketch::Quantile(double q) const {
  if (count_ == 0) return 0;
  if (std::isnan(q)) q = 0;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  const double rank = q * static_cast<double>(count_ - 1);
  double value = max_;
  uint64_t seen = zero_count_;
  if (static_cast<double>(seen) > rank) {
    value = 0;
  } else if (store_count_ > 0) {
    for (int32_t k = min_key_; k <= max_key_; ++k) {
      seen += counts_[static_cast<size_t>(k - offset_)];
      if (static_cast<double>(seen) > rank) {
        value = BucketValue(k);
        break;
      }
    }
  }
  return std::clamp(value, min_, max_);
}

void QuantileSketch::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = zero_count_ = rejected_ = store_count_ = 0;
  sum_ = min_ = max_ = 0;
  collapsed_ = false;
}

std::vector<std::pair<int32_t, uint64_t>> QuantileSketch::Buckets() const {
  std::vector<std::pair<int32_t, uint64_t>> out;
  if (store_count_ == 0) return out;
  for (int32_t k = min_key_; k <= max_key_; ++k) {
    const uint64_t c = counts_[static_cast<size_t>(k - offset_)];
    if (c != 0) out.emplace_back(k, c);
  }
  return out;
}

}  // namespace gcpilot
