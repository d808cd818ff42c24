// Helpers for the tuner's unit tests: a window and an input with plausible
// values that each test then bends.
// Thread-safety: test-only value builders.
#pragma once

#include "tune/tune_input.h"

namespace gcpilot::tune::testing {

// 10 s window: 20 cycles (2/s), 40 MB/s, GC CPU 4%, mean pause per stop
// 50 us, live heap 64 MB, goal 128 MB, GOMAXPROCS 2.
inline WindowStats Window() {
  WindowStats w;
  w.view = "10s";
  w.start_ns = 0;
  w.end_ns = 10'000'000'000;
  w.covered_ns = w.end_ns;
  w.complete = true;
  w.gc_cycles = 20;
  w.gcs_per_sec = 2;
  w.alloc_bytes = 400ull << 20;
  w.alloc_bytes_per_sec = 40.0 * (1 << 20);
  w.gc_cpu_share = 0.04;
  w.gc_pauses.count = 40;
  w.gc_pauses.sum = 40 * 50'000.0;
  w.gc_pauses.mean = 50'000;
  w.gc_pauses.max = 90'000;
  w.heap_live_bytes = 64ull << 20;
  w.heap_goal_bytes = 128ull << 20;
  w.gomaxprocs = 2;
  return w;
}

inline TuneInput Input() {
  TuneInput in;
  in.now_ns = 100'000'000'000;
  in.window = Window();
  in.process.pid = 4242;
  in.process.gogc = 100;
  in.process.memory_limit = kNoMemoryLimit;
  in.process.gomaxprocs = 2;
  CgroupMemory c;
  c.version = 2;
  c.path = "/svc";
  c.limit_bytes = 1024ll << 20;
  c.limit_file = "/sys/fs/cgroup/svc/memory.max";
  in.cgroup = c;
  NodeMemory n;
  n.total_bytes = 16ll << 30;
  n.available_bytes = 12ll << 30;
  n.psi_some_avg10 = 0.0;
  in.node = n;
  return in;
}

}  // namespace gcpilot::tune::testing
