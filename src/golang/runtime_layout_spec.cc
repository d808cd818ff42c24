// The field and global specifications of RuntimeLayout (see the header).
#include "golang/runtime_layout_spec.h"

namespace gcpilot::golang {
namespace {

using G = RuntimeGlobal;

constexpr std::array<RuntimeGlobalSpec, kRuntimeGlobalCount> kGlobals = {{
    {"runtime.memstats", "runtime.mstats"},
    {"runtime.work", "runtime.workType"},
    {"runtime.gcController", "runtime.gcControllerState"},
    {"runtime.runtimeInitTime", ""},
    {"runtime.gomaxprocs", ""},
    {"runtime.allglen", ""},
    // A slice is a struct in Go's DWARF: array, len, cap.
    {"runtime.allp", "[]*runtime.p"},
    {"runtime.sched", "runtime.schedt"},
    {"runtime.allgs", "[]*runtime.g"},
    {"runtime.mheap_", "runtime.mheap"},
    {"runtime.allfin", ""},
}};

constexpr std::array<RuntimeFieldSpec, kRuntimeFieldCount> kFields = {{
    {G::kMemstats, {"numgc", ""}, 4, 4},
    {G::kMemstats, {"pause_ns", ""}, 8, 256 * 8},
    {G::kMemstats, {"pause_end", ""}, 8, 256 * 8},
    {G::kMemstats, {"gc_cpu_fraction", ""}, 8, 8},
    {G::kWork, {"tSweepTerm", ""}, 8, 8},
    {G::kWork, {"tMark", ""}, 8, 8},
    {G::kWork, {"tMarkTerm", ""}, 8, 8},
    {G::kWork, {"tEnd", ""}, 8, 8},
    {G::kWork, {"heap0", ""}, 8, 8},
    {G::kWork, {"heap1", ""}, 8, 8},
    {G::kWork, {"heap2", ""}, 8, 8},
    {G::kWork, {"stwprocs", ""}, 4, 4},
    {G::kWork, {"maxprocs", ""}, 4, 4},
    {G::kWork, {"userForced", ""}, 1, 1},
    {G::kGcController, {"assistTime.value", "assistTime"}, 8, 8},
    {G::kGcController, {"dedicatedMarkTime.value", "dedicatedMarkTime"}, 8, 8},
    {G::kGcController, {"fractionalMarkTime.value", "fractionalMarkTime"}, 8, 8},
    {G::kGcController, {"idleMarkTime.value", "idleMarkTime"}, 8, 8},
    {G::kGcController, {"lastHeapGoal", ""}, 8, 8},
    // 1.21+: lastStackScan is an atomic.Uint64 (what gctrace prints); 1.19
    // prints maxStackScan (a plain uint64; its lastStackScan is plain too).
    {G::kGcController, {"lastStackScan.value", "maxStackScan"}, 8, 8},
    {G::kGcController, {"globalsScan.value", "globalsScan"}, 8, 8},
    {G::kGcController, {"heapLive.value", "heapLive"}, 8, 8},
    {G::kGcController, {"gcPercent.value", ""}, 4, 4},
    {G::kGcController, {"memoryLimit.value", ""}, 8, 8},
    {G::kRuntimeInitTime, {"", ""}, 8, 8},
    {G::kGomaxprocs, {"", ""}, 4, 4},
    {G::kAllglen, {"", ""}, 8, 8},
    {G::kAllp, {"array", ""}, 8, 8},
    {G::kAllp, {"len", ""}, 8, 8},
    // 1.25+: the free lists count themselves (gList.size), no gFree.n.
    {G::kSched, {"gFree.n", "gFree.stack.size"}, 4, 4},
    // 1.21+: atomic.Int32; 1.19: a plain uint32.
    {G::kSched, {"ngsys.value", "ngsys"}, 4, 4},
    {G::kAllgs, {"array", ""}, 8, 8},
    {G::kAllgs, {"len", ""}, 8, 8},
    // 1.19: atomic.Uint64; 1.21+: atomic.Uintptr (both 8 bytes here).
    {G::kMheap, {"pagesInUse.value", "pagesInUse"}, 8, 8},
    {G::kAllfin, {"", ""}, 8, 8},
    {G::kSched, {"gFree.noStack.size", ""}, 4, 4},
}};

constexpr std::array<RuntimeMemberSpec, kRuntimeMemberCount> kMembers = {{
    {"runtime.p", {"gFree.n", "gFree.size"}, 4},  // 1.25+: a gList with its size.
    // 1.20+: atomic.Uint32; 1.19: a plain uint32.
    {"runtime.g", {"atomicstatus.value", "atomicstatus"}, 4},
    {"runtime.g", {"goid", ""}, 8},
    {"runtime.g", {"gopc", ""}, 8},
    {"runtime.g", {"startpc", ""}, 8},
    {"runtime.finblock", {"alllink", ""}, 8},
    {"runtime.finblock", {"cnt", ""}, 4},
}};

constexpr std::array<std::string_view, kRuntimeMemberCount> kMemberNames = {
    "p.gFree.n", "g.atomicstatus",   "g.goid",       "g.gopc",
    "g.startpc", "finblock.alllink", "finblock.cnt",
};

constexpr std::array<std::string_view, kRuntimeFieldCount> kFieldNames = {
    "memstats.numgc",
    "memstats.pause_ns",
    "memstats.pause_end",
    "memstats.gc_cpu_fraction",
    "work.tSweepTerm",
    "work.tMark",
    "work.tMarkTerm",
    "work.tEnd",
    "work.heap0",
    "work.heap1",
    "work.heap2",
    "work.stwprocs",
    "work.maxprocs",
    "work.userForced",
    "gcController.assistTime",
    "gcController.dedicatedMarkTime",
    "gcController.fractionalMarkTime",
    "gcController.idleMarkTime",
    "gcController.lastHeapGoal",
    "gcController.stackScan",
    "gcController.globalsScan",
    "gcController.heapLive",
    "gcController.gcPercent",
    "gcController.memoryLimit",
    "runtimeInitTime",
    "gomaxprocs",
    "allglen",
    "allp.array",
    "allp.len",
    "sched.gFree.n",
    "sched.ngsys",
    "allgs.array",
    "allgs.len",
    "mheap_.pagesInUse",
    "allfin",
    "sched.gFree.noStack.size",
};

}  // namespace

const RuntimeGlobalSpec& GlobalSpec(RuntimeGlobal g) { return kGlobals[static_cast<size_t>(g)]; }
const RuntimeFieldSpec& FieldSpec(RuntimeField f) { return kFields[static_cast<size_t>(f)]; }
const RuntimeMemberSpec& MemberSpec(RuntimeMember m) { return kMembers[static_cast<size_t>(m)]; }

std::string_view RuntimeGlobalName(RuntimeGlobal g) {
  std::string_view symbol = GlobalSpec(g).symbol;
  return symbol.substr(symbol.find('.') + 1);
}

std::string_view RuntimeFieldName(RuntimeField f) {
  const size_t i = static_cast<size_t>(f);
  return i < kFieldNames.size() ? kFieldNames[i] : std::string_view("unknown");
}

std::string_view RuntimeMemberName(RuntimeMember m) {
  const size_t i = static_cast<size_t>(m);
  return i < kMemberNames.size() ? kMemberNames[i] : std::string_view("unknown");
}

}  // namespace gcpilot::golang
