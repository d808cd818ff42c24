// LoadPclntab: locating the pclntab and its text base in an ELF file.
#include "golang/pclntab_loader.h"

#include <elf.h>

#include <algorithm>
#include <array>
#include <optional>

namespace gcpilot::golang {
namespace {

constexpr uint64_t kTextStartFieldOffset = 8 + 2 * 8;  // pcHeader.textStart.
constexpr int kMaxScanCandidates = 16;                 // Bounds the work on hostile files.

// The addend of an R_X86_64_RELATIVE relocation of the 8 bytes at `address`.
std::optional<uint64_t> RelativeRelocationAt(const ElfFile& elf, uint64_t address) {
  for (const ElfSection& section : elf.sections()) {
    if (section.type != SHT_RELA) continue;
    const ByteSpan relas = elf.SectionBytes(section);
    for (uint64_t off = 0; off + sizeof(Elf64_Rela) <= relas.size(); off += sizeof(Elf64_Rela)) {
      auto rela = ReadAt<Elf64_Rela>(relas, off);
      if (rela && rela->r_offset == address && ELF64_R_TYPE(rela->r_info) == R_X86_64_RELATIVE) {
        return static_cast<uint64_t>(rela->r_addend);
      }
    }
  }
  return std::nullopt;
}

uint64_t TextStartFallback(const ElfFile& elf, const ElfSymtab* symtab, uint64_t header_address) {
  if (auto addend = RelativeRelocationAt(elf, header_address + kTextStartFieldOffset)) {
    return *addend;
  }
  if (symtab != nullptr) {
    if (auto sym = symtab->Find("runtime.text", STT_FUNC)) return sym->value;
  }
  if (const ElfSection* text = elf.FindSection(".text")) return text->address;
  return 0;
}

StatusOr<LoadedPclntab> ParseAt(const ElfFile& elf, const ElfSymtab* symtab, ByteSpan data,
                                uint64_t address, std::string found_in) {
  uint64_t fallback = 0;
  if (ReadU64(data, kTextStartFieldOffset).value_or(1) == 0) {
    fallback = TextStartFallback(elf, symtab, address);
  }
  auto table = Pclntab::Parse(data, fallback);
  if (!table.ok()) {
    const std::string message = elf.path() + ": " + table.status().message();
    if (table.status().code() == StatusCode::kInvalidArgument) {
      return Status::InvalidArgument(message);
    }
    return Status::DataLoss(message);
  }
  return LoadedPclntab{std::move(*table), address, std::move(found_in)};
}

}  // namespace

StatusOr<LoadedPclntab> LoadPclntab(const ElfFile& elf, const ElfSymtab* symtab) {
  for (const char* name : {".gopclntab", ".data.rel.ro.gopclntab"}) {
    if (const ElfSection* section = elf.FindSection(name)) {
      return ParseAt(elf, symtab, elf.SectionBytes(*section), section->address, name);
    }
  }
  if (symtab != nullptr) {
    auto start = symtab->Find("runtime.pclntab", STT_OBJECT);
    auto end = symtab->Find("runtime.epclntab", STT_OBJECT);
    if (start && end && end->value > start->value) {
      auto data = elf.ReadVirtual(start->value, end->value - start->value);
      if (data.ok()) return ParseAt(elf, symtab, *data, start->value, "runtime.pclntab symbol");
    }
  }
  // Scan: the magic, zero padding, quantum 1, pointer size 8.
  static constexpr std::array<std::array<uint8_t, 8>, 2> kPatterns = {{
      {0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8},
      {0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8},
  }};
  int candidates = 0;
  for (const ElfSegment& segment : elf.segments()) {
    if (segment.type != PT_LOAD || (segment.flags & PF_X) != 0) continue;
    auto region = SubSpan(elf.bytes(), segment.file_offset, segment.file_size);
    if (!region) continue;
    for (const auto& pattern : kPatterns) {
      auto it = region->begin();
      while (candidates < kMaxScanCandidates) {
        it = std::search(it, region->end(), pattern.begin(), pattern.end());
        if (it == region->end()) break;
        const size_t offset = static_cast<size_t>(it - region->begin());
        ++candidates;
        auto loaded = ParseAt(elf, symtab, region->subspan(offset),
                              segment.virtual_address + offset, "segment scan");
        if (loaded.ok()) return loaded;
        ++it;
      }
    }
  }
  return Status::NotFound(elf.path() + ": no .gopclntab (not a Go 1.18+ binary?)");
}

}  // namespace gcpilot::golang
