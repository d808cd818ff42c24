// Who stops the world: the time-boxed investigation behind the
// observer_stops detector. While the detector fires or holds for a process,
// StopCallerCapture has the eBPF source capture the calling stack of each
// of that process's non-GC stops (a frame-pointer walk in the probe that
// already fires at runtime.stopTheWorld's entry, before the world stops),
// for a bounded time, then switches it off again; StopCallerProfile counts
// the stacks and names the first frame outside the Go runtime: the library
// or function a developer changes. Both report what the capture cost.
//
// Bounds: kMaxStacks distinct stacks per process (more are counted, not
// kept), kMaxProcesses investigations at once, a cool-down between two
// captures of one process.
// Thread-safety: StopCallerProfile is a plain value. StopCallerCapture's
// methods lock one mutex; Add and Service are called from the source's
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/events.h"
#include "model/gc_cycle.h"
#include "model/stop_stack.h"

namespace gcpilot::detect {

class DetectorEngine;

// The first frame that is not the Go runtime's own ("runtime.",
// "internal/"): e.g. "github.com/acme/metrics.(*Collector).Collect".
// The innermost frame when all are the runtime's; "" for no frames.
std::string UserCaller(const std::vector<std::string>& frames);

class StopCallerProfile {
 public:
  static constexpr size_t kMaxStacks = 64;
  static constexpr size_t kMaxFrames = 16;  // Kept per stack.

  void Add(const StopStack& s);
  uint64_t samples() const { return samples_; }
  // {"stacks": N, "distinct": D, "not_kept": X,
  //  "cost": {"mean_us", "max_us", "total_ms"},
  //  "top": [{"caller", "reason", "count", "share", "stack": [...]}...]}
  // (top: the `top_n` most frequent stacks, most frequent first).
  nlohmann::json Summary(size_t top_n = 5) const;

 private:
  struct Entry {
    StwReason reason = StwReason::kUnknown;
    std::vector<std::string> frames;
    uint64_t count = 0;
  };
  std::map<std::string, Entry> stacks_;  // Key: reason and frames.
  uint64_t samples_ = 0;
  uint64_t not_kept_ = 0;  // Stacks beyond kMaxStacks distinct ones.
  uint64_t cost_total_ns_ = 0;
  uint32_t cost_max_ns_ = 0;
};

struct StopCallerCaptureOptions {
  int64_t duration_ns = 30'000'000'000;     // How long one capture runs.
  int64_t cooldown_ns = 600'000'000'000;    // From a capture's start to the next.
  std::string detector = "observer_stops";  // Whose suspicion starts one.
};

class StopCallerCapture {
 public:
  static constexpr size_t kMaxProcesses = 256;
  // Turns capture on or off for a pid (EbpfSource::SetStopStacks).
  using Switch = std::function<Status(int32_t pid, bool on)>;

  explicit StopCallerCapture(StopCallerCaptureOptions options = {}) : options_(options) {}

  // `detector` suspects p: starts a capture for p if it is the configured
  // detector, unless one ran within the cool-down (or too many run).
  // Service() calls it for the processes the engine says are suspected.
  void OnSuspicion(const ProcessKey& p, std::string_view detector, int64_t now_ns);
  // A captured stack (source thread).
  void Add(const ProcessKey& p, const StopStack& s);
  // Source thread, about once a second: starts captures for the processes
  // `engine` says the detector suspects (DetectorEngine::Suspected),
  // switches requested captures on and finished ones off through `sw`, and
  // hands each changed summary to `engine` (outside this object's lock).
  void Service(int64_t now_ns, const Switch& sw, DetectorEngine* engine);
  // Captures running now.
  size_t running() const;

 private:
  enum class State : uint8_t { kRequested, kOn, kDone, kFailed };
  struct Capture {
    State state = State::kRequested;
    int64_t requested_ns = 0;
    int64_t started_ns = 0;
    int64_t ended_ns = 0;
    std::string error;
    StopCallerProfile profile;
    bool changed = true;
  };
  static std::string_view StateName(State s);
  nlohmann::json SummaryLocked(const Capture& c, int64_t now_ns) const;

  const StopCallerCaptureOptions options_;
  mutable std::mutex mu_;
  std::map<ProcessKey, Capture> captures_;
};

}  // namespace gcpilot::detect
