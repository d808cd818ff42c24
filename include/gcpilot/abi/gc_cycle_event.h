/* The records the GC-cycle BPF program (bpf/gc_cycle.bpf.c) shares with
 * userspace (src/sources/ebpf/). Plain C, fixed-width fields, units in the
 * names. Version GCP_ABI_VERSION: bump on any layout change. */
#ifndef GCPILOT_ABI_GC_CYCLE_EVENT_H_
#define GCPILOT_ABI_GC_CYCLE_EVENT_H_

#define GCP_ABI_VERSION 1
#define GCP_PAUSE_RING 256 /* len(runtime.memstats.pause_ns) */

#ifdef __BPF__
typedef __u32 gcp_u32;
typedef __u64 gcp_u64;
#else
#include <stdint.h>
typedef uint32_t gcp_u32;
typedef uint64_t gcp_u64;
#endif

/* Per traced process: where the runtime keeps what the probe reads.
 * Addresses are absolute in the process (load bias applied). */
struct gcp_proc_config {
  gcp_u64 memstats_addr;    /* &runtime.memstats */
  gcp_u32 numgc_offset;     /* offsetof(runtime.mstats, numgc), uint32 */
  gcp_u32 pause_ns_offset;  /* offsetof(runtime.mstats, pause_ns), [256]uint64 */
  gcp_u32 pause_end_offset; /* offsetof(runtime.mstats, pause_end), [256]uint64 */
  gcp_u32 pad;
};

/* One completed GC cycle, read once per cycle after the world restarted. */
struct gcp_cycle_event {
  gcp_u32 pid;               /* tgid */
  gcp_u32 numgc;             /* runtime.memstats.numgc after the cycle */
  gcp_u64 pause_ns;          /* memstats.pause_ns[(numgc-1)%256]: both stops */
  gcp_u64 pause_end_unix_ns; /* memstats.pause_end of that cycle */
  gcp_u64 probe_ktime_ns;    /* bpf_ktime_get_ns() when the probe fired */
};

#endif /* GCPILOT_ABI_GC_CYCLE_EVENT_H_ */
