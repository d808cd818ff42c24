// process_vm_readv-based runtime gauges (see the header).
#include "sources/proc/runtime_gauges.h"

#include <sys/uio.h>

#include <cerrno>
#include <type_traits>
#include <utility>

#include "golang/runtime_layout.h"
#include "sources/proc/load_bias.h"

namespace gcpilot::proc {
namespace {

void Note(RuntimeGauges& g, const std::string& why) {
  if (g.unavailable_reason.empty()) g.unavailable_reason = why;
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
  if (want_heap_live) read(golang::RuntimeField::kGcControllerHeapLive, g.heap_live_bytes);
  return g;
}

}  // namespace gcpilot::proc
