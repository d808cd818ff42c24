// Test helper (header-only, used by *_test.cc only): locating the Go test
// programs built by tests/testprogs/build.sh, one directory per Go version
// (go1.19/steady, go1.19/steady-stripped, ...). The directory comes from
// the GCPILOT_TESTPROGS_DIR environment variable, else the build tree's
// testprogs/ (GCPILOT_DEFAULT_TESTPROGS_DIR, set by CMake for the build the
// test binary belongs to). When it is missing, tests using
// GCPILOT_REQUIRE_TESTPROGS fail if CI=true and are skipped otherwise.
// Thread-safety: free functions; call from the test thread.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace gcpilot::golang::testing {

inline std::string TestProgsDir() {
  const char* dir = std::getenv("GCPILOT_TESTPROGS_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
#ifdef GCPILOT_DEFAULT_TESTPROGS_DIR
  return GCPILOT_DEFAULT_TESTPROGS_DIR;
#else
  return "testprogs";  // Relative to the working directory.
#endif
}

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

struct TestProg {
  std::string go_dir;  // "go1.22".
  std::string name;    // "steady".
  bool stripped = false;
  std::string path;
  // "go1.22 steady-stripped", for failure messages.
  std::string label() const { return go_dir + " " + name + (stripped ? "-stripped" : ""); }
};

// Every go1.*/NAME and go1.*/NAME-stripped that exists, sorted by version.
inline std::vector<TestProg> FindTestProgs(const std::string& name = "steady") {
  std::vector<TestProg> progs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(TestProgsDir(), ec)) {
    const std::string dir = entry.path().filename().string();
    if (!entry.is_directory() || dir.rfind("go1.", 0) != 0) continue;
    for (bool stripped : {false, true}) {
      const auto path = entry.path() / (name + (stripped ? "-stripped" : ""));
      if (std::filesystem::is_regular_file(path)) {
        progs.push_back(TestProg{dir, name, stripped, path.string()});
      }
    }
  }
  std::sort(progs.begin(), progs.end(), [](const TestProg& a, const TestProg& b) {
    return a.go_dir != b.go_dir ? a.go_dir < b.go_dir : a.stripped < b.stripped;
  });
  return progs;
}

// Whether `go_version` ("go1.22.12") is what the directory says: a minor
// ("go1.22": any patch of it) or an exact patch ("go1.27.0").
inline bool VersionMatchesDir(const std::string& go_version, const std::string& go_dir) {
  return go_version == go_dir || go_version.rfind(go_dir + ".", 0) == 0;
}

// The minor version of "go1.22" (22), or -1.
inline int GoMinor(const std::string& go_dir) {
  if (go_dir.rfind("go1.", 0) != 0) return -1;
  return std::atoi(go_dir.c_str() + 4);
}

// Output of a shell command (stdout), or "" when it cannot run.
inline std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

}  // namespace gcpilot::golang::testing

// Declares `var` as FindTestProgs(name) and fails (CI=true) or skips the
// test when there are none.
#define GCPILOT_REQUIRE_TESTPROGS(var, name)                                                  \
  const auto var = ::gcpilot::golang::testing::FindTestProgs(name);                           \
  if (var.empty()) {                                                                          \
    const std::string gcpilot_msg_ = "no Go test programs named " + std::string(name) +       \
                                     " under " + ::gcpilot::golang::testing::TestProgsDir() + \
                                     " (set GCPILOT_TESTPROGS_DIR or run "                    \
                                     "tests/testprogs/build.sh)";                             \
    if (::gcpilot::golang::testing::InCi()) FAIL() << gcpilot_msg_;                           \
    GTEST_SKIP() << gcpilot_msg_;                                                             \
  }
