// ElfSymtab: bounds-checked iteration over Elf64_Sym entries.
#include "golang/elf_symtab.h"

#include <elf.h>

#include <string>

namespace gcpilot::golang {

StatusOr<ElfSymtab> ElfSymtab::Load(const ElfFile& elf) {
  const ElfSection* symtab = nullptr;
  for (const ElfSection& section : elf.sections()) {
    if (section.type == SHT_SYMTAB) {
      symtab = &section;
      break;
    }
  }
  if (symtab == nullptr) return Status::NotFound(elf.path() + ": no .symtab (stripped binary)");
  if (symtab->entry_size != sizeof(Elf64_Sym)) {
    return Status::DataLoss(elf.path() + ": .symtab entry size " +
                            std::to_string(symtab->entry_size) + ", want " +
                            std::to_string(sizeof(Elf64_Sym)));
  }
  if (symtab->link == 0 || symtab->link >= elf.sections().size() ||
      elf.sections()[symtab->link].type != SHT_STRTAB) {
    return Status::DataLoss(elf.path() + ": .symtab links to no string table");
  }
  const ByteSpan symbols = elf.SectionBytes(*symtab);
  const ByteSpan strings = elf.SectionBytes(elf.sections()[symtab->link]);
  return ElfSymtab(symbols, strings, symbols.size() / sizeof(Elf64_Sym));
}

ElfSymbol ElfSymtab::at(size_t i) const {
  ElfSymbol out;
  auto sym = ReadAt<Elf64_Sym>(symbols_, static_cast<uint64_t>(i) * sizeof(Elf64_Sym));
  if (!sym) return out;
  out.name = ReadCString(strings_, sym->st_name).value_or(std::string_view());
  out.value = sym->st_value;
  out.size = sym->st_size;
  out.type = ELF64_ST_TYPE(sym->st_info);
  out.bind = ELF64_ST_BIND(sym->st_info);
  out.section_index = sym->st_shndx;
  return out;
}

std::optional<ElfSymbol> ElfSymtab::Find(std::string_view name, uint8_t type) const {
  for (size_t i = 0; i < count_; ++i) {
    ElfSymbol sym = at(i);
    if (sym.type == type && sym.name == name) return sym;
  }
  return std::nullopt;
}

}  // namespace gcpilot::golang
