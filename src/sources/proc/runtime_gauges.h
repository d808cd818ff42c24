// RuntimeGauges: GOMAXPROCS, GOGC, GOMEMLIMIT and the goroutine count read
// from a running Go process's memory with process_vm_readv (no probe, no stop of the world,
// nothing written). Addresses and offsets come from golang::RuntimeLayout
// (symbols and DWARF, else the per-Go-version table and, for stripped
// binaries, the runtime's code); when the layout cannot be resolved (e.g. a
// stripped binary of a Go version the table lacks) the result says why,
// instead of guessing.
// Thread-safety: stateless function.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "golang/go_binary.h"

namespace gcpilot::proc {

struct RuntimeGauges {
  std::optional<int32_t> gomaxprocs;
  std::optional<int32_t> gogc;          // -1 = off.
  std::optional<int64_t> memory_limit;  // Bytes; INT64_MAX = no limit.
  // gcController.heapLive: heap in use now, as the pacer counts it (only
  // read when asked).
  std::optional<uint64_t> heap_live_bytes;
  // Live goroutines as runtime.NumGoroutine() counts them (gcount():
  // allglen - sched.gFree.n - sched.ngsys - the sum of p.gFree.n over allp),
  // clamped to >= 0. A racy snapshot of a running program (the runtime's
  // own formula, read without a lock): exact when the count is steady,
  // approximate while goroutines start and exit between the reads.
  std::optional<int64_t> goroutines;
  // Heap in use: runtime.mheap_.pagesInUse x 8 KiB, the pages of spans
  // that hold heap objects (HeapInuse, less the partial last page); only
  // read when asked.
  std::optional<uint64_t> heap_inuse_bytes;
  // Finalizers queued and not yet finished: the sum of cnt over every
  // finalizer block (runtime.allfin through finblock.alllink). runfinq
  // decrements a block's cnt as each finalizer returns, so this counts both
  // the queue (runtime.finq) and the batch the finalizer goroutine is
  // running; only read when asked, at most kMaxFinBlocks blocks (then
  // finalizer_backlog_truncated and the count is a lower bound).
  std::optional<int64_t> finalizer_backlog;
  bool finalizer_backlog_truncated = false;
  std::string unavailable_reason;  // Why some gauge could not be read.
};

// Finalizer blocks walked at most per read (~100 finalizers each).
inline constexpr size_t kMaxFinBlocks = 16384;

// Reads the gauges of `pid`, whose executable is `binary`. Never fails as a
// whole: each gauge that cannot be read is left empty and the reason noted.
// want_heap_live also reads heap_live_bytes, heap_inuse_bytes and
// finalizer_backlog (the agent's per-second read; `ps` skips them).
RuntimeGauges ReadRuntimeGauges(pid_t pid, const golang::GoBinary& binary,
                                bool want_heap_live = false);

// Reads `size` bytes at `address` of `pid` (process_vm_readv).
Status ReadProcessMemory(pid_t pid, uint64_t address, void* out, size_t size);

}  // namespace gcpilot::proc
