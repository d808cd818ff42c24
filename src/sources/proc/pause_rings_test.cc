// The pause rings: ValidatePauseRings's invariants on made-up rings, and on
// real processes (the steady test program of every toolchain, plain and
// stripped, as a child of the test: no eBPF, no root): the located fields
// pass once the program has collected a few times, the same reads a few
// bytes off fail, and CyclesAfter lists what the runtime remembers.
#include "sources/proc/pause_rings.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/clock.h"
#include "golang/testprogs_test_util.h"

namespace gcpilot::proc {
namespace {

constexpr uint64_t kNow = 1'800'000'000'000'000'000;  // Unix ns, 2027.

// `n` cycles of 100 µs, one every ms, the last ending 1 s before kNow.
PauseRings Rings(uint32_t n) {
  PauseRings r;
  r.numgc = n;
  const uint32_t first = n > kPauseRingSize ? n - kPauseRingSize + 1 : 1;
  for (uint32_t c = first; c <= n; ++c) {
    r.pause_ns[(c - 1) % kPauseRingSize] = 100'000;
    r.pause_end_unix_ns[(c - 1) % kPauseRingSize] = kNow - 1'000'000'000 - (n - c) * 1'000'000;
  }
  return r;
}

TEST(PauseRingsTest, RealRingsPass) {
  for (uint32_t n : {0u, 1u, 5u, 255u, 256u, 257u, 100000u}) {
    EXPECT_TRUE(ValidatePauseRings(Rings(n), 0, kNow).ok()) << n;
  }
}

TEST(PauseRingsTest, EachBrokenInvariantFails) {
  PauseRings zero_pause = Rings(10);
  zero_pause.pause_ns[3] = 0;
  PauseRings long_pause = Rings(10);
  long_pause.pause_ns[3] = 20'000'000'000;
  PauseRings future = Rings(10);
  future.pause_end_unix_ns[9] = kNow + 60'000'000'000;
  PauseRings backwards = Rings(10);
  backwards.pause_end_unix_ns[5] = backwards.pause_end_unix_ns[3];
  PauseRings used_slot = Rings(10);
  used_slot.pause_ns[200] = 5;
  PauseRings before_start = Rings(10);
  for (const PauseRings& r : {zero_pause, long_pause, future, backwards, used_slot}) {
    Status s = ValidatePauseRings(r, 0, kNow);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
    EXPECT_FALSE(s.message().empty());
  }
  EXPECT_FALSE(ValidatePauseRings(before_start, kNow, kNow).ok());
  // The slot after numgc may hold the cycle ending right now.
  PauseRings in_flight = Rings(10);
  in_flight.pause_ns[10] = 7;
  in_flight.pause_end_unix_ns[10] = kNow;
  EXPECT_TRUE(ValidatePauseRings(in_flight, 0, kNow).ok());
}

TEST(PauseRingsTest, CyclesAfterListsWhatTheRingsHold) {
  const PauseRings r = Rings(300);
  EXPECT_TRUE(CyclesAfter(r, 300).empty());
  auto last = CyclesAfter(r, 298);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].number, 299u);
  EXPECT_EQ(last[1].end_unix_ns, kNow - 1'000'000'000);
  auto all = CyclesAfter(r, 0);
  ASSERT_EQ(all.size(), kPauseRingSize);
  EXPECT_EQ(all.front().number, 45u);
  EXPECT_EQ(all.back().number, 300u);
}

TEST(PauseRingsTest, LocatedFieldsOfRealProcessesPassAndShiftedOnesFail) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "storm");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = golang::GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok()) << binary.status().ToString();
    auto layout = golang::ResolveRuntimeLayout(*binary);
    ASSERT_TRUE(layout.ok()) << layout.status().ToString();
    pid_t pid = fork();
    if (pid == 0) {
      execl(prog.path.c_str(), prog.path.c_str(), "-duration", "60s", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(pid, 0);
    // Wait (bounded) for a few cycles: the condition, not a fixed time.
    StatusOr<PauseRings> rings = Status::Unavailable("not read");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      rings = ReadPauseRings(pid, *layout, 0);
      if (rings.ok() && rings->numgc >= 3) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const auto& numgc = layout->Get(golang::RuntimeField::kMemstatsNumgc);
    const auto& pause = layout->Get(golang::RuntimeField::kMemstatsPauseNs);
    const auto& end = layout->Get(golang::RuntimeField::kMemstatsPauseEnd);
    StatusOr<PauseRings> shifted = ReadPauseRingsAt(
        pid, PauseRingAddresses{numgc->address, pause->address + 8, end->address + 8});
    StatusOr<PauseRings> swapped =
        ReadPauseRingsAt(pid, PauseRingAddresses{numgc->address, end->address, pause->address});
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ASSERT_TRUE(rings.ok()) << rings.status().ToString();
    ASSERT_GE(rings->numgc, 3u);
    EXPECT_TRUE(ValidatePauseRings(*rings, 0, static_cast<uint64_t>(UnixNowNs())).ok());
    EXPECT_EQ(CyclesAfter(*rings, 0).size(), std::min<size_t>(rings->numgc, kPauseRingSize));
    ASSERT_TRUE(shifted.ok() && swapped.ok());
    EXPECT_FALSE(ValidatePauseRings(*shifted, 0, static_cast<uint64_t>(UnixNowNs())).ok());
    EXPECT_FALSE(ValidatePauseRings(*swapped, 0, static_cast<uint64_t>(UnixNowNs())).ok());
  }
}

}  // namespace
}  // namespace gcpilot::proc
