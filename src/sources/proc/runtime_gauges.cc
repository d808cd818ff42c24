// process_vm_readv-based runtime gauges (see the header).
#include "sources/proc/runtime_gauges.h"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "golang/runtime_layout.h"
#include "sources/proc/load_bias.h"

namespace gcpilot::proc {
namespace {

// A plausibility bound on len(allp) (= GOMAXPROCS; 1.19-1.23 set no cap):
// a larger value means the layout is wrong, and is not used.
constexpr uint64_t kMaxPs = 1 << 16;

void Note(RuntimeGauges& g, const std::string& why) {
  if (g.unavailable_reason.empty()) g.unavailable_reason = why;
}

template <typename T>
Status ReadValue(pid_t pid, uint64_t address, T& out) {
  return ReadProcessMemory(pid, address, &out, sizeof(out));
}

// gcount() of proc.go, from outside (`bias`: the PIE load bias). The reads
// are not atomic together: see RuntimeGauges::goroutines.
StatusOr<int64_t> ReadGoroutineCount(pid_t pid, const golang::RuntimeLayout& layout, uint64_t bias,
                                     const std::string& go_version) {
  using golang::RuntimeField;
  auto where = [&](RuntimeField f, size_t size) -> StatusOr<uint64_t> {
    const auto& loc = layout.Get(f);
    if (!loc || loc->size != size) {
      return Status::NotFound(std::string(golang::RuntimeFieldName(f)) + " not located in " +
                              go_version);
    }
    return loc->address + bias;
  };
  const auto& p_free = layout.Member(golang::RuntimeMember::kPGFreeN);
  if (!p_free || p_free->size != sizeof(int32_t)) {
    return Status::NotFound(
        std::string(golang::RuntimeMemberName(golang::RuntimeMember::kPGFreeN)) +
        " not located in " + go_version);
  }
  uint64_t allglen = 0, allp = 0, nps = 0;
  int32_t sched_free = 0, ngsys = 0;
  struct Read {
    RuntimeField field;
    void* out;
    size_t size;
  };
  for (const Read& r :
       {Read{RuntimeField::kAllglen, &allglen, 8}, Read{RuntimeField::kAllpArray, &allp, 8},
        Read{RuntimeField::kAllpLen, &nps, 8}, Read{RuntimeField::kSchedGFreeN, &sched_free, 4},
        Read{RuntimeField::kSchedNgsys, &ngsys, 4}}) {
    StatusOr<uint64_t> address = where(r.field, r.size);
    if (!address.ok()) return address.status();
    Status s = ReadProcessMemory(pid, *address, r.out, r.size);
    if (!s.ok()) return s;
  }
  // 1.25+: the free list without stacks counts itself apart.
  if (const auto& no_stack = layout.Get(RuntimeField::kSchedGFreeNoStack);
      no_stack && no_stack->size == 4) {
    int32_t free_no_stack = 0;
    Status s = ReadProcessMemory(pid, no_stack->address + bias, &free_no_stack, 4);
    if (!s.ok()) return s;
    sched_free += free_no_stack;
  }
  if (nps > kMaxPs || (nps > 0 && allp == 0)) {
    return Status::DataLoss("runtime.allp has len " + std::to_string(nps) +
                            ": not a plausible P array");
  }
  std::vector<uint64_t> ps(nps);
  if (nps > 0) {
    Status s = ReadProcessMemory(pid, allp, ps.data(), nps * sizeof(uint64_t));
    if (!s.ok()) return s;
  }
  // As the runtime computes it: int32 arithmetic on a uintptr length.
  int64_t n = static_cast<int32_t>(allglen) - int64_t{sched_free} - int64_t{ngsys};
  for (uint64_t p : ps) {
    if (p == 0) continue;  // Not yet set up (procresize in progress).
    int32_t free = 0;
    Status s = ReadValue(pid, p + p_free->offset, free);
    if (!s.ok()) return s;
    n -= free;
  }
  return std::max<int64_t>(n, 0);
}

// The sum of finblock.cnt over the allfin chain (see RuntimeGauges).
StatusOr<int64_t> ReadFinalizerBacklog(pid_t pid, const golang::RuntimeLayout& layout,
                                       uint64_t bias, const std::string& go_version,
                                       bool& truncated) {
  const auto& allfin = layout.Get(golang::RuntimeField::kAllfin);
  const auto& link = layout.Member(golang::RuntimeMember::kFinblockAlllink);
  const auto& cnt = layout.Member(golang::RuntimeMember::kFinblockCnt);
  if (!allfin || !link || !cnt || link->size != 8 || cnt->size != 4) {
    return Status::NotFound("runtime.allfin / finblock not located in " + go_version);
  }
  uint64_t block = 0;
  Status s = ReadValue(pid, allfin->address + bias, block);
  if (!s.ok()) return s;
  const uint32_t lo = std::min(link->offset, cnt->offset);
  const uint32_t hi = std::max(link->offset + 8, cnt->offset + 4);
  uint8_t buf[64];
  if (hi - lo > sizeof(buf)) return Status::DataLoss("finblock members too far apart");
  int64_t total = 0;
  size_t blocks = 0;
  for (; block != 0; ++blocks) {
    if (blocks == kMaxFinBlocks) {
      truncated = true;
      break;
    }
    s = ReadProcessMemory(pid, block + lo, buf, hi - lo);
    if (!s.ok()) return s;
    uint32_t c = 0;
    std::memcpy(&c, buf + (cnt->offset - lo), 4);
    std::memcpy(&block, buf + (link->offset - lo), 8);
    // A block holds ~100 finalizers (4 KiB / 40 bytes): more is garbage.
    if (c > 4096) return Status::DataLoss("finblock.cnt " + std::to_string(c) + " is implausible");
    total += c;
  }
  return total;
}

}  // namespace

Status ReadProcessMemory(pid_t pid, uint64_t address, void* out, size_t size) {
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n < 0) return Status::FromErrno(errno, "process_vm_readv of pid " + std::to_string(pid));
  if (static_cast<size_t>(n) != size) return Status::DataLoss("short read of process memory");
  return Status::Ok();
}

RuntimeGauges ReadRuntimeGauges(pid_t pid, const golang::GoBinary& binary, bool want_heap_live) {
  RuntimeGauges g;
  StatusOr<golang::RuntimeLayout> layout = golang::ResolveRuntimeLayout(binary);
  if (!layout.ok()) {
    Note(g, layout.status().message());
    return g;
  }
  StatusOr<uint64_t> bias = LoadBias(pid, binary);
  if (!bias.ok()) {
    Note(g, bias.status().message());
    return g;
  }
  // Reads the field into `out` (whose size must match the field's), or
  // notes why not.
  auto read = [&](golang::RuntimeField field, auto& out) {
    using T = typename std::remove_reference_t<decltype(out)>::value_type;
    const auto& where = layout->Get(field);
    if (!where || where->size != sizeof(T)) {
      Note(g,
           std::string(golang::RuntimeFieldName(field)) + " not located in " + binary.go_version());
      return;
    }
    T v{};
    Status s = ReadProcessMemory(pid, where->address + *bias, &v, sizeof(v));
    if (s.ok()) {
      out = v;
    } else {
      Note(g, s.message());
    }
  };
  read(golang::RuntimeField::kGomaxprocs, g.gomaxprocs);
  read(golang::RuntimeField::kGcControllerGcPercent, g.gogc);
  read(golang::RuntimeField::kGcControllerMemoryLimit, g.memory_limit);
  if (want_heap_live) {
    read(golang::RuntimeField::kGcControllerHeapLive, g.heap_live_bytes);
    std::optional<uint64_t> pages;
    read(golang::RuntimeField::kMheapPagesInUse, pages);
    // The runtime's page is 8 KiB on every platform (pageShift 13).
    if (pages && *pages < (uint64_t{1} << 40)) g.heap_inuse_bytes = *pages * 8192;
    StatusOr<int64_t> fin = ReadFinalizerBacklog(pid, *layout, *bias, binary.go_version(),
                                                 g.finalizer_backlog_truncated);
    if (fin.ok()) {
      g.finalizer_backlog = *fin;
    } else {
      Note(g, "finalizer backlog: " + fin.status().message());
    }
  }
  StatusOr<int64_t> goroutines = ReadGoroutineCount(pid, *layout, *bias, binary.go_version());
  if (goroutines.ok()) {
    g.goroutines = *goroutines;
  } else {
    Note(g, "goroutine count: " + goroutines.status().message());
  }
  return g;
}

}  // namespace gcpilot::proc
