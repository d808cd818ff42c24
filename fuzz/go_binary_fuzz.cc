// libFuzzer target for the Go binary reader (src/golang/): checks on
// arbitrary bytes that it never crashes, reads out of bounds or hits
// undefined behaviour, and that what it returns is consistent.
//   - Input starting with "\x7fELF": a whole file for GoBinary (ELF
//     headers, notes, .go.buildinfo or else runtime.buildVersion (symbol or
//     data scan), .symtab, .gopclntab, RET scanning, and DWARF member
//     lookups when there is DWARF, the runtime layout, call sites).
//     Invariants: every function found has a file offset inside the file;
//     every RET reported is inside its function and its bytes in the file
//     end in C3 (or C2 imm16); every call site is an E8 CALL in the file; a
//     resolved layout locates memstats.numgc and pause_ns; without build
//     info the version reads like a Go version and there is no module.
//     Seed elf_nobuildinfo_scanned has no .go.buildinfo and no .symtab.
//   - Otherwise the first byte picks one parser for the rest:
//     0: Pclntab::Parse (functions in address order, FindByAddress agrees;
//        a parsed header has a Go 1.18+ generation);
//     1: module info text (at most one entry per line), Go string
//        unquoting and the Go version grammar;
//     2: ScanReturns (RETs in order, inside the code, C3/C2 opcodes).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "golang/build_version.h"
#include "golang/buildinfo.h"
#include "golang/call_sites.h"
#include "golang/go_binary.h"
#include "golang/go_quote.h"
#include "golang/pclntab.h"
#include "golang/ret_offsets.h"
#include "golang/runtime_layout.h"

namespace {

using gcpilot::golang::BuildInfo;
using gcpilot::golang::ByteSpan;
using gcpilot::golang::DwarfTypes;
using gcpilot::golang::FunctionInfo;
using gcpilot::golang::GoBinary;
using gcpilot::golang::Pclntab;
using gcpilot::golang::PclntabFunction;
using gcpilot::golang::RetInstruction;

void CheckRets(const std::vector<RetInstruction>& rets, ByteSpan file, uint64_t file_offset,
               uint64_t size) {
  uint64_t previous = 0;
  for (const RetInstruction& ret : rets) {
    FUZZ_CHECK(ret.file_offset >= file_offset && ret.file_offset - file_offset < size);
    FUZZ_CHECK(ret.file_offset >= previous);
    previous = ret.file_offset + 1;
    // The opcode ends the instruction (C3), or precedes its imm16 (C2);
    // prefixes (REX, REP) may come first.
    FUZZ_CHECK(ret.length >= 1 && ret.file_offset + ret.length <= file.size());
    const uint64_t end = ret.file_offset + ret.length;
    FUZZ_CHECK(file[end - 1] == 0xc3 || (ret.length >= 3 && file[end - 3] == 0xc2));
  }
}

void FuzzGoBinary(ByteSpan data) {
  auto binary = GoBinary::OpenFromMemory(data, "fuzz");
  if (!binary.ok()) {
    FUZZ_CHECK(!binary.status().message().empty());
    return;
  }
  const ByteSpan file = binary->elf().bytes();
  (void)binary->build_id();
  (void)binary->uses_cgo();
  if (!binary->has_build_info()) {
    FUZZ_CHECK(gcpilot::golang::LooksLikeGoVersion(binary->go_version()));
    FUZZ_CHECK(binary->module_path().empty() && binary->main_package_path().empty());
  }
  for (const char* name : {"runtime.gcStart", "main.main", "runtime.rt0_go.abi0", "a"}) {
    auto fn = binary->FindFunction(name);
    if (!fn.ok()) continue;
    FUZZ_CHECK(fn->file_offset < file.size());
    auto rets = gcpilot::golang::FindRetInstructions(binary->elf(), *fn);
    if (rets.ok()) CheckRets(*rets, file, fn->file_offset, fn->size);
  }
  (void)binary->FindGlobal("runtime.memstats");
  auto layout = gcpilot::golang::ResolveRuntimeLayout(*binary);
  if (layout.ok()) {
    FUZZ_CHECK(layout->Get(gcpilot::golang::RuntimeField::kMemstatsNumgc).has_value());
    FUZZ_CHECK(layout->Get(gcpilot::golang::RuntimeField::kMemstatsPauseNs).has_value());
    FUZZ_CHECK(!layout->how().empty());
  } else {
    FUZZ_CHECK(!layout.status().message().empty());
  }
  auto sites = gcpilot::golang::FindCallSites(*binary, "runtime.forcegchelper", "runtime.gcStart");
  if (sites.ok()) {
    for (uint64_t site : *sites) FUZZ_CHECK(site < file.size() && file[site] == 0xe8);
  }
  size_t listed = 0;
  for (const FunctionInfo& fn : binary->ListFunctions("")) {
    FUZZ_CHECK(fn.file_offset < file.size());
    if (++listed > 64) break;
  }
  if (const auto* pclntab = binary->symbols().pclntab()) {
    const Pclntab& t = pclntab->table;
    if (t.size() > 0) (void)t.FindByAddress(t.function(t.size() / 2).entry);
    // Source lines decode untrusted pcvalue tables: bounded, never a crash.
    for (size_t i = 0; i < t.size() && i < 16; ++i) {
      const PclntabFunction f = t.function(i);
      for (uint64_t pc : {f.entry, f.entry + 1, f.end - 1}) {
        auto line = t.LineOf(pc);
        if (line) FUZZ_CHECK(line->file.data() != nullptr);
      }
    }
  }
  if (binary->has_dwarf()) {
    auto dwarf = binary->OpenDwarf();
    if (dwarf.ok()) {
      for (const char* type : {"runtime.mstats", "mstats", "mstats_t"}) {
        (void)(*dwarf)->FindMember(type, "numgc");
        (void)(*dwarf)->FindMember(type, "pct.value");
        (void)(*dwarf)->StructSize(type);
      }
    }
  }
}

void FuzzPclntab(ByteSpan data) {
  const auto generation = gcpilot::golang::PclntabGenerationOf(data);
  auto table = Pclntab::Parse(data, 0x401000);
  if (!table.ok()) return;
  FUZZ_CHECK(generation == gcpilot::golang::PclntabGeneration::kGo118 ||
             generation == gcpilot::golang::PclntabGeneration::kGo120);
  uint64_t previous = 0;
  const size_t n = table->size() < 4096 ? table->size() : 4096;
  for (size_t i = 0; i < n; ++i) {
    const PclntabFunction f = table->function(i);
    FUZZ_CHECK(f.entry >= previous);
    FUZZ_CHECK(f.end >= f.entry);
    previous = f.entry;
    if (f.end > f.entry) {
      auto found = table->FindByAddress(f.entry);
      FUZZ_CHECK(found.has_value() && found->entry == f.entry);
    }
  }
  if (n > 0) {
    const std::string name(table->function(0).name);
    FUZZ_CHECK(table->Find(name).has_value());
    FUZZ_CHECK(table->FindAbi0(name).has_value());
  }
}

void FuzzModuleInfo(ByteSpan data) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  BuildInfo info;
  gcpilot::golang::ParseModuleInfo(text, info);
  // At most one module or setting per line.
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  FUZZ_CHECK(info.settings.size() + info.deps.size() <= lines);
  std::string out;
  (void)gcpilot::golang::UnquoteGoString(text, out);
  if (gcpilot::golang::LooksLikeGoVersion(text)) {
    FUZZ_CHECK(text.starts_with("go1.") || text.starts_with("devel "));
  }
}

void FuzzScanReturns(ByteSpan data) {
  auto rets = gcpilot::golang::ScanReturns(data, 0x401000, 0, "fuzz");
  if (rets.ok()) CheckRets(*rets, data, 0, data.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan input(data, size);
  if (size >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F') {
    FuzzGoBinary(input);
    return 0;
  }
  if (size == 0) return 0;
  switch (data[0] % 3) {
    case 0:
      FuzzPclntab(input.subspan(1));
      break;
    case 1:
      FuzzModuleInfo(input.subspan(1));
      break;
    default:
      FuzzScanReturns(input.subspan(1));
      break;
  }
  return 0;
}
