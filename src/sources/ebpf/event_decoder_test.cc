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

namespace gcpilot::ebpf {
namespace {

// A plan whose slots hold stwprocs, maxprocs, GOGC and heap0, in order.
ProbePlan PlausibilityPlan() {
  ProbePlan plan;
  plan.slots[0] = SlotField{golang::RuntimeField::kWorkStwprocs, 4};
  plan.slots[1] = SlotField{golang::RuntimeField::kWorkMaxprocs, 4};
  plan.slots[2] = SlotField{golang::RuntimeField::kGcControllerGcPercent, 4};
  plan.slots[3] = SlotField{golang::RuntimeField::kWorkHeap0, 8};
  return plan;
}

gcp_cycle_event Cycle(uint64_t stwprocs, uint64_t maxprocs, uint64_t gogc, uint64_t heap0) {
  gcp_cycle_event e{};
  e.type = GCP_EV_CYCLE;
  e.numgc = 1;
  e.slot[0] = stwprocs;
  e.slot[1] = maxprocs;
  e.slot[2] = gogc;
  e.slot[3] = heap0;
  e.slots_read = 0xf;
  return e;
}

TEST(EventDecoderTest, PlausibleCycleValuesPass) {
  const ProbePlan plan = PlausibilityPlan();
  EXPECT_TRUE(CheckCyclePlausible(plan, Cycle(2, 2, 100, 4 << 20)).ok());
  EXPECT_TRUE(CheckCyclePlausible(plan, Cycle(1, 64, 0xffffffff, 0)).ok());  // GOGC off (-1).
  // GOGC off: the heap goal is ~2^63 in a healthy runtime.
  ProbePlan with_goal = plan;
  with_goal.slots[4] = SlotField{golang::RuntimeField::kGcControllerLastHeapGoal, 8};
  gcp_cycle_event off = Cycle(2, 2, 0xffffffff, 4 << 20);
  off.slot[4] = uint64_t{1} << 63;
  off.slots_read |= 1u << 4;
  EXPECT_TRUE(CheckCyclePlausible(with_goal, off).ok());
}

TEST(EventDecoderTest, ImplausibleCycleValuesNameTheField) {
  const ProbePlan plan = PlausibilityPlan();
  // A garbage GOMAXPROCS, as a wrong work.* offset gives.
  Status s = CheckCyclePlausible(plan, Cycle(2, 0xc26ac171, 100, 0));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("work.maxprocs"), std::string::npos) << s.message();
  EXPECT_FALSE(CheckCyclePlausible(plan, Cycle(0, 2, 100, 0)).ok());
  EXPECT_FALSE(CheckCyclePlausible(plan, Cycle(2, 2, 0xfffffff0, 0)).ok());  // GOGC -16.
  EXPECT_FALSE(CheckCyclePlausible(plan, Cycle(2, 2, 100, uint64_t{1} << 60)).ok());
  // A field the probe could not read is not checked.
  gcp_cycle_event unread = Cycle(0, 0, 0, 0);
  unread.slots_read = 0;
  EXPECT_TRUE(CheckCyclePlausible(plan, unread).ok());
}

}  // namespace
}  // namespace gcpilot::ebpf
