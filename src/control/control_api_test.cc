// The control API over real HTTP (cpp-httplib server and client): token
// handling (403 without a token file, 401 for a wrong one), pid lookup,
// the applied report, /ready and /api/v1/breakers.
#include "control/control_api.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

namespace gcpilot::control {
namespace {

using nlohmann::json;

class ControlApiHttpTest : public testing::Test {
 protected:
  void Serve(const std::string& token) {
    service_ =
        std::make_unique<BreakerService>(BreakerParams{}, serve::WallClockMap(0), nullptr, nullptr);
    ControlApiDeps deps;
    deps.breakers = service_.get();
    deps.resolver = &resolver_;
    deps.token = token;
    api_ = std::make_unique<ControlApi>(deps);
    api_->Register(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ControlApiHttpTest() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Client Client() { return httplib::Client("127.0.0.1", port_); }

  PidNsResolver resolver_;
  std::unique_ptr<BreakerService> service_;
  std::unique_ptr<ControlApi> api_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ControlApiHttpTest, WithoutATokenFileControlIsForbidden) {
  Serve("");
  httplib::Client c = Client();
  auto r = c.Get("/api/v1/control?pid=1", {{"Authorization", "Bearer x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("no token configured: set token_file"), std::string::npos);
  auto p = c.Post("/api/v1/control/applied", "{}", "application/json");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 403);
}

TEST_F(ControlApiHttpTest, TokenPidAndAppliedReport) {
  Serve("t0ken");
  httplib::Client c = Client();
  auto none = c.Get("/api/v1/control?pid=1");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  auto wrong = c.Get("/api/v1/control?pid=1", {{"Authorization", "Bearer t0kem"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  httplib::Headers auth{{"Authorization", "Bearer t0ken"}};
  const std::string me = std::to_string(getpid());
  auto ok = c.Get("/api/v1/control?pid=" + me, auth);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  json j = json::parse(ok->body);
  EXPECT_EQ(j["pid"], getpid());
  EXPECT_EQ(j["breaker"]["state"], "closed");
  EXPECT_EQ(j["gc"]["apply"], false);
  EXPECT_EQ(j["gc"]["revision"], 0);
  ASSERT_TRUE(api_->Actuator(getpid()));
  EXPECT_FALSE(api_->Actuator(getpid())->applied_once);
  auto bad = c.Get("/api/v1/control?pid=abc", auth);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto gone = c.Get("/api/v1/control?pid=2147483000", auth);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);

  auto rep = c.Post("/api/v1/control/applied", auth,
                    "{\"pid\": " + me +
                        ", \"gogc\": 50, \"memory_limit_bytes\": 1073741824, \"revision\": 4,"
                        " \"previous_gogc\": 100, \"previous_memory_limit_bytes\": -1}",
                    "application/json");
  ASSERT_TRUE(rep);
  ASSERT_EQ(rep->status, 200) << rep->body;
  std::optional<ActuatorReport> a = api_->Actuator(getpid());
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->applied_once);
  EXPECT_EQ(a->gogc, 50);
  EXPECT_EQ(a->memory_limit_bytes, 1073741824);
  EXPECT_EQ(a->revision, 4u);
  EXPECT_EQ(a->previous_gogc, 100);
  auto junk = c.Post("/api/v1/control/applied", auth, "{\"pid\": \"x\"}", "application/json");
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->status, 400);
  auto notjson = c.Post("/api/v1/control/applied", auth, "nope", "application/json");
  ASSERT_TRUE(notjson);
  EXPECT_EQ(notjson->status, 400);

  serve::ProcessState p;
  p.key = ProcessKey{getpid(), 0};
  json pj;
  api_->AddProcessFields(p, pj);
  EXPECT_EQ(pj["actuator"]["gogc"], 50);
  EXPECT_EQ(pj["actuator"]["revision"], 4);
  EXPECT_TRUE(pj["breaker"].is_null()) << "not watched";
}

TEST_F(ControlApiHttpTest, ReadyAndBreakers) {
  Serve("");
  httplib::Client c = Client();
  auto r = c.Get("/ready/api");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  serve::ProcessState p;
  p.key = ProcessKey{77, 1};
  p.info.exe = "/bin/api";
  service_->OnProcess(p);
  r = c.Get("/ready/api");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/ready/77");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto b = c.Get("/api/v1/breakers");
  ASSERT_TRUE(b);
  json j = json::parse(b->body);
  EXPECT_EQ(j["processes"][0]["breaker"]["state"], "closed");
  EXPECT_EQ(j["services"][0]["binary"], "api");
  EXPECT_EQ(j["config"]["threshold_ms"], 5.0);
  EXPECT_TRUE(j["webhook"].is_null());
}

TEST(BreakerWebhookHttpTest, PostsTransitionsToTheUrl) {
  httplib::Server hook;
  std::mutex mu;
  std::vector<std::string> bodies;
  hook.Post("/hooks/gc", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(req.body);
    res.set_content("ok", "text/plain");
  });
  int port = hook.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { hook.listen_after_bind(); });
  {
    auto w = serve::WebhookSender::Start("breaker",
                                         "http://127.0.0.1:" + std::to_string(port) + "/hooks/gc");
    ASSERT_TRUE(w.ok());
    BreakerParams params;
    params.cool_down_ns = 1'000'000'000;
    BreakerService service(params, serve::WallClockMap(0), nullptr, w->get());
    serve::ProcessState p;
    p.key = ProcessKey{99, 0};
    p.info.exe = "/bin/svc";
    service.OnProcess(p);
    WindowStats bad;
    bad.view = "1s";
    bad.start_ns = 0;
    bad.end_ns = 1'000'000'000;
    bad.other_stops.count = 1;
    bad.other_stops.p99 = 9e6;
    service.OnWindowCompleted(p, bad);
    for (int i = 0; i < 200 && (*w)->sent() < 1; ++i) usleep(10'000);
    EXPECT_EQ((*w)->sent(), 1u);
    EXPECT_EQ((*w)->failed(), 0u);
  }
  hook.stop();
  t.join();
  ASSERT_EQ(bodies.size(), 1u);
  json j = json::parse(bodies[0]);
  EXPECT_EQ(j["pid"], 99);
  EXPECT_EQ(j["binary"], "svc");
  EXPECT_EQ(j["transition"]["to"], "open");
  EXPECT_EQ(j["transition"]["p99_ms"], 9.0);
  EXPECT_EQ(j["breaker"]["state"], "open");
}

}  // namespace
}  // namespace gcpilot::control
