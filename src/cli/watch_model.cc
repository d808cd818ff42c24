// Per-process state of `gcpilot watch` (see the header).
#include "cli/watch_model.h"

namespace gcpilot::cli {

WatchModel::Process& WatchModel::ProcessFor(const ProcessKey& key, int64_t ts_ns) {
  auto [it, inserted] = processes_.try_emplace(key);
  if (inserted) it->second.windows.SetOrigin(ts_ns);
  return it->second;
}

void WatchModel::OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) {
  ProcessFor(p, ts_ns).info = info;
}

void WatchModel::OnCycle(const ProcessKey& p, const GcCycle& cycle) {
  Process& proc = ProcessFor(p, cycle.start_ns);
  proc.windows.AddCycle(cycle);
  ++proc.cycles;
}

void WatchModel::OnPause(const ProcessKey& p, const StwPause& pause) {
  Process& proc = ProcessFor(p, pause.start_ns);
  proc.windows.AddPause(pause);
  if (pause.kind == StwKind::kOther) ++proc.stops;
}

void WatchModel::OnProcessExited(const ProcessKey& p, const ProcessExited& /*exit*/,
                                 int64_t ts_ns) {
  auto it = processes_.find(p);
  if (it == processes_.end()) return;
  it->second.exited = true;
  it->second.exited_ns = ts_ns;
}

std::vector<WatchRow> WatchModel::Rows(int64_t now_ns) {
  std::vector<WatchRow> rows;
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = it->second;
    if (p.exited && now_ns - p.exited_ns > kKeepExitedNs) {
      it = processes_.erase(it);
      continue;
    }
    p.windows.AdvanceTo(now_ns);  // Keeps the ring current; windows unused.
    WatchRow row;
    row.pid = it->first.pid;
    row.comm = p.info.comm;
    row.go_version = p.info.go_version;
    row.window = p.windows.Current("10s", now_ns).value_or(WindowStats{});
    row.total_cycles = p.cycles;
    row.total_stops = p.stops;
    row.exited = p.exited;
    rows.push_back(std::move(row));
    ++it;
  }
  return rows;
}

}  // namespace gcpilot::cli
