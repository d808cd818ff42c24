// PauseRings: the runtime's own record of its last 256 GC cycles, read from
// a running Go process's memory (process_vm_readv: no probe, no stop):
// memstats.numgc, memstats.pause_ns[256] (each cycle's total stop time) and
// memstats.pause_end[256] (when each cycle ended, Unix ns). Used twice at
// attach: to check that the located addresses really are these fields
// (ValidatePauseRings) before any number from the process is trusted, and to
// recover the cycles that ran before the probes were attached.
// Thread-safety: stateless functions.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "golang/runtime_layout.h"

namespace gcpilot::proc {

inline constexpr size_t kPauseRingSize = 256;

struct PauseRings {
  uint32_t numgc = 0;
  std::array<uint64_t, kPauseRingSize> pause_ns{};
  std::array<uint64_t, kPauseRingSize> pause_end_unix_ns{};
};

// One cycle the rings remember.
struct RememberedCycle {
  uint32_t number = 0;  // The runtime's cycle number (1 = first).
  uint64_t pause_ns = 0;
  uint64_t end_unix_ns = 0;
};

// Where a process keeps the three fields (run-time addresses).
struct PauseRingAddresses {
  uint64_t numgc = 0;
  uint64_t pause_ns = 0;   // Element 0.
  uint64_t pause_end = 0;  // Element 0.
};

// Reads the rings of `pid` (its executable's layout, loaded with `bias`).
// Errors: the process is gone or unreadable; the layout lacks pause_end.
StatusOr<PauseRings> ReadPauseRings(pid_t pid, const golang::RuntimeLayout& layout, uint64_t bias);
// Same, at given addresses; read again while numgc changes under the reads.
StatusOr<PauseRings> ReadPauseRingsAt(pid_t pid, const PauseRingAddresses& at);

// Checks what a real Go runtime guarantees of these fields: every cycle the
// rings hold (min(numgc, 256)) has a pause in (0, 10 s) and an end time
// between the process's start (less 1 s) and now (plus 1 s), the end times
// do not decrease from cycle to cycle, and the slots no cycle has used yet
// are zero. `start_unix_ns` 0 skips the lower bound. An error says which
// invariant failed: the addresses are then not the runtime's (or the memory
// is not a Go runtime's), and nothing from this process may be reported.
Status ValidatePauseRings(const PauseRings& rings, uint64_t start_unix_ns, uint64_t now_unix_ns);

// ReadPauseRings + ValidatePauseRings against the wall clock now: Ok when
// the located fields hold a runtime's rings; DataLoss (what failed) when
// they do not; Unavailable when the process cannot be read.
Status CheckPauseRings(pid_t pid, const golang::RuntimeLayout& layout, uint64_t bias);

// The cycles numbered after `after` that the rings still hold, oldest first
// (at most 256: older ones are overwritten).
std::vector<RememberedCycle> CyclesAfter(const PauseRings& rings, uint32_t after);

}  // namespace gcpilot::proc
