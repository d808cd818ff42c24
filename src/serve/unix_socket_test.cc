// Tests of the agent's unix socket: ListenUnixSocket's handling of stale
// and live socket files, other files and bad paths, the mode, and the HTTP
// routes served on the socket by AgentHttpServer (a raw HTTP/1.1 request,
// as cpp-httplib 0.11.4's client has no unix sockets).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "serve/agent_http.h"
#include "serve/serve_config.h"

namespace gcpilot::serve {
namespace {

std::string TempDirPath() {
  char tmpl[] = "/tmp/gcpilot-unix-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "";
}

int Connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string Get(const std::string& sock, const std::string& target) {
  int fd = Connect(sock);
  if (fd < 0) return "connect failed";
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: gcpilot\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "write failed";
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(UnixSocketTest, StaleReplacedLiveRefusedOtherFilesKept) {
  std::string dir = TempDirPath();
  ASSERT_FALSE(dir.empty());
  std::string path = dir + "/agent.sock";
  // A stale socket: bound, never listening (as after a crash).
  {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    close(fd);
  }
  StatusOr<int> fd = ListenUnixSocket(path, 0600);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Live: refused, the file stays.
  StatusOr<int> again = ListenUnixSocket(path, 0600);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("another process is listening"), std::string::npos);
  int c = Connect(path);
  EXPECT_GE(c, 0);
  if (c >= 0) close(c);
  close(*fd);
  unlink(path.c_str());
  // Not a socket: never removed.
  std::ofstream(dir + "/file") << "keep";
  StatusOr<int> file = ListenUnixSocket(dir + "/file", 0600);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("not a socket"), std::string::npos);
  EXPECT_EQ(access((dir + "/file").c_str(), F_OK), 0);
  unlink((dir + "/file").c_str());
  // Bad paths.
  EXPECT_FALSE(ListenUnixSocket("relative.sock", 0600).ok());
  EXPECT_FALSE(ListenUnixSocket("/" + std::string(200, 'x'), 0600).ok());
  EXPECT_FALSE(ListenUnixSocket(dir + "/missing-dir/agent.sock", 0600).ok());
  rmdir(dir.c_str());
}

TEST(UnixSocketTest, AgentServesTheSameRoutesAndRemovesTheFile) {
  std::string dir = TempDirPath();
  std::string path = dir + "/agent.sock";
  ServeModel model(ServeLimits{});
  MetricsExporter metrics("test", "ebpf");
  SseHub hub(4);
  AgentHttpDeps deps;
  deps.model = &model;
  deps.metrics = &metrics;
  deps.hub = &hub;
  deps.status = [] { return nlohmann::json{{"version", "test"}}; };
  deps.ready = [] { return true; };
  deps.alive = [] { return true; };
  deps.threads = 4;
  {
    AgentHttpServer http(deps);
    EXPECT_FALSE(http.StartUnix(path, 0660).ok());  // Before Start.
    ASSERT_TRUE(http.Start("127.0.0.1", 0).ok());
    ASSERT_TRUE(http.StartUnix(path, 0660).ok());
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    std::string status = Get(path, "/api/v1/status");
    EXPECT_NE(status.find("HTTP/1.1 200"), std::string::npos) << status;
    EXPECT_NE(status.find("\"version\":\"test\""), std::string::npos) << status;
    EXPECT_NE(Get(path, "/healthz").find("HTTP/1.1 200"), std::string::npos);
    EXPECT_NE(Get(path, "/metrics").find("gcpilot_agent_info"), std::string::npos);
    EXPECT_NE(Get(path, "/api/v1/processes/77").find("HTTP/1.1 404"), std::string::npos);
    http.Stop();
    EXPECT_NE(access(path.c_str(), F_OK), 0) << "the socket file stays after Stop";
  }
  rmdir(dir.c_str());
}

TEST(UnixSocketTest, Config) {
  StatusOr<ServeConfig> c = ParseServeConfig(
      "unix_socket = \"/run/gcpilot/agent.sock\"\nunix_socket_mode = 0o600\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->unix_socket, "/run/gcpilot/agent.sock");
  EXPECT_EQ(c->unix_socket_mode, 0600);
  EXPECT_EQ(ServeConfig{}.unix_socket, "");
  EXPECT_EQ(ServeConfig{}.unix_socket_mode, 0660);
  for (const char* bad : {"unix_socket = \"rel.sock\"\n", "unix_socket_mode = 0o1777\n",
                          "unix_socket_mode = -1\n", "unix_socket = 3\n"}) {
    EXPECT_FALSE(ParseServeConfig(bad, "t.toml").ok()) << bad;
  }
}

}  // namespace
}  // namespace gcpilot::serve
