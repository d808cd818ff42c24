// Probe planning per Go binary (see the header).
#include "sources/ebpf/probe_plan.h"

#include <charconv>

#include "golang/call_sites.h"

namespace gcpilot::ebpf {
namespace {

using golang::RuntimeField;

// The runtime words copied per cycle, with their width. Order is the slot
// order; fields a version does not have are skipped.
constexpr SlotField kCycleFields[] = {
    {RuntimeField::kWorkTSweepTerm, 8},
    {RuntimeField::kWorkTMark, 8},
    {RuntimeField::kWorkTMarkTerm, 8},
    {RuntimeField::kWorkTEnd, 8},
    {RuntimeField::kWorkHeap0, 8},
    {RuntimeField::kWorkHeap1, 8},
    {RuntimeField::kWorkHeap2, 8},
    {RuntimeField::kWorkStwprocs, 4},
    {RuntimeField::kWorkMaxprocs, 4},
    {RuntimeField::kWorkUserForced, 1},
    {RuntimeField::kGcControllerAssistTime, 8},
    {RuntimeField::kGcControllerDedicatedMarkTime, 8},
    {RuntimeField::kGcControllerFractionalMarkTime, 8},
    {RuntimeField::kGcControllerIdleMarkTime, 8},
    {RuntimeField::kGcControllerLastHeapGoal, 8},
    {RuntimeField::kGcControllerStackScan, 8},
    {RuntimeField::kGcControllerGlobalsScan, 8},
    {RuntimeField::kMemstatsGcCpuFraction, 8},
    {RuntimeField::kRuntimeInitTime, 8},
    {RuntimeField::kGcControllerGcPercent, 4},
    {RuntimeField::kGcControllerMemoryLimit, 8},
};
static_assert(std::size(kCycleFields) <= GCP_MAX_SLOTS);

// The probes read g from R14 and stopTheWorld's argument from RAX/RBX:
// Go's register ABI (ABIInternal on amd64), Go 1.17+.
constexpr int kRegisterAbiMinor = 17;
constexpr int kOldestVerifiedMinor = 19;
constexpr int kNewestVerifiedMinor = 27;

// The probes that bound a non-GC stop without the wait for worldsema; when
// they cannot be placed, durations include that wait (the plan says so).
void PlanWorldWindow(const golang::GoBinary& binary, ProbePlan& plan) {
  StatusOr<std::vector<uint64_t>> calls =
      golang::FindCallSites(binary, "runtime.stopTheWorld.func1", "runtime.stopTheWorldWithSema");
  StatusOr<std::vector<golang::RetInstruction>> rets =
      binary.FindRetInstructions("runtime.startTheWorld.func1");
  if (calls.ok() && calls->size() == 1 && rets.ok() && !rets->empty()) {
    plan.sites.world_stop_calls = std::move(*calls);
    for (const golang::RetInstruction& r : *rets)
      plan.sites.world_start_rets.push_back(r.file_offset);
    return;
  }
  std::string why = !calls.ok()          ? calls.status().message()
                    : calls->size() != 1 ? std::to_string(calls->size()) +
                                               " calls of stopTheWorldWithSema in "
                                               "runtime.stopTheWorld.func1"
                    : !rets.ok() ? rets.status().message()
                                 : "runtime.startTheWorld.func1 has no RET";
  plan.limitations.push_back(
      "non-GC stop durations include the wait for worldsema (an upper bound): " + why);
}

}  // namespace

std::optional<int> ProbePlan::SlotOf(RuntimeField field) const {
  for (int i = 0; i < GCP_MAX_SLOTS; ++i) {
    if (slots[i] && slots[i]->field == field) return i;
  }
  return std::nullopt;
}

int GoMinorVersion(const std::string& go_version) {
  std::string_view v = go_version;
  if (!v.starts_with("go1.")) return 0;
  v.remove_prefix(4);
  int minor = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), minor);
  return ec == std::errc() ? minor : 0;
}

StatusOr<int> CheckGoVersion(const std::string& go_version, std::vector<std::string>& limitations) {
  const int minor = GoMinorVersion(go_version);
  if (minor == 0) return Status::Unavailable("unrecognized Go version '" + go_version + "'");
  if (minor < kRegisterAbiMinor) {
    return Status::Unavailable(go_version + ": gcpilot's probes need Go's register ABI (Go 1.17+)");
  }
  const std::string verified =
      "Go 1." + std::to_string(kOldestVerifiedMinor) + "-1." + std::to_string(kNewestVerifiedMinor);
  if (minor < kOldestVerifiedMinor) {
    limitations.push_back(go_version + ": probes verified on " + verified +
                          " only; numbers may be off");
  } else if (minor > kNewestVerifiedMinor) {
    limitations.push_back(go_version + ": untested (newer than " + verified +
                          ", which the probes were verified on); numbers may be off");
  }
  return minor;
}

StatusOr<ProbePlan> MakeProbePlan(const golang::GoBinary& binary) {
  ProbePlan plan;
  StatusOr<int> minor = CheckGoVersion(binary.go_version(), plan.limitations);
  if (!minor.ok()) return minor.status();
  plan.go_minor = *minor;
  StatusOr<golang::RuntimeLayout> layout = golang::ResolveRuntimeLayout(binary);
  if (!layout.ok()) return layout.status();
  plan.layout = std::move(*layout);

  StatusOr<golang::FunctionInfo> flush = binary.FindFunction("runtime.mProf_Flush");
  if (!flush.ok()) {
    return Status::Unavailable("no runtime.mProf_Flush to probe: " + flush.status().message());
  }
  plan.sites.mprof_flush = flush->file_offset;

  int slot = 0;
  std::vector<std::string> missing;
  for (const SlotField& f : kCycleFields) {
    if (plan.layout.Get(f.field)) {
      plan.slots[slot++] = f;
    } else {
      missing.emplace_back(golang::RuntimeFieldName(f.field));
    }
  }
  if (!missing.empty()) {
    std::string what;
    for (const std::string& m : missing) what += (what.empty() ? "" : ", ") + m;
    plan.limitations.push_back("per-cycle fields not located: " + what);
  }

  // Non-GC stops: the wrappers the runtime uses for every stop that is not
  // one of the GC's own (ReadMemStats, GOMAXPROCS, profiles, traces).
  StatusOr<golang::FunctionInfo> stop = binary.FindFunction("runtime.stopTheWorld");
  StatusOr<std::vector<golang::RetInstruction>> rets =
      binary.FindRetInstructions("runtime.startTheWorld");
  if (stop.ok() && rets.ok() && !rets->empty()) {
    plan.sites.stop_the_world = stop->file_offset;
    for (const golang::RetInstruction& r : *rets) {
      plan.sites.start_the_world_rets.push_back(r.file_offset);
    }
    plan.reason_abi = plan.go_minor >= 21 ? GCP_REASON_UINT8 : GCP_REASON_STRING;
  } else {
    plan.limitations.push_back("non-GC stops not probed: " +
                               (stop.ok()
                                    ? (rets.ok() ? std::string("runtime.startTheWorld has no RET")
                                                 : rets.status().message())
                                    : stop.status().message()));
  }

  if (plan.sites.stop_the_world) PlanWorldWindow(binary, plan);

  StatusOr<std::vector<uint64_t>> calls =
      golang::FindCallSites(binary, "runtime.forcegchelper", "runtime.gcStart");
  if (calls.ok() && !calls->empty()) {
    plan.sites.forcegc_calls = std::move(*calls);
  } else {
    plan.limitations.push_back(
        "periodic GCs not told apart from heap-triggered ones: " +
        (calls.ok() ? std::string("no call of runtime.gcStart found") : calls.status().message()));
  }
  return plan;
}

gcp_proc_config MakeProcConfig(const ProbePlan& plan, uint64_t load_bias) {
  gcp_proc_config cfg{};
  auto addr = [&](RuntimeField f) -> uint64_t {
    const std::optional<golang::FieldLocation>& loc = plan.layout.Get(f);
    return loc ? loc->address + load_bias : 0;
  };
  cfg.numgc_addr = addr(RuntimeField::kMemstatsNumgc);
  cfg.pause_ns_addr = addr(RuntimeField::kMemstatsPauseNs);
  cfg.pause_end_addr = addr(RuntimeField::kMemstatsPauseEnd);
  for (int i = 0; i < GCP_MAX_SLOTS; ++i) {
    if (plan.slots[i]) cfg.slot_addr[i] = addr(plan.slots[i]->field);
  }
  cfg.reason_abi = plan.reason_abi;
  return cfg;
}

}  // namespace gcpilot::ebpf
