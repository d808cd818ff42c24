// SummarizeSketch: reads a DistributionSummary off a QuantileSketch.
// Thread-safety: pure function.
#include "analysis/distribution_summary.h"

namespace gcpilot {

DistributionSummary SummarizeSketch(const QuantileSketch& sketch) {
  DistributionSummary s;
  if (sketch.empty()) return s;
  s.count = sketch.count();
  s.sum = sketch.sum();
  s.min = sketch.min();
  s.mean = sketch.sum() / static_cast<double>(sketch.count());
  s.p50 = sketch.Quantile(0.5);
  s.p90 = sketch.Quantile(0.9);
  s.p95 = sketch.Quantile(0.95);
  s.p99 = sketch.Quantile(0.99);
  s.p999 = sketch.Quantile(0.999);
  s.max = sketch.max();
  return s;
}

}  // namespace gcpilot
