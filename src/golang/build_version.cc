// runtime.buildVersion: recognising Go version strings, the pclntab magic,
// and finding the string through .symtab or by scanning the data sections.
#include "golang/build_version.h"

#include <elf.h>

#include <cctype>
#include <set>
#include <vector>

namespace gcpilot::golang {
namespace {

constexpr uint64_t kMaxVersionLength = 128;
constexpr size_t kMaxDistinctVersions = 8;  // Bounds the scan's memory on hostile files.
constexpr uint64_t kStringHeaderSize = 16;  // {ptr, len}.

bool IsPrintable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Consumes a run of at least one decimal digit at the front of `s`.
bool ConsumeDigits(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n])) != 0) ++n;
  s.remove_prefix(n);
  return n > 0;
}

bool ConsumePrefix(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// "go1.N[.M][rcK|betaK]" then the end or " <anything printable>" (GOEXPERIMENT
// " X:...", a distribution's " (Red Hat 1.22.7-1.el9)").
bool LooksLikeRelease(std::string_view s) {
  if (!ConsumePrefix(s, "go1.") || !ConsumeDigits(s)) return false;
  if (ConsumePrefix(s, ".") && !ConsumeDigits(s)) return false;
  if ((ConsumePrefix(s, "rc") || ConsumePrefix(s, "beta")) && !ConsumeDigits(s)) return false;
  return s.empty() || (s.size() > 1 && s[0] == ' ');
}

// "devel go1.N-<hash> ..." (Go 1.18+) or "devel +<hash> ..." (before).
bool LooksLikeDevel(std::string_view s) {
  if (!ConsumePrefix(s, "devel ")) return false;
  if (ConsumePrefix(s, "go1.")) return ConsumeDigits(s);
  return ConsumePrefix(s, "+") && !s.empty() && std::isxdigit(static_cast<unsigned char>(s[0]));
}

// For messages: `s` with non-printable bytes as '?', cut at 40 bytes.
std::string Printable(std::string_view s) {
  std::string out(s.substr(0, 40));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return s.size() > 40 ? out + "..." : out;
}

// Bytes at a virtual address: a section, or the file-backed part of a segment.
struct Region {
  uint64_t address = 0;
  ByteSpan bytes;
};

// The file-backed parts of the read-only PT_LOAD segments (where Go puts string data).
std::vector<Region> ReadOnlyRegions(const ElfFile& elf) {
  std::vector<Region> out;
  for (const ElfSegment& segment : elf.segments()) {
    if (segment.type != PT_LOAD || (segment.flags & PF_W) != 0) continue;
    if (auto bytes = SubSpan(elf.bytes(), segment.file_offset, segment.file_size)) {
      out.push_back(Region{segment.virtual_address, *bytes});
    }
  }
  return out;
}

// The `len` bytes at `address` when they lie in one read-only range.
std::optional<std::string_view> ReadOnlyString(const std::vector<Region>& ranges, uint64_t address,
                                               uint64_t len) {
  for (const Region& r : ranges) {
    if (address < r.address) continue;
    if (auto bytes = SubSpan(r.bytes, address - r.address, len)) return AsStringView(*bytes);
  }
  return std::nullopt;
}

// Where string headers may be: .data and .noptrdata, else (no section
// headers) the writable PT_LOAD segments. {address, bytes} pairs.
std::vector<Region> DataRegions(const ElfFile& elf) {
  std::vector<Region> out;
  for (const ElfSection& section : elf.sections()) {
    if ((section.name == ".data" || section.name == ".noptrdata") && section.has_file_bytes()) {
      out.push_back(Region{section.address, elf.SectionBytes(section)});
    }
  }
  if (!out.empty()) return out;
  for (const ElfSegment& segment : elf.segments()) {
    if (segment.type != PT_LOAD || (segment.flags & (PF_W | PF_X)) != PF_W) continue;
    if (auto bytes = SubSpan(elf.bytes(), segment.file_offset, segment.file_size)) {
      out.push_back(Region{segment.virtual_address, *bytes});
    }
  }
  return out;
}

// Adds to `found` every distinct Go version that a string header in
// `region` (8-byte aligned by address) points at.
void ScanRegion(const Region& region, const std::vector<Region>& targets,
                std::set<std::string>& found) {
  const uint64_t skew = (8 - region.address % 8) % 8;
  for (uint64_t off = skew; InBounds(off, kStringHeaderSize, region.bytes.size()); off += 8) {
    const uint64_t len = *ReadU64(region.bytes, off + 8);
    if (len < 5 || len > kMaxVersionLength) continue;  // "go1.9" is the shortest.
    auto s = ReadOnlyString(targets, *ReadU64(region.bytes, off), len);
    if (!s || !(s->starts_with("go1.") || s->starts_with("devel "))) continue;
    if (!LooksLikeGoVersion(*s)) continue;
    found.emplace(*s);
    if (found.size() >= kMaxDistinctVersions) return;
  }
}

StatusOr<std::string> VersionFromSymbol(const ElfFile& elf, const ElfSymbol& symbol) {
  const std::string where = elf.path() + ": runtime.buildVersion";
  auto header = elf.ReadVirtual(symbol.value, kStringHeaderSize);
  if (!header.ok()) return Status::DataLoss(where + ": " + header.status().message());
  const uint64_t len = *ReadU64(*header, 8);
  if (len == 0 || len > kMaxVersionLength) {
    return Status::DataLoss(where + " has length " + std::to_string(len));
  }
  auto bytes = elf.ReadVirtual(*ReadU64(*header, 0), len);
  if (!bytes.ok()) return Status::DataLoss(where + ": " + bytes.status().message());
  const std::string_view version = AsStringView(*bytes);
  if (!LooksLikeGoVersion(version)) {
    return Status::DataLoss(where + " is \"" + Printable(version) + "\", not a Go version");
  }
  return std::string(version);
}

StatusOr<std::string> VersionFromScan(const ElfFile& elf) {
  const std::vector<Region> targets = ReadOnlyRegions(elf);
  std::set<std::string> found;
  for (const Region& region : DataRegions(elf)) {
    ScanRegion(region, targets, found);
    if (found.size() >= kMaxDistinctVersions) break;
  }
  if (found.empty()) {
    return Status::NotFound(elf.path() +
                            ": no runtime.buildVersion string found in the data sections");
  }
  if (found.size() > 1) {
    std::string all;
    for (const std::string& v : found) all += (all.empty() ? "\"" : ", \"") + v + "\"";
    return Status::DataLoss(elf.path() + ": ambiguous Go version: " + std::to_string(found.size()) +
                            " distinct version strings in the data sections (" + all + ")");
  }
  return *found.begin();
}

}  // namespace

bool LooksLikeGoVersion(std::string_view s) {
  if (s.empty() || s.size() > kMaxVersionLength || !IsPrintable(s)) return false;
  return LooksLikeRelease(s) || LooksLikeDevel(s);
}

std::string_view PclntabGenerationName(PclntabGeneration generation) {
  switch (generation) {
    case PclntabGeneration::kGo12:
      return "go1.2-1.15";
    case PclntabGeneration::kGo116:
      return "go1.16-1.17";
    case PclntabGeneration::kGo118:
      return "go1.18-1.19";
    case PclntabGeneration::kGo120:
      return "go1.20+";
  }
  return "?";
}

std::optional<PclntabGeneration> PclntabGenerationOf(ByteSpan header) {
  auto magic = ReadU32(header, 0);
  auto quantum = ReadU8(header, 6);
  auto ptr_size = ReadU8(header, 7);
  if (!magic || !quantum || !ptr_size || header[4] != 0 || header[5] != 0) return std::nullopt;
  if ((*quantum != 1 && *quantum != 2 && *quantum != 4) || *ptr_size != 8) return std::nullopt;
  switch (*magic) {
    case 0xfffffffb:
      return PclntabGeneration::kGo12;
    case 0xfffffffa:
      return PclntabGeneration::kGo116;
    case 0xfffffff0:
      return PclntabGeneration::kGo118;
    case 0xfffffff1:
      return PclntabGeneration::kGo120;
    default:
      return std::nullopt;
  }
}

std::optional<PclntabGeneration> FindPclntabGeneration(const ElfFile& elf,
                                                       const ElfSymtab* symtab) {
  for (const char* name : {".gopclntab", ".data.rel.ro.gopclntab"}) {
    if (const ElfSection* section = elf.FindSection(name)) {
      return PclntabGenerationOf(elf.SectionBytes(*section));
    }
  }
  if (symtab == nullptr) return std::nullopt;
  auto symbol = symtab->Find("runtime.pclntab", STT_OBJECT);
  if (!symbol) return std::nullopt;
  auto header = elf.ReadVirtual(symbol->value, 8);
  if (!header.ok()) return std::nullopt;
  return PclntabGenerationOf(*header);
}

StatusOr<std::string> FindRuntimeBuildVersion(const ElfFile& elf, const ElfSymtab* symtab) {
  if (symtab != nullptr) {
    if (auto symbol = symtab->Find("runtime.buildVersion", STT_OBJECT)) {
      return VersionFromSymbol(elf, *symbol);
    }
  }
  return VersionFromScan(elf);
}

}  // namespace gcpilot::golang
