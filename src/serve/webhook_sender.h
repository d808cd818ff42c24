// WebhookSender: POSTs JSON bodies to a configured http://host:port/path
// from a background thread, so the thread that has something to report
// (the ingest thread: breaker transitions, detector findings) never waits
// on the network. One class for every webhook of the agent ([breaker]
// webhook, [findings] webhook): each is a sender with its own name, queue
// and thread. The queue is bounded (kMaxQueued); a body that finds it full
// is dropped and counted. Each POST has connect/read/write timeouts;
// failures (no answer, or a status outside 2xx) are counted, not retried.
// WebhookMetrics exports the counters of every sender to /metrics.
//
// Thread-safety: Post() and the counters may be called from any thread.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace gcpilot::serve {

class WebhookSender {
 public:
  static constexpr size_t kMaxQueued = 256;
  static constexpr int kTimeoutS = 2;

  // Splits "http://host:port/path" into "http://host:port" and "/path"
  // ("/" when absent). InvalidArgument for anything else (https is not
  // supported: the agent is built without TLS).
  static Status SplitUrl(const std::string& url, std::string* scheme_host_port, std::string* path);

  // Starts the sender thread; `url` must pass SplitUrl. `name` labels its
  // counters ("breaker", "findings").
  static StatusOr<std::unique_ptr<WebhookSender>> Start(const std::string& name,
                                                        const std::string& url);
  // Stops the thread; bodies still queued are dropped (not counted).
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Queues one JSON body; never blocks. False (counted in dropped()) when
  // the queue is full.
  bool Post(std::string body);

  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return failed_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // {"url", "sent", "failed", "dropped"}: the "webhook" object of the JSON
  // API (/api/v1/findings, /api/v1/breaker); null for no sender.
  static nlohmann::json Json(const WebhookSender* sender);

 private:
  WebhookSender(std::string name, std::string url, std::string host, std::string path);
  void Run();

  const std::string name_;
  const std::string url_;
  const std::string host_;
  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

// gcpilot_webhook_posts_total{webhook="<name>", result="sent|failed|dropped"}
// for each sender, read at scrape time. The senders must outlive it (or be
// removed from /metrics with it).
class WebhookMetrics final : public prometheus::Collectable {
 public:
  void Add(const WebhookSender* sender);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::vector<const WebhookSender*> senders_;
};

}  // namespace gcpilot::serve
