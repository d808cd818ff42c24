// ProbePlan: everything version-specific about probing one Go binary, in one
// place: which runtime functions get a uprobe (and where, as file offsets),
// how runtime.stopTheWorld receives its reason on this Go version, and which
// runtime words the per-cycle probe copies into which event slot. Built once
// per binary from its symbols / pclntab and RuntimeLayout; a process of that
// binary then only needs its load bias (MakeProcConfig).
//
// The per-cycle probe (entry of runtime.mProf_Flush) is required; the
// non-GC-stop and periodic-GC probes are optional: when a site cannot be
// found the plan says so in `limitations` and the rest still works.
// Thread-safety: immutable value type.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "gcpilot/abi/gc_cycle_event.h"
#include "golang/go_binary.h"
#include "golang/runtime_layout.h"

namespace gcpilot::ebpf {

// Uprobe sites in the binary (file offsets).
struct ProbeSites {
  uint64_t mprof_flush = 0;                    // Entry of runtime.mProf_Flush.
  std::optional<uint64_t> stop_the_world;      // Entry of runtime.stopTheWorld.
  std::vector<uint64_t> start_the_world_rets;  // Each RET of runtime.startTheWorld.
  std::vector<uint64_t> forcegc_calls;         // runtime.forcegchelper's CALL runtime.gcStart.
  // The stop itself (see gcp_stop_event): CALLs of stopTheWorldWithSema in
  // runtime.stopTheWorld.func1, and each RET of runtime.startTheWorld.func1.
  std::vector<uint64_t> world_stop_calls;
  std::vector<uint64_t> world_start_rets;
};

// What a cycle-event slot holds.
struct SlotField {
  golang::RuntimeField field;
  uint8_t size = 8;  // Bytes of the slot's 8 that belong to the field.
};

struct ProbePlan {
  int go_minor = 0;  // 19 for go1.19.x.
  ProbeSites sites;
  golang::RuntimeLayout layout;  // Link-time addresses.
  std::array<std::optional<SlotField>, GCP_MAX_SLOTS> slots;
  gcp_reason_abi reason_abi = GCP_REASON_NONE;
  // What this binary will not show, and why ("non-GC stops: ..."). Empty
  // when everything is probed.
  std::vector<std::string> limitations;

  // The slot that holds `field`, if any.
  std::optional<int> SlotOf(golang::RuntimeField field) const;
};

// The minor version of a "go1.21.13"-style version string (0 if unparsable).
int GoMinorVersion(const std::string& go_version);

// The Go version gate, in one place: the minor version of `go_version`, or
// Unavailable with a one-line reason when it is unparsable or before Go 1.17
// (the probes read g from R14 and arguments from registers: Go's register
// ABI). A version outside the verified 1.19-1.27 is accepted with a
// limitation appended to `limitations` (1.17/1.18: unverified; 1.28+:
// untested).
StatusOr<int> CheckGoVersion(const std::string& go_version, std::vector<std::string>& limitations);

// Plans the probes for `binary`. Errors: those of CheckGoVersion, a layout
// without numgc / pause_ns (see ResolveRuntimeLayout), no
// runtime.mProf_Flush.
StatusOr<ProbePlan> MakeProbePlan(const golang::GoBinary& binary);

// The BPF map value for a process of the planned binary loaded with `bias`
// (0 for non-PIE).
gcp_proc_config MakeProcConfig(const ProbePlan& plan, uint64_t load_bias);

}  // namespace gcpilot::ebpf
