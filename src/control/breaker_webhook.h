// BreakerWebhook: POSTs breaker transitions (JSON) to a configured
// http://host:port/path from a background thread, so the ingest thread
// never waits on the network. The queue is bounded (kMaxQueued); a
// transition that finds it full is dropped and counted. Each POST has
// connect/read/write timeouts; failures (no answer, or a status outside
// 2xx) are counted, not retried.
//
// Thread-safety: Post() and counters may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"

namespace gcpilot::control {

class BreakerWebhook {
 public:
  static constexpr size_t kMaxQueued = 256;
  static constexpr int kTimeoutS = 2;

  // Splits "http://host:port/path" into "http://host:port" and "/path"
  // ("/" when absent). InvalidArgument for anything else (https is not
  // supported: the agent is built without TLS).
  static Status SplitUrl(const std::string& url, std::string* scheme_host_port, std::string* path);

  // Starts the sender thread; `url` must pass SplitUrl.
  static StatusOr<std::unique_ptr<BreakerWebhook>> Start(const std::string& url);
  ~BreakerWebhook();
  BreakerWebhook(const BreakerWebhook&) = delete;
  BreakerWebhook& operator=(const BreakerWebhook&) = delete;

  // Queues one JSON body; never blocks. False (counted in dropped()) when
  // the queue is full.
  bool Post(std::string body);

  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return failed_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  const std::string& url() const { return url_; }

 private:
  BreakerWebhook(std::string url, std::string host, std::string path);
  void Run();

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

}  // namespace gcpilot::control
