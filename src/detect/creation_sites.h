// Goroutine creation sites, as the detectors see them: the samples of one
// bounded tracking session (a histogram of live goroutines by the function
// and file:line of the `go` statement that started them, taken every few
// seconds from the process's memory while goroutine_leak or heap_surge
// suspects something), their measured cost, and the ranking the findings
// cite: the sites whose live count grew most between the first and the
// last sample ("the functions that start goroutines which never end").
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gcpilot::detect {

struct SiteCount {
  std::string function;            // Holds the `go` statement.
  std::string file;                // Source file of the statement ...
  int32_t line = 0;                // ... and line (0: unknown).
  std::string goroutine_function;  // What the goroutines run.
  int64_t live = 0;

  // "main.(*leaker).leakLoop (leak/main.go:45)": the site's identity.
  std::string Key() const;
};

// One walk of the process's goroutines.
struct SiteSample {
  int64_t t_ns = 0;
  int64_t live = 0;  // Live goroutines seen in the walk.
  std::vector<SiteCount> sites;
  // Cost of the walk in the agent.
  int64_t cpu_ns = 0;
  int64_t wall_ns = 0;
  uint64_t bytes_read = 0;
  int64_t walked = 0;
  int64_t unreadable = 0;
  bool truncated = false;
};

// A bounded tracking session of one process.
struct CreationSiteTracking {
  static constexpr size_t kMaxSamples = 64;
  static constexpr size_t kMaxSitesPerSample = 256;

  int64_t started_ns = 0;
  int64_t ended_ns = 0;            // 0 while running.
  int64_t planned_ns = 0;          // How long it was meant to run.
  std::deque<SiteSample> samples;  // Oldest first, at most kMaxSamples.
  size_t walks = 0;                // Every walk (samples keep the first and the latest ones).
  int64_t total_cpu_ns = 0;
  int64_t max_wall_ns = 0;
  uint64_t total_bytes_read = 0;
  std::string last_error;  // Of the latest failed walk ("" if none).

  // Adds a sample (its sites cut to kMaxSitesPerSample, most live first);
  // beyond kMaxSamples the second-oldest is dropped, so the first sample
  // stays the baseline.
  void Add(SiteSample s);
};

struct SiteGrowth {
  SiteCount site;  // As in the latest sample.
  int64_t first_live = 0;
  int64_t last_live = 0;
  int64_t growth = 0;
  double per_sec = 0;
};

// The sites ranked by growth (latest minus first sample; a site absent from
// the first counts 0 there), then by live count. With one sample, growth
// is 0 and the ranking is by live count. At most `top`.
std::vector<SiteGrowth> RankCreationSites(const CreationSiteTracking& t, size_t top);

// The sites among RankCreationSites whose count grew by at least
// `min_growth` (and by more than nothing).
std::vector<SiteGrowth> GrowingCreationSites(const CreationSiteTracking& t, size_t top,
                                             int64_t min_growth);

// evidence["creation_sites"] of a finding: the tracking window, the ranked
// sites, and the cost ({"walks", "agent_cpu_ms", "max_walk_ms",
// "bytes_read", "method"}).
nlohmann::json CreationSitesEvidence(const CreationSiteTracking& t, size_t top);

// "main.f (f.go:12) +480 (1032 live), main.g (g.go:3) +20 (40 live)" of the
// growing sites; empty when none grew.
std::string GrowingSitesText(const std::vector<SiteGrowth>& growing);

}  // namespace gcpilot::detect
