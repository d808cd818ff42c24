// Goroutine creation sites from process memory (see goroutine_walk.h).
#include "sources/proc/goroutine_walk.h"

#include <sys/uio.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>

#include "golang/runtime_layout.h"
#include "sources/proc/load_bias.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::proc {
namespace {

constexpr uint32_t kGscan = 0x1000;
constexpr uint32_t kGidle = 0;
constexpr uint32_t kGdead = 6;
constexpr uint32_t kGpreempted = 9;
constexpr size_t kBatch = 512;  // g structs per process_vm_readv (< IOV_MAX).

int64_t Now(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

bool PlausibleGStatus(uint32_t status) { return (status & ~kGscan) <= kGpreempted; }

StatusOr<GoroutineWalk> WalkGoroutines(pid_t pid, const golang::GoBinary& binary,
                                       const GoroutineWalkLimits& limits) {
  const int64_t cpu0 = Now(CLOCK_THREAD_CPUTIME_ID);
  const int64_t wall0 = Now(CLOCK_MONOTONIC);
  GoroutineWalk out;
  StatusOr<golang::RuntimeLayout> layout = golang::ResolveRuntimeLayout(binary);
  if (!layout.ok()) return layout.status();
  const auto& array = layout->Get(golang::RuntimeField::kAllgsArray);
  const auto& len = layout->Get(golang::RuntimeField::kAllgsLen);
  using M = golang::RuntimeMember;
  const auto& status_m = layout->Member(M::kGAtomicstatus);
  const auto& gopc_m = layout->Member(M::kGGopc);
  const auto& startpc_m = layout->Member(M::kGStartpc);
  if (!array || !len || len->address != array->address + 8) {
    return Status::NotFound("runtime.allgs not located in " + binary.go_version());
  }
  if (!status_m || !gopc_m || !startpc_m) {
    return Status::NotFound("runtime.g members (atomicstatus, gopc, startpc) not located in " +
                            binary.go_version());
  }
  const golang::LoadedPclntab* pcln = binary.symbols().pclntab();
  if (pcln == nullptr) {
    return Status::NotFound("no .gopclntab to symbolise creation sites: " +
                            binary.symbols().pclntab_status().message());
  }
  StatusOr<uint64_t> bias = LoadBias(pid, binary);
  if (!bias.ok()) return bias.status();

  // The slice header: array and len in one read, so they belong together.
  uint64_t header[2] = {0, 0};
  Status s = ReadProcessMemory(pid, array->address + *bias, header, sizeof(header));
  if (!s.ok()) return s;
  out.bytes_read += sizeof(header);
  out.allglen = static_cast<int64_t>(std::min<uint64_t>(header[1], INT64_MAX));
  uint64_t n = header[1];
  if (n > limits.max_goroutines) {
    n = limits.max_goroutines;
    out.truncated = true;
  }
  if (n > 0 && header[0] == 0) return Status::DataLoss("runtime.allgs has a nil array");
  std::vector<uint64_t> gs(n);
  for (uint64_t done = 0; done < n;) {
    const uint64_t chunk = std::min<uint64_t>(n - done, 8192);
    s = ReadProcessMemory(pid, header[0] + done * 8, gs.data() + done, chunk * 8);
    if (!s.ok()) return s;
    out.bytes_read += chunk * 8;
    done += chunk;
  }

  // One contiguous span of each g covers the members read.
  const uint32_t lo = std::min({status_m->offset, gopc_m->offset, startpc_m->offset});
  const uint32_t hi =
      std::max({status_m->offset + 4u, gopc_m->offset + 8u, startpc_m->offset + 8u});
  const size_t span = hi - lo;
  std::vector<uint8_t> buf(kBatch * span);
  std::map<uint64_t, std::pair<uint64_t, int64_t>> by_gopc;  // gopc -> {startpc, live}.
  auto use = [&](const uint8_t* g) {
    uint32_t status = 0;
    uint64_t gopc = 0, startpc = 0;
    std::memcpy(&status, g + (status_m->offset - lo), 4);
    std::memcpy(&gopc, g + (gopc_m->offset - lo), 8);
    std::memcpy(&startpc, g + (startpc_m->offset - lo), 8);
    ++out.walked;
    if (!PlausibleGStatus(status)) {
      ++out.unreadable;
      return;
    }
    status &= ~kGscan;
    if (status == kGdead) {
      ++out.dead;
      return;
    }
    if (status == kGidle) return;
    ++out.live;
    auto& site = by_gopc[gopc - *bias];
    site.first = startpc - *bias;
    ++site.second;
  };
  for (uint64_t base = 0; base < n; base += kBatch) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(kBatch, n - base));
    size_t next = 0;
    while (next < count) {
      std::vector<iovec> local, remote;
      for (size_t i = next; i < count; ++i) {
        const uint64_t g = gs[base + i];
        local.push_back({buf.data() + i * span, span});
        remote.push_back({reinterpret_cast<void*>(g + lo), span});
      }
      ssize_t got =
          process_vm_readv(pid, local.data(), local.size(), remote.data(), remote.size(), 0);
      if (got < 0 && errno == ESRCH)
        return Status::NotFound("process " + std::to_string(pid) + " exited");
      const size_t whole = got > 0 ? static_cast<size_t>(got) / span : 0;
      out.bytes_read += got > 0 ? static_cast<uint64_t>(got) : 0;
      for (size_t i = next; i < next + whole; ++i) use(buf.data() + i * span);
      next += whole;
      if (next < count) {
        // The transfer stops at the first iovec it cannot read (a nil or
        // stale g pointer): skip that one.
        ++out.walked;
        ++out.unreadable;
        ++next;
      }
    }
  }

  const golang::Pclntab& table = pcln->table;
  for (const auto& [gopc, v] : by_gopc) {
    GoroutineSite site;
    site.gopc = gopc;
    site.live = v.second;
    if (auto fn = table.FindByAddress(gopc > 0 ? gopc - 1 : 0)) {
      site.function = std::string(fn->name);
      // gopc is a return address: its call is the instruction before it.
      if (auto at = table.LineOf(gopc - 1)) {
        site.file = std::string(at->file);
        site.line = at->line;
      }
    } else {
      site.function = "?";
    }
    if (auto fn = table.FindByAddress(v.first)) site.goroutine_function = std::string(fn->name);
    out.sites.push_back(std::move(site));
  }
  std::sort(out.sites.begin(), out.sites.end(), [](const GoroutineSite& a, const GoroutineSite& b) {
    return a.live != b.live ? a.live > b.live : a.gopc < b.gopc;
  });
  out.cpu_ns = Now(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  out.wall_ns = Now(CLOCK_MONOTONIC) - wall0;
  return out;
}

}  // namespace gcpilot::proc
