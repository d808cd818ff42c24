// HistoryStore queries (see history_store.h): cycles, stops and processes in
// a time range, filtered by pid or binary, keyset-paged; the stored range.
// Filter values are bound by name; the SQL text is built only from constant
// fragments.
// Thread-safety: see history_store.h (one thread per object).
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/history_store.h"
#include "store/sqlite_stmt.h"

namespace gcpilot {
namespace {

// The WHERE clause shared by the Cycles and Stops queries (table alias t,
// processes alias p); values are bound by name.
std::string RecordFilter(const HistoryQuery& q) {
  std::string w = " WHERE t.start_wall_ns >= :since AND t.start_wall_ns < :until";
  if (q.pid) w += " AND t.pid = :pid";
  if (!q.binary.empty()) {
    w += " AND (p.comm = :binary OR p.exe = :binary OR "
         "substr(p.exe, -(length(:binary) + 1)) = '/' || :binary)";
  }
  if (q.after) w += " AND (t.start_wall_ns, t.id) > (:after_wall, :after_id)";
  w += " ORDER BY t.start_wall_ns, t.id LIMIT :limit";
  return w;
}

void BindQuery(SqliteStmt& s, const HistoryQuery& q) {
  s.BindNamed(":since", q.since_wall_ns);
  s.BindNamed(":until", q.until_wall_ns);
  if (q.pid) s.BindNamed(":pid", static_cast<int64_t>(*q.pid));
  if (!q.binary.empty()) s.BindNamed(":binary", q.binary);
  if (q.after) {
    s.BindNamed(":after_wall", q.after->wall_ns);
    s.BindNamed(":after_id", q.after->id);
  }
  s.BindNamed(":limit", q.limit > 0 ? q.limit : int64_t{-1});
}

std::string JoinProcesses(const HistoryQuery& q) {
  if (q.binary.empty()) return "";
  return " JOIN processes p ON p.run_id = t.run_id AND p.pid = t.pid AND "
         "p.generation = t.generation";
}

}  // namespace

StatusOr<std::vector<StoredCycle>> HistoryStore::Cycles(const HistoryQuery& query) {
  std::string sql =
      "SELECT t.id, t.run_id, t.pid, t.generation, t.gc, t.start_wall_ns, t.sweep_term_ns, "
      "t.mark_ns, t.mark_term_ns, t.cpu_sweep_term_ns, t.cpu_assist_ns, t.cpu_background_ns, "
      "t.cpu_idle_ns, t.cpu_mark_term_ns, t.heap_start_bytes, t.heap_end_bytes, "
      "t.heap_live_bytes, t.heap_goal_bytes, t.allocated_bytes, t.gomaxprocs, t.trigger, "
      "t.source FROM cycles t" +
      JoinProcesses(query) + RecordFilter(query);
  SqliteStmt s;
  if (!s.Prepare(db_, sql.c_str())) return Error("cannot query cycles");
  BindQuery(s, query);
  std::vector<StoredCycle> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredCycle r;
    r.id = s.Int(0);
    r.run_id = s.Int(1);
    r.key.pid = static_cast<int32_t>(s.Int(2));
    r.key.generation = static_cast<uint32_t>(s.Int(3));
    GcCycle& c = r.cycle;
    c.number = static_cast<uint64_t>(s.Int(4));
    r.start_wall_ns = c.start_ns = s.Int(5);
    c.sweep_term_ns = s.Int(6);
    c.mark_ns = s.Int(7);
    c.mark_term_ns = s.Int(8);
    c.cpu.sweep_term_ns = s.Int(9);
    c.cpu.assist_ns = s.Int(10);
    c.cpu.background_ns = s.Int(11);
    c.cpu.idle_ns = s.Int(12);
    c.cpu.mark_term_ns = s.Int(13);
    c.heap_start_bytes = static_cast<uint64_t>(s.Int(14));
    c.heap_end_bytes = static_cast<uint64_t>(s.Int(15));
    c.heap_live_bytes = static_cast<uint64_t>(s.Int(16));
    c.heap_goal_bytes = static_cast<uint64_t>(s.Int(17));
    c.allocated_bytes = static_cast<uint64_t>(s.Int(18));
    c.gomaxprocs = static_cast<int32_t>(s.Int(19));
    c.trigger = GcTriggerFromName(s.Text(20)).value_or(GcTrigger::kUnknown);
    c.source = EventSourceFromName(s.Text(21)).value_or(EventSource::kUnknown);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error("cannot read cycles");
  return out;
}

StatusOr<std::vector<StoredStop>> HistoryStore::Stops(const HistoryQuery& query) {
  std::string sql =
      "SELECT t.id, t.run_id, t.pid, t.generation, t.start_wall_ns, t.duration_ns, t.kind, "
      "t.reason, t.gc FROM stops t" +
      JoinProcesses(query) + RecordFilter(query);
  SqliteStmt s;
  if (!s.Prepare(db_, sql.c_str())) return Error("cannot query stops");
  BindQuery(s, query);
  std::vector<StoredStop> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredStop r;
    r.id = s.Int(0);
    r.run_id = s.Int(1);
    r.key.pid = static_cast<int32_t>(s.Int(2));
    r.key.generation = static_cast<uint32_t>(s.Int(3));
    r.start_wall_ns = r.pause.start_ns = s.Int(4);
    r.pause.duration_ns = s.Int(5);
    r.pause.kind = StwKindFromName(s.Text(6)).value_or(StwKind::kOther);
    r.pause.reason = StwReasonFromName(s.Text(7)).value_or(StwReason::kUnknown);
    r.pause.gc_number = static_cast<uint64_t>(s.Int(8));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error("cannot read stops");
  return out;
}

StatusOr<std::vector<StoredProcess>> HistoryStore::Processes(const HistoryQuery& query) {
  std::string sql =
      "SELECT run_id, pid, generation, comm, exe, go_version, container, gomaxprocs, "
      "seen_wall_ns, last_wall_ns, exit_wall_ns, exit_code, exit_signal, exit_exec "
      "FROM processes p WHERE seen_wall_ns < :until AND last_wall_ns >= :since";
  if (query.pid) sql += " AND pid = :pid";
  if (!query.binary.empty()) {
    sql +=
        " AND (comm = :binary OR exe = :binary OR "
        "substr(exe, -(length(:binary) + 1)) = '/' || :binary)";
  }
  sql += " ORDER BY seen_wall_ns, run_id, pid, generation LIMIT :limit";
  SqliteStmt s;
  if (!s.Prepare(db_, sql.c_str())) return Error("cannot query processes");
  HistoryQuery q = query;
  q.after.reset();
  BindQuery(s, q);
  std::vector<StoredProcess> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredProcess r;
    r.run_id = s.Int(0);
    r.key.pid = static_cast<int32_t>(s.Int(1));
    r.key.generation = static_cast<uint32_t>(s.Int(2));
    r.info.comm = s.Text(3);
    r.info.exe = s.Text(4);
    r.info.go_version = s.Text(5);
    r.info.container = s.Text(6);
    r.info.gomaxprocs = static_cast<int32_t>(s.Int(7));
    r.seen_wall_ns = s.Int(8);
    r.last_wall_ns = s.Int(9);
    if (!s.IsNull(10)) {
      r.exit_wall_ns = s.Int(10);
      r.exit = ProcessExited{static_cast<int32_t>(s.Int(11)), static_cast<int32_t>(s.Int(12)),
                             s.Int(13) != 0};
    }
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error("cannot read processes");
  return out;
}

StatusOr<std::optional<HistoryRange>> HistoryStore::Range() {
  SqliteStmt s;
  if (!s.Prepare(db_,
                 "SELECT (SELECT min(start_wall_ns) FROM cycles), (SELECT max(start_wall_ns) "
                 "FROM cycles), (SELECT count(*) FROM cycles), (SELECT min(start_wall_ns) FROM "
                 "stops), (SELECT max(start_wall_ns) FROM stops), (SELECT count(*) FROM stops)")) {
    return Error("cannot query the stored range");
  }
  if (s.Step() != SQLITE_ROW) return Error("cannot read the stored range");
  HistoryRange r;
  r.cycles = s.Int(2);
  r.stops = s.Int(5);
  if (r.cycles == 0 && r.stops == 0) return std::optional<HistoryRange>();
  r.first_wall_ns = INT64_MAX;
  r.last_wall_ns = INT64_MIN;
  for (int col : {0, 3}) {
    if (s.IsNull(col)) continue;
    r.first_wall_ns = std::min(r.first_wall_ns, s.Int(col));
    r.last_wall_ns = std::max(r.last_wall_ns, s.Int(col + 1));
  }
  return std::optional<HistoryRange>(r);
}

}  // namespace gcpilot
