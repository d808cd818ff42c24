// Helpers shared by the eBPF end-to-end tests (see ebpf_test_util.h).
#include "tests/e2e/ebpf_test_util.h"

#include <cstdlib>
#include <regex>
#include <sstream>

#include "tests/e2e/e2e_util.h"

namespace gcpilot::e2e {

using nlohmann::json;

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string GoVersionName(const testing::TestParamInfo<std::string>& info) {
  std::string n = "go" + info.param;
  for (char& c : n) {
    if (c == '.') c = '_';
  }
  return n;
}

std::string UnderEbpfLock(const std::string& script) {
  return std::string("flock ") + kEbpfLock + " sh -c " + Quote(script);
}

CommandResult RunBashUnderEbpfLock(const std::string& dir, const std::string& script,
                                   const std::string& env) {
  WriteFile(dir + "/run.sh",
            "free_port() { python3 -c 'import socket; s=socket.socket(); "
            "s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'; }\n" +
                script);
  return Sh(UnderEbpfLock("D=" + Quote(dir) + " " + env + " bash " + Quote(dir + "/run.sh")));
}

std::string WaitForSeenSh(const std::string& file, const std::string& pid, double timeout_s,
                          const std::string& result_file) {
  // JSON objects are printed compactly: "pid":123 followed by ',' or '}'.
  int tries = static_cast<int>(timeout_s * 10);
  return "n=0; r=timeout; while [ $n -lt " + std::to_string(tries) +
         " ]; do if grep '\"type\":\"process_seen\"' " + file + " 2>/dev/null | grep -q " +
         "\"\\\"pid\\\":" + pid + "[,}]\"; then r=seen; break; fi; n=$((n+1)); sleep 0.1; done; " +
         "echo $r >>" + result_file + "; ";
}

std::string SnapshotBpfIdsSh(const std::string& pid, const std::string& file) {
  return "cat /proc/" + pid + "/fdinfo/* 2>/dev/null | grep -E '^(prog_id|link_id):' | sort -u >" +
         file + "; ";
}

std::vector<json> WatchOutput::OfType(const std::string& type, int64_t pid) const {
  std::vector<json> out;
  for (const json& j : lines) {
    if (!j.contains("type") || j["type"] != type) continue;
    if (pid >= 0 &&
        (!j.contains("pid") || !j["pid"].is_number_integer() || j["pid"].get<int64_t>() != pid)) {
      continue;
    }
    out.push_back(j);
  }
  return out;
}

std::set<int64_t> WatchOutput::Pids(const std::string& type) const {
  std::set<int64_t> out;
  for (const json& j : OfType(type)) {
    if (j.contains("pid") && j["pid"].is_number_integer()) out.insert(j["pid"].get<int64_t>());
  }
  return out;
}

WatchOutput ReadWatch(const std::string& out_path, const std::string& err_path) {
  WatchOutput w;
  std::istringstream in(ReadFile(out_path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      w.lines.push_back(std::move(j));
    } else {
      w.bad_lines.push_back(line);
    }
  }
  w.err = ReadFile(err_path);
  static const std::regex kSummary(
      R"((\d+) GC cycles?, (\d+) non-GC stops?, (\d+) events? dropped)");
  std::smatch m;
  // The last summary line wins.
  for (auto it = std::sregex_iterator(w.err.begin(), w.err.end(), kSummary);
       it != std::sregex_iterator(); ++it) {
    m = *it;
  }
  if (!m.empty()) {
    w.cycles = std::stoll(m[1]);
    w.stops = std::stoll(m[2]);
    w.dropped = std::stoll(m[3]);
  }
  return w;
}

std::vector<json> NonGcStops(const WatchOutput& w, int64_t pid) {
  std::vector<json> out;
  for (const json& j : w.OfType("stw_pause", pid)) {
    if (j.value("kind", "") == "other") out.push_back(j);
  }
  return out;
}

namespace {

std::set<uint64_t> IdsOf(const std::string& ids_file, const std::string& key) {
  std::set<uint64_t> out;
  std::istringstream in(ReadFile(ids_file));
  std::string line;
  while (std::getline(in, line)) {
    std::string prefix = key + ":";
    if (line.rfind(prefix, 0) == 0) out.insert(std::stoull(line.substr(prefix.size())));
  }
  return out;
}

std::set<uint64_t> LoadedIds(const std::string& bpftool_cmd) {
  std::set<uint64_t> out;
  CommandResult r = Sh(bpftool_cmd);
  json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const json& e : j) {
    if (e.contains("id") && e["id"].is_number_unsigned()) out.insert(e["id"].get<uint64_t>());
  }
  return out;
}

}  // namespace

size_t CountBpfIds(const std::string& ids_file) {
  return IdsOf(ids_file, "prog_id").size() + IdsOf(ids_file, "link_id").size();
}

namespace {

std::vector<std::string> LeftoverBpfNow(const std::string& ids_file, const std::string& needle) {
  std::vector<std::string> out;
  std::set<uint64_t> progs = LoadedIds("bpftool -j prog show");
  for (uint64_t id : IdsOf(ids_file, "prog_id")) {
    if (progs.count(id)) out.push_back("BPF program " + std::to_string(id) + " still loaded");
  }
  std::set<uint64_t> links = LoadedIds("bpftool -j link list");
  for (uint64_t id : IdsOf(ids_file, "link_id")) {
    if (links.count(id)) out.push_back("BPF link " + std::to_string(id) + " still present");
  }
  for (const char* tracefs : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    std::string events = ReadFile(std::string(tracefs) + "/uprobe_events");
    std::istringstream in(events);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("gcpilot") != std::string::npos ||
          (!needle.empty() && line.find(needle) != std::string::npos)) {
        out.push_back(std::string(tracefs) + "/uprobe_events: " + line);
      }
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> LeftoverBpf(const std::string& ids_file, const std::string& needle) {
  // The kernel frees a program or link of a closed fd after an RCU grace
  // period (tracing links after an RCU-tasks one, which can take a while):
  // look again for up to 10 s before calling anything a leftover.
  std::vector<std::string> out;
  for (int i = 0; i < 50; ++i) {
    out = LeftoverBpfNow(ids_file, needle);
    if (out.empty()) break;
    Sh("sleep 0.2");
  }
  return out;
}

WatchedRun RunWatched(const std::string& name, const std::string& target,
                      const std::string& watch_args) {
  WatchedRun run;
  run.dir = TempDir(name);
  const std::string& d = run.dir;
  std::string script =
      "D=" + Quote(d) + "; rm -f $D/go; " + target + " >$D/t.out 2>$D/t.err & p=$!; " +
      GcpilotBin() + " watch " + watch_args +
      " --json --duration 300 >$D/w.jsonl 2>$D/w.err & w=$!; " +
      WaitForSeenSh("$D/w.jsonl", "$p", 15, "$D/seen") +
      // Let the watcher finish attaching after it announced the process.
      "sleep 0.5; " + SnapshotBpfIdsSh("$w", "$D/ids.txt") +
      "touch $D/go; wait $p; prc=$?; "
      // Let the last events drain before stopping the watcher.
      "sleep 0.5; kill -INT $w 2>/dev/null; wait $w; wrc=$?; echo $prc $wrc >$D/rc";
  CommandResult r = Sh(UnderEbpfLock(script));
  std::istringstream rc(ReadFile(d + "/rc"));
  rc >> run.target_exit >> run.watch_exit;
  run.seen = ReadFile(d + "/seen").find("seen") != std::string::npos;
  run.watch = ReadWatch(d + "/w.jsonl", d + "/w.err");
  if (r.exit_code != 0) {
    ADD_FAILURE() << "watch script failed (" << r.exit_code << "): " << r.err;
  }
  return run;
}

}  // namespace gcpilot::e2e
