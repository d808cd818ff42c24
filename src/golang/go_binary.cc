// GoBinary: assembling the parsed pieces of one Go executable.
#include "golang/go_binary.h"

#include <map>
#include <mutex>
#include <utility>

#include "golang/build_version.h"
#include "golang/runtime_layout.h"

namespace gcpilot::golang {

namespace {

constexpr size_t kMaxMemoizedMembers = 1024;  // Bounds a caller with unbounded keys.

// The build info of a binary without .go.buildinfo: a Go binary when it has
// a Go pclntab, with the version from runtime.buildVersion.
StatusOr<BuildInfo> BuildInfoWithoutBuildInfo(const ElfFile& elf, const SymbolResolver& symbols) {
  std::optional<PclntabGeneration> generation = FindPclntabGeneration(elf, symbols.symtab());
  if (!generation && symbols.pclntab() != nullptr) {
    generation = symbols.pclntab()->table.version() == PclntabVersion::kGo118
                     ? PclntabGeneration::kGo118
                     : PclntabGeneration::kGo120;
  }
  if (!generation) {
    return Status::NotFound(elf.path() + ": not a Go binary (no Go build info, no Go pclntab)");
  }
  auto version = FindRuntimeBuildVersion(elf, symbols.symtab());
  if (!version.ok()) {
    return Status::DataLoss(version.status().message() + " (a Go binary with a " +
                            std::string(PclntabGenerationName(*generation)) +
                            " pclntab and no build info: its Go version is unknown)");
  }
  BuildInfo info;
  info.go_version = std::move(*version);
  info.version_source = VersionSource::kRuntimeBuildVersion;
  return info;
}

}  // namespace

struct GoBinary::DwarfMemo {
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, StatusOr<DwarfMember>, std::less<>> members;
};

GoBinary::GoBinary(GoBinary&&) noexcept = default;
GoBinary& GoBinary::operator=(GoBinary&&) noexcept = default;
GoBinary::~GoBinary() = default;

StatusOr<GoBinary> GoBinary::Open(const std::string& path) {
  auto elf = ElfFile::Open(path);
  if (!elf.ok()) return elf.status();
  return FromElf(std::move(*elf));
}

StatusOr<GoBinary> GoBinary::OpenFromMemory(std::span<const uint8_t> bytes, std::string name) {
  auto elf = ElfFile::OpenFromMemory(bytes, std::move(name));
  if (!elf.ok()) return elf.status();
  return FromElf(std::move(*elf));
}

StatusOr<GoBinary> GoBinary::FromElf(ElfFile elf) {
  GoBinary binary;
  binary.dwarf_memo_ = std::make_unique<DwarfMemo>();
  binary.layout_memo_ = std::make_unique<LayoutMemo>();
  binary.elf_ = std::make_unique<const ElfFile>(std::move(elf));
  auto info = ReadBuildInfo(*binary.elf_);
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) return info.status();
  auto symbols = SymbolResolver::Create(*binary.elf_);
  if (!info.ok()) {
    // An old Go pclntab (InvalidArgument) says more than "no build info".
    if (!symbols.ok()) {
      return symbols.status().code() == StatusCode::kInvalidArgument ? symbols.status()
                                                                     : info.status();
    }
    info = BuildInfoWithoutBuildInfo(*binary.elf_, *symbols);
    if (!info.ok()) return info.status();
  }
  binary.build_info_ = std::move(*info);
  if (!symbols.ok()) return symbols.status();
  binary.symbols_ = std::make_unique<const SymbolResolver>(std::move(*symbols));
  binary.has_dwarf_ = binary.elf_->FindSection(".debug_info") != nullptr ||
                      binary.elf_->FindSection(".zdebug_info") != nullptr;
  binary.uses_cgo_ = binary.symbols_->FindFunction("crosscall2").ok();
  return binary;
}

const std::string& GoBinary::build_id() const {
  return elf_->go_build_id().empty() ? elf_->gnu_build_id() : elf_->go_build_id();
}

StatusOr<std::vector<RetInstruction>> GoBinary::FindRetInstructions(std::string_view name) const {
  auto fn = symbols_->FindFunction(name);
  if (!fn.ok()) return fn.status();
  return golang::FindRetInstructions(*elf_, *fn);
}

StatusOr<DwarfMember> GoBinary::FindStructMember(std::string_view struct_name,
                                                 std::string_view member_path) const {
  const StructMemberQuery query{struct_name, member_path};
  return std::move(FindStructMembers(std::span(&query, 1))[0]);
}

std::vector<StatusOr<DwarfMember>> GoBinary::FindStructMembers(
    std::span<const StructMemberQuery> queries) const {
  std::lock_guard<std::mutex> lock(dwarf_memo_->mu);
  std::vector<StatusOr<DwarfMember>> results;
  results.reserve(queries.size());
  std::optional<StatusOr<std::unique_ptr<DwarfTypes>>> dwarf;  // Opened on the first miss.
  for (const StructMemberQuery& q : queries) {
    auto key = std::make_pair(std::string(q.struct_name), std::string(q.member_path));
    if (auto it = dwarf_memo_->members.find(key); it != dwarf_memo_->members.end()) {
      results.push_back(it->second);
      continue;
    }
    if (!dwarf) dwarf = DwarfTypes::Open(*elf_);
    StatusOr<DwarfMember> member =
        dwarf->ok() ? (**dwarf)->FindMember(q.struct_name, q.member_path) : dwarf->status();
    if (dwarf_memo_->members.size() >= kMaxMemoizedMembers) dwarf_memo_->members.clear();
    dwarf_memo_->members.emplace(std::move(key), member);
    results.push_back(std::move(member));
  }
  return results;
}

}  // namespace gcpilot::golang
