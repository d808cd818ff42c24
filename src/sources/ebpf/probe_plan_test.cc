// Tests of the probes' Go version gate: refused before the register ABI
// (Go 1.17), labelled outside the verified 1.19-1.27, never refused for
// being new.
#include "sources/ebpf/probe_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gcpilot::ebpf {
namespace {

TEST(ProbePlanTest, GoMinorVersion) {
  EXPECT_EQ(GoMinorVersion("go1.21.13"), 21);
  EXPECT_EQ(GoMinorVersion("go1.22rc1"), 22);
  EXPECT_EQ(GoMinorVersion("go1.21.0 X:boringcrypto"), 21);
  EXPECT_EQ(GoMinorVersion("devel go1.24-abc"), 0);
  EXPECT_EQ(GoMinorVersion(""), 0);
}

TEST(ProbePlanTest, RefusesGoBeforeTheRegisterAbi) {
  for (const char* old : {"go1.16.15", "go1.12", "go1.2.2"}) {
    std::vector<std::string> limitations;
    StatusOr<int> minor = CheckGoVersion(old, limitations);
    ASSERT_FALSE(minor.ok()) << old;
    EXPECT_EQ(minor.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(minor.status().message(),
              std::string(old) + ": gcpilot's probes need Go's register ABI (Go 1.17+)");
    EXPECT_TRUE(limitations.empty());
  }
  std::vector<std::string> limitations;
  StatusOr<int> bad = CheckGoVersion("gccgo", limitations);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unrecognized Go version 'gccgo'"), std::string::npos);
}

TEST(ProbePlanTest, LabelsVersionsOutsideTheVerifiedRange) {
  struct Case {
    const char* version;
    int minor;
    const char* label;  // "" for none.
  };
  for (const Case& c :
       {Case{"go1.17.13", 17, "verified on Go 1.19-1.27 only"},
        Case{"go1.18.10", 18, "verified on Go 1.19-1.27 only"}, Case{"go1.19.8", 19, ""},
        Case{"go1.23.5", 23, ""}, Case{"go1.27.4", 27, ""}, Case{"go1.28rc1", 28, "untested"},
        Case{"go1.30.1", 30, "untested"}}) {
    SCOPED_TRACE(c.version);
    std::vector<std::string> limitations;
    StatusOr<int> minor = CheckGoVersion(c.version, limitations);
    ASSERT_TRUE(minor.ok()) << minor.status().ToString();
    EXPECT_EQ(*minor, c.minor);
    if (*c.label == '\0') {
      EXPECT_TRUE(limitations.empty()) << limitations.front();
      continue;
    }
    ASSERT_EQ(limitations.size(), 1u);
    EXPECT_EQ(limitations[0].rfind(std::string(c.version) + ": ", 0), 0u) << limitations[0];
    EXPECT_NE(limitations[0].find(c.label), std::string::npos) << limitations[0];
  }
}

}  // namespace
}  // namespace gcpilot::ebpf
