// Tests of capability sets read from /proc/PID/status text and their names.
#include "sources/proc/capabilities.h"

#include <gtest/gtest.h>

namespace gcpilot::proc {
namespace {

TEST(Capabilities, FromStatusText) {
  const std::string status =
      "Name:\tinit\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
      "CapEff:\t0000000000080000\nCapBnd:\t000001FFFFFFFFFF\n";
  EXPECT_EQ(CapabilitiesFromStatus(status, "CapPrm"), uint64_t{0x1ffffffffff});
  EXPECT_EQ(CapabilitiesFromStatus(status, "CapEff"), uint64_t{1} << kCapSysPtrace);
  EXPECT_EQ(CapabilitiesFromStatus(status, "CapBnd"), uint64_t{0x1ffffffffff});
  EXPECT_EQ(CapabilitiesFromStatus(status, "CapAmb"), std::nullopt);
  EXPECT_EQ(CapabilitiesFromStatus(status, "Cap"), std::nullopt);  // No "Cap:" line.
  EXPECT_EQ(CapabilitiesFromStatus("CapEff:\tzz\n", "CapEff"), std::nullopt);
  EXPECT_EQ(CapabilitiesFromStatus("CapEff:\t00000000000000000\n", "CapEff"), std::nullopt);
  EXPECT_EQ(CapabilitiesFromStatus("CapEff:", "CapEff"), std::nullopt);
}

TEST(Capabilities, Names) {
  EXPECT_EQ(CapabilityNames(0), "");
  EXPECT_EQ(CapabilityNames((uint64_t{1} << kCapSysPtrace) | (uint64_t{1} << 24)),
            "CAP_SYS_PTRACE, CAP_SYS_RESOURCE");
  EXPECT_EQ(CapabilityNames((uint64_t{1} << 0) | (uint64_t{1} << 40) | (uint64_t{1} << 45)),
            "CAP_CHOWN, CAP_CHECKPOINT_RESTORE, cap45");
}

}  // namespace
}  // namespace gcpilot::proc
