// SymbolResolver: one place to look up Go functions and globals in a binary:
// functions from .symtab when present, else from .gopclntab (stripped
// binaries); globals from .symtab only (they are not in the pclntab).
// Every function comes with the file offset a uprobe attaches at.
// Thread-safety: immutable after Create(); const methods from any thread.
// The ElfFile must outlive the resolver.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/elf_file.h"
#include "golang/elf_symtab.h"
#include "golang/pclntab_loader.h"

namespace gcpilot::golang {

enum class SymbolSource { kSymtab, kPclntab };
std::string_view SymbolSourceName(SymbolSource source);  // "symtab" / "pclntab".

struct FunctionInfo {
  std::string name;
  uint64_t address = 0;      // Entry address.
  uint64_t size = 0;         // Bytes of code from the entry (see below).
  uint64_t file_offset = 0;  // Where `address` is in the file (uprobe offset).
  SymbolSource source = SymbolSource::kSymtab;
  // From .symtab: st_size, the code only. From .gopclntab: up to the next
  // function, which includes trailing int3 padding.
};

struct GlobalInfo {
  std::string name;
  uint64_t address = 0;
  uint64_t size = 0;
};

class SymbolResolver {
 public:
  // Loads .symtab (optional) and .gopclntab (optional when .symtab exists).
  // Fails when neither is usable; a corrupt .symtab is an error.
  static StatusOr<SymbolResolver> Create(const ElfFile& elf);

  bool has_symtab() const { return symtab_.has_value(); }
  // Null when the binary has no usable pclntab (then pclntab_status() says why).
  const LoadedPclntab* pclntab() const { return pclntab_ ? &*pclntab_ : nullptr; }
  const Status& pclntab_status() const { return pclntab_status_; }
  const ElfSymtab* symtab() const { return symtab_ ? &*symtab_ : nullptr; }

  // The function called `name` (e.g. "runtime.gcStart"): .symtab first,
  // then .gopclntab. Assembly functions are found with or without the
  // ".abi0" suffix .symtab gives them; "X.abi0" of a Go function X is its
  // ABI0 wrapper. NotFound names the function.
  StatusOr<FunctionInfo> FindFunction(std::string_view name) const;
  // The global variable `name` (e.g. "runtime.memstats") from .symtab.
  // NotFound; on a stripped binary the message says globals are not
  // recoverable.
  StatusOr<GlobalInfo> FindGlobal(std::string_view name) const;
  // Every function whose name starts with `prefix`, from the same source
  // FindFunction prefers (.symtab, else .gopclntab), sorted by address.
  // From .gopclntab, the ABI0 entry of a duplicated name gets the ".abi0"
  // suffix .symtab gives it; a lone assembly function that .symtab calls
  // "X.abi0" is listed as "X" (the pclntab cannot tell ABI0 assembly from
  // ABIInternal assembly). FindFunction accepts both spellings.
  std::vector<FunctionInfo> ListFunctions(std::string_view prefix) const;

 private:
  SymbolResolver(const ElfFile& elf, std::optional<ElfSymtab> symtab,
                 std::optional<LoadedPclntab> pclntab, Status pclntab_status)
      : elf_(&elf),
        symtab_(std::move(symtab)),
        pclntab_(std::move(pclntab)),
        pclntab_status_(std::move(pclntab_status)) {}

  std::optional<FunctionInfo> FromPclntab(const PclntabFunction& fn) const;

  const ElfFile* elf_;
  std::optional<ElfSymtab> symtab_;
  std::optional<LoadedPclntab> pclntab_;
  Status pclntab_status_;
};

}  // namespace gcpilot::golang
