// Policy registry, parameter and input validation, and the helpers the
// policies share (see policy.h).
#include "tune/policy.h"

#include <cmath>
#include <cstdlib>

#include "tune/pacer_model.h"

namespace gcpilot::tune {
namespace {

bool Share(double v) { return std::isfinite(v) && v > 0 && v < 1; }

}  // namespace

Status ValidateParams(const TunerParams& p) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("tuner: " + what); };
  if (p.target_pause_ns <= 0 || p.target_pause_ns > 10'000'000'000)
    return bad("target pause must be in (0, 10s]");
  if (!(p.min_factor > 0 && p.min_factor <= 1 && p.max_factor >= 1 && p.max_factor <= 100))
    return bad("pause factor bounds must satisfy 0 < min <= 1 <= max <= 100");
  if (p.pause_gogc_min < 1 || p.pause_gogc_max < p.pause_gogc_min || p.pause_gogc_max > 100000)
    return bad("pause-deviation GOGC bounds must satisfy 1 <= min <= max <= 100000");
  if (p.headroom_gogc_min < 1 || p.headroom_gogc_max < p.headroom_gogc_min ||
      p.headroom_gogc_max > 100000)
    return bad("memory-headroom GOGC bounds must satisfy 1 <= min <= max <= 100000");
  if (!Share(p.storm_factor)) return bad("storm factor must be in (0, 1)");
  if (!Share(p.heap_share)) return bad("heap share must be in (0, 1)");
  if (!Share(p.limit_share)) return bad("limit share must be in (0, 1)");
  if (!Share(p.spiral_share)) return bad("spiral share must be in (0, 1)");
  if (p.heap_share > p.limit_share)
    return bad("heap share must not exceed the limit share (GOMEMLIMIT would cut the target)");
  if (!(std::isfinite(p.hysteresis) && p.hysteresis >= 0 && p.hysteresis < 1))
    return bad("hysteresis must be in [0, 1)");
  if (p.min_interval_ns < 0) return bad("min interval must be >= 0");
  if (!(std::isfinite(p.psi_some_avg10_threshold) && p.psi_some_avg10_threshold > 0 &&
        p.psi_some_avg10_threshold <= 100))
    return bad("PSI threshold must be in (0, 100]");
  if (!Share(p.node_used_threshold)) return bad("node memory threshold must be in (0, 1)");
  return Status::Ok();
}

Status ValidateInput(const TuneInput& in) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("tuner input for pid " + std::to_string(in.process.pid) + ": " +
                                   what);
  };
  const WindowStats& w = in.window;
  constexpr uint64_t kPiB = 1ull << 50;
  if (w.covered_ns < 0 || w.end_ns < w.start_ns) return bad("window has a negative span");
  for (double v : {w.gcs_per_sec, w.alloc_bytes_per_sec, w.gc_cpu_share, w.assist_share_of_gc_cpu,
                   w.gc_pauses.mean, w.gc_pauses.max}) {
    if (!std::isfinite(v) || v < 0) return bad("window has a negative or non-finite rate/share");
  }
  if (w.gc_cpu_share > 64) return bad("GC CPU share above 6400% is absurd");
  if (w.heap_live_bytes > kPiB || w.heap_goal_bytes > kPiB) return bad("heap above 1 PiB");
  if (w.gomaxprocs < 0) return bad("negative GOMAXPROCS");
  if (in.process.gogc && *in.process.gogc < -1) return bad("GOGC below -1");
  if (in.process.memory_limit && *in.process.memory_limit <= 0)
    return bad("GOMEMLIMIT must be positive");
  if (in.process.gomaxprocs && *in.process.gomaxprocs <= 0) return bad("GOMAXPROCS must be >= 1");
  if (in.cgroup) {
    if (in.cgroup->limit_bytes && *in.cgroup->limit_bytes <= 0)
      return bad("cgroup memory limit must be positive");
    if (in.cgroup->psi_some_avg10 &&
        !(*in.cgroup->psi_some_avg10 >= 0 && *in.cgroup->psi_some_avg10 <= 100))
      return bad("cgroup PSI outside 0..100");
  }
  if (in.node) {
    if (in.node->total_bytes <= 0 || in.node->available_bytes < 0 ||
        in.node->available_bytes > in.node->total_bytes)
      return bad("node memory: need 0 <= available <= total, total > 0");
    if (in.node->psi_some_avg10 &&
        !(*in.node->psi_some_avg10 >= 0 && *in.node->psi_some_avg10 <= 100))
      return bad("node PSI outside 0..100");
  }
  return Status::Ok();
}

const std::vector<std::string>& PolicyNames() {
  static const std::vector<std::string> names = {"pause-deviation", "memory-headroom",
                                                 "node-pressure"};
  return names;
}

StatusOr<std::unique_ptr<TunerPolicy>> MakePolicy(std::string_view name,
                                                  const TunerParams& params) {
  Status valid = ValidateParams(params);
  if (!valid.ok()) return valid;
  if (name == "pause-deviation") return MakePauseDeviationPolicy(params);
  if (name == "memory-headroom") return MakeMemoryHeadroomPolicy(params);
  if (name == "node-pressure") return MakeNodePressurePolicy(params);
  std::string known;
  for (const std::string& n : PolicyNames()) known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown tuner policy '" + std::string(name) +
                                 "' (known: " + known + ")");
}

int32_t CurrentGogc(const TuneInput& in) { return in.process.gogc.value_or(100); }
int64_t CurrentLimit(const TuneInput& in) {
  return in.process.memory_limit.value_or(kNoMemoryLimit);
}

std::string GogcText(int32_t gogc) { return gogc < 0 ? "off" : std::to_string(gogc); }
std::string LimitText(int64_t limit) {
  return limit == kNoMemoryLimit ? "none" : FormatBytes(static_cast<uint64_t>(limit));
}

void Finish(const TuneInput& in, int32_t gogc, int64_t limit, PolicyState* state,
            Recommendation* r) {
  r->gogc = gogc;
  r->memory_limit_bytes = limit;
  r->current_gogc = CurrentGogc(in);
  r->current_memory_limit_bytes = CurrentLimit(in);
  r->change = r->gogc != r->current_gogc || r->memory_limit_bytes != r->current_memory_limit_bytes;
  r->effect =
      EstimateEffect(in.window, r->current_gogc, r->current_memory_limit_bytes, gogc, limit);
  if (!state->has_last || state->last_gogc != gogc || state->last_memory_limit != limit) {
    state->has_last = true;
    state->last_gogc = gogc;
    state->last_memory_limit = limit;
    state->last_change_ns = in.now_ns;
    ++state->revision;
  }
  r->revision = state->revision;
}

bool HoldBack(const TuneInput& in, const TunerParams& p, const PolicyState& state, int32_t gogc,
              int64_t limit, bool urgent, std::string* why) {
  if (!state.has_last) return false;
  if (gogc == state.last_gogc && limit == state.last_memory_limit) return false;
  auto rel = [](double a, double b) { return b == 0 ? (a == 0 ? 0 : 1) : std::abs(a - b) / b; };
  const bool limit_kind_changed =
      (limit == kNoMemoryLimit) != (state.last_memory_limit == kNoMemoryLimit);
  const double gogc_move = rel(gogc, state.last_gogc);
  const double limit_move =
      limit_kind_changed || limit == kNoMemoryLimit
          ? (limit_kind_changed ? 1.0 : 0.0)
          : rel(static_cast<double>(limit), static_cast<double>(state.last_memory_limit));
  if (gogc_move <= p.hysteresis && limit_move <= p.hysteresis) {
    *why = "held at GOGC " + GogcText(state.last_gogc) + ", GOMEMLIMIT " +
           LimitText(state.last_memory_limit) + ": the computed GOGC " + GogcText(gogc) +
           " / GOMEMLIMIT " + LimitText(limit) + " is within " +
           std::to_string(static_cast<int>(p.hysteresis * 100)) +
           "% of it (hysteresis: no oscillation)";
    return true;
  }
  const int64_t since = in.now_ns - state.last_change_ns;
  if (!urgent && since < p.min_interval_ns) {
    *why = "held at GOGC " + GogcText(state.last_gogc) + ", GOMEMLIMIT " +
           LimitText(state.last_memory_limit) + " for " +
           std::to_string((p.min_interval_ns - since) / 1'000'000'000 + 1) +
           " s more: the last change was " + std::to_string(since / 1'000'000'000) +
           " s ago (at most one change every " + std::to_string(p.min_interval_ns / 1'000'000'000) +
           " s)";
    return true;
  }
  return false;
}

}  // namespace gcpilot::tune
