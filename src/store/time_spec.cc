// Time parsing and formatting (see time_spec.h).
// Thread-safety: stateless (localtime_r / mktime read the time zone).
#include "store/time_spec.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>

namespace gcpilot {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

Status Bad(std::string_view text) {
  return Status::InvalidArgument(
      "cannot read the time '" + std::string(text) +
      "': use a duration before now (30s, 30m, 2h, 7d, 1h30m), \"now\", or a time "
      "2026-11-27T03:00[:SS] (local), ...Z (UTC) or ...+01:00");
}

// Reads exactly `digits` digits at `pos`.
bool Digits(std::string_view s, size_t& pos, int digits, int& out) {
  if (pos + static_cast<size_t>(digits) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < digits; ++i) {
    char c = s[pos + static_cast<size_t>(i)];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<size_t>(digits);
  out = v;
  return true;
}

std::optional<int64_t> ParseRelative(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  int64_t total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
    if (ec != std::errc() || end == s.data() + pos || n < 0) return std::nullopt;
    pos = static_cast<size_t>(end - s.data());
    if (pos >= s.size()) return std::nullopt;  // A unit is required.
    int64_t unit;
    switch (s[pos]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return std::nullopt;
    }
    ++pos;
    if (n > (INT64_MAX / kNsPerSec) / unit) return std::nullopt;
    total += n * unit * kNsPerSec;
    if (total < 0 || total > int64_t{3650} * 86400 * kNsPerSec) return std::nullopt;
  }
  return total;
}

std::optional<int64_t> ParseAbsolute(std::string_view s) {
  size_t pos = 0;
  std::tm tm{};
  int year, mon, day, hour = 0, min = 0, sec = 0;
  if (!Digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' || !Digits(s, pos, 2, mon) ||
      pos >= s.size() || s[pos++] != '-' || !Digits(s, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    ++pos;
    if (!Digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' || !Digits(s, pos, 2, min)) {
      return std::nullopt;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!Digits(s, pos, 2, sec)) return std::nullopt;
    }
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::string_view zone = s.substr(pos);
  time_t t;
  if (zone.empty()) {
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == static_cast<time_t>(-1)) return std::nullopt;
    if (tm.tm_mday != day) return std::nullopt;  // e.g. Feb 31 normalised away.
  } else if (zone == "Z" || zone == "z") {
    t = timegm(&tm);
    if (tm.tm_mday != day) return std::nullopt;
  } else {
    size_t zp = 1;
    int oh, om;
    if ((zone[0] != '+' && zone[0] != '-') || !Digits(zone, zp, 2, oh) || zp >= zone.size() ||
        zone[zp++] != ':' || !Digits(zone, zp, 2, om) || zp != zone.size() || oh > 14 || om > 59) {
      return std::nullopt;
    }
    t = timegm(&tm);
    if (tm.tm_mday != day) return std::nullopt;
    int64_t off = (oh * 3600 + om * 60) * (zone[0] == '+' ? 1 : -1);
    t -= off;
  }
  return static_cast<int64_t>(t) * kNsPerSec;
}

}  // namespace

StatusOr<int64_t> ParseTimeSpec(std::string_view text, int64_t now_wall_ns) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.empty()) return Bad(text);
  if (text == "now") return now_wall_ns;
  if (std::optional<int64_t> rel = ParseRelative(text)) return now_wall_ns - *rel;
  if (std::optional<int64_t> abs = ParseAbsolute(text)) return *abs;
  return Bad(text);
}

std::string FormatLocalTime(int64_t wall_ns, const char* format) {
  time_t t = static_cast<time_t>(wall_ns / kNsPerSec - (wall_ns % kNsPerSec < 0 ? 1 : 0));
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[128];
  size_t n = std::strftime(buf, sizeof(buf), format, &tm);
  return std::string(buf, n);
}

std::string FormatIsoLocal(int64_t wall_ns) {
  int64_t ms = ((wall_ns % kNsPerSec) + kNsPerSec) % kNsPerSec / 1'000'000;
  std::string z = FormatLocalTime(wall_ns, "%z");  // "+0100"
  if (z.size() == 5) z.insert(3, ":");
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03d", static_cast<int>(ms));
  return FormatLocalTime(wall_ns, "%Y-%m-%dT%H:%M:%S") + frac + z;
}

std::string LocalZoneName(int64_t wall_ns) {
  std::string z = FormatLocalTime(wall_ns, "%z");
  if (z.size() == 5) z.insert(3, ":");
  return FormatLocalTime(wall_ns, "%Z") + ", UTC" + z;
}

int64_t WallClockNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

}  // namespace gcpilot
