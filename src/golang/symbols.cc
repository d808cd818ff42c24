// SymbolResolver: .symtab-first function lookup with a .gopclntab fallback.
#include "golang/symbols.h"

#include <elf.h>

#include <algorithm>
#include <string>
#include <unordered_map>

namespace gcpilot::golang {

std::string_view SymbolSourceName(SymbolSource source) {
  return source == SymbolSource::kSymtab ? "symtab" : "pclntab";
}

StatusOr<SymbolResolver> SymbolResolver::Create(const ElfFile& elf) {
  std::optional<ElfSymtab> symtab;
  auto loaded_symtab = ElfSymtab::Load(elf);
  if (loaded_symtab.ok()) {
    symtab = std::move(*loaded_symtab);
  } else if (loaded_symtab.status().code() != StatusCode::kNotFound) {
    return loaded_symtab.status();
  }
  std::optional<LoadedPclntab> pclntab;
  Status pclntab_status;
  auto loaded_pclntab = LoadPclntab(elf, symtab ? &*symtab : nullptr);
  if (loaded_pclntab.ok()) {
    pclntab = std::move(*loaded_pclntab);
  } else {
    pclntab_status = loaded_pclntab.status();
    if (!symtab) return pclntab_status;
  }
  return SymbolResolver(elf, std::move(symtab), std::move(pclntab), std::move(pclntab_status));
}

std::optional<FunctionInfo> SymbolResolver::FromPclntab(const PclntabFunction& fn) const {
  auto offset = elf_->VirtualAddressToFileOffset(fn.entry);
  if (!offset.ok()) return std::nullopt;
  return FunctionInfo{std::string(fn.name), fn.entry, fn.end - fn.entry, *offset,
                      SymbolSource::kPclntab};
}

StatusOr<FunctionInfo> SymbolResolver::FindFunction(std::string_view name) const {
  constexpr std::string_view kAbi0 = ".abi0";
  const bool wants_abi0 = name.ends_with(kAbi0);
  if (symtab_) {
    auto sym = symtab_->Find(name, STT_FUNC);
    // Assembly functions are named "X.abi0" in .symtab only.
    if (!sym && !wants_abi0) sym = symtab_->Find(std::string(name) + std::string(kAbi0), STT_FUNC);
    if (sym) {
      auto offset = elf_->VirtualAddressToFileOffset(sym->value);
      if (!offset.ok()) return offset.status();
      return FunctionInfo{std::string(name), sym->value, sym->size, *offset, SymbolSource::kSymtab};
    }
  }
  if (pclntab_) {
    // The pclntab has no ".abi0" names; see pclntab.h.
    const std::optional<PclntabFunction> fn =
        wants_abi0 ? pclntab_->table.FindAbi0(name.substr(0, name.size() - kAbi0.size()))
                   : pclntab_->table.Find(name);
    if (fn) {
      auto info = FromPclntab(*fn);
      if (!info) {
        return Status::DataLoss(elf_->path() + ": function " + std::string(name) +
                                " has an entry outside the file's segments");
      }
      info->name = std::string(name);
      return *info;
    }
  }
  return Status::NotFound(elf_->path() + ": no function " + std::string(name));
}

StatusOr<GlobalInfo> SymbolResolver::FindGlobal(std::string_view name) const {
  if (!symtab_) {
    return Status::NotFound(elf_->path() + ": cannot find " + std::string(name) +
                            ": stripped binary: globals like runtime.memstats are not "
                            "recoverable");
  }
  if (auto sym = symtab_->Find(name, STT_OBJECT)) {
    return GlobalInfo{std::string(name), sym->value, sym->size};
  }
  return Status::NotFound(elf_->path() + ": no global " + std::string(name));
}

std::vector<FunctionInfo> SymbolResolver::ListFunctions(std::string_view prefix) const {
  std::vector<FunctionInfo> out;
  if (symtab_) {
    for (size_t i = 0; i < symtab_->size(); ++i) {
      const ElfSymbol sym = symtab_->at(i);
      if (sym.type != STT_FUNC || !sym.name.starts_with(prefix)) continue;
      auto offset = elf_->VirtualAddressToFileOffset(sym.value);
      if (!offset.ok()) continue;
      out.push_back(
          FunctionInfo{std::string(sym.name), sym.value, sym.size, *offset, SymbolSource::kSymtab});
    }
    std::sort(out.begin(), out.end(),
              [](const FunctionInfo& a, const FunctionInfo& b) { return a.address < b.address; });
  } else if (pclntab_) {
    // Name the ABI0 entry of a duplicated name "X.abi0", as .symtab does.
    const std::vector<PclntabFunction> found = pclntab_->table.FindByPrefix(prefix);
    std::unordered_map<std::string_view, size_t> count;
    for (const PclntabFunction& fn : found) ++count[fn.name];
    for (const PclntabFunction& fn : found) {
      auto info = FromPclntab(fn);
      if (!info) continue;
      if (count[fn.name] > 1 && pclntab_->table.Find(fn.name)->entry != fn.entry) {
        info->name += ".abi0";
      }
      out.push_back(std::move(*info));
    }
  }
  return out;
}

}  // namespace gcpilot::golang
