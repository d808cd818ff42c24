// The JSON shapes of the serve agent's API and stream (docs/serve.md):
// processes, windows, cycles, stops and the agent status. Monotonic times
// are also given as Unix epoch milliseconds through a WallClockMap.
// Thread-safety: pure functions; WallClockMap is an immutable value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "serve/serve_model.h"

namespace gcpilot::serve {

// Maps CLOCK_MONOTONIC nanoseconds to wall-clock (CLOCK_REALTIME) time,
// sampled once (NTP slews after that are ignored; fine for charts).
class WallClockMap {
 public:
  static WallClockMap Now();
  explicit WallClockMap(int64_t offset_ns = 0) : offset_ns_(offset_ns) {}
  int64_t ToWallNs(int64_t mono_ns) const { return mono_ns + offset_ns_; }
  int64_t offset_ns() const { return offset_ns_; }
  double ToMs(int64_t mono_ns) const { return static_cast<double>(ToWallNs(mono_ns) / 1000) / 1e3; }

 private:
  int64_t offset_ns_;
};

nlohmann::json WindowToJson(const WindowStats& w, const WallClockMap& wall);
nlohmann::json GaugesToJson(const ProcessState& p);
// PROCESS; with `window` when given.
nlohmann::json ProcessToJson(const ProcessState& p, Health health, const WallClockMap& wall,
                             const WindowStats* window);
nlohmann::json CycleToApiJson(const StoredCycle& c, const WallClockMap& wall);
// The `cycle` stream event's data, {"pid","generation","cycle":CYCLE}, as
// text without building a JSON tree (the stream's hot path; same content as
// CycleToApiJson).
std::string CycleEventText(const ProcessKey& key, const StoredCycle& c, const WallClockMap& wall);
nlohmann::json StopToApiJson(const StoredStop& s, const WallClockMap& wall);
// The file name of a path ("/srv/api/bin/api" -> "api").
std::string BinaryName(const std::string& exe);

}  // namespace gcpilot::serve
