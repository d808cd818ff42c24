// DistributionSummary: the numbers reports and windows show for a set of
// samples (count, sum, extremes and the usual quantiles), read off a
// QuantileSketch. Quantiles carry the sketch's relative-error bound; count,
// sum, min, mean and max are exact.
// Thread-safety: plain value type; SummarizeSketch is a pure function.
#pragma once

#include <cstdint>

#include "analysis/quantile_sketch.h"

namespace gcpilot {

struct DistributionSummary {
  uint64_t count = 0;
  double sum = 0;  // Same unit as the samples (ns for pauses).
  double min = 0;
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
  double p95 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

// All fields are 0 for an empty sketch.
DistributionSummary SummarizeSketch(const QuantileSketch& sketch);

}  // namespace gcpilot
