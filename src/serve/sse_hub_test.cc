// Tests of the server-sent events fan-out: formatting, filtering, and that a
// client who falls behind is cut off without affecting the others.
#include "serve/sse_hub.h"

#include <gtest/gtest.h>

namespace gcpilot::serve {
namespace {

std::string Drain(SseHub& hub, SseHub::Client& c, bool* open = nullptr) {
  std::string got;
  bool ok = hub.Pump(
      c,
      [&](const std::string& s) {
        got += s;
        return true;
      },
      0);
  if (open != nullptr) *open = ok;
  return got;
}

TEST(SseHub, FormatsMultiLineData) {
  EXPECT_EQ(SseHub::Format(7, "cycle", "a\nb"), "id: 7\nevent: cycle\ndata: a\ndata: b\n\n");
}

TEST(SseHub, DeliversHelloThenEventsFilteredByPid) {
  SseHub hub(4);
  auto all = hub.Connect({}, "hello\n\n");
  auto only5 = hub.Connect({5}, "");
  ASSERT_TRUE(all && only5);
  hub.Publish(5, "cycle", "{}");
  hub.Publish(6, "cycle", "{}");
  hub.Publish(0, "status", "{}");
  std::string a = Drain(hub, *all);
  std::string b = Drain(hub, *only5);
  EXPECT_EQ(a.rfind("hello", 0), 0u);
  EXPECT_NE(a.find("id: 2\nevent: cycle"), std::string::npos);
  EXPECT_NE(a.find("event: status"), std::string::npos);
  EXPECT_EQ(b, "id: 1\nevent: cycle\ndata: {}\n\nid: 3\nevent: status\ndata: {}\n\n");
}

TEST(SseHub, RefusesBeyondMaxClients) {
  SseHub hub(1);
  auto a = hub.Connect({}, "");
  EXPECT_TRUE(a);
  EXPECT_FALSE(hub.Connect({}, ""));
  EXPECT_EQ(hub.stats().refused_clients, 1u);
  hub.Disconnect(a);
  EXPECT_TRUE(hub.Connect({}, ""));
}

TEST(SseHub, SlowClientIsCutOffOthersKeepEverything) {
  SseHub hub(4);
  auto slow = hub.Connect({}, "");
  auto fast = hub.Connect({}, "");
  size_t fast_events = 0;
  for (size_t i = 0; i < SseHub::kMaxQueuedMessages + 10; ++i) {
    hub.Publish(1, "cycle", "{}");
    std::string got = Drain(hub, *fast);
    for (size_t p = got.find("event: cycle"); p != std::string::npos;
         p = got.find("event: cycle", p + 1)) {
      ++fast_events;
    }
  }
  EXPECT_EQ(fast_events, SseHub::kMaxQueuedMessages + 10);
  bool open = true;
  EXPECT_EQ(Drain(hub, *slow, &open), "");
  EXPECT_FALSE(open);
  EXPECT_EQ(hub.stats().dropped_clients, 1u);
}

TEST(SseHub, ByteLimitAlsoCutsOff) {
  SseHub hub(2);
  auto c = hub.Connect({}, "");
  std::string big(1 << 20, 'x');
  for (int i = 0; i < 9; ++i) hub.Publish(1, "cycle", big);
  bool open = true;
  Drain(hub, *c, &open);
  EXPECT_FALSE(open);
}

TEST(SseHub, FailedWriteEndsTheClientAndShutdownWakesIt) {
  SseHub hub(2);
  auto c = hub.Connect({}, "hello");
  EXPECT_FALSE(hub.Pump(
      *c, [](const std::string&) { return false; }, 0));
  auto d = hub.Connect({}, "");
  hub.Shutdown();
  EXPECT_FALSE(hub.Pump(
      *d, [](const std::string&) { return true; }, 10'000));
  EXPECT_FALSE(hub.Connect({}, ""));
}

}  // namespace
}  // namespace gcpilot::serve
