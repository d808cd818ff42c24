// How `gcpilot run` and `gcpilot ingest` behave at their edges: bad input
// (random bytes, truncated lines, a 10 MB line, an empty file, a missing
// file), a program that does not exist, exits non-zero or is killed, signal
// forwarding, GODEBUG handling and output pass-through.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace gcpilot::e2e {
namespace {

using nlohmann::json;

const char* kLine =
    "gc 1 @0.010s 2%: 0.015+0.33+0.003 ms clock, 0.031+0.12/0.26/0.49+0.007 ms cpu, "
    "4->4->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P\n";

std::string Latest(const std::string& go = "") {
  std::vector<std::string> v = GoVersions();
  if (v.empty()) return "";
  return go.empty() ? v.back() : go;
}

TEST(Ingest, EmptyFileSaysNoCyclesAndExits3) {
  std::string dir = TempDir("empty");
  WriteFile(dir + "/empty.log", "");
  CommandResult r = Sh(GcpilotBin() + " ingest " + dir + "/empty.log");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("no GC cycles"), std::string::npos) << r.err;
}

TEST(Ingest, MissingFileExits2WithReason) {
  CommandResult r = Sh(GcpilotBin() + " ingest /nonexistent/gc.log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/gc.log"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;
}

TEST(Ingest, RandomBytesAreToleratedAndReported) {
  std::string dir = TempDir("random");
  std::mt19937 rng(42);
  std::string data;
  for (int i = 0; i < 1 << 20; ++i) data.push_back(static_cast<char>(rng()));
  // Random bytes that happen to look like trace starts.
  data += "\ngc 5 @1.0s \xff\xfe\n";
  WriteFile(dir + "/random.log", data);
  CommandResult r = Sh(GcpilotBin() + " ingest " + dir + "/random.log");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("no GC cycles"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("malformed"), std::string::npos) << r.err;
}

TEST(Ingest, TruncatedLineIsCountedWithItsLineNumber) {
  std::string dir = TempDir("trunc");
  std::string log = std::string("service starting\n") + kLine +
                    "gc 2 @0.020s 2%: 0.015+0.33+0.003 ms clock, 0.031+0.12/0.2\n" +
                    "gc 3 @0.030s 2%: 0.015+0.33+0.003 ms clock, 0.031+0.12/0.26/0.49+0.007 ms "
                    "cpu, 4->4->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P\n";
  WriteFile(dir + "/t.log", log);
  CommandResult r = Sh(GcpilotBin() + " ingest " + dir + "/t.log");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("line 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("malformed"), std::string::npos) << r.out;
  CommandResult j = Sh(GcpilotBin() + " ingest --json " + dir + "/t.log");
  std::vector<json> lines = ReportJsonLines(j.out);
  ASSERT_EQ(lines.size(), 3u);                   // 2 cycles + summary
  EXPECT_EQ(lines.back()["input_problems"], 2);  // malformed + missing cycle 2
  EXPECT_EQ(lines.back()["cycles"], 2);
}

TEST(Ingest, TenMegabyteLineIsSkippedNotBuffered) {
  std::string dir = TempDir("long");
  {
    std::ofstream out(dir + "/long.log");
    out << kLine;
    out << std::string(10 << 20, 'x') << "\n";
    out << "gc 2 @0.020s 2%: 0.015+0.33+0.003 ms clock, 0.031+0.12/0.26/0.49+0.007 ms cpu, "
           "4->4->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P\n";
  }
  CommandResult r = Sh(GcpilotBin() + " ingest --json " + dir + "/long.log");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> lines = ReportJsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines.back()["cycles"], 2);
  EXPECT_EQ(lines.back()["input_problems"], 1);
  CommandResult t = Sh(GcpilotBin() + " ingest " + dir + "/long.log");
  EXPECT_NE(t.out.find("10485760 bytes"), std::string::npos) << t.out;
}

TEST(Ingest, ReadsStdinAndToleratesPrefixes) {
  std::string dir = TempDir("stdin");
  WriteFile(dir + "/k.log",
            std::string("2024-01-01T00:00:00Z ") + kLine + "2024-01-01T00:00:01Z hello\n");
  CommandResult r = Sh("cat " + dir + "/k.log | " + GcpilotBin() + " ingest --json -");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> lines = ReportJsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["gc"], 1);
}

TEST(Report, ReplaysARecordedEventStreamToTheSameResult) {
  std::string v = Latest();
  ASSERT_FALSE(v.empty());
  std::string dir = TempDir("replay");
  CommandResult r = Sh(GcpilotBin() + " run --source=gctrace --interval 0 --record " + dir +
                       "/ev.jsonl --json-out " + dir + "/run.jsonl -- " +
                       TestProg(v, "periodicgc") + " -duration 1s -interval 50ms -stdout-every 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CommandResult rep = Sh(GcpilotBin() + " report --json " + dir + "/ev.jsonl");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  std::vector<json> run = JsonLines(ReadFile(dir + "/run.jsonl"));
  std::vector<json> replay = ReportJsonLines(rep.out);
  ASSERT_EQ(run.size(), replay.size());
  for (size_t i = 0; i + 1 < run.size(); ++i) EXPECT_EQ(run[i], replay[i]) << i;
  json a = run.back()["processes"][0], b = replay.back()["processes"][0];
  EXPECT_EQ(a["pause"], b["pause"]);
  EXPECT_EQ(a["cycles"], b["cycles"]);
  EXPECT_EQ(a["gc_cpu"], b["gc_cpu"]);
  EXPECT_EQ(a["heap"], b["heap"]);
  EXPECT_EQ(a["exit_code"], b["exit_code"]);
  EXPECT_EQ(replay.back()["source"], "replay");
  CommandResult text = Sh(GcpilotBin() + " report " + dir + "/ev.jsonl");
  EXPECT_NE(text.out.find("recorded events"), std::string::npos) << text.out;
  // As many forced cycles as the run saw (how many fit in 1 s depends on load).
  std::string forced = "forced " + std::to_string(run.back()["forced_cycles"].get<int>());
  EXPECT_NE(text.out.find(forced), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("time span       0."), std::string::npos) << text.out;
}

TEST(Report, CorruptRecordedLinesAreReportedNotFatal) {
  std::string dir = TempDir("badrec");
  WriteFile(dir + "/ev.jsonl",
            R"({"type":"process_seen","v":1,"ts_ns":0,"pid":5,"gen":0,"comm":"svc"})"
            "\n{\"type\":\"gc_cycle\",\"v\":1,\"ts_ns\":5}\n"
            "garbage\n");
  CommandResult r = Sh(GcpilotBin() + " report " + dir + "/ev.jsonl");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("line 2: bad recorded event: missing field 'gc'"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("line 3: bad recorded event: not valid JSON"), std::string::npos) << r.out;
}

TEST(Run, MissingProgramExits127) {
  CommandResult r = Sh(GcpilotBin() + " run --source=gctrace -- /nonexistent/svc");
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("cannot run '/nonexistent/svc'"), std::string::npos) << r.err;
}

TEST(Run, NotExecutableExits126) {
  std::string dir = TempDir("noexec");
  WriteFile(dir + "/svc", "data");
  CommandResult r = Sh(GcpilotBin() + " run --source=gctrace -- " + dir + "/svc");
  EXPECT_EQ(r.exit_code, 126) << r.err;
}

TEST(Run, PassesTheExitCodeThrough) {
  std::string v = Latest();
  ASSERT_FALSE(v.empty()) << "no Go test programs built";
  CommandResult r = Sh(GcpilotBin() + " run --source=gctrace --interval 0 -- " +
                       TestProg(v, "steady") + " -duration 500ms -exit-code 7 -stdout-every 0");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("exited with code 7"), std::string::npos) << r.err;
}

TEST(Run, KilledChildGives128PlusSignal) {
  CommandResult r =
      Sh(GcpilotBin() + " run --source=gctrace --interval 0 -- /bin/sh -c 'kill -KILL $$'");
  EXPECT_EQ(r.exit_code, 128 + 9) << r.err;
  EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
}

TEST(Run, ForwardsSigtermToTheChild) {
  std::string v = Latest();
  ASSERT_FALSE(v.empty());
  std::string dir = TempDir("sig");
  // The test program exits with code 3 and writes its truth when it gets
  // SIGTERM; gcpilot must forward the signal and return that code.
  CommandResult r = Sh(GcpilotBin() + " run --source=gctrace --interval 0 -- " +
                       TestProg(v, "steady") + " -duration 0 -stdout-every 0 -truth " + dir +
                       "/truth.json & pid=$!; sleep 1.5; kill -TERM $pid; wait $pid");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  json truth = ReadJson(dir + "/truth.json");
  EXPECT_EQ(truth["signal"], "SIGTERM");
}

TEST(Run, KeepsExistingGodebugAndAddsTrace) {
  CommandResult r = Sh("GODEBUG=madvdontneed=1,gctrace=2 " + GcpilotBin() +
                       " run --source=gctrace --interval 0 -- /bin/sh -c 'echo $GODEBUG'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "madvdontneed=1,gctrace=1,gcpacertrace=1\n");
}

TEST(Run, PassesProgramOutputAndHidesTrace) {
  std::string v = Latest();
  ASSERT_FALSE(v.empty());
  CommandResult r = Sh(GcpilotBin() + " run --source=gctrace --interval 0 -- " +
                       TestProg(v, "storm") + " -duration 1s -stdout-every 200ms");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("storm: t="), std::string::npos) << r.out;  // stdout untouched
  EXPECT_EQ(r.out.find("gc 1 @"), std::string::npos);
  EXPECT_NE(r.err.find("storm: done"), std::string::npos);  // stderr passes through
  EXPECT_EQ(r.err.find("gc 1 @"), std::string::npos);       // trace lines consumed
  EXPECT_EQ(r.err.find("pacer: "), std::string::npos);
  EXPECT_NE(r.err.find("STW pause"), std::string::npos) << r.err;  // the final report

  CommandResult k = Sh(GcpilotBin() + " run --source=gctrace --keep-trace --interval 0 -- " +
                       TestProg(v, "storm") + " -duration 1s -stdout-every 0");
  EXPECT_NE(k.err.find("gc 1 @"), std::string::npos);
}

TEST(Run, PrintsALiveSummaryEverySecond) {
  std::string v = Latest();
  ASSERT_FALSE(v.empty());
  CommandResult r = Sh(GcpilotBin() + " run --source=gctrace -- " + TestProg(v, "storm") +
                       " -duration 3500ms -stdout-every 0");
  EXPECT_EQ(r.exit_code, 0);
  size_t live = 0, pos = 0;
  while ((pos = r.err.find("gcpilot [", pos)) != std::string::npos) {
    ++live;
    ++pos;
  }
  EXPECT_GE(live, 2u) << r.err;
  EXPECT_NE(r.err.find("GC/s"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gcpilot::e2e
