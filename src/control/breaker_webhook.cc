// Background webhook sender for breaker transitions (see breaker_webhook.h).
#include "control/breaker_webhook.h"

#include <httplib.h>

namespace gcpilot::control {

Status BreakerWebhook::SplitUrl(const std::string& url, std::string* scheme_host_port,
                                std::string* path) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0 || url.size() == scheme.size()) {
    return Status::InvalidArgument("webhook '" + url + "' must be an http://host:port/path URL");
  }
  size_t slash = url.find('/', scheme.size());
  std::string host = url.substr(0, slash);
  if (host.size() == scheme.size() || host.find_first_of(" \t\r\n") != std::string::npos) {
    return Status::InvalidArgument("webhook '" + url + "' has no host");
  }
  *scheme_host_port = host;
  *path = slash == std::string::npos ? "/" : url.substr(slash);
  return Status::Ok();
}

StatusOr<std::unique_ptr<BreakerWebhook>> BreakerWebhook::Start(const std::string& url) {
  std::string host, path;
  Status s = SplitUrl(url, &host, &path);
  if (!s.ok()) return s;
  std::unique_ptr<BreakerWebhook> w(new BreakerWebhook(url, host, path));
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

BreakerWebhook::BreakerWebhook(std::string url, std::string host, std::string path)
    : url_(std::move(url)), host_(std::move(host)), path_(std::move(path)) {}

BreakerWebhook::~BreakerWebhook() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool BreakerWebhook::Post(std::string body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || queue_.size() >= kMaxQueued) {
      dropped_.fetch_add(1);
      return false;
    }
    queue_.push_back(std::move(body));
  }
  cv_.notify_one();
  return true;
}

void BreakerWebhook::Run() {
  httplib::Client client(host_);
  client.set_connection_timeout(kTimeoutS, 0);
  client.set_read_timeout(kTimeoutS, 0);
  client.set_write_timeout(kTimeoutS, 0);
  client.set_keep_alive(true);
  for (;;) {
    std::string body;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;  // Pending transitions are dropped at shutdown.
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    httplib::Result r = client.Post(path_, body, "application/json");
    if (r && r->status >= 200 && r->status < 300) {
      sent_.fetch_add(1);
    } else {
      failed_.fetch_add(1);
    }
  }
}

}  // namespace gcpilot::control
