// Detectors over a ModelSink stream (see detecting_sink.h).
#include "detect/detecting_sink.h"

#include <algorithm>

namespace gcpilot::detect {

DetectingSink::Proc* DetectingSink::Find(const ProcessKey& p) {
  auto it = procs_.find(p);
  if (it != procs_.end()) return &it->second;
  if (procs_.size() >= DetectorEngine::kMaxProcesses) return nullptr;
  return &procs_[p];
}

void DetectingSink::OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) {
  bool fresh = procs_.find(p) == procs_.end();
  Proc* proc = Find(p);
  if (proc == nullptr) return;
  if (fresh) proc->windows.SetOrigin(ts_ns);
  proc->last_ns = std::max(proc->last_ns, ts_ns);
  engine_->OnProcess(p, info.comm);
}

void DetectingSink::Advance(const ProcessKey& key, Proc& proc, int64_t now_ns) {
  for (const WindowStats& w : proc.windows.AdvanceTo(now_ns)) engine_->OnWindow(key, w);
}

void DetectingSink::OnCycle(const ProcessKey& p, const GcCycle& cycle) {
  Proc* proc = Find(p);
  if (proc == nullptr) return;
  // Offline, windows that end before this cycle started are complete.
  if (replay_ && cycle.start_ns > proc->last_ns) Advance(p, *proc, cycle.start_ns);
  proc->windows.AddCycle(cycle);
  proc->last_ns = std::max(proc->last_ns, cycle.end_ns());
  engine_->OnCycle(p, CycleBrief::From(cycle));
}

void DetectingSink::OnPause(const ProcessKey& p, const StwPause& pause) {
  if (pause.kind != StwKind::kOther) return;  // GC stops come with their cycle.
  Proc* proc = Find(p);
  if (proc == nullptr) return;
  proc->windows.AddPause(pause);
  proc->last_ns = std::max(proc->last_ns, pause.start_ns + pause.duration_ns);
}

void DetectingSink::OnProcessExited(const ProcessKey& p, const ProcessExited& /*exit*/,
                                    int64_t ts_ns) {
  auto it = procs_.find(p);
  if (it == procs_.end() || it->second.exited) return;
  Proc& proc = it->second;
  Advance(p, proc, std::max(ts_ns, proc.last_ns));
  proc.exited = true;
  proc.exited_ns = ts_ns;
  engine_->OnProcessGone(p, std::max(ts_ns, proc.last_ns), "process exited");
  // Nothing more is added to an exited process: give its window ring back
  // now, so many short-lived processes do not hold memory for seconds.
  proc.windows = SlidingWindows(std::vector<ViewSpec>{{"1s", 1'000'000'000, 1'000'000'000}});
}

void DetectingSink::SetGauges(const ProcessKey& p, const GaugeValues& g) {
  if (procs_.count(p)) engine_->OnGauges(p, g);
}

void DetectingSink::SetGaugesOfPid(int32_t pid, const GaugeValues& g) {
  for (const auto& [key, proc] : procs_) {
    if (key.pid == pid && !proc.exited) engine_->OnGauges(key, g);
  }
}

void DetectingSink::AdvanceTo(int64_t now_ns) {
  for (auto it = procs_.begin(); it != procs_.end();) {
    Proc& proc = it->second;
    if (proc.exited) {
      if (now_ns - proc.exited_ns > kKeepExitedNs) {
        engine_->Forget(it->first);
        it = procs_.erase(it);
      } else {
        ++it;
      }
      continue;
    }
    Advance(it->first, proc, now_ns);
    ++it;
  }
}

void DetectingSink::Finish() {
  for (auto& [key, proc] : procs_) {
    if (!proc.exited) Advance(key, proc, proc.last_ns);
  }
}

}  // namespace gcpilot::detect
