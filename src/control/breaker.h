// Breaker: the GC-jitter circuit breaker of one target, as pure logic (no
// clock, no I/O): it is fed the STW P99 of each completed window (the max of
// the GC pause P99 and the non-GC stop P99) and moves between
//
//   CLOSED    -> OPEN       a window's STW P99 > threshold;
//   OPEN      -> HALF_OPEN  cool_down after the last unhealthy window;
//   HALF_OPEN -> CLOSED     recovery_windows healthy windows in a row;
//   HALF_OPEN -> OPEN       an unhealthy window.
//
// A window with no pause is healthy. Times are the windows' end times (the
// process's time axis, CLOCK_MONOTONIC for the eBPF source), so replaying
// the same windows gives the same transitions. Each transition records when,
// and why with the numbers (p99, threshold, window).
//
// Thread-safety: not thread-safe; one instance per target, owned by its
// caller (BreakerService locks around it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gcpilot::control {

enum class BreakerState { kClosed = 0, kHalfOpen = 1, kOpen = 2 };
// "closed", "half_open", "open".
std::string_view BreakerStateName(BreakerState s);

struct BreakerParams {
  int64_t threshold_ns = 5'000'000;  // STW P99 above this is unhealthy.
  std::string view = "1s";           // The window view the breaker judges.
  int64_t cool_down_ns = 10'000'000'000;
  int64_t recovery_windows = 3;
};

// OK, or InvalidArgument naming the option: a threshold that is not in
// (0, 1 min], a cool-down not in (0, 1 h], recovery windows not in 1..1000,
// an empty view.
Status ValidateBreakerParams(const BreakerParams& p);

struct BreakerTransition {
  BreakerState from = BreakerState::kClosed;
  BreakerState to = BreakerState::kClosed;
  int64_t at_ns = 0;         // When (window end or cool-down end).
  int64_t p99_ns = 0;        // The STW P99 of the window that decided it.
  int64_t threshold_ns = 0;  // The threshold it was compared with.
  int64_t window_start_ns = 0;
  int64_t window_end_ns = 0;
  std::string reason;  // In words, with the numbers.
};

class Breaker {
 public:
  explicit Breaker(BreakerParams params) : params_(std::move(params)) {}

  // A completed window [start_ns, end_ns) whose STW P99 is stw_p99_ns (0: no
  // pause). Applies an elapsed cool-down first (OPEN -> HALF_OPEN at the
  // cool-down's end), then judges the window. Returns the last transition
  // made, if any (all of them are in last()/transitions()).
  std::optional<BreakerTransition> OnWindow(int64_t start_ns, int64_t end_ns, int64_t stw_p99_ns);

  // Time passes without windows (e.g. an idle process): OPEN -> HALF_OPEN
  // once the cool-down has elapsed at now_ns.
  std::optional<BreakerTransition> Advance(int64_t now_ns);

  // A pause that makes the window ending now unhealthy, seen before the
  // window completes (the fast path: trips at once instead of at the next
  // window). Same rules as OnWindow for an unhealthy window.
  std::optional<BreakerTransition> OnUnhealthyNow(int64_t start_ns, int64_t end_ns,
                                                  int64_t stw_p99_ns);

  BreakerState state() const { return state_; }
  int64_t since_ns() const { return since_ns_; }  // 0: never changed.
  const std::optional<BreakerTransition>& last() const { return last_; }
  uint64_t transitions() const { return transitions_; }
  int64_t healthy_in_a_row() const { return healthy_in_a_row_; }
  const BreakerParams& params() const { return params_; }

 private:
  BreakerTransition Move(BreakerState to, int64_t at_ns, int64_t p99_ns, int64_t start_ns,
                         int64_t end_ns, std::string reason);
  std::optional<BreakerTransition> Unhealthy(int64_t start_ns, int64_t end_ns, int64_t p99_ns);

  BreakerParams params_;
  BreakerState state_ = BreakerState::kClosed;
  int64_t since_ns_ = 0;
  int64_t last_unhealthy_end_ns_ = 0;  // Cool-down runs from here.
  int64_t healthy_in_a_row_ = 0;
  std::optional<BreakerTransition> last_;
  uint64_t transitions_ = 0;
};

// "7.3ms" style: a duration in ms with up to 3 decimals.
std::string FormatMs(int64_t ns);
// FormatMs below 1 s, else seconds: "10s", "1.5s".
std::string FormatShort(int64_t ns);

}  // namespace gcpilot::control
