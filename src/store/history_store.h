// HistoryStore: optional SQLite persistence of GC history (processes, GC
// cycles, non-GC stops of the world), so `gcpilot history` can answer "what
// happened at 03:00" after the fact.
//
// One SQLite file in WAL mode (synchronous=NORMAL): one writer (the agent)
// and any number of read-only readers (`gcpilot history`) at the same time.
// Every Open() for writing starts a new agent run (a `runs` row with its
// start time and the kernel boot id), so the same pid seen by two agent
// runs never collides. Times in the store are wall-clock (Unix epoch) ns.
//
// Writes are buffered in memory and written by Flush() in one transaction
// with prepared statements (cheap enough at 500 cycles/s flushed every
// second). The buffer is bounded: while flushes fail (disk full, a lock held
// too long), rows beyond `max_buffered_rows` are dropped and counted
// (dropped_rows()), never held in unbounded memory. Values are always bound
// as parameters, never spliced into SQL text.
//
// Schema version: `PRAGMA user_version` (kHistorySchemaVersion); the file is
// marked as gcpilot's by `PRAGMA application_id`. A file of another program,
// a corrupt file or a store of a newer schema is refused with a clear Status.
//
// Thread-safety: not thread-safe; one HistoryStore is used from one thread
// (the agent's ingest thread). Separate HistoryStore objects (in this or
// another process) may use the same file concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/events.h"
#include "model/gc_cycle.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gcpilot {

inline constexpr int kHistorySchemaVersion = 1;
// PRAGMA application_id of a gcpilot store ("gcpl").
inline constexpr int32_t kHistoryApplicationId = 0x6763706c;

struct HistoryStoreOptions {
  // How long a statement waits for another connection's lock before failing.
  int busy_timeout_ms = 2000;
  // Rows (processes, cycles, stops, exits) held in memory waiting for a
  // successful Flush(); rows recorded beyond it are dropped and counted.
  size_t max_buffered_rows = 200'000;
  // Recorded in the run row (what wrote the store), e.g. "gcpilot 0.1.0".
  std::string writer = "gcpilot";
  // Boot id recorded with the run; empty: read /proc/sys/kernel/random/boot_id.
  std::string boot_id;
};

// Keyset-paging position: rows strictly after (start_wall_ns, id).
struct HistoryCursor {
  int64_t wall_ns = 0;
  int64_t id = 0;
};

struct HistoryQuery {
  std::optional<int32_t> pid;  // Only this pid (any run, any generation).
  // Only processes whose comm, exe or exe file name is this; empty: all.
  std::string binary;
  int64_t since_wall_ns = INT64_MIN;   // Inclusive.
  int64_t until_wall_ns = INT64_MAX;   // Exclusive.
  int64_t limit = 10'000;              // Rows at most (<= 0: no limit).
  std::optional<HistoryCursor> after;  // Continue after this row (Cycles/Stops).
};

struct StoredProcess {
  int64_t run_id = 0;
  ProcessKey key;
  ProcessInfo info;
  int64_t seen_wall_ns = 0;
  int64_t last_wall_ns = 0;  // Last cycle, stop or exit recorded.
  std::optional<ProcessExited> exit;
  int64_t exit_wall_ns = 0;  // When exit is set.
};

struct StoredCycle {
  int64_t id = 0;  // Row id, for paging.
  int64_t run_id = 0;
  ProcessKey key;
  int64_t start_wall_ns = 0;
  // The stored fields (number, phases, CPU split, heap sizes, allocated,
  // gomaxprocs, trigger, source); cycle.start_ns == start_wall_ns.
  GcCycle cycle;
};

struct StoredStop {
  int64_t id = 0;
  int64_t run_id = 0;
  ProcessKey key;
  int64_t start_wall_ns = 0;
  StwPause pause;  // pause.start_ns == start_wall_ns.
};

// The span of time the store holds records (cycles and stops) for.
struct HistoryRange {
  int64_t first_wall_ns = 0;
  int64_t last_wall_ns = 0;
  int64_t cycles = 0;
  int64_t stops = 0;
};

class HistoryStore {
 public:
  // Opens (creating if needed) the store at `path` for writing and starts a
  // new run. Errors: the parent directory is missing or not writable; the
  // file is not a gcpilot store (another program's database, a corrupt or
  // non-SQLite file); its schema is newer than this gcpilot understands.
  static StatusOr<std::unique_ptr<HistoryStore>> Open(const std::string& path,
                                                      HistoryStoreOptions options = {});
  // Opens an existing store for queries only (works while a writer writes).
  // Errors: the file does not exist (NotFound), or as Open().
  static StatusOr<std::unique_ptr<HistoryStore>> OpenReadOnly(const std::string& path,
                                                              HistoryStoreOptions options = {});

  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Buffered writes (nothing reaches the file before Flush()). Ignored on a
  // read-only store. A process recorded again (same key in this run)
  // updates its description.
  void RecordProcess(const ProcessKey& key, const ProcessInfo& info, int64_t wall_ns);
  void RecordCycle(const ProcessKey& key, const GcCycle& cycle, int64_t wall_start_ns);
  void RecordStop(const ProcessKey& key, const StwPause& pause, int64_t wall_start_ns);
  void RecordExit(const ProcessKey& key, const ProcessExited& exit, int64_t wall_ns);

  // Writes every buffered row in one transaction. On failure the rows stay
  // buffered (up to the cap) for the next Flush() and the error is returned.
  Status Flush();
  // Deletes cycles and stops that started before `older_than_wall_ns`, and
  // processes (and runs) with nothing left newer than it. Returns the
  // number of rows deleted. Buffered rows are not affected.
  StatusOr<int64_t> Prune(int64_t older_than_wall_ns);

  // Queries (ordered by start time, then row id; at most query.limit rows).
  StatusOr<std::vector<StoredCycle>> Cycles(const HistoryQuery& query);
  StatusOr<std::vector<StoredStop>> Stops(const HistoryQuery& query);
  // Processes alive at some time in [since, until), ordered by first seen.
  StatusOr<std::vector<StoredProcess>> Processes(const HistoryQuery& query);
  // The time span of the stored cycles and stops; nullopt when none.
  StatusOr<std::optional<HistoryRange>> Range();

  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }
  int64_t run_id() const { return run_id_; }  // 0 when read-only.
  uint64_t dropped_rows() const { return dropped_rows_; }
  size_t buffered_rows() const;
  uint64_t written_rows() const { return written_rows_; }
  uint64_t failed_flushes() const { return failed_flushes_; }

 private:
  struct Statements;
  struct Pending;

  HistoryStore(std::string path, bool read_only, HistoryStoreOptions options);
  Status Init();
  Status CheckOrCreateSchema();
  Status UseWal();  // journal_mode=WAL, or an error.
  Status StartRun();
  Status Prepare();
  Status WriteBuffered();
  bool Admit();  // False (and counts a drop) when the buffer is full.
  Status Exec(const char* sql);
  Status Error(std::string_view what) const;

  std::string path_;
  bool read_only_;
  HistoryStoreOptions options_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statements> stmts_;
  std::unique_ptr<Pending> pending_;
  int64_t run_id_ = 0;
  uint64_t dropped_rows_ = 0;
  uint64_t written_rows_ = 0;
  uint64_t failed_flushes_ = 0;
};

}  // namespace gcpilot
