// DecodeStop: which span a non-GC stop's duration comes from (the stop's
// own window when the probes bounding it fired inside this stop's entry and
// return, else entry to return), and its reason by reason ABI.
#include "sources/ebpf/event_decoder.h"

#include <gtest/gtest.h>

#include <cstring>

namespace gcpilot::ebpf {
namespace {

gcp_stop_event Stop(uint64_t start, uint64_t end, uint64_t world_stop, uint64_t world_start) {
  gcp_stop_event e{};
  e.type = GCP_EV_STOP;
  e.start_ktime_ns = start;
  e.end_ktime_ns = end;
  e.world_stop_ktime_ns = world_stop;
  e.world_start_ktime_ns = world_start;
  e.reason = static_cast<uint32_t>(StwReason::kReadMemStats);
  return e;
}

TEST(EventDecoderTest, StopUsesTheWorldWindowWhenItLiesInsideTheStop) {
  ProbePlan plan;
  plan.reason_abi = GCP_REASON_UINT8;
  StwPause p = DecodeStop(plan, Stop(1000, 9000, 4000, 6500));
  EXPECT_EQ(p.start_ns, 4000);
  EXPECT_EQ(p.duration_ns, 2500);
  EXPECT_EQ(p.kind, StwKind::kOther);
  EXPECT_EQ(p.reason, StwReason::kReadMemStats);
}

TEST(EventDecoderTest, StopFallsBackToEntryAndReturnWithoutAValidWindow) {
  ProbePlan plan;
  plan.reason_abi = GCP_REASON_UINT8;
  for (const gcp_stop_event& e : {Stop(1000, 9000, 0, 0),           // Not probed.
                                  Stop(1000, 9000, 500, 2000),      // An earlier stop's.
                                  Stop(1000, 9000, 4000, 3000),     // Not restarted yet.
                                  Stop(1000, 9000, 4000, 9500)}) {  // Beyond the return.
    StwPause p = DecodeStop(plan, e);
    EXPECT_EQ(p.start_ns, 1000);
    EXPECT_EQ(p.duration_ns, 8000);
  }
  EXPECT_EQ(DecodeStop(plan, Stop(9000, 1000, 0, 0)).duration_ns, 0);
}

TEST(EventDecoderTest, StopReasonFromTheGoStringOnOlderVersions) {
  ProbePlan plan;
  plan.reason_abi = GCP_REASON_STRING;
  gcp_stop_event e = Stop(1, 2, 0, 0);
  const char reason[] = "GOMAXPROCS";
  std::memcpy(e.reason_str, reason, sizeof(reason) - 1);
  e.reason_len = sizeof(reason) - 1;
  EXPECT_EQ(DecodeStop(plan, e).reason, StwReason::kGomaxprocs);
  e.reason_len = 1000;  // Hostile length: clamped, no overread.
  EXPECT_EQ(DecodeStop(plan, e).reason, StwReason::kUnknown);
}

}  // namespace
}  // namespace gcpilot::ebpf
