// Unit tests of the tuner policies (pause-deviation, memory-headroom,
// node-pressure), input validation and hysteresis.
#include "tune/policy.h"

#include <gtest/gtest.h>

#include "tune/process_tuner.h"
#include "tune/recommendation_json.h"
#include "tune/test_util.h"

namespace gcpilot::tune {
namespace {

using testing::Input;

StatusOr<Recommendation> Recommend(std::string_view policy, const TuneInput& in, PolicyState* st) {
  StatusOr<std::unique_ptr<TunerPolicy>> p = MakePolicy(policy);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  Status v = ValidateInput(in);
  if (!v.ok()) return v;
  return (*p)->Recommend(in, st);
}

Recommendation Ok(std::string_view policy, const TuneInput& in, PolicyState* st) {
  StatusOr<Recommendation> r = Recommend(policy, in, st);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Recommendation{};
}

TEST(PolicyRegistry, KnownAndUnknownNames) {
  for (const std::string& n : PolicyNames()) {
    StatusOr<std::unique_ptr<TunerPolicy>> p = MakePolicy(n);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ((*p)->name(), n);
  }
  StatusOr<std::unique_ptr<TunerPolicy>> bad = MakePolicy("jvm-g1");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("pause-deviation"), std::string::npos);
}

TEST(TunerParams, AbsurdKnobsAreRejected) {
  TunerParams p;
  p.heap_share = 1.5;
  EXPECT_FALSE(ValidateParams(p).ok());
  p = {};
  p.pause_gogc_min = 300;
  EXPECT_FALSE(MakePolicy("pause-deviation", p).ok());
  p = {};
  p.psi_some_avg10_threshold = -1;
  EXPECT_FALSE(ValidateParams(p).ok());
  EXPECT_TRUE(ValidateParams(TunerParams{}).ok());
}

TEST(TuneValidateInput, AbsurdValuesAreClearErrors) {
  TuneInput in = Input();
  in.process.gogc = -7;
  Status s = ValidateInput(in);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("GOGC"), std::string::npos);
  in = Input();
  in.window.gc_cpu_share = -0.5;
  EXPECT_FALSE(ValidateInput(in).ok());
  in = Input();
  in.window.alloc_bytes_per_sec = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(ValidateInput(in).ok());
  in = Input();
  in.cgroup->limit_bytes = 0;
  EXPECT_FALSE(ValidateInput(in).ok());
  in = Input();
  in.node->psi_some_avg10 = 140;
  EXPECT_FALSE(ValidateInput(in).ok());
  in = Input();
  in.window.heap_live_bytes = 1ull << 52;
  EXPECT_FALSE(ValidateInput(in).ok());
  StatusOr<std::unique_ptr<TunerPolicy>> policy = MakePolicy("memory-headroom");
  ASSERT_TRUE(policy.ok());
  ProcessTuner t(std::shared_ptr<const TunerPolicy>(std::move(*policy)));
  in = Input();
  in.node->available_bytes = in.node->total_bytes * 2;
  StatusOr<Recommendation> r = t.Update(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("4242"), std::string::npos);
}

// Seed: factor = clamp(avgPause/5ms, 0.5, 2); tiny pauses -> factor 0.5 ->
// GOGC doubles, capped at 200.
TEST(PauseDeviation, ShortPausesDoubleGogcWithinBounds) {
  PolicyState st;
  TuneInput in = Input();
  in.window.alloc_bytes_per_sec = 10.0 * (1 << 20);
  in.window.gcs_per_sec = 0.5;  // No storm.
  Recommendation r = Ok("pause-deviation", in, &st);
  EXPECT_EQ(r.gogc, 200);
  EXPECT_TRUE(r.change);
  EXPECT_EQ(r.memory_limit_bytes, kNoMemoryLimit);
  EXPECT_NE(r.reason.find("does not shorten stop-the-world pauses"), std::string::npos);
  EXPECT_NE(r.reason.find("measured, not assumed"), std::string::npos);
  EXPECT_NE(r.reason.find("less GC CPU"), std::string::npos);
  ASSERT_TRUE(r.effect.known);
  EXPECT_LT(r.effect.gc_cpu_share_after, r.effect.gc_cpu_share_before);
  EXPECT_GT(r.effect.heap_peak_bytes_after, r.effect.heap_peak_bytes_before);
  in.process.gogc = 150;  // 150 / 0.5 = 300 -> 200.
  EXPECT_EQ(Ok("pause-deviation", in, &st).gogc, 200);
}

TEST(PauseDeviation, LongPausesHalveGogcAndFloorAt25) {
  PolicyState st;
  TuneInput in = Input();
  in.window.alloc_bytes_per_sec = 1 << 20;
  in.window.gcs_per_sec = 0.2;
  in.window.gc_pauses.sum = 20 * 15e6;  // 15 ms per GC -> factor 2.
  Recommendation r = Ok("pause-deviation", in, &st);
  EXPECT_EQ(r.gogc, 50);
  EXPECT_NE(r.reason.find("more GC CPU"), std::string::npos);
  in.process.gogc = 40;
  EXPECT_EQ(Ok("pause-deviation", in, &st).gogc, 25);
  in.window.gc_pauses.sum = 20 * 7.5e6;  // factor 1.5: 100 / 1.5 = 67.
  in.process.gogc = 100;
  EXPECT_EQ(Ok("pause-deviation", in, &st).gogc, 67);
}

TEST(PauseDeviation, StormModeAndSmallHeap) {
  PolicyState st;
  TuneInput in = Input();
  in.window.alloc_bytes_per_sec = 80.0 * (1 << 20);  // > 50 MB/s: storm.
  Recommendation r = Ok("pause-deviation", in, &st);
  EXPECT_EQ(r.gogc, 160);  // 200 x 0.8.
  EXPECT_NE(r.reason.find("storm mode"), std::string::npos);
  in.window.gc_pauses.sum = 20 * 20e6;
  in.process.gogc = 30;  // 30 / 2 = 15 -> 25, x 0.8 = 20 -> floor 25.
  EXPECT_EQ(Ok("pause-deviation", in, &st).gogc, 25);
  in = Input();
  in.window.heap_live_bytes = 8 << 20;
  in.process.gogc = 300;
  r = Ok("pause-deviation", in, &st);
  EXPECT_EQ(r.gogc, 100);
  EXPECT_NE(r.reason.find("small heaps"), std::string::npos);
}

TEST(PauseDeviation, NoCycleIsUnavailableAndGogcOffStartsAt100) {
  PolicyState st;
  TuneInput in = Input();
  in.window.gc_cycles = 0;
  in.window.gc_pauses = {};
  StatusOr<Recommendation> r = Recommend("pause-deviation", in, &st);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  in = Input();
  in.process.gogc = -1;
  in.window.alloc_bytes_per_sec = 1 << 20;
  in.window.gcs_per_sec = 0.2;
  Recommendation ok = Ok("pause-deviation", in, &st);
  EXPECT_EQ(ok.gogc, 200);
  EXPECT_NE(ok.reason.find("GOGC is off"), std::string::npos);
}

// 1 GiB limit, 64 MB live: target 70% = 716.8 MB -> GOGC = (716.8/64 - 1)
// x 100 = 1020 -> 500; GOMEMLIMIT 90%.
TEST(MemoryHeadroom, TargetsAShareOfTheLimit) {
  PolicyState st;
  TuneInput in = Input();
  Recommendation r = Ok("memory-headroom", in, &st);
  EXPECT_EQ(r.gogc, 500);
  EXPECT_EQ(r.memory_limit_bytes, static_cast<int64_t>(0.9 * (1024ll << 20)));
  EXPECT_NE(r.reason.find("bounded 25..500"), std::string::npos);
  in.window.heap_live_bytes = 256ull << 20;  // 716.8/256 - 1 = 1.8 -> 180.
  PolicyState st2;
  EXPECT_EQ(Ok("memory-headroom", in, &st2).gogc, 180);
  EXPECT_GE(Ok("memory-headroom", in, &st2).memory_limit_bytes,
            static_cast<int64_t>(in.window.heap_live_bytes));
}

TEST(MemoryHeadroom, BacksOffNearTheLimitAndNeverSetsALimitBelowTheLiveHeap) {
  PolicyState st;
  TuneInput in = Input();
  in.window.heap_live_bytes = 650ull << 20;  // 63%: GOGC floor, limit 90%.
  Recommendation r = Ok("memory-headroom", in, &st);
  EXPECT_EQ(r.gogc, 25);
  EXPECT_EQ(r.memory_limit_bytes, static_cast<int64_t>(0.9 * (1024ll << 20)));
  EXPECT_NE(r.reason.find("Backing off"), std::string::npos);
  PolicyState st2;
  in.window.heap_live_bytes = 900ull << 20;  // 88%: death-spiral zone.
  in.process.memory_limit = 850ll << 20;     // Below live: must not be kept.
  r = Ok("memory-headroom", in, &st2);
  EXPECT_EQ(r.gogc, 25);
  EXPECT_EQ(r.memory_limit_bytes, kNoMemoryLimit);
  EXPECT_NE(r.reason.find("death spiral"), std::string::npos);
}

TEST(MemoryHeadroom, HysteresisNeverOscillates) {
  PolicyState st;
  TuneInput in = Input();
  in.window.heap_live_bytes = 256ull << 20;
  Recommendation first = Ok("memory-headroom", in, &st);
  EXPECT_EQ(first.gogc, 180);
  EXPECT_EQ(first.revision, 1u);
  // Live heap wobbles by a few percent: held.
  in.now_ns += 60'000'000'000;
  in.window.heap_live_bytes = 245ull << 20;  // -> 193 (+7%).
  Recommendation r = Ok("memory-headroom", in, &st);
  EXPECT_EQ(r.gogc, 180);
  EXPECT_TRUE(r.held);
  EXPECT_EQ(r.revision, 1u);
  // A big move, but within 30 s of the last change: held, then moves.
  in.window.heap_live_bytes = 160ull << 20;  // -> 348.
  Recommendation moved = Ok("memory-headroom", in, &st);
  EXPECT_EQ(moved.gogc, 348);
  EXPECT_EQ(moved.revision, 2u);
  in.now_ns += 5'000'000'000;
  in.window.heap_live_bytes = 256ull << 20;  // Back to 180: too soon.
  r = Ok("memory-headroom", in, &st);
  EXPECT_EQ(r.gogc, 348);
  EXPECT_TRUE(r.held);
  EXPECT_NE(r.reason.find("at most one change every 30 s"), std::string::npos);
  in.now_ns += 30'000'000'000;
  EXPECT_EQ(Ok("memory-headroom", in, &st).gogc, 180);
  // Alternating inputs every 5 s over 5 minutes: at most one change per 30 s.
  int changes = 0;
  int32_t last = 180;
  for (int i = 0; i < 60; ++i) {
    in.now_ns += 5'000'000'000;
    in.window.heap_live_bytes = (i % 2 ? 256ull : 160ull) << 20;
    Recommendation x = Ok("memory-headroom", in, &st);
    if (x.gogc != last) ++changes;
    last = x.gogc;
  }
  EXPECT_LE(changes, 10);
}

TEST(MemoryHeadroom, BackingOffIsNotDelayed) {
  PolicyState st;
  TuneInput in = Input();
  in.window.heap_live_bytes = 256ull << 20;
  EXPECT_EQ(Ok("memory-headroom", in, &st).gogc, 180);
  in.now_ns += 5'000'000'000;
  in.window.heap_live_bytes = 700ull << 20;  // Near the limit, 5 s later.
  Recommendation r = Ok("memory-headroom", in, &st);
  EXPECT_EQ(r.gogc, 25);
  EXPECT_FALSE(r.held);
}

TEST(MemoryHeadroom, NeedsACgroupLimit) {
  PolicyState st;
  TuneInput in = Input();
  in.cgroup->limit_bytes.reset();
  StatusOr<Recommendation> r = Recommend("memory-headroom", in, &st);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("no memory limit"), std::string::npos);
  in.cgroup.reset();
  in.cgroup_error = "process 4242 is gone";
  r = Recommend("memory-headroom", in, &st);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gone"), std::string::npos);
}

TEST(NodePressure, NoPressureNoChange) {
  PolicyState st;
  Recommendation r = Ok("node-pressure", Input(), &st);
  EXPECT_FALSE(r.change);
  EXPECT_EQ(r.gogc, 100);
  EXPECT_EQ(r.memory_limit_bytes, kNoMemoryLimit);
  EXPECT_NE(r.reason.find("No memory pressure"), std::string::npos);
}

TEST(NodePressure, PsiOrNodeUseSetsAMemoryLimit) {
  PolicyState st;
  TuneInput in = Input();
  in.node->psi_some_avg10 = 25.0;
  Recommendation r = Ok("node-pressure", in, &st);
  EXPECT_TRUE(r.change);
  EXPECT_EQ(r.gogc, 100);
  EXPECT_EQ(r.memory_limit_bytes, static_cast<int64_t>(0.9 * (1024ll << 20)));
  // Without a cgroup limit: the present heap peak + 10%.
  PolicyState st2;
  in = Input();
  in.cgroup->limit_bytes.reset();
  in.node->available_bytes = in.node->total_bytes / 10;  // 90% used.
  r = Ok("node-pressure", in, &st2);
  EXPECT_EQ(r.memory_limit_bytes, static_cast<int64_t>((128ull << 20) * 1.1));
  EXPECT_NE(r.reason.find("90% used"), std::string::npos);
  EXPECT_GE(r.memory_limit_bytes, static_cast<int64_t>(in.window.heap_live_bytes * 1.25));
  // The pressure eases: the limit stays.
  in.node->available_bytes = in.node->total_bytes / 2;
  in.now_ns += 5'000'000'000;
  r = Ok("node-pressure", in, &st2);
  EXPECT_EQ(r.memory_limit_bytes, static_cast<int64_t>((128ull << 20) * 1.1));
}

TEST(NodePressure, CgroupPsiCountsAndMissingReadingsAreErrors) {
  PolicyState st;
  TuneInput in = Input();
  in.cgroup->psi_some_avg10 = 50;
  EXPECT_TRUE(Ok("node-pressure", in, &st).change);
  in.cgroup->psi_some_avg10.reset();
  in.node.reset();
  in.node_error = "cannot read /proc/meminfo";
  StatusOr<Recommendation> r = Recommend("node-pressure", in, &st);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("meminfo"), std::string::npos);
}

TEST(RecommendationJson, HasEveryField) {
  PolicyState st;
  Recommendation r = Ok("memory-headroom", Input(), &st);
  nlohmann::json j = RecommendationToJson(r);
  EXPECT_EQ(j["policy"], "memory-headroom");
  EXPECT_EQ(j["gogc"], 500);
  EXPECT_EQ(j["current"]["memory_limit_bytes"], nullptr);
  EXPECT_EQ(j["env"]["GOMEMLIMIT"], std::to_string(r.memory_limit_bytes) + "B");
  EXPECT_TRUE(j["effect"]["known"].get<bool>());
  EXPECT_FALSE(FormatRecommendationText(r, Input()).empty());
}

}  // namespace
}  // namespace gcpilot::tune
