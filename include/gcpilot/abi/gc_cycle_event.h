/* The records the Go-runtime BPF program (bpf/gc_cycle.bpf.c) shares with
 * userspace (src/sources/ebpf/). Plain C, fixed-width fields, units in the
 * names. Version GCP_ABI_VERSION: bump on any layout change. */
#ifndef GCPILOT_ABI_GC_CYCLE_EVENT_H_
#define GCPILOT_ABI_GC_CYCLE_EVENT_H_

#define GCP_ABI_VERSION 5
#define GCP_PAUSE_RING 256 /* len(runtime.memstats.pause_ns) */
#define GCP_MAX_SLOTS 24   /* runtime words read per GC cycle */
#define GCP_REASON_LEN 32  /* bytes of a Go 1.19 stop reason string kept */
#define GCP_COMM_LEN 16
#define GCP_STACK_DEPTH 32        /* frames of a non-GC stop's caller stack kept */
#define GCP_PAUSE_READ (1u << 31) /* gcp_cycle_event.slots_read: pause_ns was read */

#ifdef __BPF__
typedef __u8 gcp_u8;
typedef __u32 gcp_u32;
typedef __u64 gcp_u64;
#else
#include <stdint.h>
typedef uint8_t gcp_u8;
typedef uint32_t gcp_u32;
typedef uint64_t gcp_u64;
#endif

/* How runtime.stopTheWorld receives its reason. */
enum gcp_reason_abi {
  GCP_REASON_NONE = 0,   /* not probed */
  GCP_REASON_UINT8 = 1,  /* Go 1.21+: stwReason in AL */
  GCP_REASON_STRING = 2, /* Go 1.19: reason string, ptr in RAX, len in RBX */
};

/* Per traced process: where the runtime keeps what the probes read.
 * Addresses are absolute in the process (load bias applied); 0 = unused. */
struct gcp_proc_config {
  gcp_u64 numgc_addr;     /* &runtime.memstats.numgc (uint32) */
  gcp_u64 pause_ns_addr;  /* &runtime.memstats.pause_ns[0] ([256]uint64) */
  gcp_u64 pause_end_addr; /* &runtime.memstats.pause_end[0] ([256]uint64) */
  /* Further runtime words copied (8 bytes each) into every cycle event;
   * userspace knows what each slot means and how wide it is. */
  gcp_u64 slot_addr[GCP_MAX_SLOTS];
  gcp_u32 reason_abi; /* enum gcp_reason_abi */
  gcp_u32 flags;      /* GCP_CFG_* */
};

/* gcp_proc_config.flags: capture the calling stack of each non-GC stop
 * (time-boxed by userspace while a detector investigates). */
#define GCP_CFG_STOP_STACKS 1u

enum gcp_event_type {
  GCP_EV_CYCLE = 1,        /* struct gcp_cycle_event */
  GCP_EV_STOP = 2,         /* struct gcp_stop_event */
  GCP_EV_TIME_TRIGGER = 3, /* struct gcp_mark_event */
  GCP_EV_EXEC = 4,         /* struct gcp_mark_event: any process exec'd */
  GCP_EV_EXIT = 5,         /* struct gcp_mark_event: a traced process exited */
  GCP_EV_STOP_STACK = 6,   /* struct gcp_stack_event */
};

/* One completed GC cycle, read once per cycle after the world restarted. */
struct gcp_cycle_event {
  gcp_u32 type;              /* GCP_EV_CYCLE */
  gcp_u32 pid;               /* tgid */
  gcp_u32 numgc;             /* runtime.memstats.numgc after the cycle */
  gcp_u32 slots_read;        /* bit i set: slot[i] was read; GCP_PAUSE_READ */
  gcp_u64 pause_ns;          /* memstats.pause_ns[(numgc-1)%256]: both stops */
  gcp_u64 pause_end_unix_ns; /* memstats.pause_end of that cycle */
  gcp_u64 probe_ktime_ns;    /* bpf_ktime_get_ns() when the probe fired */
  gcp_u64 slot[GCP_MAX_SLOTS];
};

/* One stop of the world that is not part of a GC cycle: from the entry of
 * runtime.stopTheWorld to the return of runtime.startTheWorld (both outside
 * the stop, so this includes waiting for worldsema). world_stop/start_ktime_ns,
 * when not 0, bound the stop itself: the call of stopTheWorldWithSema in
 * runtime.stopTheWorld's closure (worldsema held, the stop not begun) and
 * the return of runtime.startTheWorld's closure (the world running again).
 * Both are outside the stop; the span still includes the probes' own cost. */
struct gcp_stop_event {
  gcp_u32 type; /* GCP_EV_STOP */
  gcp_u32 pid;
  gcp_u32 reason;     /* Go 1.21+: stwReason */
  gcp_u32 reason_len; /* Go 1.19: bytes of reason_str used */
  gcp_u64 start_ktime_ns;
  gcp_u64 end_ktime_ns;
  gcp_u64 world_stop_ktime_ns;
  gcp_u64 world_start_ktime_ns;
  char reason_str[GCP_REASON_LEN];
};

/* The goroutine stack that asked for a non-GC stop (GCP_CFG_STOP_STACKS),
 * taken at the entry of runtime.stopTheWorld, before the world stops.
 * frames[0] is the return address into stopTheWorld's caller (read at SP);
 * the rest come from the kernel's frame-pointer walk (bpf_get_stack,
 * user stack), whose first entry is the probed instruction itself. */
struct gcp_stack_event {
  gcp_u32 type; /* GCP_EV_STOP_STACK */
  gcp_u32 pid;
  gcp_u32 reason;     /* as gcp_stop_event */
  gcp_u32 reason_len; /* as gcp_stop_event */
  gcp_u64 ktime_ns;
  gcp_u32 capture_ns; /* time the probe spent taking the stack */
  gcp_u32 nframes;    /* frames used */
  gcp_u64 frames[GCP_STACK_DEPTH];
  char reason_str[GCP_REASON_LEN];
};

/* A binary whose new processes the exec probe starts tracing in the kernel
 * (so even a process that lives a few ms is seen from its first cycle).
 * dev is the kernel's encoding: major << 20 | minor. */
struct gcp_inode_key {
  gcp_u64 dev;
  gcp_u64 ino;
};

#define GCP_EXEC_ADOPTED 1 /* gcp_mark_event.flags: procs entry made in BPF */

/* Exec, exit, or a periodic GC about to start (forcegchelper). */
struct gcp_mark_event {
  gcp_u32 type;
  gcp_u32 pid;
  gcp_u64 ktime_ns;
  gcp_u32 exit_code;        /* GCP_EV_EXIT: the task's exit_code (status << 8 | sig) */
  gcp_u32 flags;            /* GCP_EV_EXEC: GCP_EXEC_ADOPTED */
  struct gcp_inode_key exe; /* GCP_EV_EXEC: the new executable */
  char comm[GCP_COMM_LEN];
};

#endif /* GCPILOT_ABI_GC_CYCLE_EVENT_H_ */
