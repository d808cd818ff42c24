// Unit tests of the control side: [breaker] config, token handling,
// pid-namespace resolution on a fake /proc, the breaker service fed by a
// real ServeModel, and the control API's JSON.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "control/breaker_service.h"
#include "control/control_api.h"
#include "control/control_token.h"
#include "control/pidns_resolver.h"
#include "serve/serve_config.h"
#include "serve/serve_model.h"

namespace gcpilot::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000 * kMs;

fs::path TempDir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("gcpilot_control_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(BreakerConfigTest, ReadsTheBreakerSection) {
  auto c = serve::ParseServeConfig(
      "slo_pause = \"4ms\"\n[breaker]\nthreshold = \"7ms\"\nwindow = \"10s\"\n"
      "cool_down = \"3s\"\nrecovery_windows = 5\nwebhook = \"http://127.0.0.1:1/hook\"\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->breaker.threshold_ns, 7 * kMs);
  EXPECT_EQ(c->breaker.window, "10s");
  EXPECT_EQ(c->breaker.cool_down_ns, 3 * kS);
  EXPECT_EQ(c->breaker.recovery_windows, 5);
  EXPECT_EQ(c->breaker.webhook, "http://127.0.0.1:1/hook");
  auto d = serve::ParseServeConfig("", "d.toml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->breaker.threshold_ns, 0) << "0: slo_pause";
  EXPECT_EQ(d->breaker.cool_down_ns, 10 * kS);
  EXPECT_EQ(d->breaker.recovery_windows, 3);
}

TEST(BreakerConfigTest, AbsurdValuesAreErrors) {
  for (const char* bad : {"[breaker]\nthreshold = \"0ms\"\n", "[breaker]\nthreshold = \"-5ms\"\n",
                          "[breaker]\nthreshold = \"2m\"\n", "[breaker]\nwindow = \"3s\"\n",
                          "[breaker]\ncool_down = \"0s\"\n", "[breaker]\nrecovery_windows = 0\n",
                          "[breaker]\nwebhook = \"ftp://x/\"\n", "[breaker]\nbogus = 1\n",
                          "slo_pause = \"5m\"\n", "breaker = 3\n"}) {
    auto c = serve::ParseServeConfig(bad, "bad.toml");
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_NE(c.status().message().find("bad.toml"), std::string::npos);
    }
  }
}

TEST(ControlTokenTest, LoadsAndCompares) {
  fs::path d = TempDir("token");
  Write(d / "t", "  s3cret\n");
  chmod((d / "t").c_str(), 0600);
  auto t = LoadToken((d / "t").string());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t, "s3cret");
  Write(d / "empty", "\n");
  chmod((d / "empty").c_str(), 0600);
  EXPECT_FALSE(LoadToken((d / "empty").string()).ok());
  chmod((d / "t").c_str(), 0644);
  EXPECT_FALSE(LoadToken((d / "t").string()).ok()) << "world-readable";
  EXPECT_EQ(LoadToken((d / "missing").string()).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(BearerMatches("Bearer s3cret", "s3cret"));
  EXPECT_FALSE(BearerMatches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(BearerMatches("Bearer s3cretX", "s3cret"));
  EXPECT_FALSE(BearerMatches("bearer s3cret", "s3cret"));
  EXPECT_FALSE(BearerMatches("Bearer ", ""));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("a", ""));
  fs::remove_all(d);
}

// A fake /proc: host pid 500 is pid 7 in namespace 111; host pid 600 is pid
// 7 in namespace 222; the agent is in namespace 999.
TEST(PidNsResolverTest, MapsNamespacePidsToHostPids) {
  fs::path d = TempDir("proc");
  auto proc = [&](const std::string& entry, const std::string& nspid, uint64_t ns) {
    Write(d / entry / "status", "Name:\tx\nNSpid:\t" + nspid + "\n");
    fs::create_directories(d / entry / "ns");
    fs::create_symlink("pid:[" + std::to_string(ns) + "]", d / entry / "ns" / "pid");
  };
  proc("self", "42", 999);
  proc("42", "42", 999);
  proc("500", "500\t7", 111);
  proc("600", "600 7", 222);
  PidNsResolver r(d.string());
  EXPECT_EQ(*r.Resolve(42, 0), 42);
  EXPECT_EQ(*r.Resolve(42, 999), 42);
  EXPECT_EQ(r.Resolve(43, 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*r.Resolve(7, 111), 500);
  EXPECT_EQ(*r.Resolve(7, 222), 600);
  uint64_t scans = r.scans();
  EXPECT_EQ(*r.Resolve(7, 111), 500);
  EXPECT_EQ(r.scans(), scans) << "cached";
  // The pid was reused by another namespace's process: the cache is checked.
  fs::remove_all(d / "500");
  EXPECT_EQ(r.Resolve(7, 111).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.Resolve(8, 222).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*PidNsResolver::ParseNsLink("pid:[4026531836]"), 4026531836u);
  EXPECT_FALSE(PidNsResolver::ParseNsLink("net:[1]").ok());
  EXPECT_FALSE(PidNsResolver::ParseNsLink("pid:[]").ok());
  fs::remove_all(d);
}

TEST(PidNsResolverTest, RealProcFindsItself) {
  PidNsResolver r;
  char buf[64];
  ssize_t n = readlink("/proc/self/ns/pid", buf, sizeof(buf));
  ASSERT_GT(n, 0);
  auto inode = PidNsResolver::ParseNsLink(std::string(buf, static_cast<size_t>(n)));
  ASSERT_TRUE(inode.ok());
  EXPECT_EQ(*r.Resolve(getpid(), *inode), getpid());
}

class BreakerServiceTest : public testing::Test {
 protected:
  BreakerServiceTest() : model_(serve::ServeLimits{}), hub_(4) {
    BreakerParams p;
    p.cool_down_ns = 2 * kS;
    service_ = std::make_unique<BreakerService>(p, serve::WallClockMap(0), &hub_, nullptr);
    model_.AddListener(service_.get());
    ProcessInfo info;
    info.comm = "api";
    info.exe = "/srv/bin/api";
    model_.OnProcessSeen(key_, info, 1 * kS);
    model_.OnProcessSeen(other_, info, 1 * kS);
    model_.Tick(1 * kS, none_, zero_);
  }

  void Stop(int64_t start_ns, int64_t duration_ns) {
    StwPause s;
    s.kind = StwKind::kOther;
    s.reason = StwReason::kAllGoroutinesStack;
    s.start_ns = start_ns;
    s.duration_ns = duration_ns;
    model_.OnPause(key_, s);
  }

  std::function<std::optional<proc::RuntimeGauges>(int32_t)> none_ = [](int32_t) {
    return std::nullopt;
  };
  std::function<uint64_t(int32_t)> zero_ = [](int32_t) { return uint64_t{0}; };
  serve::ServeModel model_;
  serve::SseHub hub_;
  std::unique_ptr<BreakerService> service_;
  ProcessKey key_{4242, 1};
  ProcessKey other_{4343, 2};
};

TEST_F(BreakerServiceTest, LongStopTripsAtOnceAndRecovers) {
  auto client = hub_.Connect({}, "");
  EXPECT_EQ(service_->Ready("api").status, 200);
  EXPECT_EQ(service_->Ready("4242").status, 200);
  EXPECT_EQ(service_->Ready("nosuch").status, 404);
  Stop(1200 * kMs, 30 * kMs);
  // Before any window completes: the fast path.
  EXPECT_EQ(service_->ProcessJson(key_)["state"], "open");
  auto r = service_->Ready("4242");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("STW P99 30ms > threshold 5ms"), std::string::npos) << r.body;
  EXPECT_EQ(service_->Ready("api").status, 503) << "the service is as bad as its worst process";
  EXPECT_EQ(service_->Ready("4343").status, 200);
  json all = service_->AllJson(2 * kS);
  EXPECT_EQ(all["services"][0]["state"], "open");
  EXPECT_EQ(all["services"][0]["open_pids"], json::array({4242}));
  // Windows pass: HALF_OPEN 2 s after the last unhealthy window, then 3
  // healthy windows close it.
  for (int64_t t = 2 * kS; t <= 8 * kS; t += 500 * kMs) model_.Tick(t, none_, zero_);
  EXPECT_EQ(service_->ProcessJson(key_)["state"], "closed");
  EXPECT_EQ(service_->ProcessJson(key_)["transitions"], 3);
  all = service_->AllJson(8 * kS);
  json history = all["processes"][0]["history"];
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0]["to"], "open");
  EXPECT_EQ(history[0]["p99_ms"], 30.0);
  EXPECT_EQ(history[1]["to"], "half_open");
  EXPECT_EQ(history[2]["to"], "closed");
  // Each transition was an SSE event.
  std::string events;
  hub_.Pump(
      *client,
      [&](const std::string& s) {
        events += s;
        return true;
      },
      0);
  size_t n = 0;
  for (size_t at = events.find("event: breaker"); at != std::string::npos;
       at = events.find("event: breaker", at + 1)) {
    ++n;
  }
  EXPECT_EQ(n, 3u) << events;
  // Prometheus.
  bool seen_state = false;
  for (const auto& f : service_->registry()->Collect()) {
    if (f.name == "gcpilot_breaker_state") seen_state = f.metric.size() == 2;
    if (f.name == "gcpilot_breaker_transitions_total") {
      for (const auto& m : f.metric) EXPECT_EQ(m.counter.value, 1.0);
    }
  }
  EXPECT_TRUE(seen_state);
}

TEST_F(BreakerServiceTest, ANewGenerationTakesTheSeriesOver) {
  auto series = [&] {
    size_t n = 0;
    for (const auto& f : service_->registry()->Collect()) {
      if (f.name == "gcpilot_breaker_state") n = f.metric.size();
    }
    return n;
  };
  EXPECT_EQ(series(), 2u);
  ProcessInfo same;
  same.comm = "api";
  same.exe = "/srv/bin/api";
  model_.OnProcessSeen(ProcessKey{4242, 7}, same, 2 * kS);
  EXPECT_EQ(series(), 2u) << "same labels: one series";
  ProcessInfo other;
  other.comm = "worker";
  other.exe = "/srv/bin/worker";
  model_.OnProcessSeen(ProcessKey{4242, 8}, other, 3 * kS);
  EXPECT_EQ(series(), 2u) << "the exec'd-away generation's series is gone";
  EXPECT_EQ(service_->Ready("worker").status, 200);
}

TEST_F(BreakerServiceTest, ShortPausesNeverTrip) {
  for (int i = 0; i < 100; ++i) Stop(1 * kS + i * 10 * kMs, 2 * kMs);
  for (int64_t t = 1500 * kMs; t <= 4 * kS; t += 500 * kMs) model_.Tick(t, none_, zero_);
  EXPECT_EQ(service_->ProcessJson(key_)["state"], "closed");
  EXPECT_EQ(service_->ProcessJson(key_)["transitions"], 0);
}

TEST_F(BreakerServiceTest, ControlJsonWithAndWithoutTuner) {
  PidNsResolver resolver;
  ControlApiDeps deps;
  deps.breakers = service_.get();
  deps.resolver = &resolver;
  ControlApi api(deps);
  json j = api.ControlJson(4242);
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["breaker"]["state"], "closed");
  EXPECT_EQ(j["gc"]["apply"], false);
  EXPECT_TRUE(j["gc"]["gogc"].is_null());
  EXPECT_EQ(api.ControlJson(1)["breaker"]["state"], "closed") << "unknown: closed";
  deps.gc_settings = [](int32_t pid) -> std::optional<GcSettings> {
    if (pid != 4242) return std::nullopt;
    return GcSettings{50, 1 << 30, "pause-deviation", "pauses long", 7, true};
  };
  ControlApi tuned(deps);
  j = tuned.ControlJson(4242);
  EXPECT_EQ(j["gc"]["apply"], true);
  EXPECT_EQ(j["gc"]["gogc"], 50);
  EXPECT_EQ(j["gc"]["memory_limit_bytes"], 1 << 30);
  EXPECT_EQ(j["gc"]["revision"], 7);
  EXPECT_EQ(j["gc"]["policy"], "pause-deviation");
  EXPECT_FALSE(tuned.Actuator(4242));
}

}  // namespace
}  // namespace gcpilot::control
