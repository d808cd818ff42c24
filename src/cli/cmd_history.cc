// `gcpilot history` (see cmd_history.h).
// Thread-safety: single-threaded CLI code.
#include "cli/cmd_history.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>
#include <vector>

#include "model/event_json.h"
#include "store/history_store.h"
#include "store/time_spec.h"

namespace gcpilot::cli {
namespace {

using nlohmann::json;

constexpr int64_t kMinuteNs = int64_t{60} * 1'000'000'000;
constexpr int64_t kPage = 5000;
constexpr double kMiB = 1024.0 * 1024.0;

int Fail(const std::string& msg) {
  std::fprintf(stderr, "gcpilot history: %s\n", msg.c_str());
  return 2;
}

// Identifies one process of one agent run.
using ProcKey = std::tuple<int64_t, int32_t, uint32_t>;  // run_id, pid, generation

ProcKey KeyOf(int64_t run_id, const ProcessKey& k) { return {run_id, k.pid, k.generation}; }

// Reads cycles or stops page by page, in time order.
template <typename Row>
class Pager {
 public:
  using Fetch = StatusOr<std::vector<Row>> (HistoryStore::*)(const HistoryQuery&);
  Pager(HistoryStore* store, Fetch fetch, HistoryQuery query)
      : store_(store), fetch_(fetch), query_(std::move(query)) {
    query_.limit = kPage;
  }
  // The next row, or nullptr at the end; an error stops the pager.
  const Row* Peek() {
    if (pos_ < rows_.size()) return &rows_[pos_];
    if (done_) return nullptr;
    StatusOr<std::vector<Row>> r = (store_->*fetch_)(query_);
    if (!r.ok()) {
      error_ = r.status();
      done_ = true;
      return nullptr;
    }
    rows_ = std::move(r).value();
    pos_ = 0;
    if (rows_.size() < static_cast<size_t>(kPage)) done_ = true;
    if (rows_.empty()) return nullptr;
    query_.after = HistoryCursor{rows_.back().start_wall_ns, rows_.back().id};
    return &rows_[0];
  }
  void Next() { ++pos_; }
  const Status& error() const { return error_; }

 private:
  HistoryStore* store_;
  Fetch fetch_;
  HistoryQuery query_;
  std::vector<Row> rows_;
  size_t pos_ = 0;
  bool done_ = false;
  Status error_;
};

// Nearest-rank percentile of sorted values.
int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string Ms(int64_t ns) {
  char buf[32];
  double ms = static_cast<double>(ns) / 1e6;
  std::snprintf(buf, sizeof(buf), ms >= 100 ? "%.0f" : ms >= 10 ? "%.1f" : "%.3f", ms);
  return buf;
}

std::string Mb(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(bytes) / kMiB);
  return buf;
}

// A comm for display: control characters replaced, at most `width` bytes.
std::string Printable(const std::string& s, size_t width) {
  std::string out;
  for (char c : s) {
    if (out.size() >= width) break;
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out.empty() ? "-" : out;
}

struct MinuteAgg {
  int64_t cycles = 0;
  int64_t forced = 0;
  std::vector<int64_t> pauses;
  int64_t stops = 0;
  int64_t stop_max_ns = 0;
  std::map<std::string, int64_t> stop_reasons;
  uint64_t allocated = 0;
  uint64_t heap_live = 0;
  uint64_t heap_goal = 0;
  bool have_heap = false;
};

class HistoryPrinter {
 public:
  HistoryPrinter(const HistoryOptions& o, std::string path, int64_t since, int64_t until,
                 std::map<ProcKey, StoredProcess> processes)
      : o_(o),
        path_(std::move(path)),
        since_(since),
        until_(until),
        processes_(std::move(processes)) {
    multi_day_ = FormatLocalTime(since, "%Y-%m-%d") !=
                 FormatLocalTime(std::max(since, until - 1), "%Y-%m-%d");
  }

  std::string Comm(const ProcKey& k) const {
    auto it = processes_.find(k);
    return it == processes_.end() ? "" : it->second.info.comm;
  }
  std::string Exe(const ProcKey& k) const {
    auto it = processes_.find(k);
    return it == processes_.end() ? "" : it->second.info.exe;
  }
  // For the table: the comm, else the executable's file name (a gctrace log
  // names no command).
  std::string DisplayName(const ProcKey& k) const {
    std::string comm = Comm(k);
    if (!comm.empty()) return comm;
    std::string exe = Exe(k);
    size_t slash = exe.find_last_of('/');
    return slash == std::string::npos ? exe : exe.substr(slash + 1);
  }

  // The header, before the first row (none when nothing was recorded).
  void Header() {
    if (o_.json || header_done_) return;
    header_done_ = true;
    std::printf("gcpilot history: %s, %s to %s (local time: %s)\n", path_.c_str(),
                FormatLocalTime(since_, "%Y-%m-%d %H:%M:%S").c_str(),
                FormatLocalTime(until_, "%Y-%m-%d %H:%M:%S").c_str(),
                LocalZoneName(until_).c_str());
    if (o_.cycles) {
      std::printf("%-23s %7s %-15s %7s %10s %10s %10s %15s %s\n", "time", "pid", "comm", "gc",
                  "sweep_ms", "markterm_ms", "mark_ms", "heap_live->goal", "trigger");
    } else {
      std::printf("%-*s %7s %-15s %5s %6s %8s %8s %8s  %-24s %8s %15s\n", multi_day_ ? 16 : 5,
                  "time", "pid", "comm", "GCs", "forced", "p50_ms", "p99_ms", "max_ms",
                  "other_stops (top reason)", "alloc/s", "heap_live/goal");
    }
  }

  void Cycle(const StoredCycle& c) {
    Header();
    ++rows_;
    ProcKey k = KeyOf(c.run_id, c.key);
    if (o_.json) {
      json j = CycleToJson(c.cycle);
      j.erase("start_ns");
      j.erase("byte_resolution");
      j.erase("cpu_percent_since_start");
      j["type"] = "cycle";
      j["time_ms"] = c.start_wall_ns / 1'000'000;
      j["time"] = FormatIsoLocal(c.start_wall_ns);
      j["start_wall_ns"] = c.start_wall_ns;
      j["pid"] = c.key.pid;
      j["generation"] = c.key.generation;
      j["run_id"] = c.run_id;
      j["comm"] = Comm(k);
      j["exe"] = Exe(k);
      std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
      return;
    }
    std::string heap = Mb(c.cycle.heap_live_bytes) + "->" + Mb(c.cycle.heap_goal_bytes) + " MB";
    std::printf("%-23s %7d %-15s %7llu %10s %10s %10s %15s %s\n",
                FormatIsoLocal(c.start_wall_ns).substr(0, 23).replace(10, 1, " ").c_str(),
                c.key.pid, Printable(DisplayName(k), 15).c_str(),
                static_cast<unsigned long long>(c.cycle.number), Ms(c.cycle.sweep_term_ns).c_str(),
                Ms(c.cycle.mark_term_ns).c_str(), Ms(c.cycle.mark_ns).c_str(), heap.c_str(),
                std::string(GcTriggerName(c.cycle.trigger)).c_str());
  }

  void AddCycle(const StoredCycle& c) {
    MinuteAgg& a = Bucket(c.start_wall_ns, KeyOf(c.run_id, c.key));
    ++a.cycles;
    if (c.cycle.forced()) ++a.forced;
    a.pauses.push_back(c.cycle.sweep_term_ns);
    a.pauses.push_back(c.cycle.mark_term_ns);
    a.allocated += c.cycle.allocated_bytes;
    a.heap_live = c.cycle.heap_live_bytes;
    a.heap_goal = c.cycle.heap_goal_bytes;
    a.have_heap = true;
  }

  void AddStop(const StoredStop& s) {
    if (s.pause.kind != StwKind::kOther) return;  // GC stops are in the cycles.
    MinuteAgg& a = Bucket(s.start_wall_ns, KeyOf(s.run_id, s.key));
    ++a.stops;
    a.stop_max_ns = std::max(a.stop_max_ns, s.pause.duration_ns);
    ++a.stop_reasons[std::string(StwReasonName(s.pause.reason))];
  }

  // Prints every minute before `minute` (all when nullopt).
  void EmitBefore(std::optional<int64_t> minute) {
    while (!buckets_.empty()) {
      auto it = buckets_.begin();
      if (minute && std::get<0>(it->first) >= *minute) break;
      const auto& [minute_ns, pid, run_id, generation] = it->first;
      Minute(minute_ns, ProcKey{run_id, pid, generation}, it->second);
      buckets_.erase(it);
    }
  }

  int64_t rows() const { return rows_; }

 private:
  using BucketKey = std::tuple<int64_t, int32_t, int64_t, uint32_t>;  // minute, pid, run, gen

  static int64_t MinuteOf(int64_t wall_ns) {
    int64_t m = wall_ns / kMinuteNs;
    if (wall_ns % kMinuteNs < 0) --m;
    return m * kMinuteNs;
  }

  MinuteAgg& Bucket(int64_t wall_ns, const ProcKey& k) {
    return buckets_[{MinuteOf(wall_ns), std::get<1>(k), std::get<0>(k), std::get<2>(k)}];
  }

  void Minute(int64_t minute, const ProcKey& k, MinuteAgg& a) {
    Header();
    ++rows_;
    std::sort(a.pauses.begin(), a.pauses.end());
    int64_t p50 = Percentile(a.pauses, 0.50);
    int64_t p99 = Percentile(a.pauses, 0.99);
    int64_t max = a.pauses.empty() ? 0 : a.pauses.back();
    std::string top;
    int64_t top_n = 0;
    for (const auto& [reason, n] : a.stop_reasons) {
      if (n > top_n) top = reason, top_n = n;
    }
    // Seconds of this minute inside the range, for the rate.
    int64_t covered = std::min(minute + kMinuteNs, until_) - std::max(minute, since_);
    double secs = static_cast<double>(std::max<int64_t>(covered, 1'000'000'000)) / 1e9;
    double alloc_per_sec = static_cast<double>(a.allocated) / secs;
    std::string comm = o_.json ? Comm(k) : DisplayName(k);
    if (o_.json) {
      json stops{{"count", a.stops}, {"max_ns", a.stop_max_ns}, {"by_reason", a.stop_reasons}};
      stops["top_reason"] = top_n ? json(top) : json(nullptr);
      json j{{"type", "minute"},
             {"time_ms", minute / 1'000'000},
             {"time", FormatIsoLocal(minute)},
             {"pid", std::get<1>(k)},
             {"generation", std::get<2>(k)},
             {"run_id", std::get<0>(k)},
             {"comm", comm},
             {"exe", Exe(k)},
             {"gc_cycles", a.cycles},
             {"forced_cycles", a.forced},
             {"pause_ns", {{"count", a.pauses.size()}, {"p50", p50}, {"p99", p99}, {"max", max}}},
             {"other_stops", stops},
             {"allocated_bytes", a.allocated},
             {"alloc_bytes_per_sec", alloc_per_sec}};
      j["heap_live_bytes"] = a.have_heap ? json(a.heap_live) : json(nullptr);
      j["heap_goal_bytes"] = a.have_heap ? json(a.heap_goal) : json(nullptr);
      std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
      return;
    }
    std::string stops = a.stops == 0 ? "0" : std::to_string(a.stops) + " (" + top + ")";
    std::string heap = a.have_heap ? Mb(a.heap_live) + "/" + Mb(a.heap_goal) + " MB" : "-";
    char alloc[32];
    std::snprintf(alloc, sizeof(alloc), "%.1f MB", alloc_per_sec / kMiB);
    bool no_cycles = a.cycles == 0;
    std::printf("%-*s %7d %-15s %5lld %6lld %8s %8s %8s  %-24s %8s %15s\n", multi_day_ ? 16 : 5,
                FormatLocalTime(minute, multi_day_ ? "%Y-%m-%d %H:%M" : "%H:%M").c_str(),
                std::get<1>(k), Printable(comm, 15).c_str(), static_cast<long long>(a.cycles),
                static_cast<long long>(a.forced), no_cycles ? "-" : Ms(p50).c_str(),
                no_cycles ? "-" : Ms(p99).c_str(), no_cycles ? "-" : Ms(max).c_str(), stops.c_str(),
                alloc, heap.c_str());
  }

  const HistoryOptions& o_;
  std::string path_;
  int64_t since_, until_;
  bool header_done_ = false;
  std::map<ProcKey, StoredProcess> processes_;
  std::map<BucketKey, MinuteAgg> buckets_;
  bool multi_day_ = false;
  int64_t rows_ = 0;
};

}  // namespace

int HistoryCommand(const HistoryOptions& o) {
  if (o.store_path.empty()) {
    return Fail(
        "no history store given: pass --store PATH (or set GCPILOT_STORE). "
        "`gcpilot serve --store PATH` records one.");
  }
  const int64_t now = WallClockNowNs();
  StatusOr<int64_t> since = ParseTimeSpec(o.since, now);
  if (!since.ok()) return Fail("--since: " + since.status().message());
  StatusOr<int64_t> until = ParseTimeSpec(o.until, now);
  if (!until.ok()) return Fail("--until: " + until.status().message());
  if (*since >= *until) {
    return Fail("--since (" + FormatLocalTime(*since, "%Y-%m-%d %H:%M:%S") +
                ") must be before --until (" + FormatLocalTime(*until, "%Y-%m-%d %H:%M:%S") + ")");
  }

  StatusOr<std::unique_ptr<HistoryStore>> opened = HistoryStore::OpenReadOnly(o.store_path);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) {
      return Fail("no history store at '" + o.store_path + "': `gcpilot serve --store " +
                  o.store_path + "` creates it (or `gcpilot ingest --store " + o.store_path +
                  " FILE`)");
    }
    return Fail(opened.status().message());
  }
  HistoryStore& store = **opened;

  HistoryQuery q;
  if (o.pid > 0) q.pid = o.pid;
  q.binary = o.binary;
  q.since_wall_ns = *since;
  q.until_wall_ns = *until;

  HistoryQuery pq = q;
  pq.limit = 0;
  StatusOr<std::vector<StoredProcess>> procs = store.Processes(pq);
  if (!procs.ok()) return Fail(procs.status().message());
  std::map<ProcKey, StoredProcess> by_key;
  for (StoredProcess& p : *procs) by_key.emplace(KeyOf(p.run_id, p.key), std::move(p));

  HistoryPrinter printer(o, store.path(), *since, *until, std::move(by_key));
  Pager<StoredCycle> cycles(&store, &HistoryStore::Cycles, q);
  Status error;
  if (o.cycles) {
    while (const StoredCycle* c = cycles.Peek()) {
      printer.Cycle(*c);
      cycles.Next();
    }
    error = cycles.error();
  } else {
    // Cycles and stops merged in time order; a minute is printed once the
    // scan has passed it, so memory holds about one minute of records.
    Pager<StoredStop> stops(&store, &HistoryStore::Stops, q);
    while (true) {
      const StoredCycle* c = cycles.Peek();
      const StoredStop* s = stops.Peek();
      if (!c && !s) break;
      int64_t t;
      if (c && (!s || c->start_wall_ns <= s->start_wall_ns)) {
        t = c->start_wall_ns;
        printer.AddCycle(*c);
        cycles.Next();
      } else {
        t = s->start_wall_ns;
        printer.AddStop(*s);
        stops.Next();
      }
      printer.EmitBefore(t - t % kMinuteNs - (t % kMinuteNs < 0 ? kMinuteNs : 0));
    }
    printer.EmitBefore(std::nullopt);
    error = !cycles.error().ok() ? cycles.error() : stops.error();
  }
  std::fflush(stdout);
  if (!error.ok()) return Fail(error.message());

  if (printer.rows() == 0) {
    std::string what = "nothing recorded between " + FormatLocalTime(*since, "%Y-%m-%d %H:%M:%S") +
                       " and " + FormatLocalTime(*until, "%Y-%m-%d %H:%M:%S");
    if (o.pid > 0) what += " for pid " + std::to_string(o.pid);
    if (!o.binary.empty()) what += " for binary '" + o.binary + "'";
    StatusOr<std::optional<HistoryRange>> range = store.Range();
    if (range.ok() && range->has_value()) {
      const HistoryRange& r = **range;
      what += ". The store holds " + FormatLocalTime(r.first_wall_ns, "%Y-%m-%d %H:%M:%S") +
              " to " + FormatLocalTime(r.last_wall_ns, "%Y-%m-%d %H:%M:%S") + " (" +
              std::to_string(r.cycles) + " GC cycles, " + std::to_string(r.stops) +
              " other stops; local time " + LocalZoneName(r.last_wall_ns) + ").";
    } else if (range.ok()) {
      what += ". The store holds no records yet.";
    }
    std::fprintf(o.json ? stderr : stdout, "gcpilot history: %s\n", what.c_str());
  }
  return 0;
}

}  // namespace gcpilot::cli
