// Resolving RuntimeLayout: offsets from DWARF or the version table,
// addresses from .symtab or from code references (see runtime_layout.h).
#include "golang/runtime_layout.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <span>
#include <vector>

#include "golang/code_scan.h"
#include "golang/runtime_layout_spec.h"
#include "golang/runtime_layout_table.h"

namespace gcpilot::golang {
namespace {

using Offsets = std::array<std::optional<uint32_t>, kRuntimeFieldCount>;
using Members = std::array<std::optional<MemberLocation>, kRuntimeMemberCount>;
using Addresses = std::array<std::optional<uint64_t>, kRuntimeGlobalCount>;

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool IsRequired(size_t field) {
  return field == static_cast<size_t>(RuntimeField::kMemstatsNumgc) ||
         field == static_cast<size_t>(RuntimeField::kMemstatsPauseNs);
}

}  // namespace

// One resolution of one binary (a friend of RuntimeLayout).
class RuntimeLayoutResolver {
 public:
  explicit RuntimeLayoutResolver(const GoBinary& binary)
      : binary_(binary), version_(binary.go_version()) {}

  StatusOr<RuntimeLayout> Resolve() {
    const bool have_table = TableHasVersion(version_);
    // Member offsets.
    Offsets offsets;
    Members members;
    std::string offsets_how;
    if (binary_.has_dwarf()) {
      auto from_dwarf = OffsetsFromDwarf(members);
      if (from_dwarf.ok()) {
        offsets = *from_dwarf;
        offsets_how = "dwarf";
      } else if (!have_table) {
        return from_dwarf.status();
      }
    }
    if (offsets_how.empty()) {
      if (!have_table) return NoTable(binary_.stripped() ? "" : " without DWARF (-w)");
      offsets = OffsetsFromTable();
      offsets_how = "table";
    }
    // Offsets of members reached through pointers, from the same source.
    if (offsets_how == "table") members = MembersFromTable();
    // Global addresses.
    Addresses addresses;
    std::string addresses_how;
    if (!binary_.stripped()) {
      auto from_symtab = AddressesFromSymtab(offsets_how == "table");
      if (!from_symtab.ok()) return from_symtab.status();
      addresses = *from_symtab;
      addresses_how = "symtab";
    } else {
      if (!have_table) return NoTable("");
      for (size_t g = 0; g < kRuntimeGlobalCount; ++g) {
        auto address = AddressFromCode(static_cast<RuntimeGlobal>(g));
        if (!address.ok()) return address.status();
        addresses[g] = *address;
      }
      addresses_how = "code";
    }

    RuntimeLayout layout;
    layout.members_ = members;
    for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
      const RuntimeFieldSpec& spec = FieldSpec(static_cast<RuntimeField>(f));
      const auto& base = addresses[static_cast<size_t>(spec.global)];
      if (base && offsets[f])
        layout.fields_[f] = FieldLocation{*base + *offsets[f], spec.scalar_size};
      if (IsRequired(f) && !layout.fields_[f]) {
        return Status::NotFound(binary_.path() + ": " + version_ + ": runtime." +
                                std::string(RuntimeFieldName(static_cast<RuntimeField>(f))) +
                                " not located (" + addresses_how + "+" + offsets_how + ")");
      }
    }
    layout.how_ = addresses_how == "symtab" && offsets_how == "dwarf"
                      ? "dwarf"
                      : addresses_how + "+" + offsets_how + " " + version_;
    return layout;
  }

 private:
  Status NoTable(const std::string& what) const {
    const std::string kind = binary_.stripped() ? "stripped " + version_ : version_;
    return Status::NotFound(binary_.path() + ": " + kind + " binary" + what +
                            ": no offset table for this exact Go version (have " +
                            TableVersionList() + ")");
  }

  // The fields' offsets, and in `out_members` the members' (one batch of
  // DWARF queries for both).
  StatusOr<Offsets> OffsetsFromDwarf(Members& out_members) const {
    std::vector<StructMemberQuery> queries;
    for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
      const RuntimeFieldSpec& spec = FieldSpec(static_cast<RuntimeField>(f));
      for (std::string_view path : spec.member_paths) {
        queries.push_back({GlobalSpec(spec.global).struct_type, path});
      }
    }
    const size_t field_queries = queries.size();
    for (size_t m = 0; m < kRuntimeMemberCount; ++m) {
      const RuntimeMemberSpec& spec = MemberSpec(static_cast<RuntimeMember>(m));
      for (std::string_view path : spec.member_paths) queries.push_back({spec.struct_type, path});
    }
    const auto members = binary_.FindStructMembers(queries);
    auto member_status = MembersFromDwarf(
        std::span<const StatusOr<DwarfMember>>(members).subspan(field_queries), out_members);
    if (!member_status.ok()) return member_status;
    Offsets offsets;
    size_t q = 0;
    for (size_t f = 0; f < kRuntimeFieldCount; ++f) {
      const RuntimeFieldSpec& spec = FieldSpec(static_cast<RuntimeField>(f));
      const bool scalar_global = GlobalSpec(spec.global).struct_type.empty();
      for (size_t i = 0; i < spec.member_paths.size(); ++i, ++q) {
        if (scalar_global) {
          offsets[f] = 0;
          continue;
        }
        if (spec.member_paths[i].empty() || offsets[f]) continue;
        const StatusOr<DwarfMember>& m = members[q];
        if (!m.ok()) {
          // Absent, or a path through a non-struct (".value" of a plain
          // integer on older versions): try the next path.
          if (m.status().code() == StatusCode::kNotFound ||
              m.status().code() == StatusCode::kInvalidArgument) {
            continue;
          }
          return m.status();
        }
        if (m->size != spec.dwarf_size || m->offset > UINT32_MAX) {
          return Status::DataLoss(binary_.path() + ": DWARF: " +
                                  std::string(RuntimeFieldName(static_cast<RuntimeField>(f))) +
                                  " has size " + std::to_string(m->size) + ", expected " +
                                  std::to_string(spec.dwarf_size));
        }
        offsets[f] = static_cast<uint32_t>(m->offset);
      }
    }
    return offsets;
  }

  Offsets OffsetsFromTable() const {
    Offsets offsets;
    for (const TableOffset& row : TableOffsets()) {
      if (row.go_version == version_) offsets[static_cast<size_t>(row.field)] = row.offset;
    }
    return offsets;
  }

  // `found` has one result per member path of every RuntimeMember, in
  // order. Absent members stay nullopt; a member of the wrong size is an
  // error.
  Status MembersFromDwarf(std::span<const StatusOr<DwarfMember>> results, Members& members) const {
    size_t q = 0;
    for (size_t m = 0; m < kRuntimeMemberCount; ++m) {
      const RuntimeMemberSpec& spec = MemberSpec(static_cast<RuntimeMember>(m));
      for (size_t i = 0; i < spec.member_paths.size(); ++i, ++q) {
        if (spec.member_paths[i].empty() || members[m]) continue;
        const StatusOr<DwarfMember>& found = results[q];
        if (!found.ok()) {
          if (found.status().code() == StatusCode::kNotFound ||
              found.status().code() == StatusCode::kInvalidArgument) {
            continue;
          }
          return found.status();
        }
        if (found->size != spec.scalar_size || found->offset > UINT32_MAX) {
          return Status::DataLoss(binary_.path() + ": DWARF: " +
                                  std::string(RuntimeMemberName(static_cast<RuntimeMember>(m))) +
                                  " has size " + std::to_string(found->size) + ", expected " +
                                  std::to_string(spec.scalar_size));
        }
        members[m] = MemberLocation{static_cast<uint32_t>(found->offset), spec.scalar_size};
      }
    }
    return Status::Ok();
  }

  Members MembersFromTable() const {
    Members members;
    for (const TableMember& row : TableMembers()) {
      if (row.go_version != version_) continue;
      const size_t m = static_cast<size_t>(row.member);
      members[m] = MemberLocation{row.offset, MemberSpec(row.member).scalar_size};
    }
    return members;
  }

  const TableGlobal* FindTableGlobal(RuntimeGlobal g) const {
    for (const TableGlobal& row : TableGlobals()) {
      if (row.go_version == version_ && row.global == g) return &row;
    }
    return nullptr;
  }

  // With `check_table`, each symbol's size must equal the table's (the
  // table's offsets are then trusted for this binary).
  StatusOr<Addresses> AddressesFromSymtab(bool check_table) const {
    Addresses addresses;
    for (size_t g = 0; g < kRuntimeGlobalCount; ++g) {
      const RuntimeGlobal global = static_cast<RuntimeGlobal>(g);
      auto info = binary_.FindGlobal(GlobalSpec(global).symbol);
      if (!info.ok()) {
        if (global == RuntimeGlobal::kMemstats) return info.status();
        continue;  // Its fields stay nullopt.
      }
      const TableGlobal* row = check_table ? FindTableGlobal(global) : nullptr;
      if (row != nullptr && row->size != info->size) {
        return Status::DataLoss(binary_.path() + ": " + info->name + " has size " +
                                std::to_string(info->size) + " but " + version_ + " has size " +
                                std::to_string(row->size) +
                                " in the offset table: not the runtime the table describes");
      }
      addresses[g] = info->address;
    }
    return addresses;
  }

  // The decoded code of `name`, memoized; nullptr (with *absent) when the
  // binary has no such function, or an error when it does not decode.
  StatusOr<const std::vector<DecodedInstruction>*> Code(std::string_view name) {
    auto it = code_.find(name);
    if (it == code_.end()) {
      auto fn = binary_.FindFunction(name);
      StatusOr<std::vector<DecodedInstruction>> code =
          fn.ok() ? DecodeFunction(binary_.elf(), *fn) : fn.status();
      it = code_.emplace(std::string(name), std::move(code)).first;
    }
    if (!it->second.ok()) {
      if (it->second.status().code() == StatusCode::kNotFound) {
        return static_cast<const std::vector<DecodedInstruction>*>(nullptr);
      }
      return it->second.status();
    }
    return &*it->second;
  }

  StatusOr<uint64_t> AddressFromCode(RuntimeGlobal global) {
    const std::string symbol(GlobalSpec(global).symbol);
    const std::string where = binary_.path() + ": " + version_ + ": " + symbol + ": ";
    const TableGlobal* table_global = FindTableGlobal(global);
    if (table_global == nullptr) return Status::NotFound(where + "not in the offset table");
    struct Found {
      std::string_view function;
      uint64_t base;
    };
    std::vector<Found> found;
    size_t listed = 0;
    for (const TableReference& ref : TableReferences()) {
      if (ref.go_version != version_ || ref.global != global) continue;
      ++listed;
      auto code = Code(ref.function);
      if (!code.ok()) return code.status();
      if (*code == nullptr) continue;  // Not linked into this program.
      uint32_t index = 0;
      const DecodedInstruction* hit = nullptr;
      for (const DecodedInstruction& insn : **code) {
        if (!insn.rip_target) continue;
        if (index++ == ref.index) {
          hit = &insn;
          break;
        }
      }
      if (hit == nullptr) {
        return Status::DataLoss(where + std::string(ref.function) + " has only " +
                                std::to_string(index) +
                                " RIP-relative operands; the table expects operand " +
                                std::to_string(ref.index) + " (code differs from the table)");
      }
      if (hit->mnemonic != ref.mnemonic || hit->rip_access_size != ref.access_size) {
        return Status::DataLoss(where + std::string(ref.function) + " operand " +
                                std::to_string(ref.index) + " is " + hit->mnemonic + "/" +
                                std::to_string(hit->rip_access_size) + ", the table expects " +
                                std::string(ref.mnemonic) + "/" + std::to_string(ref.access_size) +
                                " (code differs from the table)");
      }
      found.push_back({ref.function, *hit->rip_target - static_cast<uint64_t>(ref.offset)});
    }
    if (found.size() < 2) {
      return Status::NotFound(where + "only " + std::to_string(found.size()) + " of " +
                              std::to_string(listed) + " code references found; need 2 that agree");
    }
    for (const Found& f : found) {
      if (f.base != found[0].base) {
        return Status::DataLoss(
            where + "code references disagree: " + std::string(found[0].function) + " gives " +
            Hex(found[0].base) + ", " + std::string(f.function) + " gives " + Hex(f.base));
      }
    }
    const uint64_t base = found[0].base;
    const ElfSection* section = binary_.elf().FindSection(table_global->section);
    if (section == nullptr || base < section->address || base - section->address > section->size ||
        table_global->size > section->size - (base - section->address)) {
      return Status::DataLoss(where + "code gives " + Hex(base) + ", which is not inside " +
                              std::string(table_global->section));
    }
    return base;
  }

  const GoBinary& binary_;
  const std::string version_;
  std::map<std::string, StatusOr<std::vector<DecodedInstruction>>, std::less<>> code_;
};

StatusOr<RuntimeLayout> ResolveRuntimeLayout(const GoBinary& binary) {
  if (binary.layout_memo_ == nullptr) return RuntimeLayoutResolver(binary).Resolve();
  std::lock_guard<std::mutex> lock(binary.layout_memo_->mu);
  if (!binary.layout_memo_->layout) {
    binary.layout_memo_->layout = RuntimeLayoutResolver(binary).Resolve();
  }
  return *binary.layout_memo_->layout;
}

}  // namespace gcpilot::golang
