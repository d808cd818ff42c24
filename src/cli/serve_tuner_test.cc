// Tests of the tuner inside serve: the [tuner] config table, and ServeTuner
// on a ServeModel (recommendation per live process, the API objects, the
// actuator's settings, the Prometheus families, forgetting exited ones).
#include "cli/serve_tuner.h"

#include <gtest/gtest.h>

#include "serve/serve_config.h"
#include "tune/policy.h"

namespace gcpilot::cli {
namespace {

GcCycle Cycle(uint64_t n, int64_t start_ns) {
  GcCycle c;
  c.number = n;
  c.start_ns = start_ns;
  c.sweep_term_ns = 40'000;
  c.mark_ns = 2'000'000;
  c.mark_term_ns = 60'000;
  c.gomaxprocs = 2;
  c.cpu.background_ns = 1'000'000;
  c.heap_live_bytes = 64 << 20;
  c.heap_goal_bytes = 128 << 20;
  c.allocated_bytes = 1 << 20;
  return c;
}

TEST(ServeTunerConfig, TunerTable) {
  StatusOr<serve::ServeConfig> c =
      serve::ParseServeConfig("[tuner]\npolicy = \"memory-headroom\"\napply = true\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tuner.policy, "memory-headroom");
  EXPECT_TRUE(c->tuner.apply);
  EXPECT_TRUE(serve::ValidateServeConfig(*c).ok());
  EXPECT_EQ(serve::ServeConfig{}.tuner.policy, "pause-deviation");
  EXPECT_FALSE(serve::ServeConfig{}.tuner.apply);
  c = serve::ParseServeConfig("[tuner]\napply = \"yes\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("tuner.apply"), std::string::npos);
  c = serve::ParseServeConfig("[tuner]\nrate = 1\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("tuner.rate"), std::string::npos);
  serve::ServeConfig bad;
  bad.tuner.policy = "jvm";
  EXPECT_FALSE(serve::ValidateServeConfig(bad).ok());
  // Every policy the tuner has is accepted by the config.
  for (const std::string& n : tune::PolicyNames()) {
    serve::ServeConfig ok;
    ok.tuner.policy = n;
    EXPECT_TRUE(serve::ValidateServeConfig(ok).ok()) << n;
  }
}

TEST(ServeTuner, StreamEventsOnChangeAndOnceAMinute) {
  serve::ServeModel model(serve::ServeLimits{});
  model.OnProcessSeen({7, 1}, ProcessInfo{"api", "/srv/api", "go1.23.5", "", 2}, 0);
  for (int i = 1; i <= 3; ++i) model.OnCycle({7, 1}, Cycle(i, i * 1'500'000'000LL));
  const int64_t now = 6'000'000'000;
  model.Tick(now, nullptr, nullptr);
  auto policy = tune::MakePolicy("pause-deviation");
  ASSERT_TRUE(policy.ok());
  ServeTuner tuner(std::shared_ptr<const tune::TunerPolicy>(std::move(*policy)), false,
                   serve::WallClockMap(0), nullptr,
                   tune::SystemRoots{"/nonexistent-proc", "/nonexistent-cgroup"});
  serve::SseHub hub(4);
  std::shared_ptr<serve::SseHub::Client> client = hub.Connect({}, "");
  tuner.PublishTo(&hub);
  auto events = [&] {
    std::string out;
    hub.Pump(
        *client,
        [&](const std::string& s) {
          out += s;
          return true;
        },
        0);
    size_t n = 0;
    for (size_t at = out.find("event: tuner"); at != std::string::npos;
         at = out.find("event: tuner", at + 1)) {
      ++n;
    }
    return n;
  };
  tuner.Tick(model, now);
  EXPECT_EQ(events(), 1u);
  // The same recommendation 5 s later (cycles keep coming): no event.
  for (int i = 4; i <= 7; ++i) model.OnCycle({7, 1}, Cycle(i, i * 1'500'000'000LL));
  model.Tick(now + ServeTuner::kPeriodNs, nullptr, nullptr);
  tuner.Tick(model, now + ServeTuner::kPeriodNs);
  EXPECT_EQ(events(), 0u);
  // A minute after the last event: sent again.
  tuner.Tick(model, now + ServeTuner::kRepublishNs, /*force=*/true);
  EXPECT_EQ(events(), 1u);
  hub.Shutdown();
}

TEST(ServeTuner, RecommendsPerLiveProcessAndForgetsExitedOnes) {
  serve::ServeModel model(serve::ServeLimits{});
  serve::MetricsExporter metrics("test", "ebpf");
  model.AddListener(&metrics);
  model.OnProcessSeen({7, 1}, ProcessInfo{"api", "/srv/api", "go1.23.5", "", 2}, 0);
  for (int i = 1; i <= 3; ++i) model.OnCycle({7, 1}, Cycle(i, i * 1'500'000'000LL));
  const int64_t now = 6'000'000'000;
  model.Tick(now, nullptr, nullptr);
  tune::SystemRoots roots{"/nonexistent-proc", "/nonexistent-cgroup"};
  auto policy = tune::MakePolicy("pause-deviation");
  ASSERT_TRUE(policy.ok());
  auto tuner =
      std::make_shared<ServeTuner>(std::shared_ptr<const tune::TunerPolicy>(std::move(*policy)),
                                   /*apply=*/true, serve::WallClockMap(0), &metrics, roots);
  EXPECT_TRUE(tuner->ProcessJson({7, 1}).is_null());
  serve::SseHub hub(4);
  std::shared_ptr<serve::SseHub::Client> client = hub.Connect({7}, "");
  ASSERT_NE(client, nullptr);
  tuner->PublishTo(&hub);
  tuner->Tick(model, now);
  nlohmann::json j = tuner->ProcessJson({7, 1});
  // One `tuner` stream event per process and run, carrying the same object.
  std::string streamed;
  hub.Pump(
      *client,
      [&](const std::string& s) {
        streamed += s;
        return true;
      },
      0);
  EXPECT_NE(streamed.find("event: tuner\ndata: {\"comm\":\"api\",\"generation\":1,\"pid\":7,"
                          "\"tuner\":{"),
            std::string::npos)
      << streamed;
  EXPECT_NE(streamed.find("\"gogc\":200"), std::string::npos) << streamed;
  hub.Shutdown();
  ASSERT_TRUE(j.contains("recommendation")) << j.dump();
  EXPECT_EQ(j["policy"], "pause-deviation");
  EXPECT_EQ(j["recommendation"]["gogc"], 200);  // 100 / 0.5 (tiny pauses).
  EXPECT_TRUE(j["apply"].get<bool>());
  EXPECT_FALSE(j["inputs"]["cgroup"]["error"].get<std::string>().empty());
  std::optional<TunerSettings> s = tuner->Settings(7);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->gogc, 200);
  EXPECT_TRUE(s->apply);
  EXPECT_EQ(s->revision, 1u);
  EXPECT_FALSE(tuner->Settings(8).has_value());
  nlohmann::json all = tuner->AllJson();
  ASSERT_EQ(all["processes"].size(), 1u);
  EXPECT_EQ(all["processes"][0]["comm"], "api");
  std::string text = metrics.Render();
  EXPECT_NE(text.find("gcpilot_tuner_recommended_gogc{binary=\"api\",comm=\"api\",container=\"\","
                      "go_version=\"go1.23.5\",pid=\"7\",policy=\"pause-deviation\"} 200"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gcpilot_tuner_recommended_memory_limit_bytes{"), std::string::npos);
  // Within the period nothing runs again; after the exit it is forgotten.
  model.OnProcessExited({7, 1}, ProcessExited{}, now + 1);
  tuner->Tick(model, now + 1'000'000'000);
  EXPECT_FALSE(tuner->ProcessJson({7, 1}).is_null());
  tuner->Tick(model, now + ServeTuner::kPeriodNs);
  EXPECT_TRUE(tuner->ProcessJson({7, 1}).is_null());
  EXPECT_FALSE(tuner->Settings(7).has_value());
}

TEST(ServeTuner, PolicyErrorsAreShownNotFatal) {
  serve::ServeModel model(serve::ServeLimits{});
  model.OnProcessSeen({9, 1}, ProcessInfo{"idle", "/idle", "go1.23.5", "", 2}, 0);
  model.Tick(1'000'000'000, nullptr, nullptr);
  auto policy = tune::MakePolicy("memory-headroom");
  ASSERT_TRUE(policy.ok());
  ServeTuner tuner(std::shared_ptr<const tune::TunerPolicy>(std::move(*policy)), false,
                   serve::WallClockMap(0), nullptr,
                   tune::SystemRoots{"/nonexistent", "/nonexistent"});
  tuner.Tick(model, 1'000'000'000);
  nlohmann::json j = tuner.ProcessJson({9, 1});
  ASSERT_TRUE(j.contains("error")) << j.dump();
  EXPECT_EQ(j["error"]["code"], "unavailable");
  EXPECT_FALSE(tuner.Settings(9).has_value());
}

}  // namespace
}  // namespace gcpilot::cli
