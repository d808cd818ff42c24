// RET scanning with capstone.
#include "golang/ret_offsets.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "golang/disassembler.h"

namespace gcpilot::golang {
namespace {

std::string HexAddress(uint64_t value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

StatusOr<std::vector<RetInstruction>> ScanReturns(ByteSpan code, uint64_t address,
                                                  uint64_t file_offset, std::string_view name) {
  if (code.empty()) return Status::InvalidArgument(std::string(name) + ": function has no code");
  Disassembler dis;
  GCPILOT_RETURN_IF_ERROR(dis.Open(/*details=*/false));
  std::vector<RetInstruction> rets;
  const uint8_t* cursor = code.data();
  size_t remaining = code.size();
  uint64_t pc = address;
  while (remaining > 0) {
    const uint64_t insn_address = pc;
    if (!cs_disasm_iter(dis.handle(), &cursor, &remaining, &pc, dis.insn())) {
      const size_t offset = code.size() - remaining;
      if (IsPadding(code.subspan(offset))) break;
      std::string bytes;
      for (size_t i = 0; i < std::min<size_t>(remaining, 8); ++i) {
        char b[4];
        std::snprintf(b, sizeof(b), " %02x", code[offset + i]);
        bytes += b;
      }
      return Status::DataLoss(std::string(name) + ": cannot decode the instruction at " +
                              HexAddress(insn_address) + " (+" + std::to_string(offset) +
                              "), bytes" + bytes);
    }
    if (dis.insn()->id == X86_INS_RET) {
      rets.push_back(RetInstruction{insn_address, file_offset + (insn_address - address),
                                    static_cast<uint8_t>(dis.insn()->size)});
    }
  }
  return rets;
}

StatusOr<std::vector<RetInstruction>> FindRetInstructions(const ElfFile& elf,
                                                          const FunctionInfo& fn) {
  if (fn.size == 0) return Status::InvalidArgument(fn.name + ": function has size 0");
  auto code = elf.ReadVirtual(fn.address, fn.size);
  if (!code.ok()) return code.status();
  auto offset = elf.VirtualAddressToFileOffset(fn.address);
  if (!offset.ok()) return offset.status();
  return ScanReturns(*code, fn.address, *offset, fn.name);
}

}  // namespace gcpilot::golang
