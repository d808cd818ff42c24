// JSON and text rendering of recommendations (see recommendation_json.h).
#include "tune/recommendation_json.h"

#include <cstdio>
#include <limits>

#include "tune/pacer_model.h"
#include "tune/policy.h"

namespace gcpilot::tune {
namespace {

using nlohmann::json;

json LimitJson(int64_t limit) { return limit == kNoMemoryLimit ? json(nullptr) : json(limit); }
json PeakJson(uint64_t b) {
  return b == std::numeric_limits<uint64_t>::max() ? json(nullptr) : json(b);
}
template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string MemoryLimitEnv(int64_t limit) {
  return limit == kNoMemoryLimit ? "off" : std::to_string(limit) + "B";
}

json RecommendationToJson(const Recommendation& r) {
  const ExpectedEffect& e = r.effect;
  return json{
      {"policy", r.policy},
      {"gogc", r.gogc},
      {"memory_limit_bytes", LimitJson(r.memory_limit_bytes)},
      {"current",
       {{"gogc", r.current_gogc}, {"memory_limit_bytes", LimitJson(r.current_memory_limit_bytes)}}},
      {"change", r.change},
      {"held", r.held},
      {"revision", r.revision},
      {"reason", r.reason},
      {"env", {{"GOGC", GogcText(r.gogc)}, {"GOMEMLIMIT", MemoryLimitEnv(r.memory_limit_bytes)}}},
      {"effect",
       {{"known", e.known},
        {"text", e.text},
        {"gc_cpu_share", {{"before", e.gc_cpu_share_before}, {"after", e.gc_cpu_share_after}}},
        {"gcs_per_sec", {{"before", e.gcs_per_sec_before}, {"after", e.gcs_per_sec_after}}},
        {"heap_peak_bytes",
         {{"before", PeakJson(e.heap_peak_bytes_before)},
          {"after", PeakJson(e.heap_peak_bytes_after)}}},
        {"limit_bound_after", e.limit_bound_after}}}};
}

json TunerErrorToJson(const Status& s) {
  return json{{"error", s.message()}, {"code", std::string(StatusCodeName(s.code()))}};
}

json TuneInputsToJson(const TuneInput& in) {
  json j;
  if (in.cgroup) {
    const CgroupMemory& c = *in.cgroup;
    j["cgroup"] = {{"version", c.version},
                   {"path", c.path},
                   {"limit_bytes", Opt(c.limit_bytes)},
                   {"limit_file", c.limit_file},
                   {"usage_bytes", Opt(c.usage_bytes)},
                   {"peak_bytes", Opt(c.peak_bytes)},
                   {"psi_some_avg10", Opt(c.psi_some_avg10)},
                   {"oom_kills", Opt(c.oom_kills)}};
  } else {
    j["cgroup"] = {{"error", in.cgroup_error}};
  }
  if (in.node) {
    j["node"] = {{"total_bytes", in.node->total_bytes},
                 {"available_bytes", in.node->available_bytes},
                 {"used_share", in.node->used_share()},
                 {"psi_some_avg10", Opt(in.node->psi_some_avg10)}};
  } else {
    j["node"] = {{"error", in.node_error}};
  }
  const WindowStats& w = in.window;
  j["window"] = {{"covered_s", static_cast<double>(w.covered_ns) / 1e9},
                 {"gc_cycles", w.gc_cycles},
                 {"gcs_per_sec", w.gcs_per_sec},
                 {"alloc_bytes_per_sec", w.alloc_bytes_per_sec},
                 {"gc_cpu_share", w.gc_cpu_share},
                 {"pause_mean_ns", w.gc_pauses.mean},
                 {"pause_p99_ns", w.gc_pauses.p99},
                 {"heap_live_bytes", w.heap_live_bytes},
                 {"heap_goal_bytes", w.heap_goal_bytes},
                 {"gomaxprocs", w.gomaxprocs}};
  return j;
}

std::string FormatRecommendationText(const Recommendation& r, const TuneInput& in) {
  std::string s;
  s += "policy:      " + r.policy + "\n";
  s += "now:         GOGC=" + GogcText(r.current_gogc) +
       " GOMEMLIMIT=" + LimitText(r.current_memory_limit_bytes) + "\n";
  s += "recommended: GOGC=" + GogcText(r.gogc) + " GOMEMLIMIT=" + LimitText(r.memory_limit_bytes) +
       (r.change ? "" : "  (no change)") + (r.held ? "  (held by hysteresis)" : "") + "\n";
  s += "as env:      GOGC=" + GogcText(r.gogc) +
       " GOMEMLIMIT=" + MemoryLimitEnv(r.memory_limit_bytes) + "\n";
  s += "why:         " + r.reason + "\n";
  s += "expected:    " + r.effect.text + "\n";
  if (in.cgroup) {
    s += "cgroup:      v" + std::to_string(in.cgroup->version) + " " + in.cgroup->path +
         ", limit " +
         (in.cgroup->limit_bytes ? FormatBytes(*in.cgroup->limit_bytes) : std::string("none")) +
         (in.cgroup->usage_bytes ? ", usage " + FormatBytes(*in.cgroup->usage_bytes) : "") + "\n";
  } else {
    s += "cgroup:      unknown (" + in.cgroup_error + ")\n";
  }
  if (in.node) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "%.0f%% of %s used", in.node->used_share() * 100,
                  FormatBytes(in.node->total_bytes).c_str());
    s += std::string("node:        ") + buf;
    if (in.node->psi_some_avg10) {
      std::snprintf(buf, sizeof(buf), ", PSI some avg10 %.2f%%", *in.node->psi_some_avg10);
      s += buf;
    }
    s += "\n";
  }
  return s;
}

}  // namespace gcpilot::tune
