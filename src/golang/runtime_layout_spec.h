// What RuntimeLayout looks for, in one place for the resolver and for the
// table generator (tools/gen_runtime_layout): which runtime global holds
// each RuntimeField, the DWARF struct type of that global, the member paths
// to try in order (the first that exists in a Go version wins: atomics
// wrap the value in ".value"; 1.19 has maxStackScan where 1.21+ have
// lastStackScan), and the size of one scalar read.
// Thread-safety: constant data; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "golang/runtime_layout.h"

namespace gcpilot::golang {

enum class RuntimeGlobal : uint8_t {
  kMemstats,
  kWork,
  kGcController,
  kRuntimeInitTime,
  kGomaxprocs,
  kAllglen,
  kAllp,
  kSched,
  kAllgs,
  kMheap,
  kAllfin,
  kCount
};
inline constexpr size_t kRuntimeGlobalCount = static_cast<size_t>(RuntimeGlobal::kCount);

struct RuntimeGlobalSpec {
  std::string_view symbol;       // "runtime.memstats".
  std::string_view struct_type;  // "runtime.mstats"; empty for a scalar global.
};

struct RuntimeFieldSpec {
  RuntimeGlobal global;
  // Member paths in struct_type, tried in order; all empty for a scalar
  // global (offset 0).
  std::array<std::string_view, 2> member_paths;
  uint8_t scalar_size;  // FieldLocation::size.
  // The DWARF size of the member: scalar_size, or 256 * 8 for the pause
  // rings (checked by the generator and the DWARF path).
  uint16_t dwarf_size;
};

// A member of a runtime struct type reached through a pointer.
struct RuntimeMemberSpec {
  std::string_view struct_type;  // "runtime.p".
  std::array<std::string_view, 2> member_paths;
  uint8_t scalar_size;  // MemberLocation::size, also its DWARF size.
};

const RuntimeGlobalSpec& GlobalSpec(RuntimeGlobal g);
const RuntimeMemberSpec& MemberSpec(RuntimeMember m);
const RuntimeFieldSpec& FieldSpec(RuntimeField f);
// "memstats", "work", "gcController", "runtimeInitTime", "gomaxprocs",
// "allglen", "allp", "sched", "allgs", "mheap_", "allfin".
std::string_view RuntimeGlobalName(RuntimeGlobal g);

}  // namespace gcpilot::golang
