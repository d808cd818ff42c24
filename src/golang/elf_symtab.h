// ElfSymtab: the static symbol table (.symtab + its string table) of an
// ElfFile, read directly from the file bytes with bounds checks. Lookups are
// linear scans (a Go binary has ~10^4 symbols; callers look up a handful of
// names per binary).
// Thread-safety: immutable after Load(); const methods from any thread. The
// ElfFile it was loaded from must outlive it (names point into its bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"
#include "golang/bytes.h"
#include "golang/elf_file.h"

namespace gcpilot::golang {

struct ElfSymbol {
  std::string_view name;  // Empty when the name is unreadable.
  uint64_t value = 0;     // Address for defined symbols in executables.
  uint64_t size = 0;
  uint8_t type = 0;  // STT_*.
  uint8_t bind = 0;  // STB_*.
  uint16_t section_index = 0;
};

class ElfSymtab {
 public:
  // NotFound when the file has no .symtab (stripped); DataLoss when its
  // entry size or string table link is corrupt.
  static StatusOr<ElfSymtab> Load(const ElfFile& elf);

  size_t size() const { return count_; }
  // The i-th symbol (i < size()).
  ElfSymbol at(size_t i) const;
  // The first symbol called `name` whose type is `type` (STT_FUNC,
  // STT_OBJECT, ...), or nullopt.
  std::optional<ElfSymbol> Find(std::string_view name, uint8_t type) const;

 private:
  ElfSymtab(ByteSpan symbols, ByteSpan strings, size_t count)
      : symbols_(symbols), strings_(strings), count_(count) {}

  ByteSpan symbols_;
  ByteSpan strings_;
  size_t count_ = 0;
};

}  // namespace gcpilot::golang
