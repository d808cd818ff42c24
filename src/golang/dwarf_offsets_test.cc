// Tests of DWARF struct member offsets on the plain test programs of every
// toolchain, cross-checked against symbol sizes and known offsets.
#include "golang/dwarf_offsets.h"

#include <gtest/gtest.h>

#include <string>

#include "golang/go_binary.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

TEST(DwarfOffsetsTest, RuntimeStructsOfEveryToolchain) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok());
    auto dwarf = binary->OpenDwarf();
    if (prog.stripped) {
      EXPECT_EQ(dwarf.status().code(), StatusCode::kNotFound);
      EXPECT_NE(dwarf.status().message().find("no DWARF"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(dwarf.ok()) << dwarf.status().ToString();
    DwarfTypes& types = **dwarf;

    auto numgc = types.FindMember("runtime.mstats", "numgc");
    ASSERT_TRUE(numgc.ok()) << numgc.status().ToString();
    EXPECT_EQ(numgc->size, 4u);  // uint32.
    auto pause_ns = types.FindMember("runtime.mstats", "pause_ns");
    ASSERT_TRUE(pause_ns.ok()) << pause_ns.status().ToString();
    EXPECT_EQ(pause_ns->size, 256u * 8);  // [256]uint64.
    EXPECT_NE(numgc->offset, pause_ns->offset);

    // Globals' sizes in .symtab equal their DWARF types' sizes.
    for (const auto& [global, type] :
         {std::pair{"runtime.memstats", "runtime.mstats"},
          std::pair{"runtime.work", "runtime.workType"},
          std::pair{"runtime.gcController", "runtime.gcControllerState"}}) {
      auto symbol = binary->FindGlobal(global);
      ASSERT_TRUE(symbol.ok());
      auto size = types.StructSize(type);
      ASSERT_TRUE(size.ok()) << size.status().ToString();
      EXPECT_EQ(*size, symbol->size) << type;
    }
    auto mstats_size = types.StructSize("runtime.mstats");
    ASSERT_TRUE(mstats_size.ok());
    EXPECT_LE(pause_ns->offset + pause_ns->size, *mstats_size);

    // Nested path: gcPercent is an atomic.Int32 {_ noCopy; value int32}.
    auto gc_percent = types.MemberOffset("runtime.gcControllerState", "gcPercent");
    ASSERT_TRUE(gc_percent.ok()) << gc_percent.status().ToString();
    auto value = types.FindMember("runtime.gcControllerState", "gcPercent.value");
    ASSERT_TRUE(value.ok()) << value.status().ToString();
    EXPECT_EQ(value->offset, *gc_percent);
    EXPECT_EQ(value->size, 4u);

    // work.cpuStats exists from Go 1.20 on.
    auto cpu_stats = types.MemberOffset("runtime.workType", "cpuStats");
    if (testing::GoMinor(prog.go_dir) >= 20) {
      ASSERT_TRUE(cpu_stats.ok()) << cpu_stats.status().ToString();
      // GO_RUNTIME_NOTES.md: 472 in 1.23.0, 504 in 1.23.4 and later.
      if (binary->go_version() == "go1.23.5") {
        EXPECT_EQ(*cpu_stats, 504u);
      }
    } else {
      EXPECT_EQ(cpu_stats.status().code(), StatusCode::kNotFound);
      EXPECT_NE(cpu_stats.status().message().find("runtime.workType"), std::string::npos);
      EXPECT_NE(cpu_stats.status().message().find("cpuStats"), std::string::npos);
    }

    auto no_struct = types.MemberOffset("runtime.noSuchType", "x");
    EXPECT_EQ(no_struct.status().code(), StatusCode::kNotFound);
    EXPECT_NE(no_struct.status().message().find("runtime.noSuchType"), std::string::npos);
    auto no_member = types.MemberOffset("runtime.mstats", "numgc.deeper");
    EXPECT_EQ(no_member.status().code(), StatusCode::kInvalidArgument);
    auto bad_path = types.MemberOffset("runtime.mstats", "nosuchfield");
    EXPECT_EQ(bad_path.status().code(), StatusCode::kNotFound);
    EXPECT_NE(bad_path.status().message().find("nosuchfield"), std::string::npos);
    EXPECT_FALSE(types.MemberOffset("runtime.mstats", "").ok());
  }
}

}  // namespace
}  // namespace gcpilot::golang
