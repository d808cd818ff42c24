// Tests of the GoBinary facade against the Go test programs of every
// installed toolchain, plain and stripped, also with their .go.buildinfo
// removed (objcopy): the version then comes from runtime.buildVersion.
#include "golang/go_binary.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "golang/elf_builder_test_util.h"
#include "golang/runtime_layout.h"
#include "golang/temp_dir_test_util.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

// `path` copied to dir/name without its .go.buildinfo section, as some
// packagers ship Go binaries; "" when objcopy fails.
std::string WithoutBuildInfo(const testing::TempDir& dir, const std::string& path,
                             const std::string& name) {
  const std::string out = dir.path() + "/" + name;
  if (testing::RunCommand("objcopy --remove-section .go.buildinfo '" + path + "' '" + out +
                          "' 2>&1 && echo ok") != "ok\n") {
    return "";
  }
  return out;
}

std::span<const uint8_t> AsBytes(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// The file offset of the Go string header in .data that points at
// `version` (the runtime.buildVersion variable), or nullopt.
std::optional<uint64_t> FindVersionHeader(const std::string& file, const std::string& version) {
  auto elf = ElfFile::OpenFromMemory(AsBytes(file));
  if (!elf.ok()) return std::nullopt;
  const ElfSection* data = elf->FindSection(".data");
  if (data == nullptr) return std::nullopt;
  const ByteSpan bytes = elf->SectionBytes(*data);
  for (uint64_t off = 0; off + 16 <= bytes.size(); off += 8) {
    if (*ReadU64(bytes, off + 8) != version.size()) continue;
    auto target = elf->ReadVirtual(*ReadU64(bytes, off), version.size());
    if (target.ok() && AsStringView(*target) == version) return data->file_offset + off;
  }
  return std::nullopt;
}

TEST(GoBinaryTest, EveryToolchainPlainAndStripped) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok()) << binary.status().ToString();
    EXPECT_EQ(binary->path(), prog.path);
    EXPECT_TRUE(testing::VersionMatchesDir(binary->go_version(), prog.go_dir))
        << binary->go_version();
    EXPECT_EQ(binary->module_path(), "gcpilot.dev/testprogs");
    EXPECT_EQ(binary->module_version(), "(devel)");
    EXPECT_EQ(binary->main_package_path(), "gcpilot.dev/testprogs/steady");
    EXPECT_EQ(binary->stripped(), prog.stripped);
    EXPECT_EQ(binary->has_dwarf(), !prog.stripped);
    EXPECT_FALSE(binary->pie());
    EXPECT_EQ(binary->build_id(), binary->elf().go_build_id());
    EXPECT_FALSE(binary->build_id().empty());
    auto fn = binary->FindFunction("runtime.gcMarkTermination.func3");
    ASSERT_TRUE(fn.ok()) << fn.status().ToString();
    EXPECT_EQ(binary->FindGlobal("runtime.memstats").ok(), !prog.stripped);
    EXPECT_FALSE(binary->ListFunctions("runtime.gcStart").empty());
    auto rets = binary->FindRetInstructions("runtime.gcStart");
    ASSERT_TRUE(rets.ok()) << rets.status().ToString();
    EXPECT_FALSE(rets->empty());
    EXPECT_EQ(binary->FindRetInstructions("runtime.noSuchFunction").status().code(),
              StatusCode::kNotFound);
  }
}

TEST(GoBinaryTest, BuildIdsDifferBetweenPlainAndStripped) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  std::set<std::string> ids;
  for (const auto& prog : progs) {
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok());
    EXPECT_TRUE(ids.insert(binary->build_id()).second) << prog.label();
  }
}

TEST(GoBinaryTest, FindStructMemberIsMemoized) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok());
    auto first = binary->FindStructMember("runtime.mstats", "numgc");
    auto second = binary->FindStructMember("runtime.mstats", "numgc");
    if (prog.stripped) {
      EXPECT_EQ(first.status().code(), StatusCode::kNotFound);
      EXPECT_EQ(second.status().code(), StatusCode::kNotFound);
      continue;
    }
    ASSERT_TRUE(first.ok() && second.ok()) << first.status().ToString();
    EXPECT_EQ(first->offset, second->offset);
    auto dwarf = binary->OpenDwarf();
    ASSERT_TRUE(dwarf.ok());
    EXPECT_EQ(*(*dwarf)->MemberOffset("runtime.mstats", "numgc"), first->offset);
    EXPECT_EQ(binary->FindStructMember("runtime.mstats", "nope").status().code(),
              StatusCode::kNotFound);
  }
}

TEST(GoBinaryTest, NotAGoBinary) {
  // This test binary is ELF x86-64 but not Go.
  auto self = GoBinary::Open("/proc/self/exe");
  EXPECT_EQ(self.status().code(), StatusCode::kNotFound);
  EXPECT_NE(self.status().message().find("not a Go binary"), std::string::npos)
      << self.status().message();
  testing::TempDir dir;
  EXPECT_EQ(GoBinary::Open(dir.path() + "/missing").status().code(), StatusCode::kNotFound);
}

TEST(GoBinaryTest, OpenFromMemory) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  const std::string content = testing::ReadWholeFile(progs.back().path);
  auto binary = GoBinary::OpenFromMemory(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(content.data()), content.size()),
      "in-memory");
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  EXPECT_EQ(binary->path(), "in-memory");
  EXPECT_TRUE(binary->FindFunction("runtime.gcStart").ok());
  // Moving keeps every internal pointer valid.
  GoBinary moved = std::move(*binary);
  EXPECT_TRUE(moved.FindFunction("runtime.gcStart").ok());
  EXPECT_TRUE(moved.FindRetInstructions("runtime.gcStart").ok());
}

TEST(GoBinaryTest, WithoutBuildInfoTheVersionComesFromTheRuntime) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  std::vector<testing::TestProg> all = progs;
  for (const auto& pie : testing::FindTestProgs("steady-pie")) all.push_back(pie);
  testing::TempDir dir;
  for (const auto& prog : all) {
    SCOPED_TRACE(prog.label());
    auto original = GoBinary::Open(prog.path);
    ASSERT_TRUE(original.ok()) << original.status().ToString();
    EXPECT_EQ(original->version_source(), VersionSource::kBuildInfo);
    EXPECT_TRUE(original->has_build_info());
    const std::string path = WithoutBuildInfo(
        dir, prog.path, prog.go_dir + "-" + prog.name + (prog.stripped ? "-s" : ""));
    ASSERT_FALSE(path.empty()) << "objcopy failed";
    auto elf = ElfFile::Open(path);
    ASSERT_TRUE(elf.ok());
    ASSERT_EQ(ReadBuildInfo(*elf).status().code(), StatusCode::kNotFound);

    auto binary = GoBinary::Open(path);
    ASSERT_TRUE(binary.ok()) << binary.status().ToString();
    EXPECT_EQ(binary->go_version(), original->go_version());
    EXPECT_EQ(binary->version_source(), VersionSource::kRuntimeBuildVersion);
    EXPECT_EQ(VersionSourceName(binary->version_source()), "runtime.buildVersion");
    EXPECT_FALSE(binary->has_build_info());
    EXPECT_EQ(binary->module_path(), "");
    EXPECT_EQ(binary->main_package_path(), "");
    EXPECT_TRUE(binary->build_info().settings.empty());
    EXPECT_EQ(binary->stripped(), prog.stripped);
    EXPECT_EQ(binary->pie(), original->pie());
    EXPECT_FALSE(binary->uses_cgo());
    EXPECT_TRUE(binary->FindFunction("runtime.gcStart").ok());
    // The runtime layout needs only the version: same result as with build info.
    auto want = ResolveRuntimeLayout(*original);
    auto got = ResolveRuntimeLayout(*binary);
    ASSERT_EQ(got.ok(), want.ok()) << got.status().ToString() << " / " << want.status().ToString();
    if (got.ok()) {
      EXPECT_EQ(got->Get(RuntimeField::kMemstatsNumgc)->address,
                want->Get(RuntimeField::kMemstatsNumgc)->address);
    }
  }
}

TEST(GoBinaryTest, WithoutBuildInfoAVersionMustBeFoundOnce) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  testing::TempDir dir;
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    const std::string path = WithoutBuildInfo(dir, prog.path, "nobi");
    ASSERT_FALSE(path.empty()) << "objcopy failed";
    const std::string file = testing::ReadWholeFile(path);
    auto binary = GoBinary::OpenFromMemory(AsBytes(file));
    ASSERT_TRUE(binary.ok()) << binary.status().ToString();
    const std::string version = binary->go_version();  // "go1.23.5".
    const size_t dot = version.rfind('.');
    ASSERT_GT(dot, 4u) << "want a patch release: " << version;
    const std::string shorter = version.substr(0, dot);  // "go1.23", itself a Go version.

    // A second string header, pointing at "go1.23": two versions.
    const std::optional<uint64_t> header = FindVersionHeader(file, version);
    ASSERT_TRUE(header.has_value()) << "no runtime.buildVersion header in .data";
    std::string ambiguous = file;
    const uint64_t other = *header >= 16 ? *header - 16 : *header + 16;
    std::memcpy(ambiguous.data() + other, file.data() + *header, 8);
    const uint64_t shorter_len = shorter.size();
    std::memcpy(ambiguous.data() + other + 8, &shorter_len, 8);
    auto refused = GoBinary::OpenFromMemory(AsBytes(ambiguous));
    if (prog.stripped) {
      ASSERT_EQ(refused.status().code(), StatusCode::kDataLoss) << refused.status().ToString();
      const std::string message = refused.status().message();
      EXPECT_NE(message.find("ambiguous Go version"), std::string::npos) << message;
      EXPECT_NE(message.find("\"" + shorter + "\""), std::string::npos) << message;
      EXPECT_NE(message.find("\"" + version + "\""), std::string::npos) << message;
      EXPECT_NE(message.find("no build info"), std::string::npos) << message;
    } else {
      // The runtime.buildVersion symbol decides.
      ASSERT_TRUE(refused.ok()) << refused.status().ToString();
      EXPECT_EQ(refused->go_version(), version);
    }

    // No version string at all: every copy of it spoiled.
    std::string spoiled = file;
    for (size_t at = spoiled.find(version); at != std::string::npos;
         at = spoiled.find(version, at + 1)) {
      spoiled[at] = 'x';
    }
    auto unknown = GoBinary::OpenFromMemory(AsBytes(spoiled));
    ASSERT_EQ(unknown.status().code(), StatusCode::kDataLoss) << unknown.status().ToString();
    EXPECT_NE(unknown.status().message().find(prog.stripped ? "no runtime.buildVersion string"
                                                            : "not a Go version"),
              std::string::npos)
        << unknown.status().message();
  }
}

TEST(GoBinaryTest, SyntheticWithoutBuildInfoOrSymtab) {
  // A pclntab (with runtime/cgo's crosscall2), the version string in
  // .rodata and its header in .data after an unrelated string's.
  testing::SyntheticElf spec;
  spec.sections.push_back(testing::SyntheticSection{
      ".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0x401000, std::vector<uint8_t>(64, 0xc3)});
  spec.sections.push_back(testing::SyntheticSection{
      ".gopclntab", SHT_PROGBITS, SHF_ALLOC, 0x470000,
      testing::BuildPclntab({{"runtime.gcStart", 0}, {"crosscall2", 16}, {"main.main", 32}}, 64,
                            0x401000)});
  std::vector<uint8_t> rodata, data;
  testing::PutString(rodata, "go1.22.3main");
  for (uint64_t word : {0x480008, 4, 0x480000, 8}) testing::PutU64(data, word);
  spec.sections.push_back(
      testing::SyntheticSection{".rodata", SHT_PROGBITS, SHF_ALLOC, 0x480000, rodata});
  spec.sections.push_back(
      testing::SyntheticSection{".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 0x500000, data});
  auto binary = GoBinary::OpenFromMemory(testing::BuildElf(spec));
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  EXPECT_EQ(binary->go_version(), "go1.22.3");
  EXPECT_EQ(binary->version_source(), VersionSource::kRuntimeBuildVersion);
  EXPECT_TRUE(binary->stripped());
  EXPECT_TRUE(binary->uses_cgo());
  EXPECT_TRUE(binary->FindFunction("main.main").ok());

  // Without the pclntab it is not a Go binary, version string or not.
  spec.sections.erase(spec.sections.begin() + 1);
  auto not_go = GoBinary::OpenFromMemory(testing::BuildElf(spec));
  EXPECT_EQ(not_go.status().code(), StatusCode::kNotFound);
  EXPECT_NE(not_go.status().message().find("not a Go binary"), std::string::npos);
}

TEST(GoBinaryTest, ANonGoElfIsStillNotAGoBinary) {
  for (const char* path : {"/bin/true", "/proc/self/exe"}) {
    SCOPED_TRACE(path);
    auto binary = GoBinary::Open(path);
    EXPECT_EQ(binary.status().code(), StatusCode::kNotFound) << binary.status().ToString();
    EXPECT_NE(binary.status().message().find("not a Go binary"), std::string::npos)
        << binary.status().message();
  }
}

}  // namespace
}  // namespace gcpilot::golang
