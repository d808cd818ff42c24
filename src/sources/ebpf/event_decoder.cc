// Raw probe records -> model records (see the header).
#include "sources/ebpf/event_decoder.h"

#include <bit>
#include <cstring>
#include <optional>
#include <string>

namespace gcpilot::ebpf {
namespace {

using golang::RuntimeField;

class SlotReader {
 public:
  SlotReader(const ProbePlan& plan, const gcp_cycle_event& e) : plan_(plan), e_(e) {}

  // The field's value, sign-extended from its width; nullopt when the plan
  // has no slot for it or the probe could not read it.
  std::optional<int64_t> Int(RuntimeField f) const {
    std::optional<uint64_t> raw = Raw(f);
    if (!raw) return std::nullopt;
    int size = plan_.slots[*plan_.SlotOf(f)]->size;
    if (size == 8) return static_cast<int64_t>(*raw);
    uint64_t mask = (uint64_t{1} << (8 * size)) - 1;
    uint64_t v = *raw & mask;
    uint64_t sign = uint64_t{1} << (8 * size - 1);
    return static_cast<int64_t>((v ^ sign) - sign);
  }
  std::optional<uint64_t> Uint(RuntimeField f) const {
    std::optional<uint64_t> raw = Raw(f);
    if (!raw) return std::nullopt;
    int size = plan_.slots[*plan_.SlotOf(f)]->size;
    return size == 8 ? *raw : *raw & ((uint64_t{1} << (8 * size)) - 1);
  }
  std::optional<double> Double(RuntimeField f) const {
    std::optional<uint64_t> raw = Raw(f);
    if (!raw) return std::nullopt;
    return std::bit_cast<double>(*raw);
  }

 private:
  std::optional<uint64_t> Raw(RuntimeField f) const {
    std::optional<int> slot = plan_.SlotOf(f);
    if (!slot || !(e_.slots_read & (1u << *slot))) return std::nullopt;
    return e_.slot[*slot];
  }

  const ProbePlan& plan_;
  const gcp_cycle_event& e_;
};

int64_t NonNegative(int64_t v) { return v > 0 ? v : 0; }

}  // namespace

GcCycle DecodeCycle(const ProbePlan& plan, const gcp_cycle_event& e) {
  SlotReader r(plan, e);
  GcCycle c;
  c.source = EventSource::kEbpf;
  c.number = e.numgc;
  const int64_t pause = static_cast<int64_t>(e.pause_ns);

  std::optional<int64_t> t0 = r.Int(RuntimeField::kWorkTSweepTerm);
  std::optional<int64_t> t1 = r.Int(RuntimeField::kWorkTMark);
  std::optional<int64_t> t2 = r.Int(RuntimeField::kWorkTMarkTerm);
  std::optional<int64_t> t3 = r.Int(RuntimeField::kWorkTEnd);
  const bool stamps = t0 && t1 && t2 && t3 && *t0 > 0 && *t0 <= *t1 && *t1 <= *t2 && *t2 <= *t3;
  int64_t sweep_clock = 0, mark_term_clock = 0;
  if (stamps) {
    sweep_clock = *t1 - *t0;
    mark_term_clock = *t3 - *t2;
    c.start_ns = *t0;
    const int64_t stw_clock = sweep_clock + mark_term_clock;
    // Split the exact total in the stamps' proportion.
    c.sweep_term_ns =
        stw_clock > 0 ? static_cast<int64_t>(static_cast<double>(pause) * sweep_clock / stw_clock)
                      : 0;
    c.mark_term_ns = pause - c.sweep_term_ns;
    c.mark_ns = NonNegative((*t3 - *t0) - pause);
  } else {
    c.start_ns = static_cast<int64_t>(e.probe_ktime_ns) - pause;
    c.mark_term_ns = pause;
  }

  std::optional<int64_t> stwprocs = r.Int(RuntimeField::kWorkStwprocs);
  if (stamps && stwprocs) {
    c.cpu.sweep_term_ns = NonNegative(*stwprocs * sweep_clock);
    c.cpu.mark_term_ns = NonNegative(*stwprocs * mark_term_clock);
  }
  c.cpu.assist_ns = NonNegative(r.Int(RuntimeField::kGcControllerAssistTime).value_or(0));
  c.cpu.background_ns =
      NonNegative(r.Int(RuntimeField::kGcControllerDedicatedMarkTime).value_or(0) +
                  r.Int(RuntimeField::kGcControllerFractionalMarkTime).value_or(0));
  c.cpu.idle_ns = NonNegative(r.Int(RuntimeField::kGcControllerIdleMarkTime).value_or(0));

  c.heap_start_bytes = r.Uint(RuntimeField::kWorkHeap0).value_or(0);
  c.heap_end_bytes = r.Uint(RuntimeField::kWorkHeap1).value_or(0);
  c.heap_live_bytes = r.Uint(RuntimeField::kWorkHeap2).value_or(0);
  c.heap_goal_bytes = r.Uint(RuntimeField::kGcControllerLastHeapGoal).value_or(0);
  c.stacks_bytes = r.Uint(RuntimeField::kGcControllerStackScan);
  c.globals_bytes = r.Uint(RuntimeField::kGcControllerGlobalsScan);
  c.byte_resolution = 1;
  c.gomaxprocs = static_cast<int32_t>(r.Int(RuntimeField::kWorkMaxprocs).value_or(0));
  std::optional<uint64_t> forced = r.Uint(RuntimeField::kWorkUserForced);
  // Unknown lets the CycleAssembler tell periodic from heap-triggered.
  if (forced && *forced != 0) c.trigger = GcTrigger::kForced;
  std::optional<double> fraction = r.Double(RuntimeField::kMemstatsGcCpuFraction);
  if (fraction && *fraction >= 0 && *fraction <= 1) {
    c.cpu_percent_since_start = static_cast<int32_t>(*fraction * 100);
  }
  return c;
}

Status CheckCyclePlausible(const ProbePlan& plan, const gcp_cycle_event& e) {
  SlotReader r(plan, e);
  auto fail = [](RuntimeField f, int64_t v, const char* want) {
    return Status::DataLoss("runtime." + std::string(golang::RuntimeFieldName(f)) + " reads " +
                            std::to_string(v) + ", not " + want);
  };
  for (RuntimeField f : {RuntimeField::kWorkStwprocs, RuntimeField::kWorkMaxprocs}) {
    std::optional<int64_t> v = r.Int(f);
    if (v && (*v < 1 || *v > (int64_t{1} << 20))) return fail(f, *v, "a processor count");
  }
  if (std::optional<int64_t> gogc = r.Int(RuntimeField::kGcControllerGcPercent);
      gogc && *gogc < -1) {
    return fail(RuntimeField::kGcControllerGcPercent, *gogc, "a GOGC value");
  }
  if (std::optional<int64_t> limit = r.Int(RuntimeField::kGcControllerMemoryLimit);
      limit && *limit < 0) {
    return fail(RuntimeField::kGcControllerMemoryLimit, *limit, "a memory limit");
  }
  // Not the heap goal: with GOGC off it is ~2^63 in a healthy runtime.
  for (RuntimeField f :
       {RuntimeField::kWorkHeap0, RuntimeField::kWorkHeap1, RuntimeField::kWorkHeap2}) {
    std::optional<uint64_t> v = r.Uint(f);
    if (v && *v >= (uint64_t{1} << 50)) return fail(f, static_cast<int64_t>(*v), "a heap size");
  }
  return Status::Ok();
}

StwReason ReasonFromGoString(std::string_view reason) {
  struct Name {
    std::string_view text;
    StwReason reason;
  };
  static constexpr Name kNames[] = {
      {"read mem stats", StwReason::kReadMemStats},
      {"GOMAXPROCS", StwReason::kGomaxprocs},
      {"profile", StwReason::kGoroutineProfile},
      {"profile cleanup", StwReason::kGoroutineProfileCleanup},
      {"stack trace", StwReason::kAllGoroutinesStack},
      {"write heap dump", StwReason::kWriteHeapDump},
      {"doAllThreadsSyscall", StwReason::kAllThreadsSyscall},
      {"start tracing", StwReason::kStartTrace},
      {"stop tracing", StwReason::kStopTrace},
  };
  for (const Name& n : kNames) {
    if (n.text == reason) return n.reason;
  }
  return StwReason::kUnknown;
}

StwPause DecodeStop(const ProbePlan& plan, const gcp_stop_event& e) {
  StwPause p;
  p.kind = StwKind::kOther;
  const bool world_window = e.world_stop_ktime_ns >= e.start_ktime_ns &&
                            e.world_start_ktime_ns >= e.world_stop_ktime_ns &&
                            e.world_start_ktime_ns <= e.end_ktime_ns && e.world_stop_ktime_ns != 0;
  const uint64_t begin = world_window ? e.world_stop_ktime_ns : e.start_ktime_ns;
  const uint64_t end = world_window ? e.world_start_ktime_ns : e.end_ktime_ns;
  p.start_ns = static_cast<int64_t>(begin);
  p.duration_ns = end > begin ? static_cast<int64_t>(end - begin) : 0;
  if (plan.reason_abi == GCP_REASON_UINT8) {
    p.reason = e.reason < kStwReasonCount ? static_cast<StwReason>(e.reason) : StwReason::kUnknown;
  } else if (plan.reason_abi == GCP_REASON_STRING) {
    size_t len = e.reason_len <= GCP_REASON_LEN ? e.reason_len : GCP_REASON_LEN;
    p.reason = ReasonFromGoString(std::string_view(e.reason_str, len));
  }
  return p;
}

}  // namespace gcpilot::ebpf
