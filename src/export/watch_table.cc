// The `gcpilot watch` view (see the header).
#include "export/watch_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "export/format_units.h"

namespace gcpilot {
namespace {

// "12 ReadMemStats" or "3 (2 kinds)"; "-" for none.
std::string StopsCell(const WindowStats& w) {
  if (w.other_stops.count == 0) return "-";
  int kinds = 0;
  size_t top = 0;
  for (size_t i = 0; i < w.other_stops_by_reason.size(); ++i) {
    if (w.other_stops_by_reason[i] == 0) continue;
    ++kinds;
    if (w.other_stops_by_reason[i] > w.other_stops_by_reason[top] ||
        w.other_stops_by_reason[top] == 0) {
      top = i;
    }
  }
  std::string cell =
      fmt::format("{} {}", w.other_stops.count, StwReasonName(static_cast<StwReason>(top)));
  if (kinds > 1) cell += fmt::format(" +{}", kinds - 1);
  return cell;
}

// "100/off", "50/200M", "off/1G"; "-" when unknown.
std::string SettingsCell(const WatchRow& r) {
  if (!r.gogc && !r.memory_limit) return "-";
  std::string gogc = !r.gogc ? "?" : *r.gogc < 0 ? "off" : std::to_string(*r.gogc);
  std::string limit = "?";
  if (r.memory_limit) {
    const int64_t l = *r.memory_limit;
    if (l == INT64_MAX) {
      limit = "off";
    } else if (l >= (int64_t{1} << 30) && l % (int64_t{1} << 30) == 0) {
      limit = std::to_string(l >> 30) + "G";
    } else {
      limit = std::to_string(l >> 20) + "M";
    }
  }
  return gogc + "/" + limit;
}

std::string Truncate(std::string s, size_t n) {
  if (s.size() > n) s.resize(n);
  return s;
}

}  // namespace

std::string FormatWatchTable(const std::vector<WatchRow>& rows, const std::string& title) {
  std::string out = title + "\n";
  out += fmt::format("{:>8} {:<16} {:<9} {:>6} {:>22} {:>22} {:>10} {:>13} {:>7} {:>11} {:>7}\n",
                     "PID", "COMMAND", "GO", "GC/s", "STW p50/p99/max ms", "NON-GC STOPS",
                     "ALLOC MB/s", "HEAP MB", "GC CPU", "GOGC/LIMIT", "GOR");
  for (const WatchRow& r : rows) {
    const WindowStats& w = r.window;
    std::string stw = w.gc_pauses.count == 0
                          ? "-"
                          : fmt::format("{}/{}/{}", FormatMs(w.gc_pauses.p50),
                                        FormatMs(w.gc_pauses.p99), FormatMs(w.gc_pauses.max));
    std::string heap = w.heap_goal_bytes == 0
                           ? "-"
                           : fmt::format("{:.0f}->{:.0f}", w.heap_live_bytes / kBytesPerMB,
                                         w.heap_goal_bytes / kBytesPerMB);
    std::string go = r.go_version.starts_with("go") ? r.go_version.substr(2) : r.go_version;
    out += fmt::format(
        "{:>8} {:<16} {:<9} {:>6.1f} {:>22} {:>22} {:>10.1f} {:>13} {:>7} {:>11} {:>7}{}\n", r.pid,
        Truncate(r.comm, 16), Truncate(go, 9), w.gcs_per_sec, stw, Truncate(StopsCell(w), 22),
        w.alloc_bytes_per_sec / kBytesPerMB, heap, FormatPercent(w.gc_cpu_share), SettingsCell(r),
        r.goroutines ? std::to_string(*r.goroutines) : "-", r.exited ? "  (exited)" : "");
  }
  return out;
}

nlohmann::json WatchRowToJson(const WatchRow& r, int64_t now_ns) {
  const WindowStats& w = r.window;
  nlohmann::json stops = nlohmann::json::object();
  for (size_t i = 0; i < w.other_stops_by_reason.size(); ++i) {
    if (w.other_stops_by_reason[i] > 0) {
      stops[std::string(StwReasonName(static_cast<StwReason>(i)))] = w.other_stops_by_reason[i];
    }
  }
  return nlohmann::json{
      {"type", "watch"},
      {"ts_ns", now_ns},
      {"pid", r.pid},
      {"comm", r.comm},
      {"go_version", r.go_version},
      {"window", w.view},
      {"gc_cycles", w.gc_cycles},
      {"gcs_per_sec", w.gcs_per_sec},
      {"stw_p50_ns", w.gc_pauses.p50},
      {"stw_p99_ns", w.gc_pauses.p99},
      {"stw_max_ns", w.gc_pauses.max},
      {"other_stops", w.other_stops.count},
      {"other_stops_by_reason", stops},
      {"other_stop_max_ns", w.other_stops.max},
      {"alloc_bytes_per_sec", w.alloc_bytes_per_sec},
      {"heap_live_bytes", w.heap_live_bytes},
      {"heap_goal_bytes", w.heap_goal_bytes},
      {"gc_cpu_share", w.gc_cpu_share},
      {"gomaxprocs", w.gomaxprocs},
      {"total_cycles", r.total_cycles},
      {"total_other_stops", r.total_stops},
      {"drops", r.drops},
      {"exited", r.exited},
      {"gogc", r.gogc ? nlohmann::json(*r.gogc) : nlohmann::json()},
      {"memory_limit_bytes", r.memory_limit ? nlohmann::json(*r.memory_limit) : nlohmann::json()},
      {"heap_now_bytes", r.heap_now_bytes ? nlohmann::json(*r.heap_now_bytes) : nlohmann::json()},
      {"goroutines", r.goroutines ? nlohmann::json(*r.goroutines) : nlohmann::json()}};
}

}  // namespace gcpilot
