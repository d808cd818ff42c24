// Reading and checking the runtime's pause rings (see the header).
#include "sources/proc/pause_rings.h"

#include <string>

#include "core/clock.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::proc {
namespace {

using golang::RuntimeField;

constexpr uint64_t kMaxPauseNs = 10'000'000'000;   // 10 s.
constexpr uint64_t kClockSlackNs = 1'000'000'000;  // 1 s.

// The ring slot of cycle `n` (1-based), as the runtime indexes it.
size_t SlotOf(uint32_t n) { return (n - 1) % kPauseRingSize; }

}  // namespace

StatusOr<PauseRings> ReadPauseRings(pid_t pid, const golang::RuntimeLayout& layout, uint64_t bias) {
  const auto& numgc = layout.Get(RuntimeField::kMemstatsNumgc);
  const auto& pause = layout.Get(RuntimeField::kMemstatsPauseNs);
  const auto& end = layout.Get(RuntimeField::kMemstatsPauseEnd);
  if (!numgc || !pause || !end) {
    return Status::NotFound("memstats.numgc, pause_ns or pause_end not located");
  }
  return ReadPauseRingsAt(
      pid, PauseRingAddresses{numgc->address + bias, pause->address + bias, end->address + bias});
}

StatusOr<PauseRings> ReadPauseRingsAt(pid_t pid, const PauseRingAddresses& at) {
  // A cycle that ends during the reads changes the rings under us: read
  // again until numgc is the same before and after.
  PauseRings rings;
  for (int attempt = 0; attempt < 4; ++attempt) {
    GCPILOT_RETURN_IF_ERROR(ReadProcessMemory(pid, at.numgc, &rings.numgc, 4));
    GCPILOT_RETURN_IF_ERROR(
        ReadProcessMemory(pid, at.pause_ns, rings.pause_ns.data(), sizeof(rings.pause_ns)));
    GCPILOT_RETURN_IF_ERROR(ReadProcessMemory(pid, at.pause_end, rings.pause_end_unix_ns.data(),
                                              sizeof(rings.pause_end_unix_ns)));
    uint32_t after = 0;
    GCPILOT_RETURN_IF_ERROR(ReadProcessMemory(pid, at.numgc, &after, 4));
    if (after == rings.numgc) return rings;
  }
  return Status::Unavailable("memstats.numgc kept changing while the rings were read");
}

Status ValidatePauseRings(const PauseRings& rings, uint64_t start_unix_ns, uint64_t now_unix_ns) {
  // The runtime fills the slot of cycle numgc+1 before it increments numgc:
  // that slot (the oldest held one once the ring is full) may belong to a
  // cycle ending right now, and is not checked.
  const uint32_t held = rings.numgc < kPauseRingSize ? rings.numgc : kPauseRingSize - 1;
  const uint32_t first = rings.numgc - held + 1;
  const uint64_t lower = start_unix_ns > kClockSlackNs ? start_unix_ns - kClockSlackNs : 0;
  uint64_t previous_end = 0;
  for (uint32_t n = first; held > 0 && n <= rings.numgc; ++n) {
    const size_t slot = SlotOf(n);
    const uint64_t pause = rings.pause_ns[slot];
    const uint64_t end = rings.pause_end_unix_ns[slot];
    const std::string which = "cycle " + std::to_string(n) + " of " + std::to_string(rings.numgc);
    if (pause == 0 || pause >= kMaxPauseNs) {
      return Status::DataLoss("memstats.pause_ns of " + which + " is " + std::to_string(pause) +
                              " ns, not in (0, 10 s)");
    }
    if (end < lower || end > now_unix_ns + kClockSlackNs) {
      return Status::DataLoss("memstats.pause_end of " + which + " (" + std::to_string(end) +
                              " Unix ns) is not between the process's start and now");
    }
    if (end < previous_end) {
      return Status::DataLoss("memstats.pause_end goes back in time at " + which);
    }
    previous_end = end;
  }
  for (uint32_t n = rings.numgc + 2; n <= kPauseRingSize; ++n) {
    const size_t slot = SlotOf(n);
    if (rings.pause_ns[slot] != 0 || rings.pause_end_unix_ns[slot] != 0) {
      return Status::DataLoss("memstats ring slot " + std::to_string(slot) +
                              " is used but numgc is " + std::to_string(rings.numgc));
    }
  }
  return Status::Ok();
}

Status CheckPauseRings(pid_t pid, const golang::RuntimeLayout& layout, uint64_t bias) {
  StatusOr<PauseRings> rings = ReadPauseRings(pid, layout, bias);
  if (!rings.ok()) return Status::Unavailable(rings.status().message());
  return ValidatePauseRings(*rings, 0, static_cast<uint64_t>(UnixNowNs()));
}

std::vector<RememberedCycle> CyclesAfter(const PauseRings& rings, uint32_t after) {
  std::vector<RememberedCycle> cycles;
  if (rings.numgc <= after) return cycles;
  uint32_t first = after + 1;
  if (rings.numgc - after > kPauseRingSize) first = rings.numgc - kPauseRingSize + 1;
  for (uint32_t n = first; n <= rings.numgc; ++n) {
    const size_t slot = SlotOf(n);
    cycles.push_back(RememberedCycle{n, rings.pause_ns[slot], rings.pause_end_unix_ns[slot]});
  }
  return cycles;
}

}  // namespace gcpilot::proc
