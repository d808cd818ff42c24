// Test helper (header-only, used by *_test.cc only): builds small synthetic
// x86-64 ELF images in memory (header, one PT_LOAD per allocated section,
// section data, .shstrtab, section headers) so tests can produce exactly
// the layouts and corruptions they need without committing binaries.
// Thread-safety: value functions; no shared state.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace gcpilot::golang::testing {

struct SyntheticSection {
  std::string name;
  uint32_t type = SHT_PROGBITS;
  uint64_t flags = 0;  // SHF_ALLOC sections get a PT_LOAD segment.
  uint64_t address = 0;
  std::vector<uint8_t> data;
  uint32_t link = 0;  // Index into the final table (section 0 is NULL).
  uint64_t entry_size = 0;
};

struct SyntheticElf {
  uint16_t type = ET_EXEC;
  uint16_t machine = EM_X86_64;
  std::vector<SyntheticSection> sections;
};

inline void AppendBytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}

inline void PadTo(std::vector<uint8_t>& out, size_t align) {
  while (out.size() % align != 0) out.push_back(0);
}

// Lays out the image. Section i of `elf.sections` gets index i + 1.
inline std::vector<uint8_t> BuildElf(const SyntheticElf& elf) {
  std::vector<SyntheticSection> sections = elf.sections;
  SyntheticSection shstrtab;
  shstrtab.name = ".shstrtab";
  shstrtab.type = SHT_STRTAB;
  shstrtab.data.push_back(0);
  std::vector<uint32_t> name_offsets;
  for (const auto& s : sections) {
    name_offsets.push_back(static_cast<uint32_t>(shstrtab.data.size()));
    shstrtab.data.insert(shstrtab.data.end(), s.name.begin(), s.name.end());
    shstrtab.data.push_back(0);
  }
  name_offsets.push_back(static_cast<uint32_t>(shstrtab.data.size()));
  shstrtab.data.insert(shstrtab.data.end(), shstrtab.name.begin(), shstrtab.name.end());
  shstrtab.data.push_back(0);
  sections.push_back(shstrtab);

  size_t nload = 0;
  for (const auto& s : sections) nload += (s.flags & SHF_ALLOC) ? 1 : 0;

  std::vector<uint8_t> out(sizeof(Elf64_Ehdr) + nload * sizeof(Elf64_Phdr), 0);
  std::vector<uint64_t> offsets;
  for (const auto& s : sections) {
    PadTo(out, 16);
    offsets.push_back(out.size());
    if (s.type != SHT_NOBITS) out.insert(out.end(), s.data.begin(), s.data.end());
  }
  PadTo(out, 8);
  const uint64_t shoff = out.size();
  Elf64_Shdr null_shdr{};
  AppendBytes(out, &null_shdr, sizeof(null_shdr));
  for (size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    Elf64_Shdr sh{};
    sh.sh_name = name_offsets[i];
    sh.sh_type = s.type;
    sh.sh_flags = s.flags;
    sh.sh_addr = s.address;
    sh.sh_offset = offsets[i];
    sh.sh_size = s.data.size();
    sh.sh_link = s.link;
    sh.sh_addralign = 16;
    sh.sh_entsize = s.entry_size;
    AppendBytes(out, &sh, sizeof(sh));
  }

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = elf.type;
  eh.e_machine = elf.machine;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = nload > 0 ? sizeof(Elf64_Ehdr) : 0;
  eh.e_shoff = shoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(nload);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = static_cast<uint16_t>(sections.size() + 1);
  eh.e_shstrndx = static_cast<uint16_t>(sections.size());
  std::memcpy(out.data(), &eh, sizeof(eh));

  size_t p = 0;
  for (size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    if (!(s.flags & SHF_ALLOC)) continue;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R | ((s.flags & SHF_WRITE) ? PF_W : 0) | ((s.flags & SHF_EXECINSTR) ? PF_X : 0);
    ph.p_offset = offsets[i];
    ph.p_vaddr = ph.p_paddr = s.address;
    ph.p_filesz = s.type == SHT_NOBITS ? 0 : s.data.size();
    ph.p_memsz = s.data.size();
    ph.p_align = 16;
    std::memcpy(out.data() + sizeof(Elf64_Ehdr) + p * sizeof(Elf64_Phdr), &ph, sizeof(ph));
    ++p;
  }
  return out;
}

// Little-endian appenders for building table contents.
inline void PutU32(std::vector<uint8_t>& out, uint32_t v) { AppendBytes(out, &v, 4); }
inline void PutU64(std::vector<uint8_t>& out, uint64_t v) { AppendBytes(out, &v, 8); }
inline void PutUvarint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}
inline void PutString(std::vector<uint8_t>& out, const std::string& s) {
  out.insert(out.end(), s.begin(), s.end());
}

// A Go 1.18+ .go.buildinfo blob (inline strings) for `version` and the
// module info text `modinfo` (sentinels added here).
inline std::vector<uint8_t> InlineBuildInfo(const std::string& version,
                                            const std::string& modinfo) {
  std::vector<uint8_t> out;
  PutString(out, "\xff Go buildinf:");
  out.push_back(8);    // Pointer size.
  out.push_back(0x2);  // Inline strings, little-endian.
  out.resize(32, 0);
  PutUvarint(out, version.size());
  PutString(out, version);
  const std::string framed = modinfo.empty()
                                 ? std::string()
                                 : std::string("0123456789abcdef") + modinfo + "fedcba9876543210";
  PutUvarint(out, framed.size());
  PutString(out, framed);
  return out;
}

// A Go 1.18+ pclntab (magic 0xfffffff1 unless `magic` says otherwise) for
// functions {name, entry offset} at `text_start`; the last function ends at
// `end_offset`.
struct SyntheticFunc {
  std::string name;
  uint32_t entry_offset;
  uint8_t func_id = 0;
};
inline std::vector<uint8_t> BuildPclntab(const std::vector<SyntheticFunc>& funcs,
                                         uint32_t end_offset, uint64_t text_start,
                                         uint32_t magic = 0xfffffff1) {
  std::vector<uint8_t> names;
  std::vector<uint32_t> name_offsets;
  for (const auto& f : funcs) {
    name_offsets.push_back(static_cast<uint32_t>(names.size()));
    PutString(names, f.name);
    names.push_back(0);
  }
  const uint64_t header = 8 + 8 * 8;
  const uint64_t funcname_offset = header;
  const uint64_t pcln_offset = funcname_offset + names.size();
  const uint64_t functab_size = (2 * funcs.size() + 1) * 4;
  // _func: entryOff, nameOff, 7 (Go 1.18) or 8 (1.20+) more u32 fields,
  // then funcID, flag, pad, nfuncdata.
  const size_t func_id_offset = magic == 0xfffffff0 ? 36 : 40;
  const size_t func_size = func_id_offset + 4;
  std::vector<uint8_t> out;
  PutU32(out, magic);
  out.push_back(0);
  out.push_back(0);
  out.push_back(1);  // minLC.
  out.push_back(8);  // ptrSize.
  PutU64(out, funcs.size());
  PutU64(out, 0);  // nfiles.
  PutU64(out, text_start);
  PutU64(out, funcname_offset);
  PutU64(out, pcln_offset);  // cuOffset (empty tables share the offset).
  PutU64(out, pcln_offset);  // filetabOffset.
  PutU64(out, pcln_offset);  // pctabOffset.
  PutU64(out, pcln_offset);
  out.insert(out.end(), names.begin(), names.end());
  for (size_t i = 0; i < funcs.size(); ++i) {
    PutU32(out, funcs[i].entry_offset);
    PutU32(out, static_cast<uint32_t>(functab_size + func_size * i));  // _func offsets.
  }
  PutU32(out, end_offset);
  for (size_t i = 0; i < funcs.size(); ++i) {
    PutU32(out, funcs[i].entry_offset);
    PutU32(out, name_offsets[i]);
    out.resize(out.size() + func_id_offset - 8, 0);
    out.push_back(funcs[i].func_id);
    out.resize(out.size() + 3, 0);
  }
  return out;
}

}  // namespace gcpilot::golang::testing
