// Decoding a Go function's machine code (capstone, x86-64, with operand
// details) into the few facts gcpilot's code analyses need: direct CALL
// targets (call sites to probe) and RIP-relative memory operands (which
// globals a function touches: how runtime globals are found in stripped
// binaries, see runtime_layout.h).
//
// Decoding is linear from the entry; trailing padding (int3 / zero bytes) is
// skipped, any other undecodable byte is an error (see ret_offsets.h).
// Thread-safety: free functions, each call with its own capstone handle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/bytes.h"
#include "golang/elf_file.h"
#include "golang/symbols.h"

namespace gcpilot::golang {

struct DecodedInstruction {
  uint64_t address = 0;
  uint8_t length = 0;
  std::string mnemonic;  // Capstone's, e.g. "mov", "lea", "call".
  // Target of a CALL rel32 (a direct call), else nullopt.
  std::optional<uint64_t> call_target;
  // The absolute address of a [rip + disp] memory operand, else nullopt.
  std::optional<uint64_t> rip_target;
  uint8_t rip_access_size = 0;  // Bytes the instruction accesses there (0 for LEA).
};

// Decodes `code`, mapped at `address`; `name` appears in messages.
// InvalidArgument for empty code, DataLoss for bytes that do not decode.
StatusOr<std::vector<DecodedInstruction>> DecodeCode(ByteSpan code, uint64_t address,
                                                     std::string_view name);

// Decodes function `fn` of `elf` (its bytes read from the file). OutOfRange
// when they are not in the file; the errors of DecodeCode otherwise.
StatusOr<std::vector<DecodedInstruction>> DecodeFunction(const ElfFile& elf,
                                                         const FunctionInfo& fn);

}  // namespace gcpilot::golang
