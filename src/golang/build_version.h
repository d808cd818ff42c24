// The Go version of a binary that has no .go.buildinfo (some packagers strip
// it: `objcopy --remove-section .go.buildinfo`): such a file is still a Go
// binary when it carries a Go pclntab, and its version is the runtime's
// `runtime.buildVersion` string (what runtime.Version() returns), which the
// linker always writes: a Go string header {ptr, len} in .data pointing at
// the bytes in .rodata.
//
// The string is found through the runtime.buildVersion symbol when there is
// a .symtab; stripped, by scanning .data and .noptrdata (else the writable
// PT_LOAD segments) for 8-byte aligned string headers that point into a
// read-only PT_LOAD segment at bytes that read like a Go version. The scan
// accepts only a single distinct version: two candidates (e.g. a program
// that keeps its own "go1.21" string) are refused with both named. Pointer
// values are read as stored in the file: Go's linker and GNU ld both store
// them, also in PIEs (besides the R_X86_64_RELATIVE relocation).
// Every read is bounds-checked (hostile input gives an error, never a crash).
// Thread-safety: free functions over immutable inputs; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "golang/elf_file.h"
#include "golang/elf_symtab.h"

namespace gcpilot::golang {

// Whether `s` reads like a runtime.Version() string: "go1.N" or "go1.N.M",
// optionally followed by "rcK" / "betaK" and by " X:experiment,..."; or a
// development build, "devel go1.N-<hash> <date>" or "devel +<hash> <date>"
// (printable ASCII only, at most 128 bytes).
bool LooksLikeGoVersion(std::string_view s);

// Which pclntab layout a Go binary carries, by the header's magic.
enum class PclntabGeneration {
  kGo12,   // 0xfffffffb: Go 1.2-1.15.
  kGo116,  // 0xfffffffa: Go 1.16-1.17.
  kGo118,  // 0xfffffff0: Go 1.18-1.19.
  kGo120,  // 0xfffffff1: Go 1.20 and later.
};
// "go1.2-1.15", "go1.16-1.17", "go1.18-1.19", "go1.20+".
std::string_view PclntabGenerationName(PclntabGeneration generation);

// The generation of the 8-byte pcHeader prefix at the start of `header`
// (magic, two zero bytes, instruction quantum 1/2/4, pointer size 8), or
// nullopt when it is not one.
std::optional<PclntabGeneration> PclntabGenerationOf(ByteSpan header);

// The pclntab generation of `elf`, from its .gopclntab or
// .data.rel.ro.gopclntab section, else the runtime.pclntab symbol (`symtab`
// may be null). nullopt when none of these holds a pcHeader.
std::optional<PclntabGeneration> FindPclntabGeneration(const ElfFile& elf, const ElfSymtab* symtab);

// The runtime.buildVersion string of `elf` (`symtab` may be null: then the
// scan). NotFound when no candidate is found; DataLoss when the symbol's
// string is unreadable or not a Go version, or when the scan finds more
// than one distinct version (the message names them).
StatusOr<std::string> FindRuntimeBuildVersion(const ElfFile& elf, const ElfSymtab* symtab);

}  // namespace gcpilot::golang
