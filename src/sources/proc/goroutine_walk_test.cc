// WalkGoroutines on real processes: the leak test program of every Go
// version (plain and stripped), read as a child of the test (no eBPF, no
// root needed for one's own children): its leaking go statement is the top
// creation site; an exited process is an error, never a crash.
#include "sources/proc/goroutine_walk.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "golang/testprogs_test_util.h"

namespace gcpilot::proc {
namespace {

pid_t Spawn(const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(path.c_str(), path.c_str(), "-every", "5ms", "-duration", "30s", "-stdout-every", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(GoroutineWalkTest, LeakingGoStatementIsTheTopSiteOnEveryToolchain) {
  GCPILOT_REQUIRE_TESTPROGS(progs, "leak");
  for (const auto& prog : progs) {
    SCOPED_TRACE(prog.label());
    auto binary = golang::GoBinary::Open(prog.path);
    ASSERT_TRUE(binary.ok()) << binary.status().ToString();
    pid_t pid = Spawn(prog.path);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    StatusOr<GoroutineWalk> a = WalkGoroutines(pid, *binary, GoroutineWalkLimits());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    StatusOr<GoroutineWalk> b = WalkGoroutines(pid, *binary, GoroutineWalkLimits());
    GoroutineWalkLimits small;
    small.max_goroutines = 10;
    StatusOr<GoroutineWalk> cut = WalkGoroutines(pid, *binary, small);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_GT(b->live, a->live);
    EXPECT_GT(b->live, 100);
    EXPECT_EQ(b->unreadable, 0);
    ASSERT_FALSE(b->sites.empty());
    EXPECT_EQ(b->sites[0].function, "main.(*leaker).leakLoop");
    EXPECT_TRUE(b->sites[0].file.ends_with("testprogs/leak/main.go")) << b->sites[0].file;
    EXPECT_GT(b->sites[0].line, 0);
    EXPECT_EQ(b->sites[0].goroutine_function.rfind("main.(*leaker).leakLoop.", 0), 0u)
        << b->sites[0].goroutine_function;
    EXPECT_GT(b->bytes_read, static_cast<uint64_t>(b->walked) * 8);
    EXPECT_GT(b->cpu_ns, 0);
    EXPECT_GE(b->wall_ns, 0);
    ASSERT_TRUE(cut.ok()) << cut.status().ToString();
    EXPECT_TRUE(cut->truncated);
    EXPECT_EQ(cut->walked, 10);
    // Gone: an error that says so.
    StatusOr<GoroutineWalk> gone = WalkGoroutines(pid, *binary, GoroutineWalkLimits());
    EXPECT_FALSE(gone.ok());
  }
}

TEST(GoroutineWalkTest, PlausibleStatuses) {
  for (uint32_t s = 0; s <= 9; ++s) {
    EXPECT_TRUE(PlausibleGStatus(s));
    EXPECT_TRUE(PlausibleGStatus(s | 0x1000));
  }
  EXPECT_FALSE(PlausibleGStatus(10));
  EXPECT_FALSE(PlausibleGStatus(0xdeadbeef));
}

}  // namespace
}  // namespace gcpilot::proc
