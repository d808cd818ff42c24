// Go build info: locating the .go.buildinfo header, decoding both string
// layouts and parsing the module info text.
#include "golang/buildinfo.h"

#include <elf.h>

#include <cstring>
#include <optional>

#include "golang/go_quote.h"

namespace gcpilot::golang {
namespace {

constexpr std::string_view kMagic = "\xff Go buildinf:";
constexpr size_t kHeaderSize = 32;
constexpr size_t kAlign = 16;
constexpr uint8_t kFlagInlineStrings = 0x2;
constexpr uint8_t kFlagBigEndian = 0x1;
constexpr size_t kSentinelSize = 16;

// Whether the header at `off` has a pointer size (4 or 8) and flags (bits
// 0x1 and 0x2 only) Go writes; Go's reader rejects other values too.
bool PlausibleHeader(ByteSpan data, size_t off) {
  const uint8_t ptr_size = data[off + 14];
  const uint8_t flags = data[off + 15];
  return (ptr_size == 4 || ptr_size == 8) && (flags & ~(kFlagInlineStrings | kFlagBigEndian)) == 0;
}

// The build info header in `data`: the first 16-aligned offset holding the
// magic with a whole header after it. `plausible_only` (scanning segments,
// where the magic may be a program's own data, e.g. debug/buildinfo's in
// cmd/go) also requires PlausibleHeader.
std::optional<size_t> FindHeader(ByteSpan data, bool plausible_only) {
  for (size_t off = 0; data.size() >= kHeaderSize && off <= data.size() - kHeaderSize;
       off += kAlign) {
    if (std::memcmp(data.data() + off, kMagic.data(), kMagic.size()) != 0) continue;
    if (!plausible_only || PlausibleHeader(data, off)) return off;
  }
  return std::nullopt;
}

// The build info header: in the .go.buildinfo section, else (renamed or no
// section headers) in a writable, non-executable PT_LOAD segment. Go's own
// reader looks only at the first such segment; trying each costs little.
std::optional<ByteSpan> FindBuildInfo(const ElfFile& elf) {
  if (const ElfSection* section = elf.FindSection(".go.buildinfo")) {
    const ByteSpan region = elf.SectionBytes(*section);
    if (auto offset = FindHeader(region, /*plausible_only=*/false)) {
      return region.subspan(*offset);
    }
    return std::nullopt;
  }
  for (const ElfSegment& segment : elf.segments()) {
    if (segment.type != PT_LOAD || (segment.flags & (PF_X | PF_W)) != PF_W) continue;
    auto region = SubSpan(elf.bytes(), segment.file_offset, segment.file_size);
    if (!region) continue;
    if (auto offset = FindHeader(*region, /*plausible_only=*/true)) {
      return region->subspan(*offset);
    }
  }
  return std::nullopt;
}

// A varint-length-prefixed string at `offset`; advances `offset`.
std::optional<std::string> ReadInlineString(ByteSpan data, uint64_t& offset) {
  auto len = ReadUvarint(data, offset);
  if (!len) return std::nullopt;
  auto bytes = SubSpan(data, offset + len->second, len->first);
  if (!bytes) return std::nullopt;
  offset += len->second + len->first;
  return std::string(AsStringView(*bytes));
}

// A Go string reached through a pointer to its {data, len} header.
StatusOr<std::string> ReadPointedString(const ElfFile& elf, uint64_t header_address) {
  auto header = elf.ReadVirtual(header_address, 16);
  if (!header.ok()) return header.status();
  const uint64_t data = *ReadU64(*header, 0);
  const uint64_t len = *ReadU64(*header, 8);
  if (len == 0) return std::string();
  auto bytes = elf.ReadVirtual(data, len);
  if (!bytes.ok()) return bytes.status();
  return std::string(AsStringView(*bytes));
}

std::vector<std::string_view> SplitTabs(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t tab = s.find('\t');
    out.push_back(s.substr(0, tab));
    if (tab == std::string_view::npos) break;
    s.remove_prefix(tab + 1);
  }
  return out;
}

std::optional<GoModule> ModuleFromColumns(const std::vector<std::string_view>& cols) {
  if (cols.size() != 2 && cols.size() != 3) return std::nullopt;
  GoModule m;
  m.path = std::string(cols[0]);
  m.version = std::string(cols[1]);
  if (cols.size() == 3) m.sum = std::string(cols[2]);
  return m;
}

// "build\t" payload: KEY=VALUE, either side possibly Go-quoted.
std::optional<BuildSetting> ParseBuildLine(std::string_view kv) {
  if (kv.empty() || kv[0] == '=') return std::nullopt;
  BuildSetting setting;
  std::string_view raw_value;
  if (const size_t quoted = QuotedPrefixLength(kv); quoted > 0) {
    if (quoted >= kv.size() || kv[quoted] != '=') return std::nullopt;
    if (!UnquoteGoString(kv.substr(0, quoted), setting.key)) return std::nullopt;
    raw_value = kv.substr(quoted + 1);
  } else {
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    setting.key = std::string(kv.substr(0, eq));
    raw_value = kv.substr(eq + 1);
  }
  if (!raw_value.empty() && (raw_value[0] == '"' || raw_value[0] == '`')) {
    if (!UnquoteGoString(raw_value, setting.value)) setting.value = std::string(raw_value);
  } else {
    setting.value = std::string(raw_value);
  }
  return setting;
}

}  // namespace

std::string_view VersionSourceName(VersionSource source) {
  return source == VersionSource::kBuildInfo ? "buildinfo" : "runtime.buildVersion";
}

const std::string* BuildInfo::Setting(std::string_view key) const {
  for (const BuildSetting& s : settings) {
    if (s.key == key) return &s.value;
  }
  return nullptr;
}

void ParseModuleInfo(std::string_view modinfo, BuildInfo& info) {
  GoModule* last = nullptr;
  while (!modinfo.empty()) {
    const size_t nl = modinfo.find('\n');
    if (nl == std::string_view::npos) break;  // Like Go: an unterminated last line is dropped.
    const std::string_view line = modinfo.substr(0, nl);
    modinfo.remove_prefix(nl + 1);
    if (line.starts_with("path\t")) {
      info.main_package_path = std::string(line.substr(5));
    } else if (line.starts_with("mod\t")) {
      if (auto m = ModuleFromColumns(SplitTabs(line.substr(4)))) info.main_module = std::move(*m);
      last = &info.main_module;
    } else if (line.starts_with("dep\t")) {
      last = nullptr;
      if (auto m = ModuleFromColumns(SplitTabs(line.substr(4)))) {
        info.deps.push_back(std::move(*m));
        last = &info.deps.back();
      }
    } else if (line.starts_with("=>\t")) {
      // A replacement: what was actually built in place of the last module.
      const auto cols = SplitTabs(line.substr(3));
      if (last != nullptr && cols.size() == 3) {
        last->replace_path = std::string(cols[0]);
        last->replace_version = std::string(cols[1]);
      }
      last = nullptr;
    } else if (line.starts_with("build\t")) {
      if (auto s = ParseBuildLine(line.substr(6))) info.settings.push_back(std::move(*s));
    }
  }
}

StatusOr<BuildInfo> ReadBuildInfo(const ElfFile& elf) {
  const auto found = FindBuildInfo(elf);
  if (!found) return Status::NotFound(elf.path() + ": not a Go binary (no Go build info)");
  const ByteSpan data = *found;
  const uint8_t ptr_size = data[14];
  const uint8_t flags = data[15];

  BuildInfo info;
  std::string modinfo;
  if (flags & kFlagInlineStrings) {
    uint64_t offset = kHeaderSize;
    auto version = ReadInlineString(data, offset);
    auto mod = version ? ReadInlineString(data, offset) : std::nullopt;
    if (!version || !mod) {
      return Status::DataLoss(elf.path() + ": Go build info strings run past their region");
    }
    info.go_version = std::move(*version);
    modinfo = std::move(*mod);
  } else {
    info.pointer_format = true;
    if (flags & kFlagBigEndian) {
      return Status::DataLoss(elf.path() + ": big-endian Go build info in a little-endian ELF");
    }
    if (ptr_size != 8) {
      return Status::DataLoss(elf.path() + ": Go build info pointer size " +
                              std::to_string(ptr_size) + ", want 8");
    }
    // FindBuildInfo returns at least the 32-byte header.
    auto version = ReadPointedString(elf, *ReadU64(data, 16));
    if (!version.ok()) return version.status();
    auto mod = ReadPointedString(elf, *ReadU64(data, 24));
    if (!mod.ok()) return mod.status();
    info.go_version = std::move(*version);
    modinfo = std::move(*mod);
  }
  if (info.go_version.empty()) return Status::DataLoss(elf.path() + ": empty Go version");
  // The module info is framed by two 16-byte sentinels; without them there
  // is none (e.g. built outside a module).
  if (modinfo.size() >= 2 * kSentinelSize + 1 && modinfo[modinfo.size() - 17] == '\n') {
    ParseModuleInfo(
        std::string_view(modinfo).substr(kSentinelSize, modinfo.size() - 2 * kSentinelSize), info);
  }
  return info;
}

}  // namespace gcpilot::golang
