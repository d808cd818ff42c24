// gen_runtime_layout: derives the rows of src/golang/runtime_layout_table.inc
// for one exact Go version from several binaries built by that toolchain
// (each with .symtab and DWARF), using gcpilot's own DWARF and code readers:
//   - member offsets of every RuntimeField and RuntimeMember (DWARF; all
//     binaries must agree);
//   - section and size of every runtime global (.symtab);
//   - code references that locate each global in a stripped binary: RIP-
//     relative operands of runtime functions that point into the global,
//     kept only when identical (function, instruction, offset from the
//     global) in every input binary, so that they depend neither on the user
//     program nor on -pgo (the operand's index is recorded from the first
//     binary, for information). Up to kRefsPerGlobal are chosen, from
//     distinct functions, preferring functions with few RIP-relative operands.
// Usage: gen_runtime_layout BINARY... > rows   (exit 1 with a message on error)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "golang/code_scan.h"
#include "golang/go_binary.h"
#include "golang/runtime_layout_spec.h"

namespace gcpilot::golang {
namespace {

constexpr size_t kRefsPerGlobal = 4;

struct Ref {
  std::string function;
  uint32_t index;
  std::string mnemonic;
  uint8_t access_size;
  int64_t offset;
  auto key() const { return std::tie(function, mnemonic, access_size, offset); }
  bool operator<(const Ref& o) const { return key() < o.key(); }
};

[[noreturn]] void Fail(const std::string& msg) {
  std::fprintf(stderr, "gen_runtime_layout: %s\n", msg.c_str());
  std::exit(1);
}

std::string SectionOf(const ElfFile& elf, uint64_t address) {
  for (const ElfSection& s : elf.sections()) {
    if (s.address != 0 && address >= s.address && address - s.address < s.size) return s.name;
  }
  return "";
}

// The offsets of every field in `binary` (by DWARF): index -> offset or -1.
std::vector<int64_t> Offsets(const GoBinary& binary) {
  auto dwarf = binary.OpenDwarf();
  if (!dwarf.ok()) Fail(binary.path() + ": " + dwarf.status().ToString());
  std::vector<int64_t> offsets(kRuntimeFieldCount, -1);
  for (size_t i = 0; i < kRuntimeFieldCount; ++i) {
    const RuntimeFieldSpec& spec = FieldSpec(static_cast<RuntimeField>(i));
    const RuntimeGlobalSpec& global = GlobalSpec(spec.global);
    if (global.struct_type.empty()) {
      offsets[i] = 0;
      continue;
    }
    for (std::string_view path : spec.member_paths) {
      if (path.empty()) continue;
      auto m = (*dwarf)->FindMember(global.struct_type, path);
      if (!m.ok()) continue;
      if (m->size != spec.dwarf_size) {
        Fail(binary.path() + ": " + std::string(global.struct_type) + "." + std::string(path) +
             " has size " + std::to_string(m->size) + ", expected " +
             std::to_string(spec.dwarf_size));
      }
      offsets[i] = static_cast<int64_t>(m->offset);
      break;
    }
  }
  return offsets;
}

// The offsets of every RuntimeMember in `binary` (by DWARF): index ->
// offset or -1.
std::vector<int64_t> MemberOffsets(const GoBinary& binary) {
  auto dwarf = binary.OpenDwarf();
  if (!dwarf.ok()) Fail(binary.path() + ": " + dwarf.status().ToString());
  std::vector<int64_t> offsets(kRuntimeMemberCount, -1);
  for (size_t i = 0; i < kRuntimeMemberCount; ++i) {
    const RuntimeMemberSpec& spec = MemberSpec(static_cast<RuntimeMember>(i));
    for (std::string_view path : spec.member_paths) {
      if (path.empty()) continue;
      auto m = (*dwarf)->FindMember(spec.struct_type, path);
      if (!m.ok()) continue;
      if (m->size != spec.scalar_size) {
        Fail(binary.path() + ": " + std::string(spec.struct_type) + "." + std::string(path) +
             " has size " + std::to_string(m->size) + ", expected " +
             std::to_string(spec.scalar_size));
      }
      offsets[i] = static_cast<int64_t>(m->offset);
      break;
    }
  }
  return offsets;
}

// "function|mnemonic|size": the key of SignatureCounts.
std::string SignatureKey(const std::string& function, const std::string& mnemonic, uint8_t size) {
  return function + "|" + mnemonic + "|" + std::to_string(size);
}

// Every code reference into each global, plus each function's count of
// RIP-relative operands and, per instruction signature (mnemonic and access
// size), how many of its RIP-relative operands have it (for ranking: a
// reference whose signature is rare in its function proposes few bases).
void CollectRefs(const GoBinary& binary, std::vector<std::set<Ref>>& refs,
                 std::map<std::string, size_t>& rip_counts,
                 std::map<std::string, size_t>& signature_counts) {
  std::vector<GlobalInfo> globals;
  for (size_t g = 0; g < kRuntimeGlobalCount; ++g) {
    auto info = binary.FindGlobal(GlobalSpec(static_cast<RuntimeGlobal>(g)).symbol);
    if (!info.ok()) Fail(binary.path() + ": " + info.status().ToString());
    globals.push_back(*info);
  }
  std::map<std::string, int> name_count;
  const auto functions = binary.ListFunctions("runtime.");
  for (const FunctionInfo& fn : functions) ++name_count[fn.name];
  refs.assign(kRuntimeGlobalCount, {});
  for (const FunctionInfo& fn : functions) {
    if (name_count[fn.name] != 1 || fn.name.find_first_of("[ ") != std::string::npos ||
        fn.name.find(".abi0") != std::string::npos) {
      continue;
    }
    auto code = DecodeFunction(binary.elf(), fn);
    if (!code.ok()) continue;
    uint32_t index = 0;
    std::map<std::string, size_t> signatures;
    for (const DecodedInstruction& insn : *code) {
      if (!insn.rip_target) continue;
      ++signatures[SignatureKey(fn.name, insn.mnemonic, insn.rip_access_size)];
      for (size_t g = 0; g < globals.size(); ++g) {
        const uint64_t t = *insn.rip_target;
        if (t >= globals[g].address &&
            t - globals[g].address < std::max<uint64_t>(1, globals[g].size)) {
          refs[g].insert(Ref{fn.name, index, insn.mnemonic, insn.rip_access_size,
                             static_cast<int64_t>(t - globals[g].address)});
        }
      }
      ++index;
    }
    auto& count = rip_counts[fn.name];
    count = std::max<size_t>(count, index);
    for (const auto& [key, n] : signatures) {
      signature_counts[key] = std::max(signature_counts[key], n);
    }
  }
}

void Run(const std::vector<std::string>& paths) {
  std::vector<GoBinary> binaries;
  for (const std::string& path : paths) {
    auto binary = GoBinary::Open(path);
    if (!binary.ok()) Fail(path + ": " + binary.status().ToString());
    if (binary->stripped() || !binary->has_dwarf()) Fail(path + ": needs .symtab and DWARF");
    if (!binaries.empty() && binary->go_version() != binaries[0].go_version()) {
      Fail(path + ": " + binary->go_version() + " differs from " + binaries[0].go_version());
    }
    binaries.push_back(std::move(*binary));
  }
  const std::string v = binaries[0].go_version();
  std::printf("\n// %s, from %zu binaries\n", v.c_str(), binaries.size());

  const std::vector<int64_t> offsets = Offsets(binaries[0]);
  for (size_t b = 1; b < binaries.size(); ++b) {
    if (Offsets(binaries[b]) != offsets) Fail(binaries[b].path() + ": DWARF offsets differ");
  }
  if (offsets[static_cast<size_t>(RuntimeField::kMemstatsNumgc)] < 0 ||
      offsets[static_cast<size_t>(RuntimeField::kMemstatsPauseNs)] < 0) {
    Fail(v + ": memstats.numgc or memstats.pause_ns not in DWARF");
  }
  for (size_t i = 0; i < kRuntimeFieldCount; ++i) {
    if (offsets[i] < 0) {
      std::printf("// %s: no %s\n", v.c_str(),
                  std::string(RuntimeFieldName(static_cast<RuntimeField>(i))).c_str());
      continue;
    }
    static constexpr const char* kEnumerators[] = {
        "kMemstatsNumgc",
        "kMemstatsPauseNs",
        "kMemstatsPauseEnd",
        "kMemstatsGcCpuFraction",
        "kWorkTSweepTerm",
        "kWorkTMark",
        "kWorkTMarkTerm",
        "kWorkTEnd",
        "kWorkHeap0",
        "kWorkHeap1",
        "kWorkHeap2",
        "kWorkStwprocs",
        "kWorkMaxprocs",
        "kWorkUserForced",
        "kGcControllerAssistTime",
        "kGcControllerDedicatedMarkTime",
        "kGcControllerFractionalMarkTime",
        "kGcControllerIdleMarkTime",
        "kGcControllerLastHeapGoal",
        "kGcControllerStackScan",
        "kGcControllerGlobalsScan",
        "kGcControllerHeapLive",
        "kGcControllerGcPercent",
        "kGcControllerMemoryLimit",
        "kRuntimeInitTime",
        "kGomaxprocs",
        "kAllglen",
        "kAllpArray",
        "kAllpLen",
        "kSchedGFreeN",
        "kSchedNgsys",
        "kAllgsArray",
        "kAllgsLen",
        "kMheapPagesInUse",
        "kAllfin",
        "kSchedGFreeNoStack",
    };
    static_assert(std::size(kEnumerators) == kRuntimeFieldCount);
    std::printf("GCPILOT_LAYOUT_OFFSET(\"%s\", %s, %lld)\n", v.c_str(), kEnumerators[i],
                static_cast<long long>(offsets[i]));
  }

  const std::vector<int64_t> members = MemberOffsets(binaries[0]);
  for (size_t b = 1; b < binaries.size(); ++b) {
    if (MemberOffsets(binaries[b]) != members) Fail(binaries[b].path() + ": DWARF offsets differ");
  }
  static constexpr const char* kMemberEnumerators[] = {
      "kPGFreeN",  "kGAtomicstatus",   "kGGoid",      "kGGopc",
      "kGStartpc", "kFinblockAlllink", "kFinblockCnt"};
  static_assert(std::size(kMemberEnumerators) == kRuntimeMemberCount);
  for (size_t m = 0; m < kRuntimeMemberCount; ++m) {
    if (members[m] < 0) {
      std::printf("// %s: no %s\n", v.c_str(),
                  std::string(RuntimeMemberName(static_cast<RuntimeMember>(m))).c_str());
      continue;
    }
    std::printf("GCPILOT_LAYOUT_MEMBER(\"%s\", %s, %lld)\n", v.c_str(), kMemberEnumerators[m],
                static_cast<long long>(members[m]));
  }

  static constexpr const char* kGlobalEnumerators[] = {
      "kMemstats", "kWork",  "kGcController", "kRuntimeInitTime", "kGomaxprocs", "kAllglen",
      "kAllp",     "kSched", "kAllgs",        "kMheap",           "kAllfin"};
  static_assert(std::size(kGlobalEnumerators) == kRuntimeGlobalCount);
  for (size_t g = 0; g < kRuntimeGlobalCount; ++g) {
    const RuntimeGlobalSpec& spec = GlobalSpec(static_cast<RuntimeGlobal>(g));
    std::string section;
    uint64_t size = 0;
    for (const GoBinary& binary : binaries) {
      auto info = binary.FindGlobal(spec.symbol);
      if (!info.ok()) Fail(binary.path() + ": " + info.status().ToString());
      const std::string s = SectionOf(binary.elf(), info->address);
      if (s.empty()) Fail(binary.path() + ": " + std::string(spec.symbol) + " in no section");
      if (!section.empty() && (s != section || info->size != size)) {
        Fail(binary.path() + ": " + std::string(spec.symbol) + " section/size differ");
      }
      section = s;
      size = info->size;
    }
    std::printf("GCPILOT_LAYOUT_GLOBAL(\"%s\", %s, \"%s\", %llu)\n", v.c_str(),
                kGlobalEnumerators[g], section.c_str(), static_cast<unsigned long long>(size));
  }

  std::vector<std::set<Ref>> common;
  std::map<std::string, size_t> rip_counts, signature_counts;
  for (size_t b = 0; b < binaries.size(); ++b) {
    std::vector<std::set<Ref>> refs;
    CollectRefs(binaries[b], refs, rip_counts, signature_counts);
    if (b == 0) {
      common = std::move(refs);
      continue;
    }
    for (size_t g = 0; g < kRuntimeGlobalCount; ++g) {
      std::set<Ref> both;
      std::set_intersection(common[g].begin(), common[g].end(), refs[g].begin(), refs[g].end(),
                            std::inserter(both, both.end()));
      common[g] = std::move(both);
    }
  }
  for (size_t g = 0; g < kRuntimeGlobalCount; ++g) {
    std::vector<Ref> ranked(common[g].begin(), common[g].end());
    std::stable_sort(ranked.begin(), ranked.end(), [&](const Ref& a, const Ref& b) {
      const size_t sa = signature_counts[SignatureKey(a.function, a.mnemonic, a.access_size)];
      const size_t sb = signature_counts[SignatureKey(b.function, b.mnemonic, b.access_size)];
      return std::tuple(sa, rip_counts[a.function], a.function, a.index) <
             std::tuple(sb, rip_counts[b.function], b.function, b.index);
    });
    std::set<std::string> used;
    for (const Ref& r : ranked) {
      if (used.size() == kRefsPerGlobal) break;
      if (!used.insert(r.function).second) continue;
      std::printf("GCPILOT_LAYOUT_REF(\"%s\", %s, \"%s\", %u, \"%s\", %u, %lld)\n", v.c_str(),
                  kGlobalEnumerators[g], r.function.c_str(), r.index, r.mnemonic.c_str(),
                  r.access_size, static_cast<long long>(r.offset));
    }
    if (used.size() < 2) {
      Fail(v + ": fewer than 2 stable code references to " +
           std::string(GlobalSpec(static_cast<RuntimeGlobal>(g)).symbol));
    }
  }
}

}  // namespace
}  // namespace gcpilot::golang

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BINARY...  (same Go version, with .symtab and DWARF)\n",
                 argv[0]);
    return 2;
  }
  gcpilot::golang::Run(std::vector<std::string>(argv + 1, argv + argc));
  return 0;
}
