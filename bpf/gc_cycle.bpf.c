// GC-cycle probe: one uprobe at the entry of runtime.mProf_Flush, which the
// Go runtime (1.19-1.23) calls in gcMarkTermination right after the world
// restarted, once per cycle, with memstats already final for the cycle. It
// reads numgc and that cycle's pause from the runtime's own bookkeeping, so
// the pause is exact and the probe never runs inside a stop of the world.
// Attached once per binary; processes are selected by the `procs` map.
// vmlinux.h must come first: the libbpf headers use its kernel types.
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "gcpilot/abi/gc_cycle_event.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32); /* tgid */
  __type(value, struct gcp_proc_config);
} procs SEC(".maps");

/* Last numgc reported per process: mProf_Flush is also called by a
 * stop-the-world sweep (GODEBUG=gcstoptheworld) of the same cycle. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u32);
} last_numgc SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Events the ring buffer had no room for, per CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

SEC("uprobe")
int BPF_UPROBE(on_mprof_flush) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  struct gcp_proc_config *cfg = bpf_map_lookup_elem(&procs, &pid);
  if (!cfg) return 0;
  __u32 numgc = 0;
  if (bpf_probe_read_user(&numgc, sizeof(numgc), (void *)(cfg->memstats_addr + cfg->numgc_offset)))
    return 0;
  __u32 *last = bpf_map_lookup_elem(&last_numgc, &pid);
  if (numgc == 0 || (last && *last == numgc)) return 0;
  bpf_map_update_elem(&last_numgc, &pid, &numgc, BPF_ANY);

  __u64 slot = (numgc - 1) % GCP_PAUSE_RING;
  struct gcp_cycle_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __u32 zero = 0;
    __u64 *d = bpf_map_lookup_elem(&drops, &zero);
    if (d) *d += 1;
    return 0;
  }
  e->pid = pid;
  e->numgc = numgc;
  e->pause_ns = 0;
  e->pause_end_unix_ns = 0;
  bpf_probe_read_user(&e->pause_ns, sizeof(e->pause_ns),
                      (void *)(cfg->memstats_addr + cfg->pause_ns_offset + slot * 8));
  bpf_probe_read_user(&e->pause_end_unix_ns, sizeof(e->pause_end_unix_ns),
                      (void *)(cfg->memstats_addr + cfg->pause_end_offset + slot * 8));
  e->probe_ktime_ns = bpf_ktime_get_ns();
  bpf_ringbuf_submit(e, 0);
  return 0;
}
