// Tests of the serve config file and duration parsing.
#include "serve/serve_config.h"

#include <gtest/gtest.h>

namespace gcpilot::serve {
namespace {

TEST(ServeConfig, ParsesDurations) {
  EXPECT_EQ(*ParseDuration("5ms"), 5'000'000);
  EXPECT_EQ(*ParseDuration("250us"), 250'000);
  EXPECT_EQ(*ParseDuration("1.5s"), 1'500'000'000);
  EXPECT_EQ(*ParseDuration("30m"), 1'800'000'000'000);
  EXPECT_EQ(*ParseDuration("1h"), 3'600'000'000'000);
  EXPECT_EQ(*ParseDuration("7d"), 7 * 86'400'000'000'000);
  for (const char* bad : {"", "5", "ms", "5 ms", "-1s", "5x", "nans", "1e400s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDuration(5'000'000), "5ms");
  EXPECT_EQ(FormatDuration(3'600'000'000'000), "1h");
}

TEST(ServeConfig, DefaultsAreValidAndLoopback) {
  ServeConfig c;
  EXPECT_TRUE(ValidateServeConfig(c).ok());
  EXPECT_EQ(c.listen, "127.0.0.1:9464");
  EXPECT_EQ(c.slo_pause_ns, 5'000'000);
}

TEST(ServeConfig, ReadsEveryOption) {
  StatusOr<ServeConfig> c = ParseServeConfig(R"(
listen = "0.0.0.0:9999"
slo_pause = "2ms"
retention = "30m"
max_cycles_per_process = 100
max_processes = 10
exited_retention = "1m"
store = "/var/lib/gcpilot/history.db"
store_retention = "2d"
token_file = "/etc/gcpilot/token"
max_stream_clients = 5
http_threads = 16
[watch]
pids = [1, 2]
exes = ["/usr/bin/api"]
)",
                                             "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->listen, "0.0.0.0:9999");
  EXPECT_EQ(c->slo_pause_ns, 2'000'000);
  EXPECT_EQ(c->retention_ns, 1'800'000'000'000);
  EXPECT_EQ(c->max_cycles_per_process, 100);
  EXPECT_EQ(c->max_processes, 10);
  EXPECT_EQ(c->exited_retention_ns, 60'000'000'000);
  EXPECT_EQ(c->store, "/var/lib/gcpilot/history.db");
  EXPECT_EQ(c->store_retention_ns, 2 * 86'400'000'000'000);
  EXPECT_EQ(c->token_file, "/etc/gcpilot/token");
  EXPECT_EQ(c->max_stream_clients, 5);
  EXPECT_EQ(c->http_threads, 16);
  EXPECT_EQ(c->pids, (std::vector<pid_t>{1, 2}));
  EXPECT_EQ(c->exes, (std::vector<std::string>{"/usr/bin/api"}));
}

TEST(ServeConfig, ErrorsNameTheKeyAndLine) {
  auto err = [](const char* text) {
    StatusOr<ServeConfig> c = ParseServeConfig(text, "f.toml");
    EXPECT_FALSE(c.ok()) << text;
    return c.ok() ? std::string() : c.status().message();
  };
  EXPECT_NE(err("\nlisten_on = \"x\"").find("f.toml:2: unknown option 'listen_on'"),
            std::string::npos);
  EXPECT_NE(err("slo_pause = 5").find("'slo_pause' must be a duration"), std::string::npos);
  EXPECT_NE(err("slo_pause = \"5 parsecs\"").find("is not a duration"), std::string::npos);
  EXPECT_NE(err("max_processes = \"many\"").find("'max_processes' must be an integer"),
            std::string::npos);
  EXPECT_NE(err("max_processes = 0").find("'max_processes' must be positive"), std::string::npos);
  EXPECT_NE(err("listen = \"localhost\"").find("must be host:port"), std::string::npos);
  EXPECT_NE(err("listen = = 3").find("f.toml:1:"), std::string::npos);
  EXPECT_NE(err("[watch]\npids = [-3]").find("positive pids"), std::string::npos);
  EXPECT_NE(err("[watch]\nuser = 1").find("unknown key 'watch.user'"), std::string::npos);
  EXPECT_NE(err("max_stream_clients = 500").find("below 'http_threads'"), std::string::npos);
}

TEST(ServeConfig, ReadsDetectorThresholds) {
  StatusOr<ServeConfig> c = ParseServeConfig(R"(
[detectors]
trend_min_span = "15s"
creation_sites_duration = "2m"
creation_sites_interval = "2s"
creation_sites_max_goroutines = 5000
fragmentation_ratio = 3
fragmentation_min_excess_mib = 64
finalizer_window = "90s"
)",
                                             "f.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const DetectorsConfig& d = c->detectors;
  EXPECT_EQ(d.trend_min_span_ns, 15'000'000'000);
  EXPECT_EQ(d.creation_sites_duration_ns, 120'000'000'000);
  EXPECT_EQ(d.creation_sites_interval_ns, 2'000'000'000);
  EXPECT_EQ(d.creation_sites_max_goroutines, 5000);
  EXPECT_EQ(d.fragmentation_ratio, 3.0);
  EXPECT_EQ(d.fragmentation_min_excess_mib, 64);
  EXPECT_EQ(d.finalizer_window_ns, 90'000'000'000);
  EXPECT_FALSE(d.trend_window_ns.has_value());
  StatusOr<ServeConfig> bad = ParseServeConfig("[detectors]\nfragmentation = 2", "f.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown key 'detectors.fragmentation'"),
            std::string::npos);
  bad = ParseServeConfig("[detectors]\nfragmentation_ratio = \"x\"", "f.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must be a number"), std::string::npos);
}

TEST(ServeConfig, ReadsGctraceLogTargets) {
  StatusOr<ServeConfig> c = ParseServeConfig(R"(
[[gctrace]]
path = "/var/log/a.log"
[[gctrace]]
path = "/var/log/b.log"
name = "b"
pid = 77
)",
                                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->gctrace.size(), 2u);
  EXPECT_EQ(c->gctrace[0].path, "/var/log/a.log");
  EXPECT_EQ(c->gctrace[0].pid, 0);
  EXPECT_EQ(c->gctrace[1].name, "b");
  EXPECT_EQ(c->gctrace[1].pid, 77);
  for (const char* bad : {"[[gctrace]]\nname = \"x\"", "[[gctrace]]\npath = \"/a\"\npid = -1",
                          "[[gctrace]]\npath = \"/a\"\nfollow = true", "gctrace = 3"}) {
    EXPECT_FALSE(ParseServeConfig(bad, "t.toml").ok()) << bad;
  }
}

TEST(ServeConfig, FindingsWebhook) {
  EXPECT_EQ(ServeConfig{}.findings.webhook, "");
  StatusOr<ServeConfig> c =
      ParseServeConfig("[findings]\nwebhook = \"http://127.0.0.1:9/hooks\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->findings.webhook, "http://127.0.0.1:9/hooks");
  for (const char* bad : {"[findings]\nwebhook = \"https://x/\"\n", "[findings]\nwebhook = 1\n",
                          "[findings]\nurl = \"http://x/\"\n", "findings = 1\n"}) {
    c = ParseServeConfig(bad, "t.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("findings"), std::string::npos) << c.status().message();
  }
}

TEST(ServeConfig, MissingFileIsNotFound) {
  StatusOr<ServeConfig> c = LoadServeConfig("/nonexistent/gcpilot.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
}

TEST(ServeConfig, SplitsListenAddresses) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitListenAddress("[::1]:9464", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9464);
  EXPECT_FALSE(SplitListenAddress("127.0.0.1:70000", &host, &port).ok());
  EXPECT_FALSE(SplitListenAddress(":9464", &host, &port).ok());
}

}  // namespace
}  // namespace gcpilot::serve
