// Disassembler: RAII for a capstone x86-64 handle and one reusable
// instruction buffer, shared by the RET scanner and the code scanner; and
// what counts as padding after a function's last instruction.
// Thread-safety: one instance per thread.
#pragma once

#include <capstone/capstone.h>

#include <algorithm>
#include <string>

#include "core/status.h"
#include "golang/bytes.h"

namespace gcpilot::golang {

class Disassembler {
 public:
  Disassembler() = default;
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;
  ~Disassembler() {
    if (insn_ != nullptr) cs_free(insn_, 1);
    if (open_) cs_close(&handle_);
  }
  // `details`: decode operands too (slower).
  Status Open(bool details) {
    const cs_err err = cs_open(CS_ARCH_X86, CS_MODE_64, &handle_);
    if (err != CS_ERR_OK) return Status::Internal(std::string("capstone: ") + cs_strerror(err));
    open_ = true;
    if (details && cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
      return Status::Internal("capstone: cannot enable instruction details");
    }
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

// int3 / zero bytes only: the padding the Go linker puts between functions.
inline bool IsPadding(ByteSpan rest) {
  return std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0xcc || b == 0x00; });
}

}  // namespace gcpilot::golang
