// Session wiring: events -> model -> analysis -> outputs (see the header).
#include "cli/session.h"

#include <algorithm>

#include "export/live_line.h"
#include "export/report_json.h"
#include "export/report_text.h"
#include "model/event_json.h"

namespace gcpilot::cli {

InputStats ToInputStats(const gctrace::SourceStats& s) {
  InputStats in;
  in.source = "gctrace";
  in.lines = s.lines;
  in.trace_lines = s.trace_lines;
  in.malformed = s.malformed;
  in.unknown_pacer = s.unknown_pacer;
  in.duplicates = s.duplicates;
  in.overlong_lines = s.overlong_lines;
  in.restarts = s.restarts;
  in.cut_at_end = s.cut_at_end;
  return in;
}

Session::Session(SessionOptions options) : options_(options), assembler_(this) {}

void Session::OnEvent(const Event& event) {
  if (options_.record_out) {
    std::string line = EventToJsonLine(event);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), options_.record_out);
  }
  assembler_.Consume(event);
}

Session::Process& Session::ProcessFor(const ProcessKey& key) {
  auto it = processes_.find(key);
  if (it == processes_.end()) {
    it = processes_.try_emplace(key).first;
    it->second.summary = std::make_unique<RunSummary>(options_.alloc_risk_bytes_per_sec);
  }
  return it->second;
}

void Session::Collect(Process& p, const std::vector<WindowStats>& windows) {
  for (const WindowStats& w : windows) p.summary->AddWindow(w);
}

void Session::OnProcessSeen(const ProcessKey& key, const ProcessInfo& info, int64_t ts_ns) {
  Process& p = ProcessFor(key);
  p.info = info;
  p.first_ts_ns = ts_ns;
}

void Session::OnCycle(const ProcessKey& key, const GcCycle& cycle) {
  Process& p = ProcessFor(key);
  ++p.cycles;
  ++cycles_;
  p.windows.AddCycle(cycle);
  p.summary->AddCycle(cycle);
  p.last_ts_ns = std::max(p.last_ts_ns, cycle.end_ns());
  Collect(p, p.windows.AdvanceTo(cycle.end_ns()));
  if (options_.json_out) {
    nlohmann::json j = CycleToJson(cycle);
    j["type"] = "gc_cycle";
    j["pid"] = key.pid;
    j["gen"] = key.generation;
    std::string line = j.dump();
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), options_.json_out);
  }
}

void Session::OnPause(const ProcessKey& key, const StwPause& pause) {
  Process& p = ProcessFor(key);
  p.windows.AddPause(pause);
  p.summary->AddPause(pause);
}

void Session::OnProcessExited(const ProcessKey& key, const ProcessExited& exit, int64_t) {
  ProcessFor(key).exit = exit;
}

void Session::OnProblem(const ProcessKey&, const InputProblem& problem) {
  ++problems_;
  if (kept_problems_.size() < kKeptProblems) kept_problems_.push_back(problem);
}

void Session::Tick(int64_t now_ns, bool print_live) {
  if (start_now_ns_ < 0) start_now_ns_ = now_ns;
  for (auto& [key, p] : processes_) {
    Collect(p, p.windows.AdvanceTo(now_ns));
    if (print_live && options_.live_out) {
      std::optional<WindowStats> w = p.windows.Current("1s", now_ns);
      if (!w) continue;
      int64_t elapsed = now_ns - (p.first_ts_ns > 0 ? p.first_ts_ns : start_now_ns_);
      std::string line = FormatLiveLine(*w, elapsed);
      if (processes_.size() > 1) line += " [pid " + std::to_string(key.pid) + "]";
      std::fprintf(options_.live_out, "%s\n", line.c_str());
      std::fflush(options_.live_out);
    }
  }
}

uint64_t Session::Finish(int64_t end_ns, std::FILE* report, const std::string& header,
                         const InputStats& stats) {
  ReportInput in;
  in.header = header;
  in.stats = stats;
  in.problems = problems_;
  in.kept_problems = kept_problems_;
  for (auto& [key, p] : processes_) {
    Collect(p, p.windows.AdvanceTo(end_ns > 0 ? end_ns : p.last_ts_ns));
    ProcessReport pr;
    pr.key = key;
    pr.info = p.info;
    pr.exit = p.exit;
    pr.origin_ns = p.first_ts_ns;
    pr.late_dropped = p.windows.late_dropped();
    pr.run = p.summary->Finish();
    in.processes.push_back(std::move(pr));
  }
  if (options_.json_out) {
    std::string line = SummaryToJson(in).dump();
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), options_.json_out);
    std::fflush(options_.json_out);
  }
  if (options_.text_report && report) {
    std::string text = FormatTextReport(in);
    std::fwrite(text.data(), 1, text.size(), report);
    std::fflush(report);
  }
  return cycles_;
}

}  // namespace gcpilot::cli
