// GoBinary: everything gcpilot reads from one Go executable, parsed once:
// Go version and module (from .go.buildinfo; without it, the version from
// runtime.buildVersion and no module), build ID, PIE or not, cgo or not,
// stripped or not, DWARF present or not, and function / global lookups
// (.symtab, else .gopclntab) with uprobe file offsets and RET offsets.
//
// Thread-safety: immutable after Open() except for the memos of
// FindStructMember(s)() and ResolveRuntimeLayout(), which mutexes guard; every const method may be
// called from any thread concurrently (OpenDwarf() returns a new,
// separately owned reader each call).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/buildinfo.h"
#include "golang/dwarf_offsets.h"
#include "golang/elf_file.h"
#include "golang/ret_offsets.h"
#include "golang/symbols.h"

namespace gcpilot::golang {

class RuntimeLayout;
class GoBinary;
StatusOr<RuntimeLayout> ResolveRuntimeLayout(const GoBinary& binary);  // runtime_layout.h

struct StructMemberQuery {
  std::string_view struct_name;
  std::string_view member_path;
};

class GoBinary {
 public:
  // Parses the Go executable at `path`. A file without .go.buildinfo is a
  // Go binary when it has a Go pclntab; its version then comes from
  // runtime.buildVersion (version_source()). Errors: those of ElfFile::Open;
  // NotFound "not a Go binary" with neither build info nor a Go pclntab;
  // DataLoss for corrupt build info, or without build info when the
  // runtime.buildVersion string is missing or ambiguous (the message says
  // which); the pclntab/symtab errors of SymbolResolver::Create when no
  // function table is usable.
  static StatusOr<GoBinary> Open(const std::string& path);
  // Same, from a copy of `bytes` (fuzzing, tests).
  static StatusOr<GoBinary> OpenFromMemory(std::span<const uint8_t> bytes,
                                           std::string name = "<memory>");

  GoBinary(GoBinary&&) noexcept;
  GoBinary& operator=(GoBinary&&) noexcept;
  ~GoBinary();

  const std::string& path() const { return elf_->path(); }
  const std::string& go_version() const { return build_info_.go_version; }  // "go1.22.12"
  // Where go_version() came from; without build info the module and package
  // below are empty.
  VersionSource version_source() const { return build_info_.version_source; }
  bool has_build_info() const { return build_info_.has_build_info(); }
  // The main module ("mod" line), e.g. "gcpilot.dev/testprogs".
  const std::string& module_path() const { return build_info_.main_module.path; }
  const std::string& module_version() const { return build_info_.main_module.version; }
  // The main package ("path" line), e.g. "gcpilot.dev/testprogs/steady".
  const std::string& main_package_path() const { return build_info_.main_package_path; }
  const BuildInfo& build_info() const { return build_info_; }
  // The Go build ID, else the GNU build ID (hex), else empty.
  const std::string& build_id() const;
  bool stripped() const { return !symbols_->has_symtab(); }  // No .symtab.
  bool has_dwarf() const { return has_dwarf_; }
  bool pie() const { return elf_->is_pie(); }
  // Links runtime/cgo, so C code runs in the process: its assembly entry
  // point from C, crosscall2, is in the function table (stripped or not).
  // The CGO_ENABLED=1 build setting alone does not say so: it is the default
  // wherever a C compiler is installed, also for pure Go programs.
  bool uses_cgo() const { return uses_cgo_; }

  const ElfFile& elf() const { return *elf_; }
  const SymbolResolver& symbols() const { return *symbols_; }

  StatusOr<FunctionInfo> FindFunction(std::string_view name) const {
    return symbols_->FindFunction(name);
  }
  StatusOr<GlobalInfo> FindGlobal(std::string_view name) const {
    return symbols_->FindGlobal(name);
  }
  std::vector<FunctionInfo> ListFunctions(std::string_view prefix) const {
    return symbols_->ListFunctions(prefix);
  }
  // The RET instructions of function `name` (FindFunction + disassembly).
  StatusOr<std::vector<RetInstruction>> FindRetInstructions(std::string_view name) const;
  // A DWARF type reader for struct member offsets (NotFound without DWARF).
  // Opening copies the file and decompresses its DWARF (tens of ms for a
  // small binary): resolve what you need, then drop it.
  StatusOr<std::unique_ptr<DwarfTypes>> OpenDwarf() const { return DwarfTypes::Open(*elf_); }
  // DwarfTypes::FindMember, memoized: the first query of a (struct, path)
  // opens the DWARF; later ones (also failures) come from the memo. For
  // readers that need the same few offsets every interval.
  StatusOr<DwarfMember> FindStructMember(std::string_view struct_name,
                                         std::string_view member_path) const;
  // The same for several members at once: the DWARF is opened at most once
  // for all memo misses. One result per query, in order.
  std::vector<StatusOr<DwarfMember>> FindStructMembers(
      std::span<const StructMemberQuery> queries) const;

 private:
  GoBinary() = default;
  static StatusOr<GoBinary> FromElf(ElfFile elf);

  // Heap-allocated so the resolver's pointer to it survives moves.
  std::unique_ptr<const ElfFile> elf_;
  BuildInfo build_info_;
  std::unique_ptr<const SymbolResolver> symbols_;
  bool has_dwarf_ = false;
  bool uses_cgo_ = false;
  struct DwarfMemo;
  std::unique_ptr<DwarfMemo> dwarf_memo_;  // Heap: keeps GoBinary movable.
  // ResolveRuntimeLayout()'s memo (defined in go_binary.cc).
  friend StatusOr<RuntimeLayout> ResolveRuntimeLayout(const GoBinary& binary);
  struct LayoutMemo;
  std::unique_ptr<LayoutMemo> layout_memo_;
};

}  // namespace gcpilot::golang
