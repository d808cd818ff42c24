// Tests of FindCallSites on the test programs of every installed toolchain,
// plain and stripped.
#include "golang/call_sites.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "golang/testprogs_test_util.h"

namespace gcpilot::golang {
namespace {

TEST(CallSitesTest, ForcegchelperCallsGcStartOnceInEveryToolchain) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  std::map<std::string, uint64_t> plain_site;
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok());
    auto sites = FindCallSites(*binary, "runtime.forcegchelper", "runtime.gcStart");
    ASSERT_TRUE(sites.ok()) << sites.status().ToString();
    ASSERT_EQ(sites->size(), 1u);
    const uint64_t site = (*sites)[0];
    auto caller = binary->FindFunction("runtime.forcegchelper");
    ASSERT_TRUE(caller.ok());
    EXPECT_GT(site, caller->file_offset);
    EXPECT_LT(site, caller->file_offset + caller->size);
    ASSERT_LT(site, binary->elf().bytes().size());
    EXPECT_EQ(binary->elf().bytes()[site], 0xe8);  // CALL rel32.
    // Same program, same toolchain: the stripped build has the same code.
    if (!prog.stripped) {
      plain_site[prog.go_dir] = site;
    } else if (plain_site.count(prog.go_dir)) {
      EXPECT_EQ(site, plain_site[prog.go_dir]);
    }
  }
}

TEST(CallSitesTest, NoCallsAndMissingFunctions) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "steady");
  auto binary = GoBinary::Open(progs[0].path);
  ASSERT_TRUE(binary.ok());
  auto none = FindCallSites(*binary, "runtime.gcStart", "runtime.forcegchelper");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  auto missing = FindCallSites(*binary, "runtime.noSuchFunction", "runtime.gcStart");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("runtime.noSuchFunction"), std::string::npos);
  auto missing_callee = FindCallSites(*binary, "runtime.forcegchelper", "runtime.noSuch");
  EXPECT_EQ(missing_callee.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace gcpilot::golang
