// SseHub: fans the agent's live events out to server-sent-event clients.
// The ingest thread publishes (formats each event once, then queues a
// shared pointer per client); each HTTP connection drains its own queue.
//
// A client that falls behind (more than kMaxQueuedMessages or
// kMaxQueuedBytes waiting) is cut off and counted, never slowing the
// publisher or the other clients; its browser's EventSource reconnects. At
// most max_clients are connected; more are refused (the HTTP layer answers
// 503). A client may ask for some pids only.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace gcpilot::serve {

class SseHub {
 public:
  static constexpr size_t kMaxQueuedMessages = 4096;
  static constexpr size_t kMaxQueuedBytes = 8u << 20;
  static constexpr int64_t kKeepaliveMs = 15'000;
  // A woken client waits this long for more events before writing, so a
  // burst costs one wakeup and one write per client, not one per event.
  static constexpr int kBatchMs = 5;

  struct Stats {
    uint64_t clients = 0;
    uint64_t dropped_clients = 0;  // Cut off for falling behind.
    uint64_t refused_clients = 0;
    uint64_t messages = 0;  // Events published.
  };

  class Client;

  explicit SseHub(size_t max_clients);
  ~SseHub();

  // A new client interested in `pids` (empty: all), with `first` queued
  // first (e.g. a "hello" event, already formatted). nullptr when full or
  // shut down.
  std::shared_ptr<Client> Connect(std::set<int32_t> pids, const std::string& first);
  void Disconnect(const std::shared_ptr<Client>& client);

  // Formats and queues an event for every client that wants `pid` (pid 0:
  // agent-wide events go to every client).
  void Publish(int32_t pid, const std::string& event, const std::string& data);

  // Writes whatever is queued for `client` through `write`, waiting up to
  // wait_ms for something to arrive (sending a keepalive comment when idle
  // for kKeepaliveMs) and then kBatchMs for more. Returns false when the client must be closed: cut
  // off, shut down, or `write` failed.
  bool Pump(Client& client, const std::function<bool(const std::string&)>& write, int wait_ms);

  // Wakes and ends every client (agent shutdown).
  void Shutdown();

  Stats stats() const;
  // Any client connected (cheap; publishers skip formatting otherwise).
  bool has_clients() const { return client_count_.load(std::memory_order_relaxed) > 0; }

  // "id: N\nevent: E\ndata: D\n\n" (D split on newlines into data lines).
  static std::string Format(uint64_t id, const std::string& event, const std::string& data);

 private:
  const size_t max_clients_;
  std::atomic<size_t> client_count_{0};
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Client>> clients_;
  bool shutdown_ = false;
  uint64_t next_id_ = 1;
  Stats stats_;
};

class SseHub::Client {
 public:
  explicit Client(std::set<int32_t> pids) : pids_(std::move(pids)) {}

 private:
  friend class SseHub;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  size_t queued_bytes_ = 0;
  bool cut_off_ = false;
  bool closed_ = false;
  int64_t last_write_ms_ = 0;
  const std::set<int32_t> pids_;
};

}  // namespace gcpilot::serve
