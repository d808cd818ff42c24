// Go build information from a binary's .go.buildinfo blob (what
// `go version -m` prints): Go version, main package and module, dependencies
// and build settings (-ldflags, GOARCH, CGO_ENABLED, vcs.*, ...).
//
// Layout (runtime/debug, debug/buildinfo): a 32-byte header, 16-aligned,
// starting with the magic "\xff Go buildinf:", then pointer size (byte 14)
// and flags (byte 15). Flag 0x2 (Go 1.18+): the version and the module
// info follow the header as varint-length-prefixed strings. Otherwise
// (Go < 1.18): two pointers at 16 and 16+ptrsize to Go string headers.
// Thread-safety: free functions over immutable inputs; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/bytes.h"
#include "golang/elf_file.h"

namespace gcpilot::golang {

struct GoModule {
  std::string path;
  std::string version;  // "(devel)" for the main module of a local build.
  std::string sum;      // Empty when absent.
  // A "=>" replacement line: the module actually built. Empty when none.
  std::string replace_path;
  std::string replace_version;
};

struct BuildSetting {
  std::string key;
  std::string value;
};

// Where BuildInfo::go_version came from.
enum class VersionSource {
  kBuildInfo,  // The .go.buildinfo blob, with the module info.
  // No .go.buildinfo (removed by a packager): the runtime.buildVersion
  // string (build_version.h). Package, module, deps and settings are empty.
  kRuntimeBuildVersion,
};
// "buildinfo" / "runtime.buildVersion".
std::string_view VersionSourceName(VersionSource source);

struct BuildInfo {
  std::string go_version;  // "go1.22.12".
  VersionSource version_source = VersionSource::kBuildInfo;
  std::string main_package_path;       // "path" line: "gcpilot.dev/testprogs/steady".
  GoModule main_module;                // "mod" line: {"gcpilot.dev/testprogs", "(devel)", ""}.
  std::vector<GoModule> deps;          // "dep" lines.
  std::vector<BuildSetting> settings;  // "build" lines, unquoted, in order.
  bool pointer_format = false;         // Pre-1.18 layout (strings reached by pointers).

  // The value of build setting `key`, or nullptr.
  const std::string* Setting(std::string_view key) const;
  // False when the binary had no .go.buildinfo (see VersionSource).
  bool has_build_info() const { return version_source == VersionSource::kBuildInfo; }
};

// Finds and parses the build info of `elf`: the .go.buildinfo section, or
// (when absent or renamed) the magic at a 16-aligned offset in a writable,
// non-executable PT_LOAD segment, followed by a pointer size of 4 or 8 and
// known flags (a program's own copy of the magic is skipped). NotFound when
// there is none ("not a Go binary (no Go build info)": GoBinary then looks
// for a Go pclntab and runtime.buildVersion); DataLoss when it is corrupt.
StatusOr<BuildInfo> ReadBuildInfo(const ElfFile& elf);

// Parses the module info text between the 16-byte sentinels (the raw form
// runtime/debug.ParseBuildInfo reads) into `info`. Unknown lines are
// ignored; malformed quoting keeps the raw text. Exposed for tests.
void ParseModuleInfo(std::string_view modinfo, BuildInfo& info);

}  // namespace gcpilot::golang
