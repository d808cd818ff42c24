// Capstone decoding with operand details (see code_scan.h).
#include "golang/code_scan.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdio>

#include "golang/disassembler.h"

namespace gcpilot::golang {
namespace {

constexpr size_t kMaxFunctionBytes = 1 << 20;  // Bounds hostile function sizes.

void Describe(const cs_insn& insn, DecodedInstruction& out) {
  const cs_x86& x86 = insn.detail->x86;
  const uint64_t next = insn.address + insn.size;
  for (uint8_t i = 0; i < x86.op_count; ++i) {
    const cs_x86_op& op = x86.operands[i];
    if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP && op.mem.index == X86_REG_INVALID) {
      out.rip_target = next + static_cast<uint64_t>(op.mem.disp);
      out.rip_access_size = insn.id == X86_INS_LEA ? 0 : op.size;
    }
  }
  // E8 rel32: the only encoding of a direct near call in 64-bit code.
  if (insn.id == X86_INS_CALL && insn.size == 5 && insn.bytes[0] == 0xe8 && x86.op_count == 1 &&
      x86.operands[0].type == X86_OP_IMM) {
    out.call_target = static_cast<uint64_t>(x86.operands[0].imm);
  }
}

}  // namespace

StatusOr<std::vector<DecodedInstruction>> DecodeCode(ByteSpan code, uint64_t address,
                                                     std::string_view name) {
  if (code.empty()) return Status::InvalidArgument(std::string(name) + ": function has no code");
  if (code.size() > kMaxFunctionBytes) {
    return Status::InvalidArgument(std::string(name) + ": function too large to decode (" +
                                   std::to_string(code.size()) + " bytes)");
  }
  Disassembler dis;
  GCPILOT_RETURN_IF_ERROR(dis.Open(/*details=*/true));
  std::vector<DecodedInstruction> out;
  const uint8_t* cursor = code.data();
  size_t remaining = code.size();
  uint64_t pc = address;
  while (remaining > 0) {
    const uint64_t insn_address = pc;
    if (!cs_disasm_iter(dis.handle(), &cursor, &remaining, &pc, dis.insn())) {
      const size_t offset = code.size() - remaining;
      if (IsPadding(code.subspan(offset))) break;
      char where[64];
      std::snprintf(where, sizeof(where), "0x%llx (+%zu)",
                    static_cast<unsigned long long>(insn_address), offset);
      return Status::DataLoss(std::string(name) + ": cannot decode the instruction at " + where);
    }
    DecodedInstruction insn;
    insn.address = insn_address;
    insn.length = static_cast<uint8_t>(dis.insn()->size);
    insn.mnemonic = dis.insn()->mnemonic;
    Describe(*dis.insn(), insn);
    out.push_back(std::move(insn));
  }
  return out;
}

StatusOr<std::vector<DecodedInstruction>> DecodeFunction(const ElfFile& elf,
                                                         const FunctionInfo& fn) {
  if (fn.size == 0) return Status::InvalidArgument(fn.name + ": function has size 0");
  if (fn.size > kMaxFunctionBytes) {
    return Status::InvalidArgument(fn.name + ": function too large to decode (" +
                                   std::to_string(fn.size) + " bytes)");
  }
  auto code = elf.ReadVirtual(fn.address, fn.size);
  if (!code.ok()) return code.status();
  return DecodeCode(*code, fn.address, fn.name);
}

}  // namespace gcpilot::golang
