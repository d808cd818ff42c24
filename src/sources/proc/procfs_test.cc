// Tests for the /proc readers, on this very process and on fixed cgroup text.
#include "sources/proc/procfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

namespace gcpilot::proc {
namespace {

TEST(Procfs, ListsThisProcess) {
  std::vector<pid_t> pids = ListPids();
  EXPECT_TRUE(std::binary_search(pids.begin(), pids.end(), getpid()));
}

TEST(Procfs, ReadsOwnIdentity) {
  StatusOr<ProcessIdentity> id = ReadIdentity(getpid());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_FALSE(id->comm.empty());
  EXPECT_NE(id->exe_path.find("gcpilot_unit_tests"), std::string::npos) << id->exe_path;
  EXPECT_EQ(id->exe_open, "/proc/" + std::to_string(getpid()) + "/exe");
}

TEST(Procfs, VanishedProcessIsNotFound) {
  StatusOr<ProcessIdentity> id = ReadIdentity(1 << 29);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kNotFound);
}

TEST(Procfs, ContainerIdFromCgroupFormats) {
  const std::string id(64, 'a');
  EXPECT_EQ(ContainerIdFromCgroup("0::/system.slice/docker-" + id + ".scope\n"), id);
  EXPECT_EQ(ContainerIdFromCgroup("0::/kubepods.slice/kubepods-burstable.slice/"
                                  "kubepods-burstable-pod1234.slice/cri-containerd-" +
                                  id + ".scope\n"),
            id);
  EXPECT_EQ(ContainerIdFromCgroup("12:memory:/docker/" + id + "\n"), id);
  EXPECT_EQ(ContainerIdFromCgroup("0::/user.slice/user-0.slice/session-1.scope\n"), "");
  EXPECT_EQ(ContainerIdFromCgroup("0::/x/" + std::string(65, 'b') + "\n"), "");
}

}  // namespace
}  // namespace gcpilot::proc
