// The generated rows of runtime_layout_table.inc as arrays (see the header).
#include "golang/runtime_layout_table.h"

#include <algorithm>
#include <charconv>
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

std::optional<GoVersionNumber> ParseGoVersion(std::string_view v) {
  if (!v.starts_with("go1.")) return std::nullopt;
  v.remove_prefix(4);
  GoVersionNumber n;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n.minor);
  if (ec != std::errc() || p == v.data()) return std::nullopt;
  v.remove_prefix(static_cast<size_t>(p - v.data()));
  if (v.empty()) return n;
  if (v[0] != '.') return std::nullopt;  // "go1.23rc1": no release.
  v.remove_prefix(1);
  auto [q, ec2] = std::from_chars(v.data(), v.data() + v.size(), n.patch);
  if (ec2 != std::errc() || q != v.data() + v.size()) return std::nullopt;
  return n;
}

std::vector<std::string> TableVersions() {
  std::vector<std::string> versions;
  for (const TableGlobal& g : TableGlobals()) {
    if (std::find(versions.begin(), versions.end(), g.go_version) == versions.end()) {
      versions.emplace_back(g.go_version);
    }
  }
  std::sort(versions.begin(), versions.end(), [](const std::string& a, const std::string& b) {
    return ParseGoVersion(a).value_or(GoVersionNumber{}) <
           ParseGoVersion(b).value_or(GoVersionNumber{});
  });
  return versions;
}

bool TableHasVersion(std::string_view go_version) {
  return std::any_of(TableGlobals().begin(), TableGlobals().end(),
                     [&](const TableGlobal& g) { return g.go_version == go_version; });
}

std::string TableVersionList() {
  // Consecutive versions of one minor are shown as a range.
  std::string out;
  const std::vector<std::string> versions = TableVersions();
  for (size_t i = 0; i < versions.size();) {
    const int minor = ParseGoVersion(versions[i]).value_or(GoVersionNumber{}).minor;
    size_t j = i;
    while (j + 1 < versions.size() &&
           ParseGoVersion(versions[j + 1]).value_or(GoVersionNumber{}).minor == minor) {
      ++j;
    }
    out += out.empty() ? "" : ", ";
    out += versions[i];
    if (j > i) out += ".." + versions[j] + " (" + std::to_string(j - i + 1) + ")";
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

std::vector<std::string> TableCandidates(std::string_view go_version) {
  if (TableHasVersion(go_version)) return {std::string(go_version)};
  const std::optional<GoVersionNumber> want = ParseGoVersion(go_version);
  if (!want) return {};
  std::vector<std::pair<GoVersionNumber, std::string>> same, newest;
  int newest_minor = 0;
  for (const std::string& v : TableVersions()) {
    const GoVersionNumber n = ParseGoVersion(v).value_or(GoVersionNumber{});
    if (n.minor == want->minor) same.emplace_back(n, v);
    newest_minor = std::max(newest_minor, n.minor);
  }
  if (same.empty() && want->minor > newest_minor) {
    for (const std::string& v : TableVersions()) {
      const GoVersionNumber n = ParseGoVersion(v).value_or(GoVersionNumber{});
      if (n.minor == newest_minor) same.emplace_back(n, v);
    }
    std::sort(same.begin(), same.end(), [](const auto& a, const auto& b) { return a > b; });
  } else {
    std::sort(same.begin(), same.end(), [&](const auto& a, const auto& b) {
      const int da = std::abs(a.first.patch - want->patch);
      const int db = std::abs(b.first.patch - want->patch);
      return da != db ? da < db : a.first < b.first;
    });
  }
  std::vector<std::string> out;
  for (auto& [n, v] : same) out.push_back(std::move(v));
  return out;
}

namespace {

template <typename Row, typename Key>
bool StableInMinor(std::span<const Row> rows, int minor, Key key) {
  std::optional<uint32_t> seen;
  size_t versions_with_row = 0;
  for (const Row& row : rows) {
    if (!key(row)) continue;
    if (ParseGoVersion(row.go_version).value_or(GoVersionNumber{}).minor != minor) continue;
    ++versions_with_row;
    if (seen && *seen != row.offset) return false;
    seen = row.offset;
  }
  size_t versions_of_minor = 0;
  for (const std::string& v : TableVersions()) {
    if (ParseGoVersion(v).value_or(GoVersionNumber{}).minor == minor) ++versions_of_minor;
  }
  // A field some patches lack is not stable either.
  return seen.has_value() && versions_with_row == versions_of_minor;
}

}  // namespace

bool FieldStableInMinor(int minor, RuntimeField field) {
  return StableInMinor(TableOffsets(), minor,
                       [&](const TableOffset& r) { return r.field == field; });
}

bool MemberStableInMinor(int minor, RuntimeMember member) {
  return StableInMinor(TableMembers(), minor,
                       [&](const TableMember& r) { return r.member == member; });
}

}  // namespace gcpilot::golang
