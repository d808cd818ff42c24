// Pclntab: the function table of a Go 1.18+ .gopclntab (the runtime's
// pcHeader / functab / _func layout), read from untrusted bytes: every
// function's name, entry address and end address. This is how function
// addresses are recovered from stripped (-s -w) binaries.
//
// Layout (runtime/symtab.go, Go 1.18-1.23, little-endian, 8-byte words):
//   pcHeader: magic u32 (0xfffffff0 Go 1.18/1.19, 0xfffffff1 Go 1.20+),
//     pad u8 x2 (0), minLC u8, ptrSize u8, then 8 words: nfunc, nfiles,
//     textStart, funcnameOffset, cuOffset, filetabOffset, pctabOffset,
//     pclnOffset (table offsets are relative to the header).
//   functab at pclnOffset: nfunc pairs {entryOff u32, funcOff u32} and one
//     final entryOff (the end of the last function); entryOff is relative
//     to textStart; funcOff is relative to pclnOffset and points at a _func
//     whose first fields are entryOff u32 and nameOff i32 (into funcnametab,
//     a NUL-terminated name); funcID u8 and flag u8 follow at offset 36
//     (Go 1.18/1.19) or 40 (Go 1.20+, which added startLine).
// Names are not unique: where Go code and assembly call each other, the
// pclntab has two entries of the same name (".abi0" appears only in
// .symtab): a Go function X with its ABI0 wrapper ("X.abi0" in .symtab), or
// an assembly function ("X.abi0", FuncFlagAsm) with its ABIInternal wrapper
// ("X"). Wrappers have funcID FuncIDWrapper, the largest funcID of each
// version (21 in 1.19-1.21, 22 in 1.22/1.23). Find() and FindAbi0() pick
// the entry .symtab would call X and X.abi0.
// Parse() validates every entry once, so lookups afterwards cannot fail.
// Thread-safety: immutable after Parse(); const methods from any thread.
// The bytes it was parsed from must outlive it (names point into them).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/bytes.h"

namespace gcpilot::golang {

enum class PclntabVersion {
  kGo118,  // Magic 0xfffffff0: Go 1.18 and 1.19.
  kGo120,  // Magic 0xfffffff1: Go 1.20 and later (1.20-1.23 checked).
};

struct PclntabHeader {
  uint32_t magic = 0;
  uint8_t min_lc = 0;    // Instruction size quantum (1 on x86).
  uint8_t ptr_size = 0;  // Always 8 here.
  uint64_t nfunc = 0;
  uint64_t nfiles = 0;
  uint64_t text_start = 0;  // As stored; may be 0 in unrelocated PIE files.
  uint64_t funcname_offset = 0;
  uint64_t cu_offset = 0;
  uint64_t filetab_offset = 0;
  uint64_t pctab_offset = 0;
  uint64_t pcln_offset = 0;  // The functab.
};

struct PclntabFunction {
  std::string_view name;  // "runtime.gcStart".
  uint64_t entry = 0;     // Absolute entry address (text start + entryOff).
  // The next function's entry (the last: the table's end), so it includes
  // the int3 padding after the function's code.
  uint64_t end = 0;
  uint8_t func_id = 0;  // 0: normal; largest value of the version: wrapper.
  uint8_t flag = 0;     // FuncFlag bits (top frame, SP write, asm).

  bool is_asm() const { return (flag & 0x4) != 0; }  // FuncFlagAsm.
};

// Where a PC is in the source: file path as the compiler recorded it and
// line number (from the function's pcfile / pcln tables).
struct SourceLine {
  std::string_view file;
  int32_t line = 0;
};

class Pclntab {
 public:
  // Parses `data` (the .gopclntab bytes). The header's textStart is the
  // base of entry offsets; when it is 0 (not yet relocated),
  // `text_start_if_unset` is used instead (0: error). DataLoss for corrupt
  // tables; InvalidArgument for pclntabs of Go < 1.18 or a bad magic.
  static StatusOr<Pclntab> Parse(ByteSpan data, uint64_t text_start_if_unset = 0);

  const PclntabHeader& header() const { return header_; }
  PclntabVersion version() const { return version_; }
  // The base actually used for entry addresses.
  uint64_t text_start() const { return text_start_; }
  size_t size() const { return static_cast<size_t>(header_.nfunc); }

  // The i-th function in address order (i < size()).
  PclntabFunction function(size_t i) const;
  // The function called `name` (linear scan), or nullopt. Of two entries
  // of that name, the ABIInternal one (.symtab's `name`): not assembly,
  // smallest funcID, lowest address.
  std::optional<PclntabFunction> Find(std::string_view name) const;
  // The ABI0 entry of `name` (.symtab's `name`.abi0): the assembly one, else
  // the one Find() does not pick; the only entry when there is one.
  std::optional<PclntabFunction> FindAbi0(std::string_view name) const;
  // Every entry called `name`, in address order.
  std::vector<PclntabFunction> FindAll(std::string_view name) const;
  // The function whose [entry, end) contains `address`, or nullopt.
  std::optional<PclntabFunction> FindByAddress(uint64_t address) const;
  // Every function whose name starts with `prefix`, in address order
  // (both entries of a duplicated name; see above).
  std::vector<PclntabFunction> FindByPrefix(std::string_view prefix) const;
  // The source file and line of the instruction at `pc`, decoded from the
  // function's pcfile and pcln tables (the runtime's pcvalue encoding:
  // zig-zag value deltas and PC deltas in units of minLC), the file name
  // through cutab and filetab. nullopt when `pc` is in no function or the
  // tables are out of bounds or malformed (checked here, not by Parse()).
  // For a return address (e.g. a goroutine's gopc) pass pc - 1, as the
  // runtime's traceback does.
  std::optional<SourceLine> LineOf(uint64_t pc) const;

 private:
  Pclntab() = default;
  uint32_t EntryOffset(size_t i) const;  // i <= size(); the functab entry.
  std::string_view Name(size_t i) const;
  ByteSpan Func(size_t i) const;  // The validated _func bytes of function i.
  // The last function i whose entry is at or before `pc`, or nullopt (`pc`
  // below the text or the first entry); `pc` may still be past its end.
  std::optional<size_t> IndexAtOrBefore(uint64_t pc) const;
  // The pcvalue table at `table_off` of the function starting at `entry`,
  // evaluated at `pc`; nullopt when malformed or `pc` is past its end.
  std::optional<int32_t> PcValue(uint32_t table_off, uint64_t entry, uint64_t pc) const;

  ByteSpan data_;
  PclntabHeader header_;
  PclntabVersion version_ = PclntabVersion::kGo120;
  size_t func_id_offset_ = 40;  // Of funcID in _func.
  uint64_t text_start_ = 0;
  ByteSpan functab_;      // (2 * nfunc + 1) u32 words.
  ByteSpan funcnametab_;  // From funcnameOffset to the end of data.
  ByteSpan funcdata_;     // From pclnOffset to the end of data (_func base).
};

}  // namespace gcpilot::golang
