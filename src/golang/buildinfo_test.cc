// Tests of Go build info reading: real binaries against `go version -m`,
// synthetic layouts (inline, pointer, scanned) and malformed module info.
#include "golang/buildinfo.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "golang/elf_builder_test_util.h"
#include "golang/go_quote.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

using testing::BuildElf;
using testing::SyntheticElf;
using testing::SyntheticSection;

// `go version -m BINARY` with the toolchain matching `go_dir`, parsed:
// {version, settings}. Empty version when the toolchain is not installed.
std::pair<std::string, std::vector<BuildSetting>> GoVersionM(const testing::TestProg& prog) {
  const std::string go = "/usr/lib/go-" + prog.go_dir.substr(2) + "/bin/go";
  std::pair<std::string, std::vector<BuildSetting>> out;
  if (::access(go.c_str(), X_OK) != 0) return out;
  std::istringstream lines(
      testing::RunCommand("GOTOOLCHAIN=local " + go + " version -m '" + prog.path + "' 2>&1"));
  std::string line;
  if (std::getline(lines, line)) {
    const size_t colon = line.rfind(": ");
    if (colon != std::string::npos) out.first = line.substr(colon + 2);
  }
  while (std::getline(lines, line)) {
    if (line.rfind("\tbuild\t", 0) != 0) continue;
    const std::string kv = line.substr(7);
    const size_t eq = kv.find('=');
    BuildSetting s{kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1)};
    if (!s.value.empty() && s.value[0] == '"') {
      std::string unquoted;
      EXPECT_TRUE(UnquoteGoString(s.value, unquoted)) << s.value;
      s.value = unquoted;
    }
    out.second.push_back(s);
  }
  return out;
}

TEST(BuildInfoTest, MatchesGoVersionForEveryToolchain) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto elf = ElfFile::Open(prog.path);
    ASSERT_TRUE(elf.ok()) << elf.status().ToString();
    auto info = ReadBuildInfo(*elf);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_TRUE(testing::VersionMatchesDir(info->go_version, prog.go_dir)) << info->go_version;
    EXPECT_FALSE(info->pointer_format);
    EXPECT_EQ(info->main_package_path, "gcpilot.dev/testprogs/steady");
    EXPECT_EQ(info->main_module.path, "gcpilot.dev/testprogs");
    EXPECT_EQ(info->main_module.version, "(devel)");
    EXPECT_TRUE(info->deps.empty());
    ASSERT_NE(info->Setting("GOARCH"), nullptr);
    EXPECT_EQ(*info->Setting("GOARCH"), "amd64");
    ASSERT_NE(info->Setting("CGO_ENABLED"), nullptr);
    EXPECT_EQ(*info->Setting("CGO_ENABLED"), "0");
    if (prog.stripped) {
      ASSERT_NE(info->Setting("-ldflags"), nullptr);
      EXPECT_EQ(*info->Setting("-ldflags"), "-s -w");
    } else {
      EXPECT_EQ(info->Setting("-ldflags"), nullptr);
    }

    const auto [go_version, go_settings] = GoVersionM(prog);
    if (go_version.empty()) continue;  // Toolchain not installed: prefix check only.
    EXPECT_EQ(info->go_version, go_version);
    ASSERT_EQ(info->settings.size(), go_settings.size());
    for (size_t i = 0; i < go_settings.size(); ++i) {
      EXPECT_EQ(info->settings[i].key, go_settings[i].key);
      EXPECT_EQ(info->settings[i].value, go_settings[i].value);
    }
  }
}

TEST(BuildInfoTest, MainPackageOfEachProgram) {
  for (const std::string name : {"storm", "idle", "periodicgc"}) {
    GCPILOT_REQUIRE_TESTPROGS(progs, name);
    for (const auto& prog : progs) {
      auto elf = ElfFile::Open(prog.path);
      ASSERT_TRUE(elf.ok());
      auto info = ReadBuildInfo(*elf);
      ASSERT_TRUE(info.ok()) << prog.label() << ": " << info.status().ToString();
      EXPECT_EQ(info->main_package_path, "gcpilot.dev/testprogs/" + name) << prog.label();
    }
  }
}

TEST(BuildInfoTest, ParseModuleInfo) {
  BuildInfo info;
  ParseModuleInfo(
      "path\texample.com/cmd/svc\n"
      "mod\texample.com\tv1.2.3\th1:abc=\n"
      "dep\tgolang.org/x/sys\tv0.1.0\th1:sys=\n"
      "=>\t../sys\t(devel)\t\n"
      "dep\tbroken\n"  // Wrong column count: skipped.
      "dep\tgithub.com/a/b\tv2.0.0\n"
      "build\t-ldflags=\"-s -w -X main.v=1\"\n"
      "build\t\"we\\tird\"=`raw value`\n"
      "build\tGOAMD64=v3\n"
      "build\tnoequals\n"
      "build\t=nokey\n"
      "build\tvcs.modified=\"unterminated\n"
      "mystery\tline\n"
      "build\tdropped=no newline",
      info);
  EXPECT_EQ(info.main_package_path, "example.com/cmd/svc");
  EXPECT_EQ(info.main_module.path, "example.com");
  EXPECT_EQ(info.main_module.version, "v1.2.3");
  EXPECT_EQ(info.main_module.sum, "h1:abc=");
  ASSERT_EQ(info.deps.size(), 2u);
  EXPECT_EQ(info.deps[0].path, "golang.org/x/sys");
  EXPECT_EQ(info.deps[0].replace_path, "../sys");
  EXPECT_EQ(info.deps[0].replace_version, "(devel)");
  EXPECT_EQ(info.deps[1].path, "github.com/a/b");
  EXPECT_EQ(info.deps[1].sum, "");
  ASSERT_EQ(info.settings.size(), 4u);
  EXPECT_EQ(info.settings[0].key, "-ldflags");
  EXPECT_EQ(info.settings[0].value, "-s -w -X main.v=1");
  EXPECT_EQ(info.settings[1].key, "we\tird");
  EXPECT_EQ(info.settings[1].value, "raw value");
  EXPECT_EQ(info.settings[2].value, "v3");
  EXPECT_EQ(info.settings[3].key, "vcs.modified");
  EXPECT_EQ(info.settings[3].value, "\"unterminated");  // Malformed quoting: kept raw.
}

SyntheticElf WithBuildInfoSection(const std::string& name, std::vector<uint8_t> blob) {
  SyntheticElf spec;
  spec.sections.push_back(SyntheticSection{".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
                                           0x401000, std::vector<uint8_t>(16, 0xc3)});
  spec.sections.push_back(
      SyntheticSection{name, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 0x500000, std::move(blob)});
  return spec;
}

StatusOr<BuildInfo> ReadSynthetic(const SyntheticElf& spec) {
  auto elf = ElfFile::OpenFromMemory(BuildElf(spec), "synthetic");
  if (!elf.ok()) return elf.status();
  return ReadBuildInfo(*elf);
}

TEST(BuildInfoTest, InlineFormatInSection) {
  auto info = ReadSynthetic(WithBuildInfoSection(
      ".go.buildinfo", testing::InlineBuildInfo("go1.21.0", "path\tx/y\nmod\tx\t(devel)\t\n")));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->go_version, "go1.21.0");
  EXPECT_EQ(info->main_package_path, "x/y");
  EXPECT_EQ(info->main_module.path, "x");
}

TEST(BuildInfoTest, ScansTheDataSegmentWhenTheSectionIsRenamed) {
  std::vector<uint8_t> blob(48, 0);
  // An unaligned magic first: must be skipped.
  const std::string magic = "\xff Go buildinf:";
  std::copy(magic.begin(), magic.end(), blob.begin() + 3);
  // An aligned one with pointer size 0 (a program's own copy of the magic,
  // as cmd/go's debug/buildinfo has in .noptrdata): skipped too.
  std::copy(magic.begin(), magic.end(), blob.begin() + 16);
  const auto real = testing::InlineBuildInfo("go1.20.1", "path\tp\nmod\tm\tv1\t\n");
  blob.insert(blob.end(), real.begin(), real.end());
  auto info = ReadSynthetic(WithBuildInfoSection(".data.renamed", blob));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->go_version, "go1.20.1");
  EXPECT_EQ(info->main_module.version, "v1");
}

TEST(BuildInfoTest, PointerFormat) {
  // .go.buildinfo at 0x500000 points at string headers at 0x600000, which
  // point at the bytes at 0x600040.
  const std::string version = "go1.17.13";
  const std::string modinfo =
      std::string("0123456789abcdef") + "path\told/cmd\nmod\told\t(devel)\t\n" + "fedcba9876543210";
  std::vector<uint8_t> header;
  testing::PutString(header, "\xff Go buildinf:");
  header.push_back(8);
  header.push_back(0);  // Pointer format, little-endian.
  testing::PutU64(header, 0x600000);
  testing::PutU64(header, 0x600010);
  std::vector<uint8_t> strings;
  testing::PutU64(strings, 0x600040);
  testing::PutU64(strings, version.size());
  testing::PutU64(strings, 0x600040 + version.size());
  testing::PutU64(strings, modinfo.size());
  strings.resize(0x40, 0);
  testing::PutString(strings, version);
  testing::PutString(strings, modinfo);
  SyntheticElf spec = WithBuildInfoSection(".go.buildinfo", header);
  spec.sections.push_back(SyntheticSection{".rodata", SHT_PROGBITS, SHF_ALLOC, 0x600000, strings});
  auto info = ReadSynthetic(spec);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->pointer_format);
  EXPECT_EQ(info->go_version, "go1.17.13");
  EXPECT_EQ(info->main_package_path, "old/cmd");

  // A pointer outside every segment is an error, not a read out of bounds.
  std::vector<uint8_t> dangling = header;
  for (int i = 0; i < 8; ++i) dangling[16 + i] = 0xee;
  EXPECT_EQ(ReadSynthetic(WithBuildInfoSection(".go.buildinfo", dangling)).status().code(),
            StatusCode::kOutOfRange);
}

TEST(BuildInfoTest, MalformedBlobs) {
  // No build info at all.
  auto none = ReadSynthetic(WithBuildInfoSection(".data", std::vector<uint8_t>(64, 0)));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("not a Go binary"), std::string::npos);
  // Version length runs past the section.
  auto blob = testing::InlineBuildInfo("go1.22.0", "");
  blob[32] = 0x7f;
  EXPECT_EQ(ReadSynthetic(WithBuildInfoSection(".go.buildinfo", blob)).status().code(),
            StatusCode::kDataLoss);
  // Varint that never ends.
  blob = testing::InlineBuildInfo("go1.22.0", "");
  blob.resize(32);
  blob.insert(blob.end(), 12, 0xff);
  EXPECT_EQ(ReadSynthetic(WithBuildInfoSection(".go.buildinfo", blob)).status().code(),
            StatusCode::kDataLoss);
  // Empty version.
  EXPECT_EQ(ReadSynthetic(WithBuildInfoSection(".go.buildinfo", testing::InlineBuildInfo("", "")))
                .status()
                .code(),
            StatusCode::kDataLoss);
  // Header cut short by the end of the section.
  blob = testing::InlineBuildInfo("go1.22.0", "");
  blob.resize(20);
  EXPECT_EQ(ReadSynthetic(WithBuildInfoSection(".go.buildinfo", blob)).status().code(),
            StatusCode::kNotFound);
  // Module info without sentinels: version only.
  blob = testing::InlineBuildInfo("go1.22.0", "");
  blob.pop_back();
  testing::PutUvarint(blob, 5);
  testing::PutString(blob, "path\t");
  auto no_mod = ReadSynthetic(WithBuildInfoSection(".go.buildinfo", blob));
  ASSERT_TRUE(no_mod.ok()) << no_mod.status().ToString();
  EXPECT_EQ(no_mod->go_version, "go1.22.0");
  EXPECT_EQ(no_mod->main_module.path, "");
}

}  // namespace
}  // namespace gcpilot::golang
