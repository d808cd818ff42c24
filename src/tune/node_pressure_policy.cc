// The node-pressure policy (policy.h): when memory is short (PSI "some
// avg10" of the cgroup or the node above the threshold, or the node's
// memory use above 85%, the seed's "memory pressure 85% -> set
// GOMEMLIMIT"), recommend a GOMEMLIMIT so the heap stops growing into the
// shortage: 90% of the cgroup limit when there is one, else the process's
// present heap peak plus 10% (never below 1.25 x the live heap, never
// above a limit already set). GOGC is left as it is. Without pressure it
// recommends no change. Same hysteresis as memory-headroom.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tune/pacer_model.h"
#include "tune/policy.h"

namespace gcpilot::tune {
namespace {

std::string Psi(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", v);
  return buf;
}

class NodePressurePolicy final : public TunerPolicy {
 public:
  explicit NodePressurePolicy(const TunerParams& p) : p_(p) {}
  std::string_view name() const override { return "node-pressure"; }
  std::string_view summary() const override {
    return "set GOMEMLIMIT when the node or cgroup is under memory pressure (PSI, 85% used)";
  }

  StatusOr<Recommendation> Recommend(const TuneInput& in, PolicyState* state) const override {
    const std::string pid = std::to_string(in.process.pid);
    const bool has_cg_psi = in.cgroup && in.cgroup->psi_some_avg10.has_value();
    const double cg_psi = has_cg_psi ? *in.cgroup->psi_some_avg10 : 0.0;
    const bool has_node_psi = in.node && in.node->psi_some_avg10.has_value();
    const double node_psi = has_node_psi ? *in.node->psi_some_avg10 : 0.0;
    if (!in.node && !has_cg_psi) {
      return Status::Unavailable("node-pressure: no memory pressure reading for pid " + pid + " (" +
                                 (in.node_error.empty() ? "node memory unknown" : in.node_error) +
                                 ")");
    }
    std::vector<std::string> signals;
    std::string readings;
    auto note = [&](const std::string& what, bool high) {
      readings += (readings.empty() ? "" : ", ") + what;
      if (high) signals.push_back(what);
    };
    if (has_cg_psi) {
      note("cgroup PSI some avg10 " + Psi(cg_psi), cg_psi > p_.psi_some_avg10_threshold);
    }
    if (has_node_psi) {
      note("node PSI some avg10 " + Psi(node_psi), node_psi > p_.psi_some_avg10_threshold);
    }
    if (in.node) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "node memory %.0f%% used", in.node->used_share() * 100);
      note(buf, in.node->used_share() > p_.node_used_threshold);
    }
    Recommendation r;
    r.policy = std::string(name());
    const int32_t gogc = CurrentGogc(in);
    int64_t limit = CurrentLimit(in);
    std::string why;
    char thr[96];
    std::snprintf(thr, sizeof(thr), "thresholds: PSI some avg10 > %.1f%%, node use > %.0f%%",
                  p_.psi_some_avg10_threshold, p_.node_used_threshold * 100);
    if (signals.empty()) {
      why = "No memory pressure (" + readings + "; " + thr +
            "): GOGC and GOMEMLIMIT stay as they are.";
      // Without pressure the last recommendation (if any) is kept: the
      // limit is not taken back as soon as the pressure eases.
      if (state->has_last) {
        limit = state->last_memory_limit;
        why += " The GOMEMLIMIT recommended under the last pressure (" + LimitText(limit) +
               ") is kept.";
      }
    } else {
      const WindowStats& w = in.window;
      if (w.heap_live_bytes == 0) {
        return Status::Unavailable("node-pressure: memory pressure (" + readings +
                                   ") but no GC cycle of pid " + pid +
                                   " seen yet: the live heap is unknown");
      }
      const double live = static_cast<double>(w.heap_live_bytes);
      int64_t want = 0;
      std::string basis;
      if (in.cgroup && in.cgroup->limit_bytes) {
        want = static_cast<int64_t>(p_.limit_share * static_cast<double>(*in.cgroup->limit_bytes));
        basis = std::to_string(static_cast<int>(p_.limit_share * 100)) + "% of the cgroup limit " +
                FormatBytes(*in.cgroup->limit_bytes);
      } else {
        const double peak = static_cast<double>(
            w.heap_goal_bytes > 0 ? w.heap_goal_bytes : HeapGoal(w.heap_live_bytes, gogc, limit));
        want = static_cast<int64_t>(std::max(peak * 1.1, live * 1.25));
        basis = "the present heap peak " + FormatBytes(static_cast<uint64_t>(peak)) +
                " + 10% (at least 1.25 x the live heap)";
      }
      want = std::max(want, static_cast<int64_t>(live * 1.25));
      if (limit != kNoMemoryLimit && limit<want&& static_cast<double>(limit)> live * 1.25) {
        why = "Memory pressure (" + readings + "; " + thr + "), but GOMEMLIMIT " +
              LimitText(limit) + " is already set at or under " + LimitText(want) + ": it stays.";
      } else {
        limit = want;
        why = "Memory pressure (" + join(signals) + "; " + thr + "): GOMEMLIMIT " +
              LimitText(limit) + " = " + basis +
              ", so the heap stops growing into the shortage (the runtime collects harder as it "
              "nears the limit; GC CPU rises only if the live heap grows toward it). GOGC stays " +
              GogcText(gogc) + ".";
      }
      std::string held;
      if (HoldBack(in, p_, *state, gogc, limit, /*urgent=*/true, &held)) {
        r.held = true;
        why += " " + held + ".";
        limit = state->last_memory_limit;
      }
    }
    r.reason = why + " Effect: a pacer-model estimate; measured after applying, not assumed.";
    Finish(in, gogc, limit, state, &r);
    return r;
  }

 private:
  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  TunerParams p_;
};

}  // namespace

std::unique_ptr<TunerPolicy> MakeNodePressurePolicy(const TunerParams& params) {
  return std::make_unique<NodePressurePolicy>(params);
}

}  // namespace gcpilot::tune
