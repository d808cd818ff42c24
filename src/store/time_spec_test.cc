// Tests of the time arguments of `gcpilot history` / `ingest --start`.
#include "store/time_spec.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

namespace gcpilot {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kNow = int64_t{1'764'217'200} * kSec;  // 2025-11-27T04:20:00Z

class TimeSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = getenv("TZ");
    had_tz_ = tz != nullptr;
    if (tz) old_tz_ = tz;
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", old_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  bool had_tz_ = false;
  std::string old_tz_;
};

TEST_F(TimeSpecTest, RelativeDurations) {
  EXPECT_EQ(*ParseTimeSpec("30m", kNow), kNow - 30 * 60 * kSec);
  EXPECT_EQ(*ParseTimeSpec("45s", kNow), kNow - 45 * kSec);
  EXPECT_EQ(*ParseTimeSpec("2h", kNow), kNow - 7200 * kSec);
  EXPECT_EQ(*ParseTimeSpec("7d", kNow), kNow - 7 * 86400 * kSec);
  EXPECT_EQ(*ParseTimeSpec("1h30m", kNow), kNow - 5400 * kSec);
  EXPECT_EQ(*ParseTimeSpec("-10m", kNow), kNow - 600 * kSec);
  EXPECT_EQ(*ParseTimeSpec("now", kNow), kNow);
}

TEST_F(TimeSpecTest, AbsoluteTimes) {
  // 2025-11-27T03:00 local (CET, UTC+1) is 02:00 UTC.
  const int64_t utc_0200 = int64_t{1'764'208'800} * kSec;
  EXPECT_EQ(*ParseTimeSpec("2025-11-27T03:00", kNow), utc_0200);
  EXPECT_EQ(*ParseTimeSpec("2025-11-27 03:00:00", kNow), utc_0200);
  EXPECT_EQ(*ParseTimeSpec("2025-11-27T02:00Z", kNow), utc_0200);
  EXPECT_EQ(*ParseTimeSpec("2025-11-27T02:00:30Z", kNow), utc_0200 + 30 * kSec);
  EXPECT_EQ(*ParseTimeSpec("2025-11-27T05:00+03:00", kNow), utc_0200);
  EXPECT_EQ(*ParseTimeSpec("2025-11-26T21:00-05:00", kNow), utc_0200);
  EXPECT_EQ(*ParseTimeSpec("2025-11-27", kNow), utc_0200 - 3 * 3600 * kSec);
}

TEST_F(TimeSpecTest, BadValuesSayWhatIsAccepted) {
  for (const char* bad :
       {"", "yesterday", "30", "30x", "m", "2025-13-01", "2025-02-31T00:00", "2025-11-27T25:00",
        "2025-11-27T03", "2025-11-27T03:00+5", "99999999999999999999d", "1e3s"}) {
    StatusOr<int64_t> r = ParseTimeSpec(bad, kNow);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("30m"), std::string::npos);
    }
  }
}

TEST_F(TimeSpecTest, FormatsLocalTimeWithItsZone) {
  const int64_t utc_0200 = int64_t{1'764'208'800} * kSec;
  EXPECT_EQ(FormatLocalTime(utc_0200, "%Y-%m-%d %H:%M"), "2025-11-27 03:00");
  EXPECT_EQ(FormatIsoLocal(utc_0200 + 5'000'000), "2025-11-27T03:00:00.005+01:00");
  EXPECT_EQ(LocalZoneName(utc_0200), "CET, UTC+01:00");
}

}  // namespace
}  // namespace gcpilot
