// LoadPclntab: finds a Go binary's .gopclntab and parses it. Places tried in
// order: the .gopclntab section; .data.rel.ro.gopclntab (internally linked
// PIE); the runtime.pclntab symbol; a scan of the non-executable PT_LOAD
// segments for the header magic (externally linked, stripped PIE binaries
// have no pclntab section at all: it is merged into .data.rel.ro).
// When the header's textStart is 0 (unrelocated), the base comes from an
// R_X86_64_RELATIVE relocation of that field, else the runtime.text symbol,
// else the .text section address.
// Thread-safety: a free function over immutable inputs; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "golang/elf_file.h"
#include "golang/elf_symtab.h"
#include "golang/pclntab.h"

namespace gcpilot::golang {

struct LoadedPclntab {
  Pclntab table;
  uint64_t address = 0;  // Virtual address of the pcHeader.
  std::string found_in;  // ".gopclntab", "runtime.pclntab symbol", "segment scan", ...
};

// `symtab` may be null (stripped binary). NotFound when no pclntab is
// found; the parse error of the section when one exists but is corrupt.
StatusOr<LoadedPclntab> LoadPclntab(const ElfFile& elf, const ElfSymtab* symtab);

}  // namespace gcpilot::golang
