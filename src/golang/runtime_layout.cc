// Resolving RuntimeLayout: offsets from DWARF or the version table,
// addresses from .symtab or from code references (see runtime_layout.h).
#include "golang/runtime_layout.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <set>
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

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
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
    const std::vector<std::string> candidates = TableCandidates(version_);
    if (candidates.empty() || candidates.front() == version_) {
      return ResolveWith(candidates.empty() ? "" : candidates.front());
    }
    // No table for this exact version: the nearest tabled versions whose
    // code references all agree in this binary (their offsets are encoded
    // in the references, so a changed layout does not match).
    Status first_error = Status::Ok();
    for (const std::string& table_version : candidates) {
      auto layout = ResolveWith(table_version);
      if (layout.ok()) return layout;
      if (first_error.ok()) first_error = layout.status();
    }
    std::string message = first_error.message() + " (no offset table for " + version_ +
                          "; tried the layouts of " + Join(candidates) + ")";
    return first_error.code() == StatusCode::kDataLoss ? Status::DataLoss(std::move(message))
                                                       : Status::NotFound(std::move(message));
  }

 private:
  // Resolves with the table rows of `table_version` ("" when there is none).
  StatusOr<RuntimeLayout> ResolveWith(const std::string& table_version) {
    table_version_ = table_version;
    const bool have_table = !table_version.empty();
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
      members = MembersFromTable();
      offsets_how = "table";
    }
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
    return Assemble(offsets, members, addresses, addresses_how, offsets_how);
  }

  StatusOr<RuntimeLayout> Assemble(const Offsets& offsets, const Members& members,
                                   const Addresses& addresses, const std::string& addresses_how,
                                   const std::string& offsets_how) const {
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
    if (addresses_how == "symtab" && offsets_how == "dwarf") {
      layout.how_ = "dwarf";
    } else {
      layout.how_ = addresses_how + "+" + offsets_how + " " + table_version_;
      if (table_version_ != version_) {
        layout.how_ += " (nearest to " + version_ + "; offsets all its tabled patches share)";
        layout.table_fallback_ = true;
      }
    }
    return layout;
  }

  // The minor of the table version in use.
  int TableMinor() const {
    return ParseGoVersion(table_version_).value_or(GoVersionNumber{}).minor;
  }

  Status NoTable(const std::string& what) const {
    const std::string kind = binary_.stripped() ? "stripped " + version_ : version_;
    return Status::NotFound(binary_.path() + ": " + kind + " binary" + what +
                            ": no offset table for this Go version or its minor (have " +
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

  // The table's offsets. For a version the table lacks, only offsets that
  // every tabled patch of the minor shares: the others may have moved.
  Offsets OffsetsFromTable() const {
    Offsets offsets;
    const bool exact = table_version_ == version_;
    for (const TableOffset& row : TableOffsets()) {
      if (row.go_version != table_version_) continue;
      if (!exact && !FieldStableInMinor(TableMinor(), row.field)) continue;
      offsets[static_cast<size_t>(row.field)] = row.offset;
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
    const bool exact = table_version_ == version_;
    for (const TableMember& row : TableMembers()) {
      if (row.go_version != table_version_) continue;
      if (!exact && !MemberStableInMinor(TableMinor(), row.member)) continue;
      const size_t m = static_cast<size_t>(row.member);
      members[m] = MemberLocation{row.offset, MemberSpec(row.member).scalar_size};
    }
    return members;
  }

  const TableGlobal* FindTableGlobal(RuntimeGlobal g) const {
    for (const TableGlobal& row : TableGlobals()) {
      if (row.go_version == table_version_ && row.global == g) return &row;
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
                                std::to_string(info->size) + " but " + table_version_ +
                                " has size " + std::to_string(row->size) +
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

  // Where `global` lies, from the table's code references: each names a
  // function, an instruction (mnemonic, access size) and the offset from the
  // global that its RIP-relative operand points at. Every matching operand
  // of a function proposes a base; the base proposed by the most functions
  // wins, and must be proposed by at least two. Between bases proposed by
  // as many functions, the one proposed by more operands at the table's own
  // operand index wins (the same code as the table's builds); a tie left
  // after that is refused as ambiguous.
  StatusOr<uint64_t> AddressFromCode(RuntimeGlobal global) {
    const std::string symbol(GlobalSpec(global).symbol);
    const std::string where = binary_.path() + ": " + version_ + ": " + symbol + ": ";
    const TableGlobal* table_global = FindTableGlobal(global);
    if (table_global == nullptr) {
      return Status::NotFound(where + "not in the offset table of " + table_version_);
    }
    std::map<uint64_t, Votes> votes;
    size_t listed = 0, present = 0;
    for (const TableReference& ref : TableReferences()) {
      if (ref.go_version != table_version_ || ref.global != global) continue;
      ++listed;
      auto code = Code(ref.function);
      if (!code.ok()) return code.status();
      if (*code == nullptr) continue;  // Not linked into this program, or inlined.
      ++present;
      std::map<uint64_t, bool> bases;  // Base -> proposed at the table's index.
      uint32_t index = 0;
      for (const DecodedInstruction& insn : **code) {
        if (!insn.rip_target) continue;
        if (insn.mnemonic == ref.mnemonic && insn.rip_access_size == ref.access_size) {
          bases[*insn.rip_target - static_cast<uint64_t>(ref.offset)] |= index == ref.index;
        }
        ++index;
      }
      for (const auto& [base, at_index] : bases) {
        votes[base].functions.push_back(ref.function);
        votes[base].at_index += at_index ? 1 : 0;
      }
    }
    return PickBase(where, table_global, votes, listed, present);
  }

  struct Votes {
    std::vector<std::string_view> functions;
    size_t at_index = 0;
    auto score() const { return std::pair(functions.size(), at_index); }
  };

  StatusOr<uint64_t> PickBase(const std::string& where, const TableGlobal* table_global,
                              const std::map<uint64_t, Votes>& votes, size_t listed,
                              size_t present) const {
    uint64_t best = 0;
    std::pair<size_t, size_t> best_score{0, 0}, runner_up{0, 0};
    for (const auto& [base, v] : votes) {
      if (v.score() > best_score) {
        runner_up = best_score;
        best = base;
        best_score = v.score();
      } else if (v.score() > runner_up) {
        runner_up = v.score();
      }
    }
    const size_t best_votes = best_score.first;
    const std::string counts = std::to_string(present) + " of " + std::to_string(listed) +
                               " referencing functions of " + table_version_ + " present";
    if (best_votes < 2) {
      return Status::NotFound(where + "no two code references agree (" + counts +
                              "): the code differs from the table");
    }
    if (runner_up == best_score) {
      return Status::DataLoss(where + "code references are ambiguous: two addresses have " +
                              std::to_string(best_votes) + " votes (" + counts + ")");
    }
    const ElfSection* section = binary_.elf().FindSection(table_global->section);
    if (section == nullptr || best < section->address || best - section->address > section->size ||
        table_global->size > section->size - (best - section->address)) {
      return Status::DataLoss(where + "code gives " + Hex(best) + ", which is not inside " +
                              std::string(table_global->section));
    }
    return best;
  }

  const GoBinary& binary_;
  const std::string version_;
  std::string table_version_;  // The table rows in use ("" for none).
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
