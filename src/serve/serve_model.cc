// The serve agent's per-process state (see serve_model.h).
#include "serve/serve_model.h"

#include <algorithm>

namespace gcpilot::serve {

std::string_view HealthName(Health h) {
  switch (h) {
    case Health::kOk:
      return "ok";
    case Health::kWarn:
      return "warn";
    case Health::kBad:
      return "bad";
    case Health::kIdle:
      return "idle";
    case Health::kExited:
      return "exited";
  }
  return "ok";
}

CompactCycle CompactCycle::From(const GcCycle& c) {
  CompactCycle o;
  o.number = c.number;
  o.start_ns = c.start_ns;
  o.sweep_term_ns = c.sweep_term_ns;
  o.mark_ns = c.mark_ns;
  o.mark_term_ns = c.mark_term_ns;
  o.cpu = c.cpu;
  o.heap_start_bytes = c.heap_start_bytes;
  o.heap_end_bytes = c.heap_end_bytes;
  o.heap_live_bytes = c.heap_live_bytes;
  o.heap_goal_bytes = c.heap_goal_bytes;
  o.has_stacks = c.stacks_bytes.has_value();
  o.stacks_bytes = c.stacks_bytes.value_or(0);
  o.has_globals = c.globals_bytes.has_value();
  o.globals_bytes = c.globals_bytes.value_or(0);
  o.allocated_bytes = c.allocated_bytes;
  o.byte_resolution = static_cast<uint32_t>(std::min<uint64_t>(c.byte_resolution, UINT32_MAX));
  o.gomaxprocs = c.gomaxprocs;
  o.cpu_percent_since_start =
      static_cast<int16_t>(std::clamp<int32_t>(c.cpu_percent_since_start, -1, INT16_MAX));
  o.trigger = c.trigger;
  o.source = c.source;
  return o;
}

GcCycle CompactCycle::ToGcCycle() const {
  GcCycle c;
  c.number = number;
  c.start_ns = start_ns;
  c.sweep_term_ns = sweep_term_ns;
  c.mark_ns = mark_ns;
  c.mark_term_ns = mark_term_ns;
  c.cpu = cpu;
  c.heap_start_bytes = heap_start_bytes;
  c.heap_end_bytes = heap_end_bytes;
  c.heap_live_bytes = heap_live_bytes;
  c.heap_goal_bytes = heap_goal_bytes;
  if (has_stacks) c.stacks_bytes = stacks_bytes;
  if (has_globals) c.globals_bytes = globals_bytes;
  c.allocated_bytes = allocated_bytes;
  c.byte_resolution = byte_resolution;
  c.gomaxprocs = gomaxprocs;
  c.cpu_percent_since_start = cpu_percent_since_start;
  c.trigger = trigger;
  c.source = source;
  return c;
}

ServeModel::ServeModel(ServeLimits limits) : limits_(limits) {}

ProcessState* ServeModel::Find(const ProcessKey& key) {
  auto it = processes_.find(key);
  if (it == processes_.end()) {
    ++counters_.records_of_untracked;
    return nullptr;
  }
  return &it->second;
}

void ServeModel::OnProcessSeen(const ProcessKey& key, const ProcessInfo& info, int64_t ts_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = processes_.find(key);
  if (it == processes_.end()) {
    size_t live = 0;
    for (const auto& [k, p] : processes_) live += p.exited ? 0 : 1;
    if (processes_.size() >= limits_.max_processes) {
      // Make room by forgetting the exited process that ended first.
      auto oldest = processes_.end();
      for (auto i = processes_.begin(); i != processes_.end(); ++i) {
        if (i->second.exited &&
            (oldest == processes_.end() || i->second.exited_ns < oldest->second.exited_ns)) {
          oldest = i;
        }
      }
      if (oldest == processes_.end() || live >= limits_.max_processes) {
        ++counters_.over_limit;
        return;
      }
      for (ModelListener* l : listeners_) l->OnEvicted(oldest->second);
      ++counters_.evicted;
      processes_.erase(oldest);
    }
    it = processes_.emplace(key, ProcessState{}).first;
    it->second.key = key;
    it->second.seen_ns = ts_ns;
    it->second.windows.SetOrigin(ts_ns);
  }
  ProcessState& p = it->second;
  p.info = info;
  if (info.gomaxprocs > 0) p.gomaxprocs = info.gomaxprocs;
  for (ModelListener* l : listeners_) l->OnProcess(p);
}

void ServeModel::OnCycle(const ProcessKey& key, const GcCycle& cycle) {
  std::lock_guard<std::mutex> lock(mu_);
  ProcessState* p = Find(key);
  if (p == nullptr) return;
  p->source = cycle.source;
  p->windows.AddCycle(cycle);
  ProcessTotals& t = p->totals;
  ++t.cycles;
  if (cycle.forced()) ++t.forced_cycles;
  t.alloc_bytes += cycle.allocated_bytes;
  t.pause_ns += cycle.pause_ns();
  t.gc_cpu_ns += cycle.cpu.TotalExcludingIdle();
  p->heap_live_bytes = cycle.heap_live_bytes;
  p->heap_goal_bytes = cycle.heap_goal_bytes;
  if (cycle.gomaxprocs > 0) p->gomaxprocs = cycle.gomaxprocs;
  p->last_cycle_end_ns = std::max(p->last_cycle_end_ns, cycle.end_ns());
  p->cycles.push_back(StoredCycle{p->next_cycle_seq++, CompactCycle::From(cycle)});
  while (p->cycles.size() > limits_.max_cycles) p->cycles.pop_front();
  for (ModelListener* l : listeners_) l->OnCycle(*p, p->cycles.back());
}

void ServeModel::OnPause(const ProcessKey& key, const StwPause& pause) {
  if (pause.kind != StwKind::kOther) return;  // GC stops come with their cycle.
  std::lock_guard<std::mutex> lock(mu_);
  ProcessState* p = Find(key);
  if (p == nullptr) return;
  p->windows.AddPause(pause);
  ++p->totals.stops;
  p->stops.push_back(StoredStop{p->next_stop_seq++, pause});
  while (p->stops.size() > limits_.max_cycles) p->stops.pop_front();
  for (ModelListener* l : listeners_) l->OnStop(*p, p->stops.back());
}

void ServeModel::OnProcessExited(const ProcessKey& key, const ProcessExited& exit, int64_t ts_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  ProcessState* p = Find(key);
  if (p == nullptr || p->exited) return;
  p->exited = true;
  p->exit = exit;
  p->exited_ns = ts_ns;
  for (ModelListener* l : listeners_) l->OnProcess(*p);
}

Health ServeModel::HealthOf(const ProcessState& p, int64_t now_ns) const {
  if (p.exited) return Health::kExited;
  std::optional<WindowStats> w = p.windows.Current("10s", now_ns);
  if (w && (w->gc_pauses.count > 0 || w->other_stops.count > 0)) {
    double slo = static_cast<double>(limits_.slo_pause_ns);
    double p99 = std::max(w->gc_pauses.p99, w->other_stops.p99);
    double max = std::max(w->gc_pauses.max, w->other_stops.max);
    if (p99 >= slo) return Health::kBad;
    if (max >= slo) return Health::kWarn;
  }
  int64_t last = p.last_cycle_end_ns != 0 ? p.last_cycle_end_ns : p.seen_ns;
  if (now_ns - last > kIdleNs) return Health::kIdle;
  return Health::kOk;
}

void ServeModel::Trim(ProcessState& p, int64_t now_ns) {
  int64_t cutoff = now_ns - limits_.retention_ns;
  while (!p.cycles.empty() && p.cycles.front().cycle.end_ns() < cutoff) p.cycles.pop_front();
  while (!p.stops.empty() && p.stops.front().stop.start_ns < cutoff) p.stops.pop_front();
}

void ServeModel::Tick(
    int64_t now_ns,
    const std::function<std::optional<proc::RuntimeGauges>(int32_t pid)>& read_gauges,
    const std::function<uint64_t(int32_t pid)>& read_drops) {
  // Read the processes' memory without the lock (it may take a while).
  std::vector<std::pair<ProcessKey, int32_t>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, p] : processes_) {
      if (!p.exited && key.pid > 0) live.emplace_back(key, key.pid);
    }
  }
  std::map<ProcessKey, std::pair<std::optional<proc::RuntimeGauges>, uint64_t>> read;
  for (const auto& [key, pid] : live) {
    read[key] = {read_gauges ? read_gauges(pid) : std::nullopt, read_drops ? read_drops(pid) : 0};
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = processes_.begin(); it != processes_.end();) {
    ProcessState& p = it->second;
    if (p.exited && now_ns - p.exited_ns > limits_.exited_retention_ns) {
      for (ModelListener* l : listeners_) l->OnEvicted(p);
      ++counters_.evicted;
      it = processes_.erase(it);
      continue;
    }
    for (WindowStats& w : p.windows.AdvanceTo(now_ns)) {
      for (ModelListener* l : listeners_) l->OnWindowCompleted(p, w);
      std::deque<WindowStats>& recent = p.recent[w.view];
      recent.push_back(std::move(w));
      while (recent.size() > kRecentWindows) recent.pop_front();
    }
    Trim(p, now_ns);
    if (!p.exited) {
      auto r = read.find(it->first);
      if (r != read.end()) {
        if (r->second.first) {
          proc::RuntimeGauges& g = *r->second.first;
          if (g.gomaxprocs && *g.gomaxprocs > 0) p.gomaxprocs = *g.gomaxprocs;
          p.gauges = std::move(g);
        }
        p.totals.drops = std::max(p.totals.drops, r->second.second);
      }
      std::optional<WindowStats> w = p.windows.Current("10s", now_ns);
      if (w) {
        Health h = HealthOf(p, now_ns);
        for (ModelListener* l : listeners_) l->OnWindow(p, *w, h);
      }
    }
    ++it;
  }
}

}  // namespace gcpilot::serve
