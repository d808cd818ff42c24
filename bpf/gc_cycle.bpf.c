// The Go-runtime probes. Every probe fires outside stop-the-world windows and
// reads the runtime's own bookkeeping:
//  - entry of runtime.mProf_Flush, which gcMarkTermination calls right after
//    the world restarted, once per cycle (Go 1.19-1.23): numgc, that cycle's
//    pause (memstats.pause_ns, both stops, exact) and up to GCP_MAX_SLOTS
//    more runtime words (phase times, heap sizes, CPU) userspace asked for;
//  - entry of runtime.stopTheWorld and each RET of runtime.startTheWorld:
//    the non-GC stops (ReadMemStats, GOMAXPROCS, profiles, traces) with
//    their reason; the GC's own stops do not go through these wrappers;
//    while userspace asks (GCP_CFG_STOP_STACKS), also the caller's stack;
//  - the call of runtime.gcStart in runtime.forcegchelper: a periodic GC;
//  - sched_process_exec (when discovery is on) and sched_process_exit of a
//    traced process.
// Probes are attached once per binary; processes are selected by `procs`.
// vmlinux.h must come first: the libbpf headers use its kernel types.
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "gcpilot/abi/gc_cycle_event.h"

char LICENSE[] SEC("license") = "GPL";

/* Knob: report every exec on the host (process discovery). */
const volatile __u32 report_exec = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32); /* tgid */
  __type(value, struct gcp_proc_config);
} procs SEC(".maps");

/* Binaries whose new processes are traced from exec on, with the config
 * every process of them gets (non-PIE binaries: no per-process bias). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct gcp_inode_key);
  __type(value, struct gcp_proc_config);
} bin_configs SEC(".maps");

/* Last numgc reported per process: mProf_Flush is also called by a
 * stop-the-world sweep (GODEBUG=gcstoptheworld) of the same cycle. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u32);
} last_numgc SEC(".maps");

/* A non-GC stop in progress, per goroutine: the entry probe fires before
 * stopTheWorld waits for worldsema, so several goroutines of one process
 * can be between entry and the return of startTheWorld at once; the same
 * goroutine (g in R14) runs both, whatever thread it is on. LRU: entries of
 * goroutines that never returned (process killed) age out. */
struct stop_key {
  __u32 pid;
  __u32 pad;
  __u64 g;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct stop_key);
  __type(value, struct gcp_stop_event);
} pending_stop SEC(".maps");

/* The stop itself, per process: world stops are serialized once worldsema
 * is held, and both ends run on the M's g0 (R14 is g0 there, not the
 * goroutine that asked), so the process is the key. */
struct world_window {
  __u64 stop_ktime_ns;
  __u64 start_ktime_ns;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct world_window);
} world_windows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Events the ring buffer had no room for, per process (key 0: exec events
 * of processes not traced yet). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4097);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 pid) {
  __u64 *d = bpf_map_lookup_elem(&drops, &pid);
  if (d) {
    __sync_fetch_and_add(d, 1);
    return;
  }
  __u64 one = 1;
  if (bpf_map_update_elem(&drops, &pid, &one, BPF_NOEXIST)) {
    d = bpf_map_lookup_elem(&drops, &pid);
    if (d) __sync_fetch_and_add(d, 1);
  }
}

static __always_inline __u32 current_tgid(void) { return bpf_get_current_pid_tgid() >> 32; }

SEC("uprobe.multi")
int BPF_UPROBE(on_mprof_flush) {
  __u32 pid = current_tgid();
  struct gcp_proc_config *cfg = bpf_map_lookup_elem(&procs, &pid);
  if (!cfg) return 0;
  __u32 numgc = 0;
  if (bpf_probe_read_user(&numgc, sizeof(numgc), (void *)cfg->numgc_addr)) return 0;
  __u32 *last = bpf_map_lookup_elem(&last_numgc, &pid);
  if (numgc == 0 || (last && *last == numgc)) return 0;
  bpf_map_update_elem(&last_numgc, &pid, &numgc, BPF_ANY);

  struct gcp_cycle_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count_drop(pid);
    return 0;
  }
  __u64 slot = (numgc - 1) % GCP_PAUSE_RING;
  e->type = GCP_EV_CYCLE;
  e->pid = pid;
  e->numgc = numgc;
  e->slots_read = 0;
  e->pause_ns = 0;
  e->pause_end_unix_ns = 0;
  if (bpf_probe_read_user(&e->pause_ns, sizeof(e->pause_ns),
                          (void *)(cfg->pause_ns_addr + slot * 8)) == 0)
    e->slots_read |= GCP_PAUSE_READ;
  bpf_probe_read_user(&e->pause_end_unix_ns, sizeof(e->pause_end_unix_ns),
                      (void *)(cfg->pause_end_addr + slot * 8));
  for (int i = 0; i < GCP_MAX_SLOTS; i++) {
    e->slot[i] = 0;
    if (cfg->slot_addr[i] &&
        bpf_probe_read_user(&e->slot[i], sizeof(e->slot[i]), (void *)cfg->slot_addr[i]) == 0)
      e->slots_read |= 1u << i;
  }
  e->probe_ktime_ns = bpf_ktime_get_ns();
  bpf_ringbuf_submit(e, 0);
  return 0;
}

/* The caller stack of a non-GC stop, while userspace asked for it: the
 * return address at SP (stopTheWorld has not pushed a frame yet, so the
 * frame-pointer walk would skip its direct caller), then the kernel's
 * frame-pointer walk of the user stack (Go keeps frame pointers on amd64).
 * Runs before the world stops: it costs the calling goroutine, not the
 * pause. The time it takes is reported with the stack. */
static __always_inline void emit_stop_stack(struct pt_regs *ctx, __u32 pid,
                                            const struct gcp_stop_event *s) {
  __u64 t0 = bpf_ktime_get_ns();
  struct gcp_stack_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count_drop(pid);
    return;
  }
  e->type = GCP_EV_STOP_STACK;
  e->pid = pid;
  e->reason = s->reason;
  e->reason_len = s->reason_len;
  __builtin_memcpy(e->reason_str, s->reason_str, sizeof(e->reason_str));
  e->ktime_ns = s->start_ktime_ns;
  e->nframes = 0;
  e->frames[0] = 0;
  if (bpf_probe_read_user(&e->frames[0], sizeof(e->frames[0]), (void *)ctx->sp) == 0)
    e->nframes = 1;
  long n =
      bpf_get_stack(ctx, &e->frames[1], sizeof(e->frames) - sizeof(e->frames[0]), BPF_F_USER_STACK);
  if (n > 0) e->nframes += (__u32)(n / sizeof(__u64));
  e->capture_ns = (__u32)(bpf_ktime_get_ns() - t0);
  bpf_ringbuf_submit(e, 0);
}

SEC("uprobe.multi")
int BPF_UPROBE(on_stop_the_world) {
  __u32 pid = current_tgid();
  struct gcp_proc_config *cfg = bpf_map_lookup_elem(&procs, &pid);
  if (!cfg) return 0;
  /* Built in place in the map: the record is too big for the BPF stack
   * together with the rest. An entry probe may fire twice (the stack-check
   * prologue restarts the function): the second write wins, harmlessly. */
  struct gcp_stop_event init = {};
  struct stop_key key = {.pid = pid, .g = ctx->r14};
  if (bpf_map_update_elem(&pending_stop, &key, &init, BPF_ANY)) return 0;
  struct gcp_stop_event *s = bpf_map_lookup_elem(&pending_stop, &key);
  if (!s) return 0;
  s->type = GCP_EV_STOP;
  s->pid = pid;
  /* Go's register ABI (amd64): arguments in RAX, RBX, RCX, ... */
  if (cfg->reason_abi == GCP_REASON_UINT8) {
    s->reason = ctx->ax & 0xff; /* stwReason in AL */
  } else if (cfg->reason_abi == GCP_REASON_STRING) {
    __u64 len = ctx->bx;
    const void *ptr = (const void *)ctx->ax;
    if (len > GCP_REASON_LEN) len = GCP_REASON_LEN;
    if (len > 0 && bpf_probe_read_user(s->reason_str, len, ptr) == 0) s->reason_len = len;
  }
  s->start_ktime_ns = bpf_ktime_get_ns();
  if (cfg->flags & GCP_CFG_STOP_STACKS) emit_stop_stack(ctx, pid, s);
  return 0;
}

/* runtime.stopTheWorld's closure calls stopTheWorldWithSema: worldsema is
 * held, the stop begins. */
SEC("uprobe.multi")
int BPF_UPROBE(on_world_stop_call) {
  __u32 pid = current_tgid();
  if (!bpf_map_lookup_elem(&procs, &pid)) return 0;
  struct world_window w = {.stop_ktime_ns = bpf_ktime_get_ns(), .start_ktime_ns = 0};
  bpf_map_update_elem(&world_windows, &pid, &w, BPF_ANY);
  return 0;
}

/* runtime.startTheWorld's closure returns: startTheWorldWithSema is done. */
SEC("uprobe.multi")
int BPF_UPROBE(on_world_start_ret) {
  __u32 pid = current_tgid();
  struct world_window *w = bpf_map_lookup_elem(&world_windows, &pid);
  if (w && w->stop_ktime_ns && !w->start_ktime_ns) w->start_ktime_ns = bpf_ktime_get_ns();
  return 0;
}

SEC("uprobe.multi")
int BPF_UPROBE(on_start_the_world_ret) {
  __u32 pid = current_tgid();
  struct stop_key key = {.pid = pid, .g = ctx->r14};
  struct gcp_stop_event *s = bpf_map_lookup_elem(&pending_stop, &key);
  if (!s) return 0;
  struct gcp_stop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count_drop(pid);
  } else {
    __builtin_memcpy(e, s, sizeof(*e));
    e->end_ktime_ns = bpf_ktime_get_ns();
    e->world_stop_ktime_ns = 0;
    e->world_start_ktime_ns = 0;
    struct world_window *w = bpf_map_lookup_elem(&world_windows, &pid);
    /* Only a window inside this stop's own entry..return span is its. */
    if (w && w->stop_ktime_ns >= s->start_ktime_ns && w->start_ktime_ns >= w->stop_ktime_ns) {
      e->world_stop_ktime_ns = w->stop_ktime_ns;
      e->world_start_ktime_ns = w->start_ktime_ns;
    }
    bpf_ringbuf_submit(e, 0);
  }
  bpf_map_delete_elem(&world_windows, &pid);
  bpf_map_delete_elem(&pending_stop, &key);
  return 0;
}

static __always_inline int emit_mark(__u32 type, __u32 pid, __u32 exit_code, __u32 drop_key,
                                     __u32 flags, const struct gcp_inode_key *exe) {
  struct gcp_mark_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count_drop(drop_key);
    return 0;
  }
  e->type = type;
  e->pid = pid;
  e->ktime_ns = bpf_ktime_get_ns();
  e->exit_code = exit_code;
  e->flags = flags;
  e->exe.dev = exe ? exe->dev : 0;
  e->exe.ino = exe ? exe->ino : 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("uprobe.multi")
int BPF_UPROBE(on_forcegc_start) {
  __u32 pid = current_tgid();
  if (!bpf_map_lookup_elem(&procs, &pid)) return 0;
  return emit_mark(GCP_EV_TIME_TRIGGER, pid, 0, pid, 0, 0);
}

/* BTF-typed tracepoints: no tracefs needed. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p) {
  __u32 pid = p->tgid;
  struct gcp_inode_key exe = {};
  exe.dev = BPF_CORE_READ(p, mm, exe_file, f_inode, i_sb, s_dev);
  exe.ino = BPF_CORE_READ(p, mm, exe_file, f_inode, i_ino);
  __u32 flags = 0;
  struct gcp_proc_config *cfg = bpf_map_lookup_elem(&bin_configs, &exe);
  if (cfg) {
    /* A watched binary starts: trace it before its runtime runs. */
    bpf_map_delete_elem(&last_numgc, &pid);
    if (bpf_map_update_elem(&procs, &pid, cfg, BPF_ANY) == 0) flags = GCP_EXEC_ADOPTED;
  }
  /* A traced process that exec'd runs another program now: always say. */
  if (!report_exec && !flags && !bpf_map_lookup_elem(&procs, &pid)) return 0;
  return emit_mark(GCP_EV_EXEC, pid, 0, flags ? pid : 0, flags, &exe);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p) {
  __u32 pid = p->tgid;
  if (p->pid != p->tgid) return 0; /* not the thread group leader */
  if (!bpf_map_lookup_elem(&procs, &pid)) return 0;
  __u32 code = p->exit_code;
  return emit_mark(GCP_EV_EXIT, pid, code, pid, 0, 0);
}
