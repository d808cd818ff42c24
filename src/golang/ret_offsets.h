// Finding a function's RET instructions by disassembly (capstone, x86-64),
// so a uprobe can sit on each return instead of a uretprobe (which crashes
// Go programs: goroutine stacks move).
//
// The code is decoded linearly from the entry to the end. Trailing padding
// (int3 / zero bytes after the last instruction) is skipped; any other byte
// sequence that does not decode is an error, since a RET after it could be
// missed.
// Thread-safety: free functions; each call uses its own capstone handle, so
// concurrent calls are safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/bytes.h"
#include "golang/elf_file.h"
#include "golang/symbols.h"

namespace gcpilot::golang {

struct RetInstruction {
  uint64_t address = 0;      // Virtual address of the RET.
  uint64_t file_offset = 0;  // Where a uprobe attaches.
  uint8_t length = 0;        // 1 for C3, 3 for C2 imm16; more with prefixes.
};

// Disassembles `code`, which is mapped at `address` and stored at
// `file_offset` in the file; `name` appears in messages. InvalidArgument for
// empty code; DataLoss when an instruction does not decode.
StatusOr<std::vector<RetInstruction>> ScanReturns(ByteSpan code, uint64_t address,
                                                  uint64_t file_offset, std::string_view name);

// The RET instructions of `fn` in `elf` (its bytes read from the file).
// OutOfRange when the function's bytes are not in the file; errors of
// ScanReturns otherwise. A function with no RET (e.g. one that never
// returns) gives an empty vector.
StatusOr<std::vector<RetInstruction>> FindRetInstructions(const ElfFile& elf,
                                                          const FunctionInfo& fn);

}  // namespace gcpilot::golang
