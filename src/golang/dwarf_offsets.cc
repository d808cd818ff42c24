// DwarfTypes: a name -> DIE index of top-level struct types and member walks.
#include "golang/dwarf_offsets.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <vector>

#include "golang/elf_handle.h"
#include "golang/file_bytes.h"

namespace gcpilot::golang {
namespace {

constexpr int kMaxTypeChain = 32;  // typedef/const/volatile hops (cycles in hostile DWARF).

struct DwarfDeleter {
  void operator()(Dwarf* dwarf) const { dwarf_end(dwarf); }
};

Status LibdwError(const std::string& what) {
  const char* msg = dwarf_errmsg(-1);
  return Status::DataLoss(what + ": " + (msg != nullptr ? msg : "libdw error"));
}

const char* DieName(Dwarf_Die* die) {
  const char* name = dwarf_diename(die);
  return name != nullptr ? name : "";
}

// Follows DW_AT_type through typedef/const/volatile to the underlying type.
bool ResolveType(Dwarf_Die* die, Dwarf_Die* out) {
  Dwarf_Attribute attr;
  if (dwarf_attr(die, DW_AT_type, &attr) == nullptr) return false;
  if (dwarf_formref_die(&attr, out) == nullptr) return false;
  for (int i = 0; i < kMaxTypeChain; ++i) {
    const int tag = dwarf_tag(out);
    if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type) {
      return true;
    }
    Dwarf_Die next;
    if (dwarf_attr(out, DW_AT_type, &attr) == nullptr) return false;
    if (dwarf_formref_die(&attr, &next) == nullptr) return false;
    *out = next;
  }
  return false;
}

bool FindChildMember(Dwarf_Die* parent, std::string_view name, Dwarf_Die* out) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    if (dwarf_tag(&child) == DW_TAG_member && name == DieName(&child)) {
      *out = child;
      return true;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

}  // namespace

struct DwarfTypes::State {
  FileBytes image;  // Private copy: libdw rewrites section headers in it.
  std::string path;
  ElfHandle elf;
  std::unique_ptr<Dwarf, DwarfDeleter> dwarf;
  bool indexed = false;
  std::unordered_map<std::string, Dwarf_Off> structs;  // Name -> DIE offset.
};

namespace {

// A private image of `elf` for libelf (which takes a writable buffer): the
// file mapped again, copy-on-write, when it is still the same file (only the
// pages libdw reads are loaded: a 100 MB binary costs what its DWARF
// sections cost, not 100 MB); else a heap copy (in-memory binaries).
FileBytes PrivateImage(const ElfFile& elf) {
  const FileIdentity& id = elf.identity();
  if (id.inode != 0) {
    StatusOr<FileIdentity> now = StatFileIdentity(elf.path());
    if (now.ok() && *now == id) {
      StatusOr<FileBytes> mapped = FileBytes::MapFile(elf.path());
      if (mapped.ok() && mapped->size() == elf.bytes().size()) return std::move(*mapped);
    }
  }
  return FileBytes::Copy(elf.bytes());
}

}  // namespace

DwarfTypes::DwarfTypes(std::unique_ptr<State> state) : state_(std::move(state)) {}
DwarfTypes::~DwarfTypes() = default;

StatusOr<std::unique_ptr<DwarfTypes>> DwarfTypes::Open(const ElfFile& elf) {
  if (elf.FindSection(".debug_info") == nullptr && elf.FindSection(".zdebug_info") == nullptr) {
    return Status::NotFound(elf.path() + ": no DWARF (built with -w or stripped)");
  }
  auto state = std::make_unique<State>(State{PrivateImage(elf), elf.path(), {}, {}, false, {}});
  auto handle = OpenElfImage(state->image.mutable_data(), state->image.size(), elf.path());
  if (!handle.ok()) return handle.status();
  state->elf = std::move(*handle);
  Dwarf* dwarf = dwarf_begin_elf(state->elf.get(), DWARF_C_READ, nullptr);
  if (dwarf == nullptr) return LibdwError(elf.path() + ": cannot read DWARF");
  state->dwarf.reset(dwarf);
  return std::unique_ptr<DwarfTypes>(new DwarfTypes(std::move(state)));
}

Status DwarfTypes::IndexStructs() {
  if (state_->indexed) return Status::Ok();
  Dwarf* dwarf = state_->dwarf.get();
  Dwarf_Off offset = 0;
  Dwarf_Off next = 0;
  size_t header_size = 0;
  while (dwarf_nextcu(dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu;
    Dwarf_Die child;
    if (dwarf_offdie(dwarf, offset + header_size, &cu) != nullptr &&
        dwarf_child(&cu, &child) == 0) {
      do {
        const int tag = dwarf_tag(&child);
        if (tag == DW_TAG_structure_type || tag == DW_TAG_typedef) {
          const char* name = dwarf_diename(&child);
          // The first definition wins; declarations carry no members.
          if (name != nullptr && !dwarf_hasattr(&child, DW_AT_declaration)) {
            state_->structs.emplace(name, dwarf_dieoffset(&child));
          }
        }
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    if (next <= offset) break;
    offset = next;
  }
  state_->indexed = true;
  return Status::Ok();
}

StatusOr<DwarfMember> DwarfTypes::FindMember(std::string_view struct_name,
                                             std::string_view member_path) {
  GCPILOT_RETURN_IF_ERROR(IndexStructs());
  const std::string where = state_->path + ": struct " + std::string(struct_name);
  auto it = state_->structs.find(std::string(struct_name));
  if (it == state_->structs.end()) return Status::NotFound(where + " not found in DWARF");
  Dwarf_Die type;
  if (dwarf_offdie(state_->dwarf.get(), it->second, &type) == nullptr) {
    return LibdwError(where);
  }
  if (dwarf_tag(&type) == DW_TAG_typedef && !ResolveType(&type, &type)) {
    return Status::DataLoss(where + ": typedef does not resolve");
  }
  if (member_path.empty()) return Status::InvalidArgument(where + ": empty member path");

  DwarfMember result;
  std::string walked;
  while (true) {
    const size_t dot = member_path.find('.');
    const std::string_view name = member_path.substr(0, dot);
    // Appended piecewise: GCC 12 at -O3 sees a false -Wrestrict in
    // `"." + std::string(name)`.
    if (!walked.empty()) walked += '.';
    walked.append(name);
    if (dwarf_tag(&type) != DW_TAG_structure_type) {
      return Status::InvalidArgument(where + ": " + walked + ": parent is not a struct");
    }
    Dwarf_Die member;
    if (!FindChildMember(&type, name, &member)) {
      return Status::NotFound(where + " has no member " + walked);
    }
    Dwarf_Attribute attr;
    Dwarf_Word offset = 0;
    if (dwarf_attr(&member, DW_AT_data_member_location, &attr) == nullptr ||
        dwarf_formudata(&attr, &offset) != 0) {
      return Status::DataLoss(where + ": member " + walked + " has no constant offset");
    }
    result.offset += offset;
    Dwarf_Die member_type;
    const bool typed = ResolveType(&member, &member_type);
    if (dot == std::string_view::npos) {
      Dwarf_Word size = 0;
      if (typed && dwarf_aggregate_size(&member_type, &size) == 0) result.size = size;
      return result;
    }
    if (!typed) return Status::DataLoss(where + ": member " + walked + " has no type");
    type = member_type;
    member_path.remove_prefix(dot + 1);
  }
}

StatusOr<uint64_t> DwarfTypes::MemberOffset(std::string_view struct_name,
                                            std::string_view member_path) {
  auto member = FindMember(struct_name, member_path);
  if (!member.ok()) return member.status();
  return member->offset;
}

StatusOr<uint64_t> DwarfTypes::StructSize(std::string_view struct_name) {
  GCPILOT_RETURN_IF_ERROR(IndexStructs());
  const std::string where = state_->path + ": struct " + std::string(struct_name);
  auto it = state_->structs.find(std::string(struct_name));
  if (it == state_->structs.end()) return Status::NotFound(where + " not found in DWARF");
  Dwarf_Die type;
  Dwarf_Word size = 0;
  if (dwarf_offdie(state_->dwarf.get(), it->second, &type) == nullptr ||
      dwarf_aggregate_size(&type, &size) != 0) {
    return LibdwError(where + ": size");
  }
  return size;
}

}  // namespace gcpilot::golang
