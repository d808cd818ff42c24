// Clock: the one place analysis and the CLI get "now" from, so tests can
// inject time. All times are nanoseconds on CLOCK_MONOTONIC, the clock the Go
// runtime's nanotime() and bpf_ktime_get_ns() also use.
// Thread-safety: MonotonicClock is stateless; ManualClock is not thread-safe.
#pragma once

#include <cstdint>
#include <ctime>

namespace gcpilot {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() const = 0;
};

class MonotonicClock final : public Clock {
 public:
  int64_t NowNs() const override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
};

// Wall-clock now (CLOCK_REALTIME) in Unix nanoseconds, for comparing with
// timestamps the Go runtime keeps in Unix time (memstats.pause_end).
inline int64_t UnixNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A clock that only moves when told to; for tests and for replaying recorded
// streams at their own pace.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ns = 0) : now_ns_(start_ns) {}
  int64_t NowNs() const override { return now_ns_; }
  void Set(int64_t now_ns) { now_ns_ = now_ns; }
  void Advance(int64_t delta_ns) { now_ns_ += delta_ns; }

 private:
  int64_t now_ns_;
};

}  // namespace gcpilot
