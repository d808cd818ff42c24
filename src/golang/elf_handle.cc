// ElfHandle: libelf initialization and descriptors over in-memory images.
#include "golang/elf_handle.h"

#include <mutex>
#include <string>

namespace gcpilot::golang {
namespace {

bool InitLibelf() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = elf_version(EV_CURRENT) != EV_NONE; });
  return ok;
}

}  // namespace

Status LibelfError(std::string_view what) {
  const char* msg = elf_errmsg(-1);
  return Status::DataLoss(std::string(what) + ": " + (msg != nullptr ? msg : "libelf error"));
}

StatusOr<ElfHandle> OpenElfImage(uint8_t* image, size_t size, std::string_view name) {
  if (!InitLibelf()) return Status::Internal("libelf: elf_version(EV_CURRENT) failed");
  Elf* elf = elf_memory(reinterpret_cast<char*>(image), size);
  if (elf == nullptr) return LibelfError(std::string(name) + ": not a readable ELF image");
  ElfHandle handle(elf);
  if (elf_kind(elf) != ELF_K_ELF) {
    return Status::InvalidArgument(std::string(name) + ": not an ELF file");
  }
  return handle;
}

}  // namespace gcpilot::golang
