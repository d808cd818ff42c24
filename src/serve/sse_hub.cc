// Server-sent events fan-out (see sse_hub.h).
#include "serve/sse_hub.h"

#include <algorithm>
#include <chrono>

namespace gcpilot::serve {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SseHub::SseHub(size_t max_clients) : max_clients_(max_clients) {}

SseHub::~SseHub() { Shutdown(); }

std::string SseHub::Format(uint64_t id, const std::string& event, const std::string& data) {
  std::string out = "id: " + std::to_string(id) + "\nevent: " + event + "\n";
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    out += "data: ";
    out.append(data, start, nl == std::string::npos ? std::string::npos : nl - start);
    out += '\n';
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

std::shared_ptr<SseHub::Client> SseHub::Connect(std::set<int32_t> pids, const std::string& first) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_ || clients_.size() >= max_clients_) {
    ++stats_.refused_clients;
    return nullptr;
  }
  auto c = std::make_shared<Client>(std::move(pids));
  c->last_write_ms_ = NowMs();
  if (!first.empty()) {
    c->queue_.push_back(std::make_shared<const std::string>(first));
    c->queued_bytes_ = first.size();
  }
  clients_.push_back(c);
  client_count_ = clients_.size();
  return c;
}

void SseHub::Disconnect(const std::shared_ptr<Client>& client) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    clients_.erase(std::remove(clients_.begin(), clients_.end(), client), clients_.end());
    client_count_ = clients_.size();
  }
  std::lock_guard<std::mutex> lock(client->mu_);
  client->closed_ = true;
  client->queue_.clear();
  client->queued_bytes_ = 0;
}

void SseHub::Publish(int32_t pid, const std::string& event, const std::string& data) {
  std::vector<std::shared_ptr<Client>> targets;
  std::shared_ptr<const std::string> msg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return;
    msg = std::make_shared<const std::string>(Format(next_id_++, event, data));
    ++stats_.messages;
    for (const auto& c : clients_) {
      if (pid == 0 || c->pids_.empty() || c->pids_.count(pid) > 0) targets.push_back(c);
    }
  }
  uint64_t cut = 0;
  for (const auto& c : targets) {
    std::lock_guard<std::mutex> lock(c->mu_);
    if (c->cut_off_ || c->closed_) continue;
    if (c->queue_.size() >= kMaxQueuedMessages ||
        c->queued_bytes_ + msg->size() > kMaxQueuedBytes) {
      c->cut_off_ = true;
      c->queue_.clear();
      c->queued_bytes_ = 0;
      ++cut;
      c->cv_.notify_one();
    } else {
      c->queue_.push_back(msg);
      c->queued_bytes_ += msg->size();
      // Only the first event of a batch wakes the client (see kBatchMs).
      if (c->queue_.size() == 1) c->cv_.notify_one();
    }
  }
  if (cut > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.dropped_clients += cut;
  }
}

bool SseHub::Pump(Client& c, const std::function<bool(const std::string&)>& write, int wait_ms) {
  std::deque<std::shared_ptr<const std::string>> batch;
  {
    std::unique_lock<std::mutex> lock(c.mu_);
    c.cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                   [&] { return !c.queue_.empty() || c.cut_off_ || c.closed_; });
    if (c.cut_off_ || c.closed_) return false;
    if (!c.queue_.empty() && wait_ms > 0) {
      c.cv_.wait_for(lock, std::chrono::milliseconds(kBatchMs),
                     [&] { return c.cut_off_ || c.closed_; });
      if (c.cut_off_ || c.closed_) return false;
    }
    batch.swap(c.queue_);
    c.queued_bytes_ = 0;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return false;
  }
  int64_t now = NowMs();
  if (batch.empty()) {
    if (now - c.last_write_ms_ < kKeepaliveMs) return true;
    c.last_write_ms_ = now;
    return write(": keepalive\n\n");
  }
  std::string out;
  for (const auto& m : batch) out += *m;
  c.last_write_ms_ = now;
  return write(out);
}

void SseHub::Shutdown() {
  std::vector<std::shared_ptr<Client>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    all = clients_;
  }
  for (const auto& c : all) {
    std::lock_guard<std::mutex> lock(c->mu_);
    c->closed_ = true;
    c->cv_.notify_all();
  }
}

SseHub::Stats SseHub::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.clients = clients_.size();
  return s;
}

}  // namespace gcpilot::serve
