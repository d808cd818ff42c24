// RET scanning with capstone.
#include "golang/ret_offsets.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

namespace gcpilot::golang {
namespace {

// RAII for a capstone handle and one instruction buffer.
class Disassembler {
 public:
  ~Disassembler() {
    if (insn_ != nullptr) cs_free(insn_, 1);
    if (open_) cs_close(&handle_);
  }
  Status Open() {
    const cs_err err = cs_open(CS_ARCH_X86, CS_MODE_64, &handle_);
    if (err != CS_ERR_OK) return Status::Internal(std::string("capstone: ") + cs_strerror(err));
    open_ = true;
    insn_ = cs_malloc(handle_);
    if (insn_ == nullptr) return Status::Internal("capstone: out of memory");
    return Status::Ok();
  }
  csh handle() const { return handle_; }
  cs_insn* insn() const { return insn_; }

 private:
  csh handle_ = 0;
  bool open_ = false;
  cs_insn* insn_ = nullptr;
};

bool IsPadding(ByteSpan rest) {
  return std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0xcc || b == 0x00; });
}

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
  GCPILOT_RETURN_IF_ERROR(dis.Open());
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
