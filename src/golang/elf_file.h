// ElfFile: a read-only, validated view of one x86-64 ELF file: sections by
// name (address, file offset, size, bytes), program headers, build IDs, file
// type (PIE or not) and virtual address -> file offset translation (uprobes
// attach by file offset).
//
// Open() parses the headers with libelf (over a private mapping of the file)
// and checks every section and segment against the file size, so a truncated
// or corrupt file fails to open with a Status instead of yielding spans that
// point past the end. After Open() the object is immutable and holds no
// libelf handle.
// Thread-safety: immutable after construction; const methods may be called
// from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/bytes.h"
#include "golang/file_bytes.h"

namespace gcpilot::golang {

struct ElfSection {
  size_t index = 0;      // Index in the section header table.
  std::string name;      // Empty when the name is not readable.
  uint32_t type = 0;     // SHT_*.
  uint64_t flags = 0;    // SHF_*.
  uint64_t address = 0;  // sh_addr (0 for sections not loaded).
  uint64_t file_offset = 0;
  uint64_t size = 0;
  uint32_t link = 0;
  uint64_t entry_size = 0;
  uint64_t alignment = 0;

  bool has_file_bytes() const;  // Not SHT_NOBITS / SHT_NULL.
};

struct ElfSegment {
  uint32_t type = 0;   // PT_*.
  uint32_t flags = 0;  // PF_*.
  uint64_t file_offset = 0;
  uint64_t virtual_address = 0;
  uint64_t file_size = 0;
  uint64_t memory_size = 0;
};

class ElfFile {
 public:
  // Maps and parses `path`. Errors: NotFound / PermissionDenied from the
  // file system; InvalidArgument for a directory, an empty file, a file that
  // is not ELF, or an ELF for another machine (only x86-64 is supported);
  // DataLoss for a corrupt or truncated ELF.
  static StatusOr<ElfFile> Open(const std::string& path);
  // Parses a copy of `bytes` (fuzzing, tests). `name` appears in messages.
  static StatusOr<ElfFile> OpenFromMemory(std::span<const uint8_t> bytes,
                                          std::string name = "<memory>");

  ElfFile(ElfFile&&) = default;
  ElfFile& operator=(ElfFile&&) = default;

  const std::string& path() const { return path_; }
  ByteSpan bytes() const { return bytes_.span(); }
  const FileIdentity& identity() const { return bytes_.identity(); }

  uint16_t elf_type() const { return elf_type_; }  // ET_EXEC, ET_DYN, ...
  bool is_pie() const;                             // ET_DYN.
  uint16_t machine() const { return machine_; }    // Always EM_X86_64.
  uint64_t entry_point() const { return entry_; }

  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::vector<ElfSegment>& segments() const { return segments_; }
  // The first section called `name`, or nullptr.
  const ElfSection* FindSection(std::string_view name) const;
  // The section's bytes in the file (empty for SHT_NOBITS). Bounds were
  // checked by Open(), so this cannot fail for a section of this file.
  ByteSpan SectionBytes(const ElfSection& section) const;
  // NotFound when no section is called `name`.
  StatusOr<ByteSpan> SectionBytes(std::string_view name) const;

  // Build IDs from notes; empty when absent. go_build_id() is the string
  // from .note.go.buildid ("actionID/.../contentID"); gnu_build_id() is
  // .note.gnu.build-id in lowercase hex (present with external linking).
  const std::string& go_build_id() const { return go_build_id_; }
  const std::string& gnu_build_id() const { return gnu_build_id_; }

  // The file offset that holds virtual address `address`, found through the
  // PT_LOAD segment whose file-backed part contains it. OutOfRange when no
  // segment does (e.g. .bss).
  StatusOr<uint64_t> VirtualAddressToFileOffset(uint64_t address) const;
  // The link-time address of file offset 0: p_vaddr - p_offset of the
  // PT_LOAD that maps offset 0. A PIE's load bias in a process is (where
  // offset 0 is mapped) - LinkBase(). Internally linked Go PIEs link at
  // 0x400000 like non-PIE ones; externally linked PIEs at 0. nullopt when
  // no PT_LOAD maps offset 0.
  std::optional<uint64_t> LinkBase() const;
  // `size` bytes at virtual address `address`; all must be file-backed in
  // one PT_LOAD segment. OutOfRange otherwise.
  StatusOr<ByteSpan> ReadVirtual(uint64_t address, uint64_t size) const;

 private:
  explicit ElfFile(FileBytes bytes, std::string path);
  Status Parse();
  void ParseNotes(ByteSpan notes);

  FileBytes bytes_;
  std::string path_;
  uint16_t elf_type_ = 0;
  uint16_t machine_ = 0;
  uint64_t entry_ = 0;
  std::vector<ElfSection> sections_;
  std::vector<ElfSegment> segments_;
  std::string go_build_id_;
  std::string gnu_build_id_;
};

}  // namespace gcpilot::golang
