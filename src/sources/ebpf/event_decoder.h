// Turning the probes' raw records (include/gcpilot/abi/gc_cycle_event.h)
// into the model's records, with the binary's ProbePlan saying what each
// slot holds. The same GcCycle fields as the gctrace source, from the same
// runtime variables gctrace prints, but read at full precision; the cycle's
// total pause is the runtime's own memstats.pause_ns, exact.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "core/status.h"
#include "gcpilot/abi/gc_cycle_event.h"
#include "model/gc_cycle.h"
#include "sources/ebpf/probe_plan.h"

namespace gcpilot::ebpf {

// A cycle record. Phase times come from the runtime's work.t* stamps
// (CLOCK_MONOTONIC, the time axis of live sources); the two stops are
// scaled so that their sum is exactly pause_ns (the stamps of Go 1.22+
// include waiting for sched.lock, the pause does not). Without the stamps
// the cycle is placed at the probe's time with the pause as its only phase.
GcCycle DecodeCycle(const ProbePlan& plan, const gcp_cycle_event& event);

// A non-GC stop: kind kOther, the runtime's reason; duration from the call
// that stops the world to the return of the closure that restarted it when
// the plan probes them (the wait for worldsema excluded; still an upper bound
// by the probes' own cost), else from the entry of stopTheWorld to the
// return of startTheWorld (an upper bound that includes that wait).
StwPause DecodeStop(const ProbePlan& plan, const gcp_stop_event& event);

// Checks that the values a cycle record holds are what a Go runtime can
// hold there: GOMAXPROCS-sized counts (work.stwprocs, work.maxprocs) in
// [1, 1<<20], GOGC >= -1, a memory limit >= 0, heap sizes below 1 PiB (not
// the heap goal: GOGC off makes it ~2^63).
// (Phase stamps are not checked: a cycle starting while the previous one's
// are read legitimately mixes them.) DataLoss names the first field that
// fails: the layout does not fit this binary, and nothing from the process
// may be reported.
Status CheckCyclePlausible(const ProbePlan& plan, const gcp_cycle_event& event);

// Go 1.19/1.20's reason strings ("read mem stats", "GOMAXPROCS", ...).
StwReason ReasonFromGoString(std::string_view reason);

}  // namespace gcpilot::ebpf
