// Tests of the shared webhook sender: URL checks, failures counted, a
// bounded queue that drops (never blocks) while the receiver hangs, bodies
// delivered in order to a real local HTTP receiver, and the counters in
// /metrics and the JSON API.
#include "serve/webhook_sender.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "serve/metrics_exporter.h"

namespace gcpilot::serve {
namespace {

TEST(WebhookSenderTest, SplitsUrlsAndCountsFailures) {
  std::string host, path;
  ASSERT_TRUE(WebhookSender::SplitUrl("http://127.0.0.1:8080/hooks/gc", &host, &path).ok());
  EXPECT_EQ(host, "http://127.0.0.1:8080");
  EXPECT_EQ(path, "/hooks/gc");
  ASSERT_TRUE(WebhookSender::SplitUrl("http://example:1", &host, &path).ok());
  EXPECT_EQ(path, "/");
  EXPECT_FALSE(WebhookSender::SplitUrl("https://x/", &host, &path).ok());
  EXPECT_FALSE(WebhookSender::SplitUrl("http:///x", &host, &path).ok());
  EXPECT_FALSE(WebhookSender::Start("findings", "ftp://x/").ok());
  // Nothing listens on port 1: the POST fails fast and is counted.
  auto w = WebhookSender::Start("breaker", "http://127.0.0.1:1/x");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->name(), "breaker");
  EXPECT_TRUE((*w)->Post("{}"));
  for (int i = 0; i < 100 && (*w)->failed() == 0; ++i) usleep(20'000);
  EXPECT_EQ((*w)->failed(), 1u);
  EXPECT_EQ((*w)->sent(), 0u);
  // The API's "webhook" object.
  EXPECT_EQ(WebhookSender::Json(w->get()),
            (nlohmann::json{
                {"url", "http://127.0.0.1:1/x"}, {"sent", 0}, {"failed", 1}, {"dropped", 0}}));
  EXPECT_TRUE(WebhookSender::Json(nullptr).is_null());
}

// A receiver whose handler blocks until released: the sender's one POST in
// flight waits, the queue fills to kMaxQueued and the rest is dropped; Post
// returns every time. Released, everything queued arrives, in order.
TEST(WebhookSenderTest, BoundedQueueDropsWhileTheReceiverHangsAndDeliversInOrder) {
  httplib::Server hook;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int entered = 0;
  std::vector<std::string> bodies;
  hook.Post("/f", [&](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    bodies.push_back(req.body);
    res.status = bodies.size() % 2 == 0 ? 500 : 200;  // Every second one "fails".
  });
  int port = hook.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { hook.listen_after_bind(); });
  const size_t n = WebhookSender::kMaxQueued + 50;
  {
    auto w = WebhookSender::Start("findings", "http://127.0.0.1:" + std::to_string(port) + "/f");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Post("0"));
    {
      // The first body is off the queue, its POST hangs in the receiver.
      std::unique_lock<std::mutex> lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return entered == 1; }));
    }
    size_t accepted = 0;
    for (size_t i = 1; i < n; ++i) accepted += (*w)->Post(std::to_string(i)) ? 1 : 0;
    EXPECT_GT((*w)->dropped(), 0u);
    EXPECT_LE(accepted, WebhookSender::kMaxQueued);
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
    EXPECT_EQ(accepted, WebhookSender::kMaxQueued);
    EXPECT_EQ((*w)->dropped(), n - 1 - WebhookSender::kMaxQueued);
    const uint64_t expected = 1 + accepted;
    for (int i = 0; i < 1000 && (*w)->sent() + (*w)->failed() < expected; ++i) usleep(10'000);
    EXPECT_EQ((*w)->sent() + (*w)->failed(), expected);
    EXPECT_GT((*w)->failed(), 0u);  // The receiver's 500s.

    WebhookMetrics m;
    m.Add(w->get());
    std::vector<prometheus::MetricFamily> fams = m.Collect();
    ASSERT_EQ(fams.size(), 1u);
    EXPECT_EQ(fams[0].name, "gcpilot_webhook_posts_total");
    ASSERT_EQ(fams[0].metric.size(), 3u);
    double dropped = -1;
    for (const auto& cm : fams[0].metric) {
      EXPECT_EQ(cm.label[0].name, "webhook");
      EXPECT_EQ(cm.label[0].value, "findings");
      if (cm.label[1].value == "dropped") dropped = cm.counter.value;
    }
    EXPECT_EQ(dropped, static_cast<double>((*w)->dropped()));
  }
  hook.stop();
  t.join();
  // Delivered in the order posted: "0", then 1..kMaxQueued.
  ASSERT_EQ(bodies.size(), 1 + WebhookSender::kMaxQueued);
  for (size_t i = 0; i < bodies.size(); ++i) EXPECT_EQ(bodies[i], std::to_string(i));
}

TEST(WebhookSenderTest, MetricsRenderThroughTheExporter) {
  MetricsExporter metrics("test", "ebpf");
  auto wm = std::make_shared<WebhookMetrics>();
  metrics.AddCollectable(wm);
  EXPECT_EQ(metrics.Render().find("gcpilot_webhook_posts_total"), std::string::npos);
  auto w = WebhookSender::Start("breaker", "http://127.0.0.1:1/x");
  ASSERT_TRUE(w.ok());
  wm->Add(w->get());
  std::string text = metrics.Render();
  EXPECT_NE(text.find("gcpilot_webhook_posts_total{webhook=\"breaker\",result=\"dropped\"} 0"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace gcpilot::serve
