// The breaker's state machine (see breaker.h).
#include "control/breaker.h"

#include <cstdio>

namespace gcpilot::control {

std::string_view BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kHalfOpen:
      return "half_open";
    case BreakerState::kOpen:
      return "open";
  }
  return "closed";
}

std::string FormatMs(int64_t ns) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(ns) / 1e6);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s + "ms";
}

std::string FormatShort(int64_t ns) {
  if (ns < 1'000'000'000) return FormatMs(ns);
  std::string ms = FormatMs(ns / 1000);  // Seconds with up to 3 decimals.
  return ms.substr(0, ms.size() - 2) + "s";
}

Status ValidateBreakerParams(const BreakerParams& p) {
  constexpr int64_t kMinute = 60'000'000'000;
  if (p.threshold_ns <= 0 || p.threshold_ns > kMinute) {
    return Status::InvalidArgument("breaker 'threshold' must be above 0 and at most 1m (got " +
                                   FormatShort(p.threshold_ns) + ")");
  }
  if (p.cool_down_ns <= 0 || p.cool_down_ns > 60 * kMinute) {
    return Status::InvalidArgument("breaker 'cool_down' must be above 0 and at most 1h");
  }
  if (p.recovery_windows < 1 || p.recovery_windows > 1000) {
    return Status::InvalidArgument("breaker 'recovery_windows' must be in 1..1000");
  }
  if (p.view.empty()) return Status::InvalidArgument("breaker 'window' must name a view");
  return Status::Ok();
}

BreakerTransition Breaker::Move(BreakerState to, int64_t at_ns, int64_t p99_ns, int64_t start_ns,
                                int64_t end_ns, std::string reason) {
  BreakerTransition t;
  t.from = state_;
  t.to = to;
  t.at_ns = at_ns;
  t.p99_ns = p99_ns;
  t.threshold_ns = params_.threshold_ns;
  t.window_start_ns = start_ns;
  t.window_end_ns = end_ns;
  t.reason = std::move(reason);
  state_ = to;
  since_ns_ = at_ns;
  healthy_in_a_row_ = 0;
  last_ = t;
  ++transitions_;
  return t;
}

std::optional<BreakerTransition> Breaker::Advance(int64_t now_ns) {
  if (state_ != BreakerState::kOpen) return std::nullopt;
  int64_t due = last_unhealthy_end_ns_ + params_.cool_down_ns;
  if (now_ns < due) return std::nullopt;
  return Move(BreakerState::kHalfOpen, due, 0, last_unhealthy_end_ns_, due,
              "cool-down of " + FormatShort(params_.cool_down_ns) +
                  " passed without an STW P99 above " + FormatMs(params_.threshold_ns) +
                  "; probing with " + std::to_string(params_.recovery_windows) +
                  " healthy windows");
}

std::optional<BreakerTransition> Breaker::Unhealthy(int64_t start_ns, int64_t end_ns,
                                                    int64_t p99_ns) {
  if (end_ns > last_unhealthy_end_ns_) last_unhealthy_end_ns_ = end_ns;
  healthy_in_a_row_ = 0;
  std::string numbers = "STW P99 " + FormatMs(p99_ns) + " > threshold " +
                        FormatMs(params_.threshold_ns) + " over the " + params_.view + " window";
  switch (state_) {
    case BreakerState::kClosed:
      return Move(BreakerState::kOpen, end_ns, p99_ns, start_ns, end_ns, numbers);
    case BreakerState::kHalfOpen:
      return Move(BreakerState::kOpen, end_ns, p99_ns, start_ns, end_ns,
                  numbers + " while half-open");
    case BreakerState::kOpen:
      return std::nullopt;  // The cool-down starts again from this window.
  }
  return std::nullopt;
}

std::optional<BreakerTransition> Breaker::OnUnhealthyNow(int64_t start_ns, int64_t end_ns,
                                                         int64_t stw_p99_ns) {
  std::optional<BreakerTransition> t = Advance(end_ns);
  std::optional<BreakerTransition> u = Unhealthy(start_ns, end_ns, stw_p99_ns);
  return u ? u : t;
}

std::optional<BreakerTransition> Breaker::OnWindow(int64_t start_ns, int64_t end_ns,
                                                   int64_t stw_p99_ns) {
  std::optional<BreakerTransition> t = Advance(end_ns);
  if (stw_p99_ns > params_.threshold_ns) {
    std::optional<BreakerTransition> u = Unhealthy(start_ns, end_ns, stw_p99_ns);
    return u ? u : t;
  }
  if (state_ != BreakerState::kHalfOpen) return t;
  if (++healthy_in_a_row_ < params_.recovery_windows) return t;
  return Move(BreakerState::kClosed, end_ns, stw_p99_ns, start_ns, end_ns,
              std::to_string(params_.recovery_windows) +
                  " healthy windows in a row (STW P99 at most " + FormatMs(params_.threshold_ns) +
                  " over the " + params_.view + " window)");
}

}  // namespace gcpilot::control
