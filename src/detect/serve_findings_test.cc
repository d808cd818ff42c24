// Unit tests of the detectors inside the serve agent: a finding raised from
// the model's windows reaches /api/v1/findings' JSON, the SSE hub and
// gcpilot_finding_active, and clears (metric 0) when the process exits.
#include "detect/serve_findings.h"

#include <gtest/gtest.h>

#include <string>

namespace gcpilot::detect {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

// The value of gcpilot_finding_active for `detector`, or -1 when absent.
double FindingMetric(const std::string& text, const std::string& detector) {
  size_t at = 0;
  while ((at = text.find("gcpilot_finding_active{", at)) != std::string::npos) {
    std::string line = text.substr(at, text.find('\n', at) - at);
    at += line.size();
    if (line.find("detector=\"" + detector + "\"") == std::string::npos) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

TEST(ServeFindingsTest, StormReachesApiStreamAndMetricsAndClearsOnExit) {
  serve::ServeModel model(serve::ServeLimits{});
  serve::MetricsExporter metrics("test", "ebpf");
  serve::SseHub hub(4);
  std::shared_ptr<serve::SseHub::Client> client = hub.Connect({}, "hello");
  ASSERT_NE(client, nullptr);
  DetectorEngine engine(MakeDetectors(DetectorConfig()),
                        {DataNeed::kAnySource, DataNeed::kEbpf, DataNeed::kGauges});
  ServeFindings findings(&engine, &hub, &metrics, serve::WallClockMap(0));
  model.AddListener(&metrics);
  model.AddListener(&findings);

  const ProcessKey key{77, 0};
  ProcessInfo info;
  info.comm = "stormy";
  info.gomaxprocs = 2;
  model.OnProcessSeen(key, info, 0);
  uint64_t n = 0;
  for (int64_t t = 40 * kMs; t <= 10 * kSec; t += 40 * kMs) {  // 100 MB/s, 25 GC/s.
    GcCycle c;
    c.number = ++n;
    c.sweep_term_ns = 50'000;
    c.mark_ns = 2 * kMs;
    c.mark_term_ns = 50'000;
    c.start_ns = t - c.sweep_term_ns - c.mark_ns - c.mark_term_ns;
    c.allocated_bytes = 4'000'000;
    c.heap_live_bytes = 4 << 20;
    c.gomaxprocs = 2;
    model.OnCycle(key, c);
    if (t % (500 * kMs) == 0) model.Tick(t, nullptr, nullptr);
  }
  nlohmann::json j = findings.FindingsJson(0, 10);
  ASSERT_EQ(j["active"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["active"][0]["detector"], "allocation_storm");
  EXPECT_EQ(j["active"][0]["comm"], "stormy");
  EXPECT_EQ(findings.FindingsJson(78, 10)["active"].size(), 0u);
  EXPECT_EQ(FindingMetric(metrics.Render(), "allocation_storm"), 1);
  std::string sent;
  hub.Pump(
      *client, [&](const std::string& s) { return sent += s, true; }, 0);
  EXPECT_NE(sent.find("event: finding"), std::string::npos) << sent;
  EXPECT_NE(sent.find("\"change\":\"raised\""), std::string::npos);

  model.OnProcessExited(key, ProcessExited{}, 10 * kSec + 1);
  j = findings.FindingsJson(0, 10);
  EXPECT_TRUE(j["active"].empty());
  ASSERT_EQ(j["recent"].size(), 1u);
  EXPECT_EQ(j["recent"][0]["clear_reason"], "process exited");
  EXPECT_EQ(FindingMetric(metrics.Render(), "allocation_storm"), 0);
  sent.clear();
  hub.Pump(
      *client, [&](const std::string& s) { return sent += s, true; }, 0);
  EXPECT_NE(sent.find("\"change\":\"cleared\""), std::string::npos) << sent;
  hub.Disconnect(client);
}

}  // namespace
}  // namespace gcpilot::detect
