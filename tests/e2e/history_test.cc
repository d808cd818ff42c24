// `gcpilot ingest --store` and `gcpilot history`: gctrace fixtures are
// recorded into a history store at chosen wall times, then read back as the
// per-minute table, per-cycle rows and JSON lines, filtered by pid, binary
// and time range; and the errors (bad --since, missing or foreign store, no
// store given) are clear and exit 2.
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/e2e_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

const std::string kGo119 =
    std::string(GCPILOT_TEST_DATA_DIR) + "/gctrace/go1.19-forced-and-heap.log";
const std::string kGo123 =
    std::string(GCPILOT_TEST_DATA_DIR) + "/gctrace/go1.23-forced-and-heap.log";

// `gcpilot` with a fixed time zone, so times print predictably.
std::string Gcpilot(const std::string& args, const std::string& tz = "UTC") {
  return "env -u GCPILOT_STORE TZ=" + tz + " " + GcpilotBin() + " " + args;
}

// A store holding: pid 101 (go1.19 log, 35 cycles, 6 forced) from 02:59:30Z,
// pid 202 (go1.23 log, 52 cycles, 4 forced) from 03:00:10Z, and pid 101
// again (another run, the go1.23 log) from 03:05:00Z, 2026-11-27.
std::string MakeStore(const std::string& name) {
  std::string dir = TempDir(name);
  std::string db = dir + "/history.db";
  struct Ingest {
    std::string pid, start, log;
  };
  for (const Ingest& in : {Ingest{"101", "2026-11-27T02:59:30Z", kGo119},
                           Ingest{"202", "2026-11-27T03:00:10Z", kGo123},
                           Ingest{"101", "2026-11-27T03:05:00Z", kGo123}}) {
    CommandResult r = Sh(Gcpilot("ingest --store " + Quote(db) + " --pid " + in.pid + " --start " +
                                 in.start + " " + Quote(in.log)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("recorded"), std::string::npos) << r.err;
  }
  return db;
}

const char* kRange = " --since 2026-11-27T02:50Z --until 2026-11-27T03:10Z";

// Data rows of the text table (after the header and column lines).
std::vector<std::string> DataRows(const std::string& out) {
  std::vector<std::string> rows;
  size_t pos = 0;
  int line = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    if (line++ >= 2) rows.push_back(out.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return rows;
}

TEST(History, PerMinuteTableAnswersWhatHappenedAt3) {
  std::string db = MakeStore("hist_table");
  CommandResult r = Sh(Gcpilot("history --store " + Quote(db) + kRange));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("local time: UTC, UTC+00:00"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p99_ms"), std::string::npos) << r.out;
  std::vector<std::string> rows = DataRows(r.out);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  EXPECT_EQ(rows[0].rfind("02:59", 0), 0u) << rows[0];
  EXPECT_NE(rows[0].find(" 101 "), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find(" 35 "), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find("17.0/10.0 MB"), std::string::npos) << rows[0];  // Last cycle's heap.
  EXPECT_EQ(rows[1].rfind("03:00", 0), 0u) << rows[1];
  EXPECT_NE(rows[1].find(" 202 "), std::string::npos) << rows[1];
  EXPECT_NE(rows[1].find(" 52 "), std::string::npos) << rows[1];
  EXPECT_EQ(rows[2].rfind("03:05", 0), 0u) << rows[2];
  EXPECT_NE(rows[2].find(" 101 "), std::string::npos) << rows[2];
}

TEST(History, JsonMinuteRows) {
  std::string db = MakeStore("hist_json");
  CommandResult r = Sh(Gcpilot("history --json --store " + Quote(db) + kRange));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  for (const json& j : rows) EXPECT_EQ(j["type"], "minute");
  EXPECT_EQ(rows[0]["pid"], 101);
  EXPECT_EQ(rows[0]["gc_cycles"], 35);
  EXPECT_EQ(rows[0]["forced_cycles"], 6);
  EXPECT_EQ(rows[0]["pause_ns"]["count"], 70);
  EXPECT_EQ(rows[0]["heap_live_bytes"], 17 << 20);
  EXPECT_EQ(rows[0]["heap_goal_bytes"], 10 << 20);
  EXPECT_EQ(rows[0]["time_ms"], int64_t{1'795'748'340'000});  // 2026-11-27T02:59:00Z
  EXPECT_EQ(rows[0]["time"], "2026-11-27T02:59:00.000+00:00");
  EXPECT_GT(rows[0]["pause_ns"]["max"].get<int64_t>(), 0);
  EXPECT_LE(rows[0]["pause_ns"]["p50"].get<int64_t>(), rows[0]["pause_ns"]["p99"].get<int64_t>());
  EXPECT_EQ(rows[0]["other_stops"]["count"], 0);
  EXPECT_GT(rows[0]["alloc_bytes_per_sec"].get<double>(), 0);
  EXPECT_EQ(rows[1]["pid"], 202);
  EXPECT_EQ(rows[1]["gc_cycles"], 52);
  EXPECT_EQ(rows[1]["forced_cycles"], 4);
  EXPECT_EQ(rows[2]["pid"], 101);
  EXPECT_NE(rows[2]["run_id"], rows[0]["run_id"]);  // Another ingest, another run.
}

TEST(History, CyclesListEachCycle) {
  std::string db = MakeStore("hist_cycles");
  CommandResult j = Sh(Gcpilot("history --cycles --json --pid 202 --store " + Quote(db) + kRange));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  std::vector<json> rows = JsonLines(j.out);
  ASSERT_EQ(rows.size(), 52u);
  int forced = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["type"], "cycle");
    EXPECT_EQ(rows[i]["pid"], 202);
    EXPECT_EQ(rows[i]["gc"], i + 1);
    if (rows[i]["trigger"] == "forced") ++forced;
  }
  EXPECT_EQ(forced, 4);
  // gc 1 @0.000s: 0.097+0.30+0.005 ms clock.
  EXPECT_EQ(rows[0]["sweep_term_ns"], 97'000);
  EXPECT_EQ(rows[0]["mark_ns"], 300'000);
  EXPECT_EQ(rows[0]["mark_term_ns"], 5'000);
  EXPECT_EQ(rows[0]["time"], "2026-11-27T03:00:10.000+00:00");

  CommandResult t = Sh(Gcpilot("history --cycles --pid 101 --store " + Quote(db) + kRange));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::string> lines = DataRows(t.out);
  ASSERT_EQ(lines.size(), 35u + 52u) << t.out;
  EXPECT_EQ(lines[0].rfind("2026-11-27 02:59:30.000", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("forced"), std::string::npos) << lines[0];
  EXPECT_NE(t.out.find("->"), std::string::npos);
}

TEST(History, FiltersByPidBinaryAndTime) {
  std::string db = MakeStore("hist_filter");
  CommandResult r = Sh(Gcpilot("history --json --pid 101 --store " + Quote(db) + kRange));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  for (const json& j : rows) EXPECT_EQ(j["pid"], 101);

  // The gctrace source names the process's exe after the log file.
  r = Sh(
      Gcpilot("history --json --binary go1.23-forced-and-heap.log --store " + Quote(db) + kRange));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(rows[0]["pid"], 202);
  EXPECT_EQ(rows[1]["pid"], 101);

  r = Sh(Gcpilot("history --json --store " + Quote(db) +
                 " --since 2026-11-27T03:00Z --until 2026-11-27T03:01Z"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["pid"], 202);

  // Local time with an explicit offset means the same instant.
  r = Sh(Gcpilot("history --json --store " + Quote(db) +
                 " --since 2026-11-27T04:00+01:00 --until 2026-11-27T04:01+01:00"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonLines(r.out).size(), 1u);
}

TEST(History, LocalTimeZoneIsNamedAndUsed) {
  std::string db = MakeStore("hist_tz");
  // A POSIX TZ string needs no tzdata: JST is UTC+9.
  CommandResult r = Sh(
      Gcpilot("history --store " + Quote(db) + " --since 2026-11-27T11:50 --until 2026-11-27T12:10",
              "JST-9"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("JST, UTC+09:00"), std::string::npos) << r.out;
  std::vector<std::string> rows = DataRows(r.out);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  EXPECT_EQ(rows[0].rfind("11:59", 0), 0u) << rows[0];
}

TEST(History, EmptyRangeSaysWhatTheStoreHolds) {
  std::string db = MakeStore("hist_empty");
  CommandResult r = Sh(Gcpilot("history --store " + Quote(db) +
                               " --since 2026-11-28T00:00Z --until 2026-11-28T01:00Z"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing recorded between 2026-11-28 00:00:00 and 2026-11-28 01:00:00"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("The store holds 2026-11-27 02:59:30 to 2026-11-27 03:05:00"),
            std::string::npos)
      << r.out;
  CommandResult j = Sh(Gcpilot("history --json --store " + Quote(db) +
                               " --since 2026-11-28T00:00Z --until 2026-11-28T01:00Z"));
  ASSERT_EQ(j.exit_code, 0);
  EXPECT_TRUE(j.out.empty()) << j.out;  // Stdout stays JSON lines.
  EXPECT_NE(j.err.find("nothing recorded"), std::string::npos) << j.err;
}

TEST(History, IngestWithoutStartEndsTheLogAtTheFileMtime) {
  std::string dir = TempDir("hist_mtime");
  std::string log = dir + "/app.log";
  ASSERT_EQ(Sh("cp " + Quote(kGo119) + " " + Quote(log) + " && touch -d '2026-11-27 04:00:00Z' " +
               Quote(log))
                .exit_code,
            0);
  std::string db = dir + "/h.db";
  CommandResult in = Sh(Gcpilot("ingest --store " + Quote(db) + " " + Quote(log)));
  ASSERT_EQ(in.exit_code, 0) << in.err;
  CommandResult r = Sh(Gcpilot("history --cycles --json --store " + Quote(db) +
                               " --since 2026-11-27T03:59Z --until 2026-11-27T04:01Z"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 35u) << r.out;
  // The last cycle ends at the mtime: it starts just before 04:00:00.
  int64_t last_start = rows.back()["start_wall_ns"].get<int64_t>();
  int64_t mtime_ns = int64_t{1'795'752'000} * 1'000'000'000;
  EXPECT_LT(last_start, mtime_ns);
  EXPECT_GT(last_start, mtime_ns - 20'000'000);
}

TEST(History, DefaultRangeIsTheLastHourAndStoreMayComeFromTheEnvironment) {
  std::string dir = TempDir("hist_env");
  std::string db = dir + "/h.db";
  CommandResult in =
      Sh(Gcpilot("ingest --store " + Quote(db) + " --start 10m --pid 7 " + Quote(kGo123)));
  ASSERT_EQ(in.exit_code, 0) << in.err;
  CommandResult r =
      Sh("TZ=UTC GCPILOT_STORE=" + Quote(db) + " " + GcpilotBin() + " history --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> rows = JsonLines(r.out);
  ASSERT_GE(rows.size(), 1u) << r.out;
  EXPECT_EQ(rows[0]["pid"], 7);
  r = Sh(Gcpilot("history --json --since 5m --store " + Quote(db)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(JsonLines(r.out).empty()) << r.out;
}

// A recorded event stream (what `--record` writes, e.g. from eBPF) carries
// non-GC stops and exits: they are stored and shown with their top reason.
TEST(History, RecordedStreamsKeepStopsCommAndExit) {
  std::string dir = TempDir("hist_stream");
  std::string ev = dir + "/ev.jsonl";
  CommandResult rec =
      Sh(Gcpilot("ingest --pid 5 --record " + Quote(ev) + " " + Quote(kGo123) + " >/dev/null"));
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  std::string stream = ReadFile(ev);
  size_t at = stream.find("\"comm\":\"\"");
  ASSERT_NE(at, std::string::npos);
  stream.replace(at, 9, "\"comm\":\"api\"");
  auto stop = [](int64_t start_ns, int64_t dur_ns, const std::string& reason) {
    return "{\"type\":\"stw_pause\",\"v\":1,\"ts_ns\":" + std::to_string(start_ns + dur_ns) +
           ",\"pid\":5,\"gen\":0,\"source\":\"ebpf\",\"start_ns\":" + std::to_string(start_ns) +
           ",\"duration_ns\":" + std::to_string(dur_ns) + ",\"kind\":\"other\",\"reason\":\"" +
           reason + "\",\"gc\":0}\n";
  };
  stream += stop(100'000'000, 2'500'000, "read_mem_stats");
  stream += stop(101'000'000, 1'000'000, "read_mem_stats");
  stream += stop(102'000'000, 4'000'000, "gomaxprocs");
  stream +=
      "{\"type\":\"process_exited\",\"v\":1,\"ts_ns\":110000000,\"pid\":5,\"gen\":0,"
      "\"source\":\"ebpf\",\"exit_code\":0,\"signal\":9}\n";
  WriteFile(ev, stream);
  std::string db = dir + "/h.db";
  CommandResult in =
      Sh(Gcpilot("ingest --store " + Quote(db) + " --start 2026-11-27T03:00:00Z " + Quote(ev)));
  ASSERT_EQ(in.exit_code, 0) << in.err;

  const std::string range = " --since 2026-11-27T02:59Z --until 2026-11-27T03:02Z";
  CommandResult t = Sh(Gcpilot("history --store " + Quote(db) + range));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::string> rows = DataRows(t.out);
  ASSERT_EQ(rows.size(), 1u) << t.out;
  EXPECT_NE(rows[0].find(" api "), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find("3 (read_mem_stats)"), std::string::npos) << rows[0];

  CommandResult j = Sh(Gcpilot("history --json --store " + Quote(db) + range));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  std::vector<json> js = JsonLines(j.out);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0]["comm"], "api");
  EXPECT_EQ(js[0]["gc_cycles"], 52);
  EXPECT_EQ(js[0]["other_stops"]["count"], 3);
  EXPECT_EQ(js[0]["other_stops"]["max_ns"], 4'000'000);
  EXPECT_EQ(js[0]["other_stops"]["top_reason"], "read_mem_stats");
  EXPECT_EQ(js[0]["other_stops"]["by_reason"]["gomaxprocs"], 1);
  // --binary matches the comm too.
  j = Sh(Gcpilot("history --json --binary api --store " + Quote(db) + range));
  EXPECT_EQ(JsonLines(j.out).size(), 1u) << j.out << j.err;
}

TEST(History, BadArgumentsAndMissingStoresAreClearErrors) {
  std::string db = MakeStore("hist_errors");
  CommandResult r = Sh(Gcpilot("history --since yesterday --store " + Quote(db)));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--since"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("yesterday"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("30m"), std::string::npos) << r.err;

  r = Sh(
      Gcpilot("history --since 2026-11-27T03:00Z --until 2026-11-27T02:00Z --store " + Quote(db)));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("before --until"), std::string::npos) << r.err;

  r = Sh(Gcpilot("history --store /nonexistent/gcpilot/history.db"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/gcpilot/history.db"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gcpilot serve --store"), std::string::npos) << r.err;

  r = Sh(Gcpilot("history"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--store"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("GCPILOT_STORE"), std::string::npos) << r.err;

  std::string dir = TempDir("hist_garbage");
  WriteFile(dir + "/junk.db", std::string(4096, '\x5a'));
  r = Sh(Gcpilot("history --store " + Quote(dir + "/junk.db")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a gcpilot history store"), std::string::npos) << r.err;
  CommandResult in = Sh(Gcpilot("ingest --store " + Quote(dir + "/junk.db") + " " + Quote(kGo119)));
  EXPECT_EQ(in.exit_code, 2);
  EXPECT_NE(in.err.find("not a gcpilot history store"), std::string::npos) << in.err;

  in = Sh(Gcpilot("ingest --store /nonexistent/dir/h.db " + Quote(kGo119)));
  EXPECT_EQ(in.exit_code, 2);
  EXPECT_NE(in.err.find("does not exist"), std::string::npos) << in.err;

  in = Sh(Gcpilot("ingest --store " + Quote(dir + "/x.db") + " --start soon " + Quote(kGo119)));
  EXPECT_EQ(in.exit_code, 2);
  EXPECT_NE(in.err.find("--start"), std::string::npos) << in.err;
}

}  // namespace
}  // namespace gcpilot::e2e
