// DwarfTypes: struct member offsets from a Go binary's DWARF (libdw), e.g.
// ("runtime.mstats", "numgc") or a nested path ("runtime.gcControllerState",
// "heapLive.value"): what a probe needs to read runtime globals, because
// these offsets move between Go minor versions.
//
// libdw decompresses Go's compressed .debug_* sections by rewriting the
// section headers of the image it reads, so DwarfTypes works on a private
// copy of the file's bytes: open it, resolve the offsets you need, drop it.
// Thread-safety: not thread-safe (one libdw handle); use from one thread at
// a time. Distinct DwarfTypes objects are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "golang/elf_file.h"

namespace gcpilot::golang {

struct DwarfMember {
  uint64_t offset = 0;  // Byte offset from the start of the outermost struct.
  uint64_t size = 0;    // Byte size of the member's type (0 if unknown).
};

class DwarfTypes {
 public:
  // NotFound when `elf` has no DWARF (stripped with -w); DataLoss when
  // libdw cannot read it.
  static StatusOr<std::unique_ptr<DwarfTypes>> Open(const ElfFile& elf);
  ~DwarfTypes();
  DwarfTypes(const DwarfTypes&) = delete;
  DwarfTypes& operator=(const DwarfTypes&) = delete;

  // The member at `member_path` (dot-separated names, each a member of the
  // struct type of the previous one) in the struct type `struct_name`.
  // NotFound naming the struct or the member when absent.
  StatusOr<DwarfMember> FindMember(std::string_view struct_name, std::string_view member_path);
  // Shorthand for FindMember(...).offset.
  StatusOr<uint64_t> MemberOffset(std::string_view struct_name, std::string_view member_path);
  // The byte size of the named struct type.
  StatusOr<uint64_t> StructSize(std::string_view struct_name);

 private:
  struct State;
  explicit DwarfTypes(std::unique_ptr<State> state);
  Status IndexStructs();

  std::unique_ptr<State> state_;
};

}  // namespace gcpilot::golang
