// WalkGoroutines: a histogram of a running Go process's live goroutines by
// creation site (the PC of the `go` statement, runtime.g.gopc), read from its
// memory with process_vm_readv: runtime.allgs (array and len), then per g its
// atomicstatus, goid, gopc and startpc. No probe, no ptrace stop and no stop
// of the target's world: the target runs on while it is read, so the result
// is a racy snapshot (goroutines that start or exit meanwhile may be missed
// or counted in their old state).
//
// Bounds and races: at most `max_goroutines` entries of allgs are read (the
// rest is reported as truncated); allgs may be reallocated while it is read
// (its array and len are read together, and the old array keeps its g
// pointers), g pointers that cannot be read or whose status is not a known
// _G* value are counted as unreadable, not used; a process that exits
// mid-walk gives an error. Sites are symbolised through the binary's
// .gopclntab (function and file:line), so stripped binaries work too.
// Addresses and offsets come from golang::RuntimeLayout; when it lacks
// them (a Go version the offset table does not know, without DWARF) the
// error says so instead of guessing.
//
// The walk measures its own cost: the agent thread's CPU time, wall time
// and bytes read.
// Thread-safety: stateless function; call from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "golang/go_binary.h"

namespace gcpilot::proc {

struct GoroutineWalkLimits {
  size_t max_goroutines = 100'000;  // allgs entries read at most.
};

// One creation site with the live goroutines it started.
struct GoroutineSite {
  uint64_t gopc = 0;               // Link-time address (load bias removed).
  std::string function;            // The function holding the `go` statement.
  std::string file;                // Its source file ...
  int32_t line = 0;                // ... and line (0: unknown).
  std::string goroutine_function;  // What the goroutines run (startpc).
  int64_t live = 0;
};

struct GoroutineWalk {
  int64_t allglen = 0;               // len(allgs) as read.
  int64_t walked = 0;                // g structs read.
  int64_t live = 0;                  // Neither _Gidle nor _Gdead.
  int64_t dead = 0;                  // _Gdead (kept for reuse by the runtime).
  int64_t unreadable = 0;            // Unreadable g, or a status that is no _G* value.
  bool truncated = false;            // allglen > max_goroutines.
  std::vector<GoroutineSite> sites;  // Live goroutines per site, most first.
  // Cost of this walk, in the agent.
  int64_t cpu_ns = 0;
  int64_t wall_ns = 0;
  uint64_t bytes_read = 0;
};

// Walks `pid`'s goroutines. Errors: the layout cannot locate allgs or the g
// members (with the reason); the process cannot be read (gone, no
// permission).
StatusOr<GoroutineWalk> WalkGoroutines(pid_t pid, const golang::GoBinary& binary,
                                       const GoroutineWalkLimits& limits);

// The runtime's g status values this reader accepts (runtime2.go, 1.19-1.23:
// _Gidle 0 .. _Gpreempted 9, plus the _Gscan bit 0x1000).
bool PlausibleGStatus(uint32_t status);

}  // namespace gcpilot::proc
