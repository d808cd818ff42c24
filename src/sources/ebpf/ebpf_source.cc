// The eBPF source: discovery, lifecycle and record translation (see the
// header).
#include "sources/ebpf/ebpf_source.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "sources/ebpf/event_decoder.h"
#include "sources/proc/capabilities.h"
#include "sources/proc/load_bias.h"
#include "sources/proc/pause_rings.h"
#include "sources/proc/procfs.h"
#include "sources/proc/runtime_gauges.h"

namespace gcpilot::ebpf {
namespace {

constexpr int64_t kLivenessIntervalNs = 1'000'000'000;
constexpr int64_t kRescanIntervalNs = 10'000'000'000;
constexpr int64_t kLingerNs = 30'000'000'000;

std::string ExeOf(pid_t pid) { return "/proc/" + std::to_string(pid) + "/exe"; }

// The binary's own path: the target of /proc/PID/exe when it was opened
// through one (while that process lives), else the path it was opened by.
std::string BinaryName(const golang::GoBinary& binary) {
  const std::string& path = binary.path();
  if (!path.starts_with("/proc/") || !path.ends_with("/exe")) return path;
  char target[4096];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof(target) - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : path;
}

// `message` with the path the binary was opened by (the /proc/PID/exe of
// whichever process showed it first) replaced by this process's own
// executable path.
std::string NamedAfter(std::string message, const std::string& opened, const std::string& exe) {
  if (opened.empty() || exe.empty() || opened == exe) return message;
  for (size_t at = message.find(opened); at != std::string::npos;
       at = message.find(opened, at + exe.size())) {
    message.replace(at, opened.size(), exe);
  }
  return message;
}

template <typename T>
bool Fits(size_t size) {
  return size >= sizeof(T);
}

}  // namespace

EbpfSource::EbpfSource(EbpfSourceOptions options, Emit emit, Notice notice)
    : options_(std::move(options)), emit_(std::move(emit)), notice_(std::move(notice)) {
  discover_ = options_.all || !options_.exes.empty();
}

EbpfSource::~EbpfSource() = default;

StatusOr<std::unique_ptr<EbpfSource>> EbpfSource::Create(EbpfSourceOptions options, Emit emit,
                                                         Notice notice) {
  std::unique_ptr<EbpfSource> src(
      new EbpfSource(std::move(options), std::move(emit), std::move(notice)));
  for (const std::string& exe : src->options_.exes) {
    StatusOr<gcp_inode_key> inode = GoRuntimeProbe::KernelInodeKey(exe);
    if (!inode.ok()) return Status::FromErrno(errno, "--exe " + exe);  // errno of its stat.
    src->exe_inodes_.insert({inode->dev, inode->ino});
  }
  EbpfSource* raw = src.get();
  StatusOr<std::unique_ptr<GoRuntimeProbe>> probe = GoRuntimeProbe::Create(
      src->discover_, [raw](const void* data, size_t size) { raw->OnRecord(data, size); });
  if (!probe.ok()) {
    std::string missing = proc::MissingEbpfCapabilities();
    if (probe.status().code() == StatusCode::kPermissionDenied && !missing.empty()) {
      return Status::PermissionDenied(probe.status().message() + "; this process lacks " + missing);
    }
    return probe.status();
  }
  src->probe_ = std::move(*probe);
  // When discovering, a binary's probes stay a while after its last process
  // ended, so the next one (a restart, a cron job) is traced from its exec.
  if (src->discover_) src->probe_->set_linger_ns(kLingerNs);
  return src;
}

void EbpfSource::WatchBinary(const std::string& exe_path,
                             const std::shared_ptr<const golang::GoBinary>& binary,
                             const std::shared_ptr<const ProbePlan>& plan, bool keep) {
  if (binary->pie()) {
    if (keep) {
      notice_(exe_path +
              ": a PIE binary: its processes are found when they exec, so one that "
              "lives less than a few ms may be missed");
    }
    return;
  }
  StatusOr<gcp_inode_key> key =
      probe_->WatchBinary(exe_path, plan->sites, MakeProcConfig(*plan, 0), keep);
  if (!key.ok()) {
    notice_(exe_path + ": " + key.status().message());
    return;
  }
  watched_[{key->dev, key->ino}] = Watched{binary, plan};
}

size_t EbpfSource::Start() {
  for (const std::string& exe : options_.exes) {
    StatusOr<std::shared_ptr<const golang::GoBinary>> bin = binaries_.Get(exe);
    if (!bin.ok()) {
      notice_("--exe " + exe + ": " + bin.status().message());
      continue;
    }
    StatusOr<std::shared_ptr<const ProbePlan>> plan = PlanFor(*bin);
    if (!plan.ok()) {
      notice_("--exe " + exe + ": cannot trace: " + plan.status().message());
      continue;
    }
    WatchBinary(exe, *bin, *plan, /*keep=*/true);
  }
  for (pid_t pid : options_.pids) Consider(pid, /*explicit_pid=*/true);
  if (discover_) {
    const pid_t self = getpid();
    for (pid_t pid : proc::ListPids()) {
      if (pid != self) Consider(pid, /*explicit_pid=*/false);
    }
  }
  last_rescan_ns_ = clock_.NowNs();
  return traced_.size();
}

bool EbpfSource::MatchesExe(pid_t pid) const {
  if (exe_inodes_.empty()) return true;
  StatusOr<gcp_inode_key> inode = GoRuntimeProbe::KernelInodeKey(ExeOf(pid));
  return inode.ok() && exe_inodes_.count({inode->dev, inode->ino}) > 0;
}

bool EbpfSource::Consider(pid_t pid, bool explicit_pid) {
  if (traced_.count(pid)) return true;
  if (!explicit_pid && !MatchesExe(pid)) return false;
  const uint64_t start_time = proc::ReadStartTime(pid);
  if (start_time == 0) {
    if (explicit_pid) notice_("pid " + std::to_string(pid) + ": no such process");
    return false;
  }
  auto refused = refused_.find(pid);
  if (refused != refused_.end() && refused->second == start_time) return false;

  StatusOr<proc::ProcessIdentity> id = proc::ReadIdentity(pid);
  if (!id.ok()) {
    // Kernel threads and processes gone in the meantime are not news, but
    // an unreadable executable is.
    if (explicit_pid) {
      notice_("pid " + std::to_string(pid) + ": " + id.status().message());
    } else if (id.status().code() == StatusCode::kPermissionDenied) {
      ++stats_.unreadable;  // Counted, said once at the end.
    }
    refused_[pid] = start_time;
    return false;
  }
  StatusOr<std::shared_ptr<const golang::GoBinary>> bin = binaries_.Get(id->exe_open);
  if (!bin.ok()) {
    const bool denied = bin.status().code() == StatusCode::kPermissionDenied;
    if (explicit_pid || denied) {
      std::string why = denied ? "cannot read its executable: " + bin.status().message() +
                                     " (another user's binary needs read permission on it, or "
                                     "CAP_DAC_READ_SEARCH)"
                               : "not a Go program we can read: " + bin.status().message();
      notice_("pid " + std::to_string(pid) + " (" + id->comm + "): " + why);
      refused_[pid] = start_time;
    }
    return false;
  }
  Status s = TraceProcess(pid, id->exe_open, *bin, /*awaiting_exec=*/false, &*id);
  if (!s.ok() && proc::ReadStartTime(pid) != start_time) {
    ++stats_.missed;  // It ended while being attached to: not a refusal.
    return false;
  }
  if (!s.ok()) {
    refused_[pid] = start_time;
    ++stats_.refused;
    // A binary that cannot be planned is said once, not once per process
    // (a `go build` starts a hundred compilers).
    const bool plan_failed = plan_errors_.count(bin->get()) > 0;
    const std::string build = (*bin)->build_id().empty() ? id->exe_path : (*bin)->build_id();
    if (plan_failed && !refusal_noticed_.insert(build).second) return false;
    notice_("pid " + std::to_string(pid) + " (" + id->comm + ", " + (*bin)->go_version() +
            "): cannot trace: " + NamedAfter(s.message(), (*bin)->path(), id->exe_path) +
            (plan_failed ? " (said once for every process of this binary)" : ""));
    return false;
  }
  return true;
}

StatusOr<std::shared_ptr<const ProbePlan>> EbpfSource::PlanFor(
    const std::shared_ptr<const golang::GoBinary>& binary) {
  auto it = plans_.find(binary.get());
  if (it != plans_.end()) return it->second.second;
  auto err = plan_errors_.find(binary.get());
  if (err != plan_errors_.end()) return Status::Unavailable(err->second.second);
  StatusOr<ProbePlan> plan = MakeProbePlan(*binary);
  if (!plan.ok()) {
    plan_errors_[binary.get()] = {binary, plan.status().message()};
    return plan.status();
  }
  auto shared = std::make_shared<const ProbePlan>(std::move(*plan));
  for (const std::string& limit : shared->limitations) {
    notice_(BinaryName(*binary) + " (" + binary->go_version() + "): " + limit);
  }
  plans_[binary.get()] = {binary, shared};
  return shared;
}

Status EbpfSource::TraceProcess(pid_t pid, const std::string& exe_open,
                                std::shared_ptr<const golang::GoBinary> binary, bool awaiting_exec,
                                const proc::ProcessIdentity* known) {
  StatusOr<std::shared_ptr<const ProbePlan>> plan = PlanFor(binary);
  if (!plan.ok()) return plan.status();
  uint64_t bias = 0;
  if (!awaiting_exec) {
    StatusOr<uint64_t> b = proc::LoadBias(pid, *binary);
    if (!b.ok()) return b.status();
    bias = *b;
    GCPILOT_RETURN_IF_ERROR(ValidateRuntime(pid, *binary, **plan, bias));
  }
  GCPILOT_RETURN_IF_ERROR(
      probe_->Trace(pid, exe_open, (*plan)->sites, MakeProcConfig(**plan, bias)));
  AddTraced(pid, binary, *plan, awaiting_exec, "", known);
  traced_.at(pid).validated = !awaiting_exec;
  // Later processes of this binary are then traced from their exec on.
  if (discover_ && !awaiting_exec) WatchBinary(exe_open, binary, *plan, /*keep=*/false);
  return Status::Ok();
}

void EbpfSource::AddTraced(pid_t pid, std::shared_ptr<const golang::GoBinary> binary,
                           std::shared_ptr<const ProbePlan> plan, bool awaiting_exec,
                           const std::string& comm, const proc::ProcessIdentity* known) {
  Traced t;
  t.key = ProcessKey{pid, next_generation_++};
  t.plan = std::move(plan);
  t.binary = std::move(binary);
  t.start_time = proc::ReadStartTime(pid);
  t.traced_at_ns = clock_.NowNs();
  // Only a `run` child waiting to exec is matched against exec records by
  // its binary; the binary's path is the program's own then.
  if (awaiting_exec) {
    if (StatusOr<gcp_inode_key> k = GoRuntimeProbe::KernelInodeKey(t.binary->path()); k.ok()) {
      t.exe = *k;
    }
  }
  t.awaiting_exec = awaiting_exec;
  traced_[pid] = std::move(t);
  ++stats_.processes_traced;
  if (!awaiting_exec) AnnounceProcess(pid, comm, known);
}

void EbpfSource::AnnounceProcess(pid_t pid, const std::string& comm,
                                 const proc::ProcessIdentity* known) {
  const Traced& t = traced_.at(pid);
  ProcessInfo info;
  info.go_version = t.binary->go_version();
  StatusOr<proc::ProcessIdentity> id =
      known ? StatusOr<proc::ProcessIdentity>(*known) : proc::ReadIdentity(pid);
  if (id.ok()) {
    info.comm = id->comm;
    info.exe = id->exe_path;
    info.container = id->container;
  } else {
    info.comm = comm;
    info.exe = t.binary->path();
  }
  proc::RuntimeGauges g = proc::ReadRuntimeGauges(pid, *t.binary);
  info.gomaxprocs = g.gomaxprocs.value_or(0);
  emit_(Event{clock_.NowNs(), t.key, EventSource::kEbpf, ProcessSeen{info}});
}

Status EbpfSource::PrepareProgram(const std::string& exe_path) {
  StatusOr<std::shared_ptr<const golang::GoBinary>> bin = binaries_.Get(exe_path);
  if (!bin.ok()) return bin.status();
  StatusOr<std::shared_ptr<const ProbePlan>> plan = PlanFor(*bin);
  if (!plan.ok()) return plan.status();
  return probe_->Attach(exe_path, (*plan)->sites);
}

Status EbpfSource::TraceChild(pid_t pid, const std::string& exe_path) {
  StatusOr<std::shared_ptr<const golang::GoBinary>> bin = binaries_.Get(exe_path);
  if (!bin.ok()) return bin.status();
  return TraceProcess(pid, exe_path, *bin, /*awaiting_exec=*/true);
}

void EbpfSource::OnRecord(const void* data, size_t size) {
  if (size < sizeof(uint32_t)) {
    ++stats_.bad_records;
    return;
  }
  uint32_t type;
  std::memcpy(&type, data, sizeof(type));
  switch (type) {
    case GCP_EV_CYCLE: {
      if (!Fits<gcp_cycle_event>(size)) break;
      gcp_cycle_event e;
      std::memcpy(&e, data, sizeof(e));
      auto it = traced_.find(static_cast<pid_t>(e.pid));
      if (it == traced_.end()) {
        // Untraced since, or adopted by the exec probe while its exec
        // record was lost (counted as a drop): counted, not silent.
        ++stats_.unattributed;
        return;
      }
      if (!it->second.validated) {
        Status valid = ValidateRuntime(it->first, *it->second.binary, *it->second.plan);
        if (!valid.ok() && valid.code() == StatusCode::kDataLoss) {
          DropInvalid(it->first, valid);
          return;
        }
        // Unreadable now (it may be exiting): checked at its next cycle.
        it->second.validated = valid.ok();
      }
      if (Status plausible = CheckCyclePlausible(*it->second.plan, e); !plausible.ok()) {
        DropInvalid(it->first, Status::DataLoss("its cycle " + std::to_string(e.numgc) + ": " +
                                                plausible.message() + " (layout " +
                                                it->second.plan->layout.how() + ")"));
        return;
      }
      // A pause the probe could not read is not a zero pause: the cycle is
      // left out, and the assembler reports the gap.
      if (!(e.slots_read & GCP_PAUSE_READ)) break;
      GcCycle c = DecodeCycle(*it->second.plan, e);
      ++stats_.cycles;
      emit_(Event{c.end_ns(), it->second.key, EventSource::kEbpf, GcCycleObserved{c}});
      return;
    }
    case GCP_EV_STOP: {
      if (!Fits<gcp_stop_event>(size)) break;
      gcp_stop_event e;
      std::memcpy(&e, data, sizeof(e));
      auto it = traced_.find(static_cast<pid_t>(e.pid));
      if (it == traced_.end()) {
        ++stats_.unattributed;
        return;
      }
      StwPause p = DecodeStop(*it->second.plan, e);
      ++stats_.stops;
      emit_(Event{p.start_ns + p.duration_ns, it->second.key, EventSource::kEbpf, StwObserved{p}});
      return;
    }
    case GCP_EV_STOP_STACK: {
      if (!Fits<gcp_stack_event>(size)) break;
      gcp_stack_event e;
      std::memcpy(&e, data, sizeof(e));
      OnStopStack(e);
      return;
    }
    case GCP_EV_TIME_TRIGGER:
    case GCP_EV_EXEC:
    case GCP_EV_EXIT: {
      if (!Fits<gcp_mark_event>(size)) break;
      gcp_mark_event e;
      std::memcpy(&e, data, sizeof(e));
      if (type == GCP_EV_EXEC) {
        OnExec(e);
      } else if (type == GCP_EV_EXIT) {
        OnExit(e);
      } else if (auto it = traced_.find(static_cast<pid_t>(e.pid)); it != traced_.end()) {
        emit_(Event{static_cast<int64_t>(e.ktime_ns), it->second.key, EventSource::kEbpf,
                    TimeTriggerObserved{}});
      }
      return;
    }
    default:
      break;
  }
  ++stats_.bad_records;
}

void EbpfSource::OnStopStack(const gcp_stack_event& e) {
  auto it = traced_.find(static_cast<pid_t>(e.pid));
  if (it == traced_.end() || !it->second.stop_stacks) {
    ++stats_.unattributed;
    return;
  }
  const Traced& t = it->second;
  gcp_stop_event as_stop{};
  as_stop.reason = e.reason;
  as_stop.reason_len = e.reason_len;
  std::memcpy(as_stop.reason_str, e.reason_str, sizeof(as_stop.reason_str));
  StopStack st;
  st.ts_ns = static_cast<int64_t>(e.ktime_ns);
  st.reason = DecodeStop(*t.plan, as_stop).reason;
  st.capture_ns = e.capture_ns;
  const uint32_t n = std::min<uint32_t>(e.nframes, GCP_STACK_DEPTH);
  const golang::LoadedPclntab* tab = t.binary->symbols().pclntab();
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t pc = e.frames[i];
    if (pc == 0) break;
    // Return addresses point after the call: look up the call itself.
    // frames[1] is the probed entry of runtime.stopTheWorld: left out.
    if (i == 1) continue;
    const uint64_t link_pc = pc - t.load_bias - 1;
    std::optional<golang::PclntabFunction> f;
    if (tab != nullptr && pc > t.load_bias) f = tab->table.FindByAddress(link_pc);
    if (f) {
      st.frames.emplace_back(f->name);
    } else {
      char hex[24];
      std::snprintf(hex, sizeof(hex), "%#llx", static_cast<unsigned long long>(pc));
      st.frames.emplace_back(hex);
    }
  }
  ++stats_.stop_stacks;
  if (on_stop_stack_) on_stop_stack_(t.key, st);
}

Status EbpfSource::SetStopStacks(pid_t pid, bool on) {
  auto it = traced_.find(pid);
  if (it == traced_.end()) return Status::NotFound("pid " + std::to_string(pid) + " not traced");
  Traced& t = it->second;
  if (t.awaiting_exec)
    return Status::Unavailable("pid " + std::to_string(pid) +
                               " has not started its Go program yet");
  if (t.stop_stacks == on) return Status::Ok();
  uint64_t bias = 0;
  if (t.binary->pie()) {
    StatusOr<uint64_t> b = proc::LoadBias(pid, *t.binary);
    if (!b.ok()) return b.status();
    bias = *b;
  }
  gcp_proc_config cfg = MakeProcConfig(*t.plan, bias);
  if (on) cfg.flags |= GCP_CFG_STOP_STACKS;
  GCPILOT_RETURN_IF_ERROR(probe_->UpdateConfig(pid, cfg));
  t.stop_stacks = on;
  t.load_bias = bias;
  return Status::Ok();
}

void EbpfSource::Adopt(pid_t pid, const gcp_mark_event& e) {
  const bool named =
      std::find(options_.pids.begin(), options_.pids.end(), pid) != options_.pids.end();
  auto w = watched_.find({e.exe.dev, e.exe.ino});
  Status s = w == watched_.end() ? Status::NotFound("not watched") : probe_->Adopt(pid, e.exe);
  if (!s.ok()) {
    // The binary's probes went meanwhile: trace it the ordinary way.
    if (!Consider(pid, named)) {
      if (proc::ReadStartTime(pid) == 0) ++stats_.missed;
    }
    return;
  }
  std::string comm(e.comm, strnlen(e.comm, sizeof(e.comm)));
  AddTraced(pid, w->second.binary, w->second.plan, /*awaiting_exec=*/false, comm);
}

void EbpfSource::OnExec(const gcp_mark_event& e) {
  const pid_t pid = static_cast<pid_t>(e.pid);
  const int64_t ts = static_cast<int64_t>(e.ktime_ns);
  const bool adopted = e.flags & GCP_EXEC_ADOPTED;
  const bool named =
      std::find(options_.pids.begin(), options_.pids.end(), pid) != options_.pids.end();
  auto it = traced_.find(pid);
  if (it != traced_.end()) {
    Traced& t = it->second;
    // An exec from before gcpilot traced this process (it was found by a
    // scan while the record was on its way): nothing new.
    if (ts < t.traced_at_ns) return;
    if (t.awaiting_exec) {
      if (e.exe.dev != t.exe.dev || e.exe.ino != t.exe.ino) return;  // E.g. a shell first.
      // The child of `run` now runs the program: it goes live.
      t.awaiting_exec = false;
      if (t.binary->pie()) {
        StatusOr<uint64_t> bias = proc::LoadBias(pid, *t.binary);
        Status s =
            bias.ok() ? probe_->UpdateConfig(pid, MakeProcConfig(*t.plan, *bias)) : bias.status();
        if (!s.ok()) notice_("pid " + std::to_string(pid) + ": cannot trace: " + s.message());
      }
      AnnounceProcess(pid);
      return;
    }
    // It runs another program now: this one's stream ends here. When the
    // exec probe already traces the new program, its filter entry stays.
    ProcessExited exec;
    exec.exec = true;
    EndProcess(pid, exec, ts, /*keep_map_entry=*/adopted);
  }
  if (adopted) {
    Adopt(pid, e);
    return;
  }
  if (!(discover_ || named) || !Consider(pid, named)) return;
  // Found by user space although the exec probe should have adopted it:
  // this filesystem shows BPF other inode numbers than stat() does.
  if (!adoption_mismatch_noted_) {
    if (StatusOr<gcp_inode_key> k = GoRuntimeProbe::KernelInodeKey(ExeOf(pid));
        k.ok() && watched_.count({k->dev, k->ino})) {
      adoption_mismatch_noted_ = true;
      notice_("exec records do not match " + traced_.at(pid).binary->path() +
              " by inode on this filesystem: new processes are found in user space, so one "
              "that lives only a few ms may be missed");
    }
  }
}

void EbpfSource::OnExit(const gcp_mark_event& e) {
  const pid_t pid = static_cast<pid_t>(e.pid);
  auto it = traced_.find(pid);
  // The exit of an earlier process with this pid: not the traced one.
  if (it == traced_.end() || static_cast<int64_t>(e.ktime_ns) < it->second.traced_at_ns) return;
  ProcessExited exit;
  exit.signal = static_cast<int32_t>(e.exit_code & 0x7f);
  exit.exit_code = static_cast<int32_t>((e.exit_code >> 8) & 0xff);
  EndProcess(pid, exit, static_cast<int64_t>(e.ktime_ns));
}

void EbpfSource::EndProcess(pid_t pid, std::optional<ProcessExited> exit, int64_t ts_ns,
                            bool keep_map_entry) {
  auto it = traced_.find(pid);
  if (it == traced_.end()) return;
  if (!keep_map_entry) probe_->Untrace(pid);
  // With keep_map_entry the probe moves the pid to its new binary in Adopt.
  if (exit && !it->second.awaiting_exec) {
    emit_(Event{ts_ns, it->second.key, EventSource::kEbpf, *exit});
  }
  traced_.erase(it);
}

Status EbpfSource::ValidateRuntime(pid_t pid, const golang::GoBinary& binary, const ProbePlan& plan,
                                   std::optional<uint64_t> bias) const {
  if (!bias) {
    StatusOr<uint64_t> b = proc::LoadBias(pid, binary);
    if (!b.ok()) return Status::Unavailable(b.status().message());
    bias = *b;
  }
  Status valid = proc::CheckPauseRings(pid, plan.layout, *bias);
  if (valid.code() == StatusCode::kDataLoss) {
    return Status::DataLoss("its memory does not hold what the layout (" + plan.layout.how() +
                            ") locates: " + valid.message());
  }
  return valid;
}

void EbpfSource::DropInvalid(pid_t pid, const Status& why) {
  auto it = traced_.find(pid);
  if (it == traced_.end()) return;
  ++stats_.invalid;
  notice_("pid " + std::to_string(pid) + " (" + it->second.binary->go_version() +
          "): dropped, nothing from it is reported: " + why.message());
  InputProblem problem;
  problem.problem = "dropped: " + why.message();
  emit_(Event{clock_.NowNs(), it->second.key, EventSource::kEbpf, problem});
  EndProcess(pid, std::nullopt, clock_.NowNs());
}

void EbpfSource::CheckLiveness() {
  std::vector<pid_t> gone, reused;
  for (const auto& [pid, t] : traced_) {
    uint64_t start = proc::ReadStartTime(pid);
    if (start == 0) {
      gone.push_back(pid);
    } else if (start != t.start_time) {
      reused.push_back(pid);
    }
  }
  // An exit record was lost (counted as a drop) or is still in flight:
  // deliver what is in the ring first.
  probe_->Poll(0);
  const int64_t now = clock_.NowNs();
  for (pid_t pid : gone) EndProcess(pid, ProcessExited{}, now);
  for (pid_t pid : reused) {
    EndProcess(pid, ProcessExited{}, now);
    Consider(pid, false);
  }
  stats_.stray_entries += probe_->SweepStrayPids();
  for (const gcp_inode_key& k : probe_->ReleaseIdle()) watched_.erase({k.dev, k.ino});
}

void EbpfSource::PruneCaches() {
  std::set<const golang::GoBinary*> used;
  for (const auto& [pid, t] : traced_) used.insert(t.binary.get());
  for (const auto& [key, w] : watched_) used.insert(w.binary.get());
  for (auto it = plans_.begin(); it != plans_.end();) {
    it = used.count(it->first) ? std::next(it) : plans_.erase(it);
  }
  plan_errors_.clear();
  binaries_.Prune();
}

Status EbpfSource::Poll(int timeout_ms) {
  StatusOr<int> n = probe_->Poll(timeout_ms);
  if (!n.ok()) return n.status();
  const int64_t now = clock_.NowNs();
  if (now - last_liveness_ns_ >= kLivenessIntervalNs) {
    last_liveness_ns_ = now;
    CheckLiveness();
  }
  if (now - last_rescan_ns_ >= kRescanIntervalNs) {
    last_rescan_ns_ = now;
    for (auto it = refused_.begin(); it != refused_.end();) {
      it = proc::ReadStartTime(it->first) != it->second ? refused_.erase(it) : std::next(it);
    }
    PruneCaches();
    if (discover_) {
      // Exec records can be lost when the ring is full: a slow rescan
      // catches what they missed.
      const pid_t self = getpid();
      for (pid_t pid : proc::ListPids()) {
        if (pid != self) Consider(pid, false);
      }
    }
  }
  return Status::Ok();
}

void EbpfSource::Stop() {
  probe_->Poll(0);
  std::vector<pid_t> pids;
  for (const auto& [pid, t] : traced_) pids.push_back(pid);
  for (pid_t pid : pids) EndProcess(pid, std::nullopt, 0);
}

std::optional<proc::RuntimeGauges> EbpfSource::Gauges(pid_t pid) const {
  auto it = traced_.find(pid);
  if (it == traced_.end() || it->second.awaiting_exec) return std::nullopt;
  return proc::ReadRuntimeGauges(pid, *it->second.binary, /*want_heap_live=*/true);
}

StatusOr<proc::GoroutineWalk> EbpfSource::WalkGoroutines(
    pid_t pid, const proc::GoroutineWalkLimits& limits) const {
  auto it = traced_.find(pid);
  if (it == traced_.end() || it->second.awaiting_exec) {
    return Status::NotFound("pid " + std::to_string(pid) + " is not traced");
  }
  return proc::WalkGoroutines(pid, *it->second.binary, limits);
}

EbpfSourceStats EbpfSource::stats() const {
  EbpfSourceStats s = stats_;
  s.drops = probe_->total_drops();
  s.exec_notice_drops = probe_->exec_notice_drops();
  return s;
}

}  // namespace gcpilot::ebpf
