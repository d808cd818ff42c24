// The generated rows of runtime_layout_table.inc as arrays (see the header).
#include "golang/runtime_layout_table.h"

#include <algorithm>
#include <cstdlib>

namespace gcpilot::golang {
namespace {

using F = RuntimeField;
using G = RuntimeGlobal;
using M = RuntimeMember;

// Each array below defines the one row macro it wants and leaves the others
// empty.
#define GCPILOT_LAYOUT_OFFSET(version, field, offset) {version, F::field, offset},
#define GCPILOT_LAYOUT_MEMBER(version, member, offset)
#define GCPILOT_LAYOUT_GLOBAL(version, global, section, size)
#define GCPILOT_LAYOUT_REF(version, global, function, index, mnemonic, size, offset)
constexpr TableOffset kOffsets[] = {
#include "golang/runtime_layout_table.inc"
    {"", F::kCount, 0}};  // Sentinel (not returned).
#undef GCPILOT_LAYOUT_OFFSET
#undef GCPILOT_LAYOUT_MEMBER

#define GCPILOT_LAYOUT_OFFSET(version, field, offset)
#define GCPILOT_LAYOUT_MEMBER(version, member, offset) {version, M::member, offset},
constexpr TableMember kMembers[] = {
#include "golang/runtime_layout_table.inc"
    {"", M::kCount, 0}};
#undef GCPILOT_LAYOUT_MEMBER
#undef GCPILOT_LAYOUT_GLOBAL

#define GCPILOT_LAYOUT_MEMBER(version, member, offset)
#define GCPILOT_LAYOUT_GLOBAL(version, global, section, size) {version, G::global, section, size},
constexpr TableGlobal kGlobals[] = {
#include "golang/runtime_layout_table.inc"
    {"", G::kCount, "", 0}};
#undef GCPILOT_LAYOUT_GLOBAL
#undef GCPILOT_LAYOUT_REF

#define GCPILOT_LAYOUT_GLOBAL(version, global, section, size)
#define GCPILOT_LAYOUT_REF(version, global, function, index, mnemonic, size, offset) \
  {version, G::global, function, index, mnemonic, size, offset},
constexpr TableReference kReferences[] = {
#include "golang/runtime_layout_table.inc"
    {"", G::kCount, "", 0, "", 0, 0}};
#undef GCPILOT_LAYOUT_OFFSET
#undef GCPILOT_LAYOUT_MEMBER
#undef GCPILOT_LAYOUT_GLOBAL
#undef GCPILOT_LAYOUT_REF

template <typename T, size_t N>
std::span<const T> WithoutSentinel(const T (&rows)[N]) {
  return std::span<const T>(rows, N - 1);
}

}  // namespace

std::span<const TableOffset> TableOffsets() { return WithoutSentinel(kOffsets); }
std::span<const TableMember> TableMembers() { return WithoutSentinel(kMembers); }
std::span<const TableGlobal> TableGlobals() { return WithoutSentinel(kGlobals); }
std::span<const TableReference> TableReferences() { return WithoutSentinel(kReferences); }

std::vector<std::string> TableVersions() {
  std::vector<std::string> versions;
  for (const TableGlobal& g : TableGlobals()) {
    if (std::find(versions.begin(), versions.end(), g.go_version) == versions.end()) {
      versions.emplace_back(g.go_version);
    }
  }
  std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
    // Numeric order of "go1.X.Y".
    auto key = [](const std::string& v) {
      std::vector<int> parts;
      size_t pos = 2;
      while (pos < v.size()) {
        parts.push_back(std::atoi(v.c_str() + pos));
        const size_t dot = v.find('.', pos);
        if (dot == std::string::npos) break;
        pos = dot + 1;
      }
      return parts;
    };
    return key(a) < key(b);
  });
  return versions;
}

bool TableHasVersion(std::string_view go_version) {
  return std::any_of(TableGlobals().begin(), TableGlobals().end(),
                     [&](const TableGlobal& g) { return g.go_version == go_version; });
}

std::string TableVersionList() {
  std::string out;
  for (const std::string& v : TableVersions()) out += (out.empty() ? "" : ", ") + v;
  return out.empty() ? "none" : out;
}

}  // namespace gcpilot::golang
