// Background webhook sender and its metrics (see webhook_sender.h).
#include "serve/webhook_sender.h"

#include <httplib.h>
#include <prometheus/metric_family.h>

namespace gcpilot::serve {

Status WebhookSender::SplitUrl(const std::string& url, std::string* scheme_host_port,
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

StatusOr<std::unique_ptr<WebhookSender>> WebhookSender::Start(const std::string& name,
                                                              const std::string& url) {
  std::string host, path;
  Status s = SplitUrl(url, &host, &path);
  if (!s.ok()) return s;
  std::unique_ptr<WebhookSender> w(new WebhookSender(name, url, host, path));
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

WebhookSender::WebhookSender(std::string name, std::string url, std::string host, std::string path)
    : name_(std::move(name)),
      url_(std::move(url)),
      host_(std::move(host)),
      path_(std::move(path)) {}

WebhookSender::~WebhookSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json WebhookSender::Json(const WebhookSender* sender) {
  if (sender == nullptr) return nullptr;
  return nlohmann::json{{"url", sender->url()},
                        {"sent", sender->sent()},
                        {"failed", sender->failed()},
                        {"dropped", sender->dropped()}};
}

bool WebhookSender::Post(std::string body) {
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

void WebhookSender::Run() {
  httplib::Client client(host_);
  client.set_connection_timeout(kTimeoutS, 0);
  client.set_read_timeout(kTimeoutS, 0);
  client.set_write_timeout(kTimeoutS, 0);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // Header and body go out as two writes.
  for (;;) {
    std::string body;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;  // Pending bodies are dropped at shutdown.
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

void WebhookMetrics::Add(const WebhookSender* sender) {
  std::lock_guard<std::mutex> lock(mu_);
  senders_.push_back(sender);
}

std::vector<prometheus::MetricFamily> WebhookMetrics::Collect() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (senders_.empty()) return {};
  prometheus::MetricFamily f;
  f.name = "gcpilot_webhook_posts_total";
  f.help =
      "Webhook bodies by outcome: sent (2xx), failed (no answer or another status, not "
      "retried), dropped (the queue of 256 was full)";
  f.type = prometheus::MetricType::Counter;
  for (const WebhookSender* s : senders_) {
    for (auto [result, value] : {std::pair<const char*, uint64_t>{"sent", s->sent()},
                                 {"failed", s->failed()},
                                 {"dropped", s->dropped()}}) {
      prometheus::ClientMetric m;
      m.label = {{"webhook", s->name()}, {"result", result}};
      m.counter.value = static_cast<double>(value);
      f.metric.push_back(std::move(m));
    }
  }
  return {std::move(f)};
}

}  // namespace gcpilot::serve
