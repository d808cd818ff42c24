// Tests of the GoBinary facade against the Go test programs of every
// installed toolchain, plain and stripped.
#include "golang/go_binary.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "golang/temp_dir_test_util.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

TEST(GoBinaryTest, EveryToolchainPlainAndStripped) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok()) << binary.status().ToString();
    EXPECT_EQ(binary->path(), prog.path);
    EXPECT_EQ(binary->go_version().rfind(prog.go_dir + ".", 0), 0u) << binary->go_version();
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

}  // namespace
}  // namespace gcpilot::golang
