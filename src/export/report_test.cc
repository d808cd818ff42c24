// Tests for the report formats: the text report names every section and the
// problems with line numbers; the JSON summary carries the same numbers; the
// live line shows the window's key figures.
#include <gtest/gtest.h>

#include "analysis/run_summary.h"
#include "export/format_units.h"
#include "export/live_line.h"
#include "export/report_json.h"
#include "export/report_text.h"

namespace gcpilot {
namespace {

ReportInput SampleInput() {
  RunSummary summary;
  for (int i = 1; i <= 10; ++i) {
    GcCycle c;
    c.number = static_cast<uint64_t>(i);
    c.start_ns = int64_t{i} * 100'000'000;
    c.sweep_term_ns = 50'000;
    c.mark_ns = 1'000'000;
    c.mark_term_ns = 30'000;
    c.cpu = {100'000, 200'000, 300'000, 50'000, 60'000};
    c.heap_end_bytes = 8 << 20;
    c.heap_live_bytes = 4 << 20;
    c.heap_goal_bytes = 8 << 20;
    c.allocated_bytes = 4 << 20;
    c.gomaxprocs = 4;
    c.trigger = i == 5 ? GcTrigger::kForced : GcTrigger::kHeap;
    summary.AddCycle(c);
  }
  ReportInput in;
  in.header = "gcpilot ingest: 'x.log' (gctrace log)";
  in.stats.lines = 30;
  in.stats.trace_lines = 25;
  in.stats.malformed = 1;
  in.problems = 1;
  in.kept_problems.push_back({17, "malformed trace line: expected cycle number", "gc x"});
  ProcessReport p;
  p.key = {42, 0};
  p.info.comm = "svc";
  p.run = summary.Finish();
  in.processes.push_back(p);
  return in;
}

TEST(TextReport, HasEverySection) {
  std::string text = FormatTextReport(SampleInput());
  for (const char* want :
       {"gcpilot ingest: 'x.log'", "svc (pid 42)", "GC cycles       10", "forced 1", "sweep term",
        "mark term", "per cycle", "concurrent mark", "GC CPU", "heap", "alloc-rate risk",
        "line 17: malformed trace line", "\"gc x\""}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
}

TEST(JsonSummary, CarriesTheNumbers) {
  nlohmann::json j = SummaryToJson(SampleInput());
  EXPECT_EQ(j["type"], "summary");
  EXPECT_EQ(j["cycles"], 10);
  EXPECT_EQ(j["forced_cycles"], 1);
  EXPECT_EQ(j["input_problems"], 1);
  EXPECT_EQ(j["first_problems"][0]["line"], 17);
  const nlohmann::json& p = j["processes"][0];
  EXPECT_EQ(p["pid"], 42);
  EXPECT_EQ(p["pause"]["count"], 20);
  EXPECT_EQ(p["cycle_pause"]["max"], 80'000);
  EXPECT_EQ(p["gc_cpu"]["assist_ns"], 2'000'000);
}

TEST(LiveLine, ShowsWindowFigures) {
  WindowStats w;
  w.gc_pauses.count = 4;
  w.gc_pauses.p50 = 50'000;
  w.gc_pauses.p99 = 310'000;
  w.gc_pauses.max = 400'000;
  w.gcs_per_sec = 12;
  w.alloc_bytes_per_sec = 310 * kBytesPerMB;
  w.gc_cpu_share = 0.081;
  w.heap_live_bytes = 4 << 20;
  w.heap_goal_bytes = 8 << 20;
  std::string line = FormatLiveLine(w, 12'300'000'000);
  EXPECT_EQ(line,
            "gcpilot [12s] STW p50 0.050 p99 0.31 max 0.40 ms | 12.0 GC/s | alloc 310.0 MB/s | "
            "GC CPU 8.1% | heap 4->8 MB");
  WindowStats idle;
  EXPECT_NE(FormatLiveLine(idle, 0).find("no GC"), std::string::npos);
}

TEST(FormatUnits, PicksPrecisionByMagnitude) {
  EXPECT_EQ(FormatMs(0), "0");
  EXPECT_EQ(FormatMs(31'000), "0.031");
  EXPECT_EQ(FormatMs(1'234'000), "1.23");
  EXPECT_EQ(FormatMs(250'000'000), "250");
  EXPECT_EQ(FormatDuration(12.4e9), "12.4 s");
  EXPECT_EQ(FormatMB(3 << 20), "3.0 MB");
  EXPECT_EQ(FormatPercent(0.125), "12.5%");
}

}  // namespace
}  // namespace gcpilot
