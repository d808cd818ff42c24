// Unit tests of the cgroup (v1, v2) and node memory readers on fake trees.
#include "tune/memory_sources.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gcpilot::tune {
namespace {

namespace fs = std::filesystem;

class TuneMemorySourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("gcpilot-tune-test-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    roots_.proc = (root_ / "proc").string();
    roots_.cgroup = (root_ / "cg").string();
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  fs::path root_;
  SystemRoots roots_;
};

TEST(ParsePsi, SomeAvg10) {
  EXPECT_DOUBLE_EQ(*ParsePsiSomeAvg10("some avg10=12.34 avg60=1.00 avg300=0.00 total=5\n"
                                      "full avg10=3.00 avg60=0.00 avg300=0.00 total=1\n"),
                   12.34);
  EXPECT_FALSE(ParsePsiSomeAvg10("garbage").has_value());
}

TEST(ParseProcCgroup, V1AndV2) {
  CgroupPaths p = ParseProcCgroup("4:memory:/process_api/abc\n1:cpu:/\n0::/\n");
  EXPECT_TRUE(p.has_v1_memory);
  EXPECT_EQ(p.v1_memory, "/process_api/abc");
  EXPECT_TRUE(p.has_v2);
  p = ParseProcCgroup("0::/system.slice/svc.service\n");
  EXPECT_FALSE(p.has_v1_memory);
  EXPECT_EQ(p.v2, "/system.slice/svc.service");
}

TEST_F(TuneMemorySourcesTest, V2EffectiveLimitIsTheSmallestAncestor) {
  Write("proc/42/cgroup", "0::/kubepods/pod1/ctr\n");
  Write("cg/kubepods/pod1/ctr/memory.max", "max\n");
  Write("cg/kubepods/pod1/memory.max", "536870912\n");
  Write("cg/kubepods/memory.max", "1073741824\n");
  Write("cg/kubepods/pod1/ctr/memory.current", "1000\n");
  Write("cg/kubepods/pod1/ctr/memory.peak", "2000\n");
  Write("cg/kubepods/pod1/ctr/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  Write("cg/kubepods/pod1/ctr/memory.pressure",
        "some avg10=7.50 avg60=0 avg300=0 total=1\nfull avg10=0 avg60=0 avg300=0 total=0\n");
  StatusOr<CgroupMemory> m = ReadCgroupMemory(42, roots_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 2);
  EXPECT_EQ(m->path, "/kubepods/pod1/ctr");
  EXPECT_EQ(*m->limit_bytes, 536870912);
  EXPECT_NE(m->limit_file.find("pod1/memory.max"), std::string::npos);
  EXPECT_EQ(*m->usage_bytes, 1000);
  EXPECT_EQ(*m->peak_bytes, 2000);
  EXPECT_EQ(*m->oom_kills, 1u);
  EXPECT_DOUBLE_EQ(*m->psi_some_avg10, 7.5);
}

TEST_F(TuneMemorySourcesTest, V2NoLimit) {
  Write("proc/42/cgroup", "0::/svc\n");
  Write("cg/svc/memory.max", "max\n");
  StatusOr<CgroupMemory> m = ReadCgroupMemory(42, roots_);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->limit_bytes.has_value());
}

TEST_F(TuneMemorySourcesTest, V1LimitAndUnlimitedSentinel) {
  Write("proc/42/cgroup", "4:memory:/a/b\n0::/\n");
  Write("cg/memory/a/b/memory.limit_in_bytes", "268435456\n");
  Write("cg/memory/a/memory.limit_in_bytes", "9223372036854771712\n");
  Write("cg/memory/memory.limit_in_bytes", "9223372036854771712\n");
  Write("cg/memory/a/b/memory.usage_in_bytes", "100\n");
  Write("cg/memory/a/b/memory.max_usage_in_bytes", "200\n");
  Write("cg/memory/a/b/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  StatusOr<CgroupMemory> m = ReadCgroupMemory(42, roots_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 1);
  EXPECT_EQ(*m->limit_bytes, 268435456);
  EXPECT_EQ(*m->peak_bytes, 200);
  EXPECT_EQ(*m->oom_kills, 0u);
  Write("cg/memory/a/b/memory.limit_in_bytes", "9223372036854771712\n");
  m = ReadCgroupMemory(42, roots_);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->limit_bytes.has_value());
}

TEST_F(TuneMemorySourcesTest, VanishedProcessAndMissingController) {
  StatusOr<CgroupMemory> m = ReadCgroupMemory(77, roots_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("gone"), std::string::npos);
  Write("proc/42/cgroup", "1:cpu:/\n");
  m = ReadCgroupMemory(42, roots_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnavailable);
}

TEST_F(TuneMemorySourcesTest, NodeMemory) {
  Write("proc/meminfo", "MemTotal:       1000 kB\nMemFree: 10 kB\nMemAvailable:    250 kB\n");
  Write("proc/pressure/memory", "some avg10=0.50 avg60=0 avg300=0 total=0\n");
  StatusOr<NodeMemory> n = ReadNodeMemory(roots_);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->total_bytes, 1024000);
  EXPECT_DOUBLE_EQ(n->used_share(), 0.75);
  EXPECT_DOUBLE_EQ(*n->psi_some_avg10, 0.5);
  fs::remove(root_ / "proc/meminfo");
  EXPECT_FALSE(ReadNodeMemory(roots_).ok());
}

}  // namespace
}  // namespace gcpilot::tune
