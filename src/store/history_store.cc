// HistoryStore (see history_store.h): opening and schema checks, buffered
// writes, flush and prune. Queries are in history_store_query.cc.
// Thread-safety: see history_store.h (one thread per object).
#include "store/history_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <utility>

#include "store/sqlite_stmt.h"

namespace gcpilot {
namespace {

// Version 1. Every table carries run_id so one pid of two agent runs never
// collides; times are wall-clock ns; kinds, reasons and triggers are stored
// by name so the file reads well in the sqlite3 shell.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  run_id INTEGER PRIMARY KEY AUTOINCREMENT,
  start_wall_ns INTEGER NOT NULL,
  boot_id TEXT NOT NULL,
  agent_pid INTEGER NOT NULL,
  writer TEXT NOT NULL
);
CREATE TABLE processes (
  run_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  comm TEXT NOT NULL DEFAULT '',
  exe TEXT NOT NULL DEFAULT '',
  go_version TEXT NOT NULL DEFAULT '',
  container TEXT NOT NULL DEFAULT '',
  gomaxprocs INTEGER NOT NULL DEFAULT 0,
  seen_wall_ns INTEGER NOT NULL,
  last_wall_ns INTEGER NOT NULL,
  exit_wall_ns INTEGER,
  exit_code INTEGER,
  exit_signal INTEGER,
  exit_exec INTEGER,
  PRIMARY KEY (run_id, pid, generation)
);
CREATE INDEX processes_last ON processes (last_wall_ns);
CREATE TABLE cycles (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  gc INTEGER NOT NULL,
  start_wall_ns INTEGER NOT NULL,
  sweep_term_ns INTEGER NOT NULL,
  mark_ns INTEGER NOT NULL,
  mark_term_ns INTEGER NOT NULL,
  cpu_sweep_term_ns INTEGER NOT NULL,
  cpu_assist_ns INTEGER NOT NULL,
  cpu_background_ns INTEGER NOT NULL,
  cpu_idle_ns INTEGER NOT NULL,
  cpu_mark_term_ns INTEGER NOT NULL,
  heap_start_bytes INTEGER NOT NULL,
  heap_end_bytes INTEGER NOT NULL,
  heap_live_bytes INTEGER NOT NULL,
  heap_goal_bytes INTEGER NOT NULL,
  allocated_bytes INTEGER NOT NULL,
  gomaxprocs INTEGER NOT NULL,
  trigger TEXT NOT NULL,
  source TEXT NOT NULL
);
CREATE INDEX cycles_pid_time ON cycles (pid, start_wall_ns);
CREATE INDEX cycles_time ON cycles (start_wall_ns);
CREATE TABLE stops (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  start_wall_ns INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  gc INTEGER NOT NULL
);
CREATE INDEX stops_pid_time ON stops (pid, start_wall_ns);
CREATE INDEX stops_time ON stops (start_wall_ns);
)sql";

constexpr const char* kInsertRun =
    "INSERT INTO runs (start_wall_ns, boot_id, agent_pid, writer) VALUES (?1, ?2, ?3, ?4)";
// A process row: first seen keeps its time; a later description updates it.
constexpr const char* kUpsertProcess =
    "INSERT INTO processes (run_id, pid, generation, comm, exe, go_version, container, "
    "gomaxprocs, seen_wall_ns, last_wall_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
    "ON CONFLICT (run_id, pid, generation) DO UPDATE SET comm = excluded.comm, "
    "exe = excluded.exe, go_version = excluded.go_version, container = excluded.container, "
    "gomaxprocs = excluded.gomaxprocs, "
    "seen_wall_ns = min(seen_wall_ns, excluded.seen_wall_ns), "
    "last_wall_ns = max(last_wall_ns, excluded.last_wall_ns)";
// Records of a process: its row exists (a placeholder if it was never
// described) and its last activity moves forward.
constexpr const char* kTouchProcess =
    "INSERT INTO processes (run_id, pid, generation, seen_wall_ns, last_wall_ns) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run_id, pid, generation) DO UPDATE SET "
    "seen_wall_ns = min(seen_wall_ns, excluded.seen_wall_ns), "
    "last_wall_ns = max(last_wall_ns, excluded.last_wall_ns)";
constexpr const char* kInsertCycle =
    "INSERT INTO cycles (run_id, pid, generation, gc, start_wall_ns, sweep_term_ns, mark_ns, "
    "mark_term_ns, cpu_sweep_term_ns, cpu_assist_ns, cpu_background_ns, cpu_idle_ns, "
    "cpu_mark_term_ns, heap_start_bytes, heap_end_bytes, heap_live_bytes, heap_goal_bytes, "
    "allocated_bytes, gomaxprocs, trigger, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";
constexpr const char* kInsertStop =
    "INSERT INTO stops (run_id, pid, generation, start_wall_ns, duration_ns, kind, reason, gc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kUpdateExit =
    "UPDATE processes SET exit_wall_ns = ?4, exit_code = ?5, exit_signal = ?6, exit_exec = ?7, "
    "last_wall_ns = max(last_wall_ns, ?4) WHERE run_id = ?1 AND pid = ?2 AND generation = ?3";

std::string ReadBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id.empty() ? "unknown" : id;
}

int64_t WallNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

// "file:<path>?immutable=1", the path percent-encoded where URIs need it.
std::string ImmutableUri(const std::string& path) {
  std::string uri = "file:";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      uri += buf;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

struct HistoryStore::Statements {
  SqliteStmt upsert_process, touch_process, insert_cycle, insert_stop, update_exit;
};

struct HistoryStore::Pending {
  struct ProcessRow {
    ProcessKey key;
    ProcessInfo info;
    int64_t wall_ns;
  };
  struct CycleRow {
    ProcessKey key;
    int64_t wall_ns;
    GcCycle cycle;
  };
  struct StopRow {
    ProcessKey key;
    int64_t wall_ns;
    StwPause pause;
  };
  struct ExitRow {
    ProcessKey key;
    ProcessExited exit;
    int64_t wall_ns;
  };
  std::vector<ProcessRow> processes;
  std::vector<CycleRow> cycles;
  std::vector<StopRow> stops;
  std::vector<ExitRow> exits;

  size_t size() const { return processes.size() + cycles.size() + stops.size() + exits.size(); }
  void clear() {
    processes.clear();
    cycles.clear();
    stops.clear();
    exits.clear();
  }
};

HistoryStore::HistoryStore(std::string path, bool read_only, HistoryStoreOptions options)
    : path_(std::move(path)),
      read_only_(read_only),
      options_(std::move(options)),
      stmts_(std::make_unique<Statements>()),
      pending_(std::make_unique<Pending>()) {}

HistoryStore::~HistoryStore() {
  if (!read_only_ && db_ && pending_->size() > 0) (void)Flush();  // Best effort.
  stmts_.reset();  // Statements are finalized before the connection closes.
  if (db_) sqlite3_close_v2(db_);
}

Status HistoryStore::Error(std::string_view what) const {
  std::string msg = "history store '" + path_ + "': " + std::string(what);
  if (db_) msg += ": " + std::string(sqlite3_errmsg(db_));
  int code = db_ ? sqlite3_errcode(db_) : SQLITE_ERROR;
  switch (code) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::DataLoss(msg);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return Status::PermissionDenied(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return Status::Unavailable(msg);
    default:
      return Status::Internal(msg);
  }
}

Status HistoryStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(std::string("cannot run \"") + sql + "\"");
  return Status::Ok();
}

StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::Open(const std::string& path,
                                                           HistoryStoreOptions options) {
  if (path.empty()) return Status::InvalidArgument("history store: empty path");
  std::string dir = ParentDir(path);
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    return Status::NotFound("history store '" + path + "': directory '" + dir +
                            "' does not exist (create it first)");
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("history store '" + path + "': '" + dir +
                                   "' is not a directory");
  }
  if (access(dir.c_str(), W_OK) != 0) {
    return Status::PermissionDenied("history store '" + path + "': directory '" + dir +
                                    "' is not writable (SQLite needs it for its -wal file)");
  }
  std::unique_ptr<HistoryStore> store(new HistoryStore(path, false, std::move(options)));
  GCPILOT_RETURN_IF_ERROR(store->Init());
  return store;
}

StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::OpenReadOnly(const std::string& path,
                                                                   HistoryStoreOptions options) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) {
      return Status::NotFound("history store '" + path + "' does not exist");
    }
    return Status::FromErrno(err, "history store '" + path + "'");
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("history store '" + path + "' is not a regular file");
  }
  std::unique_ptr<HistoryStore> store(new HistoryStore(path, true, std::move(options)));
  GCPILOT_RETURN_IF_ERROR(store->Init());
  return store;
}

Status HistoryStore::Init() {
  int flags = SQLITE_OPEN_NOMUTEX |
              (read_only_ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) return Error("cannot open");
  sqlite3_extended_result_codes(db_, 0);
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  Status schema = CheckOrCreateSchema();
  if (read_only_ && schema.code() == StatusCode::kPermissionDenied &&
      access((path_ + "-wal").c_str(), F_OK) != 0) {
    // A reader without write access to the store's directory cannot create
    // the -shm file SQLite wants for a WAL database. With no -wal file no
    // writer is active, so the file can be read as immutable.
    sqlite3_close_v2(db_);
    db_ = nullptr;
    rc = sqlite3_open_v2(ImmutableUri(path_).c_str(), &db_,
                         SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return Error("cannot open");
    schema = CheckOrCreateSchema();
  }
  GCPILOT_RETURN_IF_ERROR(schema);
  if (read_only_) return Status::Ok();
  GCPILOT_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  GCPILOT_RETURN_IF_ERROR(StartRun());
  return Prepare();
}

Status HistoryStore::CheckOrCreateSchema() {
  auto read_int = [&](const char* sql) -> StatusOr<int64_t> {
    SqliteStmt s;
    if (!s.Prepare(db_, sql)) return Error("not a readable SQLite database");
    int rc = s.Step();
    if (rc != SQLITE_ROW) return Error("not a readable SQLite database");
    return s.Int(0);
  };
  StatusOr<int64_t> app = read_int("PRAGMA application_id");
  if (!app.ok()) {
    if (app.status().code() != StatusCode::kDataLoss) return app.status();
    return Status::DataLoss(app.status().message() + " (not a gcpilot history store, or corrupt)");
  }
  StatusOr<int64_t> version = read_int("PRAGMA user_version");
  if (!version.ok()) return version.status();
  StatusOr<int64_t> objects = read_int("SELECT count(*) FROM sqlite_master");
  if (!objects.ok()) {
    return Status::DataLoss(objects.status().message() + " (corrupt file?)");
  }

  if (*app == 0 && *version == 0 && *objects == 0) {
    if (read_only_) {
      return Status::InvalidArgument("history store '" + path_ +
                                     "' is empty (no gcpilot history recorded in it)");
    }
    // New file: WAL first (it cannot change inside a transaction), then the
    // schema and its markers in one transaction.
    GCPILOT_RETURN_IF_ERROR(UseWal());
    GCPILOT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = Exec(kSchemaV1);
    if (s.ok())
      s = Exec(("PRAGMA application_id=" + std::to_string(kHistoryApplicationId)).c_str());
    if (s.ok()) s = Exec(("PRAGMA user_version=" + std::to_string(kHistorySchemaVersion)).c_str());
    if (s.ok()) s = Exec("COMMIT");
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return Status::Ok();
  }
  if (*app != kHistoryApplicationId) {
    return Status::InvalidArgument("'" + path_ +
                                   "' is an SQLite database of another program, not a gcpilot "
                                   "history store (application_id " +
                                   std::to_string(*app) + "); refusing to touch it");
  }
  if (*version > kHistorySchemaVersion) {
    return Status::InvalidArgument(
        "history store '" + path_ + "' has schema version " + std::to_string(*version) +
        ", newer than this gcpilot understands (" + std::to_string(kHistorySchemaVersion) +
        "); use a newer gcpilot or another file");
  }
  if (*version < 1) {
    return Status::DataLoss("history store '" + path_ + "' has no schema version (damaged?)");
  }
  return read_only_ ? Status::Ok() : UseWal();
}

Status HistoryStore::UseWal() {
  SqliteStmt wal;
  if (!wal.Prepare(db_, "PRAGMA journal_mode=WAL") || wal.Step() != SQLITE_ROW) {
    return Error("cannot switch to WAL mode");
  }
  if (wal.Text(0) != "wal") {
    return Status::Unavailable("history store '" + path_ + "': cannot use WAL mode (journal mode " +
                               wal.Text(0) + ")");
  }
  return Status::Ok();
}

Status HistoryStore::StartRun() {
  SqliteStmt s;
  if (!s.Prepare(db_, kInsertRun)) return Error("cannot prepare run insert");
  std::string boot = options_.boot_id.empty() ? ReadBootId() : options_.boot_id;
  s.Bind(1, WallNowNs());
  s.Bind(2, boot);
  s.Bind(3, static_cast<int64_t>(getpid()));
  s.Bind(4, options_.writer);
  if (s.Step() != SQLITE_DONE) return Error("cannot start a run");
  run_id_ = sqlite3_last_insert_rowid(db_);
  return Status::Ok();
}

Status HistoryStore::Prepare() {
  Statements& s = *stmts_;
  if (!s.upsert_process.Prepare(db_, kUpsertProcess) ||
      !s.touch_process.Prepare(db_, kTouchProcess) || !s.insert_cycle.Prepare(db_, kInsertCycle) ||
      !s.insert_stop.Prepare(db_, kInsertStop) || !s.update_exit.Prepare(db_, kUpdateExit)) {
    return Error("cannot prepare statements");
  }
  return Status::Ok();
}

size_t HistoryStore::buffered_rows() const { return pending_->size(); }

bool HistoryStore::Admit() {
  if (read_only_) return false;
  if (pending_->size() >= options_.max_buffered_rows) {
    ++dropped_rows_;
    return false;
  }
  return true;
}

void HistoryStore::RecordProcess(const ProcessKey& key, const ProcessInfo& info, int64_t wall_ns) {
  if (Admit()) pending_->processes.push_back({key, info, wall_ns});
}

void HistoryStore::RecordCycle(const ProcessKey& key, const GcCycle& cycle, int64_t wall_start_ns) {
  if (!Admit()) return;
  Pending::CycleRow row{key, wall_start_ns, {}};
  // Only the stored fields are kept (the pacer details are not stored).
  GcCycle& c = row.cycle;
  c.number = cycle.number;
  c.start_ns = wall_start_ns;
  c.sweep_term_ns = cycle.sweep_term_ns;
  c.mark_ns = cycle.mark_ns;
  c.mark_term_ns = cycle.mark_term_ns;
  c.cpu = cycle.cpu;
  c.heap_start_bytes = cycle.heap_start_bytes;
  c.heap_end_bytes = cycle.heap_end_bytes;
  c.heap_live_bytes = cycle.heap_live_bytes;
  c.heap_goal_bytes = cycle.heap_goal_bytes;
  c.allocated_bytes = cycle.allocated_bytes;
  c.gomaxprocs = cycle.gomaxprocs;
  c.trigger = cycle.trigger;
  c.source = cycle.source;
  pending_->cycles.push_back(std::move(row));
}

void HistoryStore::RecordStop(const ProcessKey& key, const StwPause& pause, int64_t wall_start_ns) {
  if (Admit()) pending_->stops.push_back({key, wall_start_ns, pause});
}

void HistoryStore::RecordExit(const ProcessKey& key, const ProcessExited& exit, int64_t wall_ns) {
  if (Admit()) pending_->exits.push_back({key, exit, wall_ns});
}

Status HistoryStore::Flush() {
  if (read_only_) return Status::InvalidArgument("history store '" + path_ + "' is read-only");
  if (pending_->size() == 0) return Status::Ok();
  Status s = Exec("BEGIN IMMEDIATE");
  if (s.ok()) {
    s = WriteBuffered();
    if (s.ok()) s = Exec("COMMIT");
    if (!s.ok()) (void)Exec("ROLLBACK");
  }
  if (!s.ok()) {
    ++failed_flushes_;
    return s;
  }
  written_rows_ += pending_->size();
  pending_->clear();
  return Status::Ok();
}

Status HistoryStore::WriteBuffered() {
  Statements& st = *stmts_;
  const Pending& p = *pending_;
  auto bind_key = [&](SqliteStmt& s, const ProcessKey& key) {
    s.Reset();
    s.Bind(1, run_id_);
    s.Bind(2, static_cast<int64_t>(key.pid));
    s.Bind(3, static_cast<int64_t>(key.generation));
  };
  for (const auto& r : p.processes) {
    SqliteStmt& s = st.upsert_process;
    bind_key(s, r.key);
    s.Bind(4, r.info.comm);
    s.Bind(5, r.info.exe);
    s.Bind(6, r.info.go_version);
    s.Bind(7, r.info.container);
    s.Bind(8, static_cast<int64_t>(r.info.gomaxprocs));
    s.Bind(9, r.wall_ns);
    if (s.Step() != SQLITE_DONE) return Error("cannot write a process");
  }
  // First and last activity per process, so each process row is touched once.
  std::map<ProcessKey, std::pair<int64_t, int64_t>> activity;
  auto note = [&](const ProcessKey& key, int64_t first, int64_t last) {
    auto [it, fresh] = activity.try_emplace(key, first, last);
    if (!fresh) {
      it->second.first = std::min(it->second.first, first);
      it->second.second = std::max(it->second.second, last);
    }
  };
  for (const auto& r : p.cycles) {
    note(r.key, r.wall_ns,
         r.wall_ns + r.cycle.sweep_term_ns + r.cycle.mark_ns + r.cycle.mark_term_ns);
  }
  for (const auto& r : p.stops) note(r.key, r.wall_ns, r.wall_ns + r.pause.duration_ns);
  for (const auto& r : p.exits) note(r.key, r.wall_ns, r.wall_ns);
  for (const auto& [key, span] : activity) {
    SqliteStmt& s = st.touch_process;
    bind_key(s, key);
    s.Bind(4, span.first);
    s.Bind(5, span.second);
    if (s.Step() != SQLITE_DONE) return Error("cannot write a process");
  }
  for (const auto& r : p.cycles) {
    SqliteStmt& s = st.insert_cycle;
    const GcCycle& c = r.cycle;
    bind_key(s, r.key);
    s.Bind(4, I64(c.number));
    s.Bind(5, r.wall_ns);
    s.Bind(6, c.sweep_term_ns);
    s.Bind(7, c.mark_ns);
    s.Bind(8, c.mark_term_ns);
    s.Bind(9, c.cpu.sweep_term_ns);
    s.Bind(10, c.cpu.assist_ns);
    s.Bind(11, c.cpu.background_ns);
    s.Bind(12, c.cpu.idle_ns);
    s.Bind(13, c.cpu.mark_term_ns);
    s.Bind(14, I64(c.heap_start_bytes));
    s.Bind(15, I64(c.heap_end_bytes));
    s.Bind(16, I64(c.heap_live_bytes));
    s.Bind(17, I64(c.heap_goal_bytes));
    s.Bind(18, I64(c.allocated_bytes));
    s.Bind(19, static_cast<int64_t>(c.gomaxprocs));
    s.Bind(20, GcTriggerName(c.trigger));
    s.Bind(21, EventSourceName(c.source));
    if (s.Step() != SQLITE_DONE) return Error("cannot write a cycle");
  }
  for (const auto& r : p.stops) {
    SqliteStmt& s = st.insert_stop;
    bind_key(s, r.key);
    s.Bind(4, r.wall_ns);
    s.Bind(5, r.pause.duration_ns);
    s.Bind(6, StwKindName(r.pause.kind));
    s.Bind(7, StwReasonName(r.pause.reason));
    s.Bind(8, I64(r.pause.gc_number));
    if (s.Step() != SQLITE_DONE) return Error("cannot write a stop");
  }
  for (const auto& r : p.exits) {
    SqliteStmt& s = st.update_exit;
    bind_key(s, r.key);
    s.Bind(4, r.wall_ns);
    s.Bind(5, static_cast<int64_t>(r.exit.exit_code));
    s.Bind(6, static_cast<int64_t>(r.exit.signal));
    s.Bind(7, static_cast<int64_t>(r.exit.exec ? 1 : 0));
    if (s.Step() != SQLITE_DONE) return Error("cannot write a process exit");
  }
  return Status::Ok();
}

StatusOr<int64_t> HistoryStore::Prune(int64_t older_than_wall_ns) {
  if (read_only_) return Status::InvalidArgument("history store '" + path_ + "' is read-only");
  static constexpr const char* kDeletes[] = {
      "DELETE FROM cycles WHERE start_wall_ns < ?1",
      "DELETE FROM stops WHERE start_wall_ns < ?1",
      // A live process of this run stays, however quiet.
      "DELETE FROM processes WHERE last_wall_ns < ?1 AND "
      "NOT (run_id = ?2 AND exit_wall_ns IS NULL)",
      "DELETE FROM runs WHERE run_id != ?2 AND start_wall_ns < ?1 AND NOT EXISTS "
      "(SELECT 1 FROM processes p WHERE p.run_id = runs.run_id)",
  };
  GCPILOT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  int64_t deleted = 0;
  for (const char* sql : kDeletes) {
    SqliteStmt s;
    if (!s.Prepare(db_, sql)) {
      Status e = Error("cannot prepare prune");
      (void)Exec("ROLLBACK");
      return e;
    }
    s.Bind(1, older_than_wall_ns);
    if (sqlite3_bind_parameter_count(s.get()) >= 2) s.Bind(2, run_id_);
    if (s.Step() != SQLITE_DONE) {
      Status e = Error("cannot prune");
      (void)Exec("ROLLBACK");
      return e;
    }
    deleted += sqlite3_changes(db_);
  }
  Status s = Exec("COMMIT");
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return deleted;
}

}  // namespace gcpilot
