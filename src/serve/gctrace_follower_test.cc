// Tests of following a gctrace log: starts at the end, reads appended
// lines, follows truncation and rotation, anchors times on the first cycle,
// and ends a run when the service restarts.
#include "serve/gctrace_follower.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "golang/temp_dir_test_util.h"

namespace gcpilot::serve {
namespace {

std::string Gc(int n, double at_s) {
  char line[256];
  std::snprintf(line, sizeof(line),
                "gc %d @%.3fs 13%%: 0.034+0.67+0.048 ms clock, 0.068+0.013/0.41/0.17+0.096 ms "
                "cpu, 3->4->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n",
                n, at_s);
  return line;
}

struct Collected {
  std::vector<Event> events;
  std::vector<std::string> notices;
  size_t Count(size_t index) const {
    size_t n = 0;
    for (const Event& e : events) n += e.payload.index() == index;
    return n;
  }
};

void Append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

class GctraceFollowerTest : public testing::Test {
 protected:
  golang::testing::TempDir dir_;
  std::string path_ = dir_.path() + "/svc.log";
  Collected got_;
  std::unique_ptr<GctraceFollower> Make() {
    return std::make_unique<GctraceFollower>(
        GctraceTarget{path_, "", 1 << 30}, [this](const Event& e) { got_.events.push_back(e); },
        [this](const std::string& n) { got_.notices.push_back(n); });
  }
};

constexpr size_t kSeen = 0;    // EventPayload index of ProcessSeen.
constexpr size_t kExited = 1;  // ProcessExited.
constexpr size_t kCycle = 2;   // GcCycleObserved.

TEST_F(GctraceFollowerTest, StartsAtTheEndAndAnchorsOnTheFirstCycle) {
  Append(path_, Gc(1, 0.0) + Gc(2, 0.5));  // Before the agent: not read.
  auto f = Make();
  EXPECT_EQ(f->target().name, "svc.log");
  f->Poll(1'000'000'000);
  EXPECT_TRUE(got_.events.empty());
  Append(path_, "other output\n" + Gc(3, 10.0) + Gc(4, 11.0));
  f->Poll(50'000'000'000);
  ASSERT_EQ(got_.Count(kSeen), 1u);
  ASSERT_EQ(got_.Count(kCycle), 2u);
  std::vector<GcCycle> cycles;
  for (const Event& e : got_.events) {
    if (auto* c = std::get_if<GcCycleObserved>(&e.payload)) cycles.push_back(c->cycle);
  }
  EXPECT_EQ(cycles[0].number, 3u);
  EXPECT_EQ(cycles[0].end_ns(), 50'000'000'000);  // Read now: ended now.
  EXPECT_EQ(cycles[1].start_ns - cycles[0].start_ns, 1'000'000'000);
  EXPECT_EQ(got_.events.front().process.pid, 1 << 30);
}

TEST_F(GctraceFollowerTest, FollowsTruncationAndRotation) {
  Append(path_, "");
  auto f = Make();
  Append(path_, Gc(1, 1.0));
  f->Poll(1);
  {
    std::ofstream truncate(path_, std::ios::trunc);  // copytruncate
  }
  Append(path_, Gc(2, 2.0));
  f->Poll(2);
  ASSERT_EQ(std::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  Append(path_, Gc(3, 3.0));  // A new file at the path.
  f->Poll(3);
  f->Poll(4);
  EXPECT_EQ(got_.Count(kCycle), 3u);
  EXPECT_EQ(f->rotations(), 2u);
}

TEST_F(GctraceFollowerTest, WaitsForAMissingFileThenReadsItFromTheTop) {
  auto f = Make();
  f->Poll(1);
  ASSERT_EQ(got_.notices.size(), 1u);
  EXPECT_NE(got_.notices[0].find("waiting for it to appear"), std::string::npos);
  Append(path_, Gc(1, 0.1) + Gc(2, 0.2));
  f->Poll(2);
  f->Poll(3);
  EXPECT_EQ(got_.Count(kCycle), 2u);
  EXPECT_EQ(got_.notices.size(), 1u);
}

TEST_F(GctraceFollowerTest, ARestartEndsTheOldRun) {
  Append(path_, "");
  auto f = Make();
  Append(path_, Gc(1, 1.0) + Gc(2, 2.0) + Gc(3, 3.0));
  f->Poll(100'000'000'000);
  Append(path_, Gc(1, 0.0) + Gc(2, 0.5));  // Counter starts again.
  f->Poll(200'000'000'000);
  EXPECT_EQ(got_.Count(kSeen), 2u);
  EXPECT_EQ(got_.Count(kExited), 1u);
  EXPECT_EQ(got_.Count(kCycle), 5u);
  uint32_t gens = 0;
  for (const Event& e : got_.events) gens |= 1u << e.process.generation;
  EXPECT_EQ(__builtin_popcount(gens), 2);
}

}  // namespace
}  // namespace gcpilot::serve
