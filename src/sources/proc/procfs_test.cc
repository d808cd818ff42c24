// Tests for the /proc readers, on this very process, on fixed cgroup text
// and on a fake /proc tree (why a process's executable is unreadable).
#include "sources/proc/procfs.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

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

TEST(Procfs, ExplainsDeniedExeWithoutPtrace) {
  AccessFacts facts;
  facts.caller_effective = 0;
  EXPECT_EQ(ExplainDeniedExe(EACCES, facts),
            "Permission denied (EACCES): gcpilot lacks CAP_SYS_PTRACE (run as root or grant it)");
}

TEST(Procfs, ExplainsDeniedExeToRoot) {
  // Root in a sandbox: the sandbox's init holds a capability gcpilot lacks.
  AccessFacts facts;
  facts.caller_effective = 0x1fffeffffff;  // All but CAP_SYS_RESOURCE.
  facts.target_permitted = 0x1ffffffffff;
  facts.caller_pid_ns_depth = facts.target_pid_ns_depth = 1;
  facts.caller_uid_map = facts.target_uid_map = "0 0 4294967295\n";
  const std::string why = ExplainDeniedExe(EACCES, facts);
  EXPECT_EQ(why.rfind("Permission denied (EACCES): the kernel refused although gcpilot has "
                      "CAP_SYS_PTRACE; it holds capabilities gcpilot lacks (CAP_SYS_RESOURCE); ",
                      0),
            0u)
      << why;
  EXPECT_EQ(why.find("run as root or"), std::string::npos) << why;
  EXPECT_EQ(why.find("namespace"), std::string::npos) << why;

  facts.target_permitted = facts.caller_effective;
  facts.target_pid_ns_depth = 2;
  facts.target_uid_map = "0 100000 65536\n";
  const std::string ns = ExplainDeniedExe(EPERM, facts);
  EXPECT_NE(ns.find("(EPERM)"), std::string::npos) << ns;
  EXPECT_NE(ns.find("another user namespace, it is in another PID namespace"), std::string::npos)
      << ns;
  EXPECT_EQ(ns.find("capabilities gcpilot lacks"), std::string::npos) << ns;
}

TEST(Procfs, ReadsAccessFactsFromAProcTree) {
  std::string root = (std::filesystem::temp_directory_path() / "gcpilot-proc-XXXXXX").string();
  ASSERT_NE(::mkdtemp(root.data()), nullptr);
  std::filesystem::create_directories(root + "/self");
  std::filesystem::create_directories(root + "/42");
  std::ofstream(root + "/self/status")
      << "Name:\tgcpilot\nNSpid:\t900\nCapEff:\t0000000000080000\n";
  std::ofstream(root + "/42/status") << "Name:\tinit\nNSpid:\t42\t1\nCapPrm:\t0000000001000000\n";
  std::ofstream(root + "/self/uid_map") << "0 0 4294967295\n";
  std::ofstream(root + "/42/uid_map") << "0 0 4294967295\n";
  const AccessFacts facts = ReadAccessFacts(42, root);
  EXPECT_EQ(facts.caller_effective, uint64_t{1} << 19);
  EXPECT_EQ(facts.target_permitted, uint64_t{1} << 24);
  EXPECT_EQ(facts.caller_pid_ns_depth, 1u);
  EXPECT_EQ(facts.target_pid_ns_depth, 2u);
  EXPECT_EQ(facts.caller_uid_map, facts.target_uid_map);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace gcpilot::proc
