// Tests of HistoryStore: round trip, paging, prune, reopen, runs, refusal of
// foreign/corrupt/newer files, a reader during writes (WAL), the bounded
// buffer when flushes fail, hostile strings; and of StoreSink.
#include "store/history_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "model/cycle_assembler.h"
#include "store/store_sink.h"

namespace gcpilot {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kBase = int64_t{1'764'217'200} * kSec;  // 2025-11-27T04:20:00Z

std::string TempStorePath(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("gcpilot_store_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return (dir / "history.db").string();
}

GcCycle MakeCycle(uint64_t n) {
  GcCycle c;
  c.number = n;
  c.start_ns = static_cast<int64_t>(n) * kSec;
  c.sweep_term_ns = 20'000 + static_cast<int64_t>(n);
  c.mark_ns = 300'000;
  c.mark_term_ns = 40'000;
  c.cpu = GcCpuSplit{1, 2, 3, 4, 5};
  c.heap_start_bytes = 4 << 20;
  c.heap_end_bytes = 5 << 20;
  c.heap_live_bytes = 3 << 20;
  c.heap_goal_bytes = 6 << 20;
  c.allocated_bytes = 2 << 20;
  c.gomaxprocs = 4;
  c.trigger = n % 5 == 0 ? GcTrigger::kForced : GcTrigger::kHeap;
  c.source = EventSource::kEbpf;
  return c;
}

HistoryQuery AllRows() {
  HistoryQuery q;
  q.limit = 0;
  return q;
}

std::unique_ptr<HistoryStore> MustOpen(const std::string& path, HistoryStoreOptions o = {}) {
  StatusOr<std::unique_ptr<HistoryStore>> s = HistoryStore::Open(path, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(HistoryStore, RoundTripsProcessesCyclesStopsAndExits) {
  std::string path = TempStorePath("roundtrip");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  ProcessKey key{4242, 1};
  ProcessInfo info{"api", "/srv/api/bin/api", "go1.23.5", "abc123def456", 4};
  store->RecordProcess(key, info, kBase);
  GcCycle c = MakeCycle(7);
  c.pacer_end = PacerEnd{};
  store->RecordCycle(key, c, kBase + kSec);
  StwPause stop{0, 123'456, StwKind::kOther, StwReason::kReadMemStats, 0};
  store->RecordStop(key, stop, kBase + 2 * kSec);
  store->RecordExit(key, ProcessExited{3, 0, false}, kBase + 3 * kSec);
  EXPECT_EQ(store->buffered_rows(), 4u);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->buffered_rows(), 0u);
  EXPECT_EQ(store->written_rows(), 4u);

  auto reader = HistoryStore::OpenReadOnly(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto cycles = (*reader)->Cycles({});
  ASSERT_TRUE(cycles.ok()) << cycles.status().ToString();
  ASSERT_EQ(cycles->size(), 1u);
  const StoredCycle& sc = (*cycles)[0];
  EXPECT_EQ(sc.key, key);
  EXPECT_EQ(sc.run_id, store->run_id());
  EXPECT_EQ(sc.start_wall_ns, kBase + kSec);
  EXPECT_EQ(sc.cycle.start_ns, kBase + kSec);
  EXPECT_EQ(sc.cycle.number, 7u);
  EXPECT_EQ(sc.cycle.sweep_term_ns, c.sweep_term_ns);
  EXPECT_EQ(sc.cycle.mark_ns, c.mark_ns);
  EXPECT_EQ(sc.cycle.mark_term_ns, c.mark_term_ns);
  EXPECT_EQ(sc.cycle.cpu.sweep_term_ns, 1);
  EXPECT_EQ(sc.cycle.cpu.assist_ns, 2);
  EXPECT_EQ(sc.cycle.cpu.background_ns, 3);
  EXPECT_EQ(sc.cycle.cpu.idle_ns, 4);
  EXPECT_EQ(sc.cycle.cpu.mark_term_ns, 5);
  EXPECT_EQ(sc.cycle.heap_start_bytes, c.heap_start_bytes);
  EXPECT_EQ(sc.cycle.heap_end_bytes, c.heap_end_bytes);
  EXPECT_EQ(sc.cycle.heap_live_bytes, c.heap_live_bytes);
  EXPECT_EQ(sc.cycle.heap_goal_bytes, c.heap_goal_bytes);
  EXPECT_EQ(sc.cycle.allocated_bytes, c.allocated_bytes);
  EXPECT_EQ(sc.cycle.gomaxprocs, 4);
  EXPECT_EQ(sc.cycle.trigger, GcTrigger::kHeap);
  EXPECT_EQ(sc.cycle.source, EventSource::kEbpf);
  EXPECT_FALSE(sc.cycle.pacer_end.has_value());

  auto stops = (*reader)->Stops({});
  ASSERT_TRUE(stops.ok());
  ASSERT_EQ(stops->size(), 1u);
  EXPECT_EQ((*stops)[0].start_wall_ns, kBase + 2 * kSec);
  EXPECT_EQ((*stops)[0].pause.duration_ns, 123'456);
  EXPECT_EQ((*stops)[0].pause.kind, StwKind::kOther);
  EXPECT_EQ((*stops)[0].pause.reason, StwReason::kReadMemStats);

  auto procs = (*reader)->Processes({});
  ASSERT_TRUE(procs.ok());
  ASSERT_EQ(procs->size(), 1u);
  const StoredProcess& p = (*procs)[0];
  EXPECT_EQ(p.key, key);
  EXPECT_EQ(p.info.comm, "api");
  EXPECT_EQ(p.info.exe, "/srv/api/bin/api");
  EXPECT_EQ(p.info.go_version, "go1.23.5");
  EXPECT_EQ(p.info.container, "abc123def456");
  EXPECT_EQ(p.info.gomaxprocs, 4);
  EXPECT_EQ(p.seen_wall_ns, kBase);
  EXPECT_EQ(p.last_wall_ns, kBase + 3 * kSec);
  ASSERT_TRUE(p.exit.has_value());
  EXPECT_EQ(p.exit->exit_code, 3);
  EXPECT_EQ(p.exit_wall_ns, kBase + 3 * kSec);

  auto range = (*reader)->Range();
  ASSERT_TRUE(range.ok());
  ASSERT_TRUE(range->has_value());
  EXPECT_EQ((*range)->first_wall_ns, kBase + kSec);
  EXPECT_EQ((*range)->last_wall_ns, kBase + 2 * kSec);
  EXPECT_EQ((*range)->cycles, 1);
  EXPECT_EQ((*range)->stops, 1);
}

TEST(HistoryStore, FiltersAndPagesInTimeOrder) {
  std::string path = TempStorePath("paging");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  store->RecordProcess({10, 0}, {"alpha", "/bin/alpha", "", "", 0}, kBase);
  store->RecordProcess({20, 0}, {"beta", "/opt/x/beta-server", "", "", 0}, kBase);
  // Recorded out of time order: queries order by time.
  for (int i = 99; i >= 0; --i) {
    store->RecordCycle({i % 2 ? 10 : 20, 0}, MakeCycle(static_cast<uint64_t>(i) + 1),
                       kBase + i * kSec);
  }
  ASSERT_TRUE(store->Flush().ok());

  HistoryQuery q;
  q.limit = 30;
  std::vector<StoredCycle> all;
  for (int page = 0; page < 10; ++page) {
    auto r = store->Cycles(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->empty()) break;
    EXPECT_LE(r->size(), 30u);
    all.insert(all.end(), r->begin(), r->end());
    q.after = HistoryCursor{r->back().start_wall_ns, r->back().id};
  }
  ASSERT_EQ(all.size(), 100u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].start_wall_ns, kBase + static_cast<int64_t>(i) * kSec);
  }

  HistoryQuery by_pid;
  by_pid.pid = 10;
  by_pid.since_wall_ns = kBase + 10 * kSec;
  by_pid.until_wall_ns = kBase + 20 * kSec;  // Exclusive.
  auto r = store->Cycles(by_pid);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);  // 11, 13, 15, 17, 19
  for (const auto& c : *r) EXPECT_EQ(c.key.pid, 10);

  HistoryQuery by_binary;
  by_binary.binary = "beta-server";  // The exe's file name.
  r = store->Cycles(by_binary);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 50u);
  by_binary.binary = "alpha";  // The comm.
  r = store->Cycles(by_binary);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 50u);
  by_binary.binary = "eta-server";  // Not a whole file name.
  r = store->Cycles(by_binary);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 0u);

  HistoryQuery unlimited;
  unlimited.limit = 0;
  r = store->Cycles(unlimited);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 100u);

  HistoryQuery procs;
  procs.pid = 20;
  auto p = store->Processes(procs);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].info.comm, "beta");
  EXPECT_EQ((*p)[0].last_wall_ns,
            kBase + 98 * kSec + MakeCycle(99).sweep_term_ns + 300'000 + 40'000);
}

TEST(HistoryStore, PruneDeletesOldRowsOnly) {
  std::string path = TempStorePath("prune");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  store->RecordProcess({1, 0}, {"old", "", "", "", 0}, kBase);
  store->RecordCycle({1, 0}, MakeCycle(1), kBase);
  store->RecordStop({1, 0}, StwPause{0, 10, StwKind::kOther, StwReason::kGomaxprocs, 0}, kBase);
  store->RecordExit({1, 0}, {}, kBase + kSec);
  store->RecordProcess({2, 0}, {"new", "", "", "", 0}, kBase + 100 * kSec);
  store->RecordCycle({2, 0}, MakeCycle(1), kBase + 100 * kSec);
  // A live process of this run that has been quiet: kept.
  store->RecordProcess({3, 0}, {"quiet", "", "", "", 0}, kBase);
  ASSERT_TRUE(store->Flush().ok());

  auto deleted = store->Prune(kBase + 50 * kSec);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 3);  // cycle, stop, process 1.
  auto cycles = store->Cycles({});
  ASSERT_TRUE(cycles.ok());
  ASSERT_EQ(cycles->size(), 1u);
  EXPECT_EQ((*cycles)[0].key.pid, 2);
  auto stops = store->Stops({});
  ASSERT_TRUE(stops.ok());
  EXPECT_TRUE(stops->empty());
  auto procs = store->Processes({});
  ASSERT_TRUE(procs.ok());
  ASSERT_EQ(procs->size(), 2u);
  EXPECT_EQ((*procs)[0].info.comm, "quiet");
  EXPECT_EQ((*procs)[1].info.comm, "new");
}

TEST(HistoryStore, ReopenKeepsDataAndStartsANewRun) {
  std::string path = TempStorePath("reopen");
  int64_t first_run;
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store);
    first_run = store->run_id();
    store->RecordProcess({77, 0}, {"svc", "", "", "", 0}, kBase);
    store->RecordCycle({77, 0}, MakeCycle(1), kBase);
    ASSERT_TRUE(store->Flush().ok());
  }
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store);
    EXPECT_NE(store->run_id(), first_run);
    // The same pid in the new run is another process: no collision.
    store->RecordProcess({77, 0}, {"svc2", "", "", "", 0}, kBase + kSec);
    store->RecordCycle({77, 0}, MakeCycle(1), kBase + kSec);
    // Not flushed explicitly: the destructor flushes what is buffered.
  }
  auto reader = HistoryStore::OpenReadOnly(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto procs = (*reader)->Processes({});
  ASSERT_TRUE(procs.ok());
  ASSERT_EQ(procs->size(), 2u);
  EXPECT_EQ((*procs)[0].info.comm, "svc");
  EXPECT_EQ((*procs)[1].info.comm, "svc2");
  EXPECT_NE((*procs)[0].run_id, (*procs)[1].run_id);
  auto cycles = (*reader)->Cycles({});
  ASSERT_TRUE(cycles.ok());
  EXPECT_EQ(cycles->size(), 2u);
}

TEST(HistoryStore, RefusesGarbageForeignAndNewerFiles) {
  std::string path = TempStorePath("garbage");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 8192; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
  }
  auto s = HistoryStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("not a gcpilot history store"), std::string::npos)
      << s.status().message();
  auto r = HistoryStore::OpenReadOnly(path);
  EXPECT_FALSE(r.ok());

  // An SQLite database of another program.
  std::string foreign = TempStorePath("foreign");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  s = HistoryStore::Open(foreign);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("another program"), std::string::npos)
      << s.status().message();

  // A store written by a newer gcpilot.
  std::string newer = TempStorePath("newer");
  ASSERT_TRUE(MustOpen(newer));
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  s = HistoryStore::Open(newer);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().message();
  r = HistoryStore::OpenReadOnly(newer);
  EXPECT_FALSE(r.ok());

  // Empty file (0 bytes) opened read-only: not a store yet.
  std::string empty = TempStorePath("empty");
  { std::ofstream out(empty); }
  r = HistoryStore::OpenReadOnly(empty);
  EXPECT_FALSE(r.ok());
}

TEST(HistoryStore, MissingDirectoryOrFileIsAClearError) {
  auto s = HistoryStore::Open("/nonexistent-gcpilot-dir/sub/history.db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("/nonexistent-gcpilot-dir/sub"), std::string::npos);
  auto r = HistoryStore::OpenReadOnly(TempStorePath("missing") + ".nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(HistoryStore, ReaderSeesCommittedRowsWhileWriterWrites) {
  std::string path = TempStorePath("wal");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  store->RecordProcess({5, 0}, {"w", "", "", "", 0}, kBase);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_TRUE(fs::exists(path + "-wal"));  // WAL mode.

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<bool> read_error{false};
  std::thread reader([&] {
    auto r = HistoryStore::OpenReadOnly(path);
    if (!r.ok()) {
      read_error = true;
      return;
    }
    size_t last = 0;
    while (!done) {
      auto cycles = (*r)->Cycles(AllRows());
      if (!cycles.ok() || cycles->size() < last || cycles->size() % 50 != 0) {
        read_error = true;  // Never an error, never a partial transaction.
        return;
      }
      last = cycles->size();
      ++reads;
    }
  });
  for (int batch = 0; batch < 40; ++batch) {
    for (int i = 0; i < 50; ++i) {
      store->RecordCycle({5, 0}, MakeCycle(static_cast<uint64_t>(batch * 50 + i + 1)),
                         kBase + batch * kSec + i);
    }
    Status s = store->Flush();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  while (reads < 3 && !read_error) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_FALSE(read_error);
  auto r = HistoryStore::OpenReadOnly(path);
  ASSERT_TRUE(r.ok());
  auto cycles = (*r)->Cycles(AllRows());
  ASSERT_TRUE(cycles.ok());
  EXPECT_EQ(cycles->size(), 2000u);
  // Read-only stores refuse writes.
  EXPECT_FALSE((*r)->Flush().ok());
}

// A failing Flush (here: another connection holds the write lock, as a
// stuck writer or a full disk would make every flush fail) keeps rows up to
// the cap, drops and counts the rest, and writes the kept rows once the
// store works again.
TEST(HistoryStore, FailingFlushesKeepABoundedBufferAndCountDrops) {
  std::string path = TempStorePath("flushfail");
  HistoryStoreOptions o;
  o.busy_timeout_ms = 10;
  o.max_buffered_rows = 100;
  auto store = MustOpen(path, o);
  ASSERT_TRUE(store);

  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  for (int i = 0; i < 60; ++i) {
    store->RecordCycle({9, 0}, MakeCycle(static_cast<uint64_t>(i) + 1), kBase + i);
  }
  Status s = store->Flush();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_EQ(store->buffered_rows(), 60u);
  for (int i = 60; i < 250; ++i) {
    store->RecordCycle({9, 0}, MakeCycle(static_cast<uint64_t>(i) + 1), kBase + i);
  }
  EXPECT_FALSE(store->Flush().ok());
  EXPECT_EQ(store->buffered_rows(), 100u);
  EXPECT_EQ(store->dropped_rows(), 150u);
  EXPECT_EQ(store->failed_flushes(), 2u);

  ASSERT_EQ(sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(blocker);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->buffered_rows(), 0u);
  auto cycles = store->Cycles(AllRows());
  ASSERT_TRUE(cycles.ok());
  ASSERT_EQ(cycles->size(), 100u);  // The first 100 recorded.
  EXPECT_EQ(cycles->back().cycle.number, 100u);
  EXPECT_EQ(store->dropped_rows(), 150u);
}

// The agent flushes every second: 500 cycles (and a few stops) must be a
// small cost. The bound is loose (shared CI machines); typical is ~1 ms.
TEST(HistoryStore, FlushOfOneSecondAt500CyclesIsCheap) {
  std::string path = TempStorePath("cost");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  for (int p = 0; p < 50; ++p)
    store->RecordProcess({p + 1, 0}, {"svc", "/bin/svc", "", "", 2}, kBase);
  ASSERT_TRUE(store->Flush().ok());
  std::chrono::nanoseconds worst{0};
  for (int second = 0; second < 5; ++second) {
    for (int i = 0; i < 500; ++i) {
      store->RecordCycle({i % 50 + 1, 0}, MakeCycle(static_cast<uint64_t>(second * 500 + i)),
                         kBase + second * kSec + i * 2'000'000);
    }
    for (int i = 0; i < 5; ++i) {
      store->RecordStop({i + 1, 0}, StwPause{0, 1000, StwKind::kOther, StwReason::kReadMemStats, 0},
                        kBase + second * kSec + i);
    }
    auto t0 = std::chrono::steady_clock::now();
    Status s = store->Flush();
    worst = std::max(worst, std::chrono::steady_clock::now() - t0);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_LT(worst, std::chrono::milliseconds(250));
  RecordProperty(
      "worst_flush_us",
      static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(worst).count()));
  auto cycles = store->Cycles(AllRows());
  ASSERT_TRUE(cycles.ok());
  EXPECT_EQ(cycles->size(), 2500u);
}

TEST(HistoryStore, HostileStringsAreStoredVerbatim) {
  std::string path = TempStorePath("hostile");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  const std::string comm = "x'); DROP TABLE cycles;--";
  const std::string exe =
      std::string("/tmp/\xe2\x98\x83 snow\"man\n\t/b\xc3\xa9ta ") + std::string(1, '\0') + "tail";
  const std::string container = "\xff\xfe not utf-8 %s %n ?1 :since";
  store->RecordProcess({1, 0}, {comm, exe, "go1.23", container, 0}, kBase);
  store->RecordCycle({1, 0}, MakeCycle(1), kBase);
  ASSERT_TRUE(store->Flush().ok());
  auto procs = store->Processes({});
  ASSERT_TRUE(procs.ok()) << procs.status().ToString();
  ASSERT_EQ(procs->size(), 1u);
  EXPECT_EQ((*procs)[0].info.comm, comm);
  EXPECT_EQ((*procs)[0].info.exe, exe);
  EXPECT_EQ((*procs)[0].info.container, container);
  HistoryQuery q;
  q.binary = comm;  // Hostile filter values are bound too.
  auto cycles = store->Cycles(q);
  ASSERT_TRUE(cycles.ok()) << cycles.status().ToString();
  EXPECT_EQ(cycles->size(), 1u);
  q.binary = "' OR 1=1 --";
  cycles = store->Cycles(q);
  ASSERT_TRUE(cycles.ok());
  EXPECT_EQ(cycles->size(), 0u);
}

TEST(HistoryStore, SinkHoldsRecordsUntilTheWallOffsetIsKnown) {
  std::string path = TempStorePath("sink");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  StoreSink sink(store.get(), std::nullopt);
  CycleAssembler assembler(&sink);
  ProcessKey key{3, 0};
  assembler.Consume(Event{0, key, EventSource::kGctrace, ProcessSeen{{"log", "", "", "", 0}}});
  GcCycle c1 = MakeCycle(1);
  GcCycle c2 = MakeCycle(2);
  assembler.Consume(Event{c1.end_ns(), key, EventSource::kGctrace, GcCycleObserved{c1}});
  assembler.Consume(Event{c2.end_ns(), key, EventSource::kGctrace, GcCycleObserved{c2}});
  EXPECT_EQ(store->buffered_rows(), 0u);
  EXPECT_EQ(sink.held(), 3u);
  ASSERT_TRUE(sink.first_ts_ns().has_value());
  EXPECT_EQ(*sink.first_ts_ns(), 0);
  EXPECT_EQ(*sink.last_ts_ns(), c2.end_ns());
  sink.SetWallOffset(kBase);
  EXPECT_EQ(sink.held(), 0u);
  ASSERT_TRUE(store->Flush().ok());
  auto cycles = store->Cycles({});
  ASSERT_TRUE(cycles.ok());
  ASSERT_EQ(cycles->size(), 2u);
  EXPECT_EQ((*cycles)[0].start_wall_ns, kBase + c1.start_ns);
  EXPECT_EQ((*cycles)[1].start_wall_ns, kBase + c2.start_ns);
  // The assembler's allocation estimate is what gets stored.
  EXPECT_EQ((*cycles)[1].cycle.allocated_bytes, c2.heap_end_bytes - c1.heap_live_bytes);
}

}  // namespace
}  // namespace gcpilot
