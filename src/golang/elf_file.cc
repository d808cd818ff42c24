// ElfFile: header, section and segment parsing with libelf, bounds checks
// against the file size, build-ID notes and address translation.
#include "golang/elf_file.h"

#include <elf.h>
#include <gelf.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "golang/elf_handle.h"

namespace gcpilot::golang {
namespace {

constexpr uint32_t kNoteGoBuildId = 4;  // cmd/link: ELF_NOTE_GOBUILDID_TAG.
constexpr uint32_t kNoteGnuBuildId = NT_GNU_BUILD_ID;

std::string Hex(ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

// Strips trailing NULs (note names and Go's build ID are NUL-padded).
std::string_view TrimNuls(std::string_view s) {
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return s;
}

uint64_t AlignUp(uint64_t value, uint64_t align) {
  return (value + align - 1) / align * align;  // Callers bound value well below 2^64.
}

// Checks the ELF identification bytes before libelf sees the image, so only
// 64-bit little-endian files (which libelf never converts) get that far.
Status CheckIdent(ByteSpan bytes, const std::string& name) {
  if (bytes.size() < sizeof(Elf64_Ehdr)) {
    return Status::InvalidArgument(name + ": not an ELF file (" + std::to_string(bytes.size()) +
                                   " bytes, smaller than an ELF header)");
  }
  if (bytes[EI_MAG0] != ELFMAG0 || bytes[EI_MAG1] != ELFMAG1 || bytes[EI_MAG2] != ELFMAG2 ||
      bytes[EI_MAG3] != ELFMAG3) {
    return Status::InvalidArgument(name + ": not an ELF file (bad magic)");
  }
  if (bytes[EI_CLASS] != ELFCLASS64) {
    return Status::InvalidArgument(name + ": unsupported ELF class " +
                                   std::to_string(bytes[EI_CLASS]) + " (only 64-bit x86-64)");
  }
  if (bytes[EI_DATA] != ELFDATA2LSB) {
    return Status::InvalidArgument(name +
                                   ": unsupported ELF byte order (only little-endian x86-64)");
  }
  return Status::Ok();
}

// The header tables must lie inside the file with the standard entry sizes
// (libelf quietly treats some out-of-file tables as empty).
Status CheckHeaderTables(ByteSpan bytes, const std::string& name) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof(eh));
  if (eh.e_phnum != 0) {
    if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
      return Status::DataLoss(name + ": bad program header entry size");
    }
    if (!InBounds(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), bytes.size())) {
      return Status::DataLoss(name + ": program headers extend past the end of the file");
    }
  }
  if (eh.e_shoff != 0) {
    if (eh.e_shentsize != sizeof(Elf64_Shdr)) {
      return Status::DataLoss(name + ": bad section header entry size");
    }
    // e_shnum 0 with a table: the count is in section 0 (extended numbering);
    // libelf checks the rest, this checks at least that entry.
    const uint64_t count = eh.e_shnum != 0 ? eh.e_shnum : 1;
    if (!InBounds(eh.e_shoff, count * sizeof(Elf64_Shdr), bytes.size())) {
      return Status::DataLoss(name + ": section headers extend past the end of the file");
    }
  }
  return Status::Ok();
}

}  // namespace

bool ElfSection::has_file_bytes() const { return type != SHT_NOBITS && type != SHT_NULL; }

ElfFile::ElfFile(FileBytes bytes, std::string path)
    : bytes_(std::move(bytes)), path_(std::move(path)) {}

StatusOr<ElfFile> ElfFile::Open(const std::string& path) {
  auto bytes = FileBytes::MapFile(path);
  if (!bytes.ok()) return bytes.status();
  ElfFile file(std::move(*bytes), path);
  GCPILOT_RETURN_IF_ERROR(file.Parse());
  return file;
}

StatusOr<ElfFile> ElfFile::OpenFromMemory(std::span<const uint8_t> bytes, std::string name) {
  ElfFile file(FileBytes::Copy(bytes), std::move(name));
  GCPILOT_RETURN_IF_ERROR(file.Parse());
  return file;
}

Status ElfFile::Parse() {
  const ByteSpan data = bytes_.span();
  GCPILOT_RETURN_IF_ERROR(CheckIdent(data, path_));
  GCPILOT_RETURN_IF_ERROR(CheckHeaderTables(data, path_));
  auto handle = OpenElfImage(bytes_.mutable_data(), bytes_.size(), path_);
  if (!handle.ok()) return handle.status();
  Elf* elf = handle->get();

  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) return LibelfError(path_ + ": ELF header");
  if (ehdr.e_machine != EM_X86_64) {
    return Status::InvalidArgument(path_ + ": unsupported machine " +
                                   std::to_string(ehdr.e_machine) + " (only x86-64 is supported)");
  }
  elf_type_ = ehdr.e_type;
  machine_ = ehdr.e_machine;
  entry_ = ehdr.e_entry;

  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0) return LibelfError(path_ + ": program headers");
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr) {
      return LibelfError(path_ + ": program header " + std::to_string(i));
    }
    if (phdr.p_filesz > 0 && !InBounds(phdr.p_offset, phdr.p_filesz, data.size())) {
      return Status::DataLoss(path_ + ": segment " + std::to_string(i) +
                              " extends past the end of the file (truncated?)");
    }
    segments_.push_back(ElfSegment{phdr.p_type, phdr.p_flags, phdr.p_offset, phdr.p_vaddr,
                                   phdr.p_filesz, phdr.p_memsz});
  }

  size_t shnum = 0;
  if (elf_getshdrnum(elf, &shnum) != 0) return LibelfError(path_ + ": section headers");
  size_t shstrndx = 0;
  const bool have_names = elf_getshdrstrndx(elf, &shstrndx) == 0;
  for (size_t i = 0; i < shnum; ++i) {
    Elf_Scn* scn = elf_getscn(elf, i);
    GElf_Shdr shdr;
    if (scn == nullptr || gelf_getshdr(scn, &shdr) == nullptr) {
      return LibelfError(path_ + ": section header " + std::to_string(i));
    }
    ElfSection section;
    section.index = i;
    if (have_names) {
      const char* name = elf_strptr(elf, shstrndx, shdr.sh_name);
      if (name != nullptr) section.name = name;
    }
    section.type = shdr.sh_type;
    section.flags = shdr.sh_flags;
    section.address = shdr.sh_addr;
    section.file_offset = shdr.sh_offset;
    section.size = shdr.sh_size;
    section.link = shdr.sh_link;
    section.entry_size = shdr.sh_entsize;
    section.alignment = shdr.sh_addralign;
    if (section.has_file_bytes() && !InBounds(section.file_offset, section.size, data.size())) {
      return Status::DataLoss(path_ + ": section " + std::to_string(i) + " (" + section.name +
                              ") extends past the end of the file (truncated?)");
    }
    sections_.push_back(std::move(section));
  }

  bool saw_note_section = false;
  for (const ElfSection& section : sections_) {
    if (section.type != SHT_NOTE) continue;
    saw_note_section = true;
    ParseNotes(SectionBytes(section));
  }
  if (!saw_note_section) {
    for (const ElfSegment& segment : segments_) {
      if (segment.type != PT_NOTE) continue;
      // Segments without file bytes were not bounds-checked above.
      if (auto notes = SubSpan(data, segment.file_offset, segment.file_size)) ParseNotes(*notes);
    }
  }
  return Status::Ok();
}

// Notes: {namesz, descsz, type} then the name and the descriptor, each padded
// to 4 bytes. Malformed notes end the walk of that section without error
// (build IDs are optional); only the ones we know are kept.
void ElfFile::ParseNotes(ByteSpan notes) {
  uint64_t offset = 0;
  while (offset < notes.size()) {
    auto namesz = ReadU32(notes, offset);
    auto descsz = ReadU32(notes, offset + 4);
    auto type = ReadU32(notes, offset + 8);
    if (!namesz || !descsz || !type) break;
    const uint64_t name_offset = offset + 12;
    const uint64_t desc_offset = name_offset + AlignUp(*namesz, 4);
    auto name = SubSpan(notes, name_offset, *namesz);
    auto desc = SubSpan(notes, desc_offset, *descsz);
    if (!name || !desc) break;
    const std::string_view owner = TrimNuls(AsStringView(*name));
    if (owner == "Go" && *type == kNoteGoBuildId && go_build_id_.empty()) {
      go_build_id_ = std::string(TrimNuls(AsStringView(*desc)));
    } else if (owner == "GNU" && *type == kNoteGnuBuildId && gnu_build_id_.empty()) {
      gnu_build_id_ = Hex(*desc);
    }
    offset = desc_offset + AlignUp(*descsz, 4);
  }
}

bool ElfFile::is_pie() const { return elf_type_ == ET_DYN; }

const ElfSection* ElfFile::FindSection(std::string_view name) const {
  for (const ElfSection& section : sections_) {
    if (section.name == name) return &section;
  }
  return nullptr;
}

ByteSpan ElfFile::SectionBytes(const ElfSection& section) const {
  if (!section.has_file_bytes()) return {};
  // Checked in Parse(); re-checked so a section from another file is safe.
  auto bytes = SubSpan(bytes_.span(), section.file_offset, section.size);
  return bytes ? *bytes : ByteSpan();
}

StatusOr<ByteSpan> ElfFile::SectionBytes(std::string_view name) const {
  const ElfSection* section = FindSection(name);
  if (section == nullptr) {
    return Status::NotFound(path_ + ": no section " + std::string(name));
  }
  return SectionBytes(*section);
}

StatusOr<uint64_t> ElfFile::VirtualAddressToFileOffset(uint64_t address) const {
  for (const ElfSegment& segment : segments_) {
    if (segment.type != PT_LOAD || address < segment.virtual_address) continue;
    const uint64_t delta = address - segment.virtual_address;
    if (delta < segment.file_size) return segment.file_offset + delta;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(address));
  return Status::OutOfRange(path_ + ": address " + buf + " is not in any file-backed segment");
}

std::optional<uint64_t> ElfFile::LinkBase() const {
  for (const ElfSegment& segment : segments_) {
    if (segment.type == PT_LOAD && segment.file_offset == 0 && segment.file_size > 0) {
      return segment.virtual_address;
    }
  }
  return std::nullopt;
}

StatusOr<ByteSpan> ElfFile::ReadVirtual(uint64_t address, uint64_t size) const {
  for (const ElfSegment& segment : segments_) {
    if (segment.type != PT_LOAD || address < segment.virtual_address) continue;
    const uint64_t delta = address - segment.virtual_address;
    if (delta >= segment.file_size) continue;
    if (!InBounds(delta, size, segment.file_size)) break;
    auto bytes = SubSpan(bytes_.span(), segment.file_offset + delta, size);
    if (bytes) return *bytes;
    break;
  }
  char buf[96];
  std::snprintf(buf, sizeof(buf), "0x%llx (+%llu bytes)", static_cast<unsigned long long>(address),
                static_cast<unsigned long long>(size));
  return Status::OutOfRange(path_ + ": " + buf + " is not file-backed in one segment");
}

}  // namespace gcpilot::golang
