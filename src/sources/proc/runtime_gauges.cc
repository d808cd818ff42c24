// process_vm_readv-based runtime gauges (see the header).
#include "sources/proc/runtime_gauges.h"

#include <sys/uio.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <utility>

#include "golang/runtime_layout.h"

namespace gcpilot::proc {
namespace {

// For a PIE binary, the difference between where the executable's first
// mapping landed and its link address (0 for the usual non-PIE Go binary).
StatusOr<uint64_t> LoadBias(pid_t pid, const golang::GoBinary& binary) {
  if (!binary.pie()) return uint64_t{0};
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  if (!maps) return Status::NotFound("process " + std::to_string(pid) + " is gone");
  std::string line;
  while (std::getline(maps, line)) {
    // start-end perms offset dev inode path
    std::istringstream ss(line);
    std::string range, perms, offset, dev, inode, path;
    ss >> range >> perms >> offset >> dev >> inode >> path;
    if (offset != "00000000" || path.empty() || path[0] != '/') continue;
    if (std::stoull(inode) == 0) continue;
    // The first file-backed mapping at offset 0: assume it is the executable
    // when its path matches what /proc/PID/exe points to.
    char exe[4096];
    ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof(exe) - 1);
    if (n <= 0 || path != std::string(exe, static_cast<size_t>(n))) continue;
    // The mapping of file offset 0 lands at LinkBase() + bias (internally
    // linked Go PIEs link at 0x400000, not 0).
    uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    return start - binary.elf().LinkBase().value_or(0);
  }
  return Status::NotFound("executable mapping of process " + std::to_string(pid) + " not found");
}

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

RuntimeGauges ReadRuntimeGauges(pid_t pid, const golang::GoBinary& binary) {
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
  return g;
}

}  // namespace gcpilot::proc
