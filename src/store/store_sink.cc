// StoreSink (see store_sink.h).
// Thread-safety: see store_sink.h.
#include "store/store_sink.h"

#include <algorithm>

namespace gcpilot {

void StoreSink::SetWallOffset(int64_t wall_offset_ns) {
  offset_ = wall_offset_ns;
  for (const Held& h : held_) Write(h);
  held_.clear();
  held_.shrink_to_fit();
}

void StoreSink::Note(int64_t first, int64_t last) {
  first_ts_ = first_ts_ ? std::min(*first_ts_, first) : first;
  last_ts_ = last_ts_ ? std::max(*last_ts_, last) : last;
}

void StoreSink::Write(const Held& h) {
  const int64_t off = *offset_;
  if (const auto* s = std::get_if<Seen>(&h.record)) {
    store_->RecordProcess(h.key, s->info, s->ts_ns + off);
  } else if (const auto* c = std::get_if<GcCycle>(&h.record)) {
    store_->RecordCycle(h.key, *c, c->start_ns + off);
  } else if (const auto* p = std::get_if<StwPause>(&h.record)) {
    store_->RecordStop(h.key, *p, p->start_ns + off);
  } else if (const auto* e = std::get_if<Exit>(&h.record)) {
    store_->RecordExit(h.key, e->exit, e->ts_ns + off);
  }
}

void StoreSink::OnProcessSeen(const ProcessKey& p, const ProcessInfo& info, int64_t ts_ns) {
  Note(ts_ns, ts_ns);
  Held h{p, Seen{info, ts_ns}};
  if (offset_) {
    Write(h);
  } else {
    held_.push_back(std::move(h));
  }
}

void StoreSink::OnCycle(const ProcessKey& p, const GcCycle& cycle) {
  Note(cycle.start_ns, cycle.end_ns());
  if (offset_) {
    store_->RecordCycle(p, cycle, cycle.start_ns + *offset_);
    return;
  }
  GcCycle kept = cycle;  // Pacer details are not stored: do not hold them.
  kept.pacer_start.reset();
  kept.pacer_end.reset();
  kept.prev_sweep_done.reset();
  held_.push_back(Held{p, kept});
}

void StoreSink::OnPause(const ProcessKey& p, const StwPause& pause) {
  Note(pause.start_ns, pause.start_ns + pause.duration_ns);
  Held h{p, pause};
  if (offset_) {
    Write(h);
  } else {
    held_.push_back(std::move(h));
  }
}

void StoreSink::OnProcessExited(const ProcessKey& p, const ProcessExited& exit, int64_t ts_ns) {
  Note(ts_ns, ts_ns);
  Held h{p, Exit{exit, ts_ns}};
  if (offset_) {
    Write(h);
  } else {
    held_.push_back(std::move(h));
  }
}

}  // namespace gcpilot
