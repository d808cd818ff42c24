// ElfHandle: RAII ownership of a libelf descriptor (Elf*), and the one place
// that initializes libelf (elf_version) and turns its errors into Status.
// Thread-safety: ElfHandle is move-only; one handle must not be used from two
// threads at once (libelf descriptors are not thread-safe). Creating handles
// from several threads is safe.
#pragma once

#include <libelf.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/status.h"

namespace gcpilot::golang {

struct ElfDeleter {
  void operator()(Elf* elf) const { elf_end(elf); }
};
using ElfHandle = std::unique_ptr<Elf, ElfDeleter>;

// A libelf descriptor over `size` bytes at `image` (which must outlive it;
// libelf never writes into a private image, but its API takes a non-const
// pointer). DataLoss when libelf rejects the image.
StatusOr<ElfHandle> OpenElfImage(uint8_t* image, size_t size, std::string_view name);

// "<what>: <libelf's last error message>" as DataLoss.
Status LibelfError(std::string_view what);

}  // namespace gcpilot::golang
