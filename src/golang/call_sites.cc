// Direct call sites by disassembly (see call_sites.h).
#include "golang/call_sites.h"

#include "golang/code_scan.h"

namespace gcpilot::golang {

StatusOr<std::vector<uint64_t>> FindCallSites(const GoBinary& binary, std::string_view caller,
                                              std::string_view callee) {
  auto from = binary.FindFunction(caller);
  if (!from.ok()) return from.status();
  auto to = binary.FindFunction(callee);
  if (!to.ok()) return to.status();
  auto code = DecodeFunction(binary.elf(), *from);
  if (!code.ok()) return code.status();
  std::vector<uint64_t> sites;
  for (const DecodedInstruction& insn : *code) {
    if (insn.call_target != to->address) continue;
    auto offset = binary.elf().VirtualAddressToFileOffset(insn.address);
    if (!offset.ok()) return offset.status();
    sites.push_back(*offset);
  }
  return sites;
}

}  // namespace gcpilot::golang
