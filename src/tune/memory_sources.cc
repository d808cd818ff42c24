// Cgroup and node memory readers (see memory_sources.h).
#include "tune/memory_sources.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace gcpilot::tune {
namespace {

// v1 reports "no limit" as INT64_MAX rounded down to a page.
constexpr int64_t kV1Unlimited = int64_t{1} << 62;

std::optional<std::string> Slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<int64_t> ReadInt(const std::string& path) {
  std::optional<std::string> t = Slurp(path);
  if (!t) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t->c_str(), &end, 10);
  if (end == t->c_str() || errno != 0) return std::nullopt;
  return static_cast<int64_t>(v);
}

// "key value" lines (memory.events, memory.oom_control).
std::optional<uint64_t> KeyedValue(const std::string& path, std::string_view key) {
  std::optional<std::string> t = Slurp(path);
  if (!t) return std::nullopt;
  std::istringstream in(*t);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

// "/a/b/c" -> {"/a/b/c", "/a/b", "/a", "/"}.
std::vector<std::string> SelfAndAncestors(std::string path) {
  std::vector<std::string> out;
  while (!path.empty() && path.back() == '/' && path.size() > 1) path.pop_back();
  if (path.empty()) path = "/";
  for (;;) {
    out.push_back(path);
    if (path == "/") break;
    size_t slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return out;
}

std::string Join(const std::string& root, const std::string& path) {
  return path == "/" ? root : root + path;
}

}  // namespace

std::optional<double> ParsePsiSomeAvg10(std::string_view text) {
  size_t at = text.find("some ");
  if (at == std::string_view::npos) return std::nullopt;
  size_t a = text.find("avg10=", at);
  if (a == std::string_view::npos) return std::nullopt;
  std::string num(text.substr(a + 6, 16));
  char* end = nullptr;
  double v = std::strtod(num.c_str(), &end);
  if (end == num.c_str()) return std::nullopt;
  return v;
}

CgroupPaths ParseProcCgroup(std::string_view text) {
  CgroupPaths p;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string::npos ? std::string::npos : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::string id = line.substr(0, c1);
    std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path = line.substr(c2 + 1);
    if (id == "0" && controllers.empty()) {
      p.v2 = path;
      p.has_v2 = true;
      continue;
    }
    std::istringstream cs(controllers);
    for (std::string c; std::getline(cs, c, ',');) {
      if (c == "memory") {
        p.v1_memory = path;
        p.has_v1_memory = true;
      }
    }
  }
  return p;
}

StatusOr<CgroupMemory> ReadCgroupMemory(pid_t pid, const SystemRoots& roots) {
  const std::string file = roots.proc + "/" + std::to_string(pid) + "/cgroup";
  std::optional<std::string> text = Slurp(file);
  if (!text)
    return Status::NotFound("process " + std::to_string(pid) + " is gone (no " + file + ")");
  CgroupPaths paths = ParseProcCgroup(*text);
  CgroupMemory m;
  if (paths.has_v1_memory) {
    // cgroup v1 (or hybrid with memory on v1).
    const std::string base = roots.cgroup + "/memory";
    m.version = 1;
    m.path = paths.v1_memory;
    const std::string dir = Join(base, m.path);
    std::optional<int64_t> own = ReadInt(dir + "/memory.limit_in_bytes");
    if (!own) {
      return Status::Unavailable("cannot read " + dir +
                                 "/memory.limit_in_bytes (cgroup v1 memory controller not "
                                 "mounted at " +
                                 base + "?)");
    }
    for (const std::string& p : SelfAndAncestors(m.path)) {
      std::optional<int64_t> v = ReadInt(Join(base, p) + "/memory.limit_in_bytes");
      if (v && *v > 0 && *v < kV1Unlimited && (!m.limit_bytes || *v < *m.limit_bytes)) {
        m.limit_bytes = *v;
        m.limit_file = Join(base, p) + "/memory.limit_in_bytes";
      }
    }
    m.usage_bytes = ReadInt(dir + "/memory.usage_in_bytes");
    m.peak_bytes = ReadInt(dir + "/memory.max_usage_in_bytes");
    m.oom_kills = KeyedValue(dir + "/memory.oom_control", "oom_kill");
    return m;
  }
  if (!paths.has_v2) {
    return Status::Unavailable("process " + std::to_string(pid) + " is in no memory cgroup (" +
                               file + " names neither a v2 nor a v1 memory cgroup)");
  }
  m.version = 2;
  m.path = paths.v2;
  const std::string dir = Join(roots.cgroup, m.path);
  std::optional<std::string> own = Slurp(dir + "/memory.max");
  if (!own && m.path != "/") {
    return Status::Unavailable("cannot read " + dir +
                               "/memory.max (memory controller not enabled for this cgroup?)");
  }
  for (const std::string& p : SelfAndAncestors(m.path)) {
    std::optional<std::string> v = Slurp(Join(roots.cgroup, p) + "/memory.max");
    if (!v || v->rfind("max", 0) == 0) continue;
    char* end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (end != v->c_str() && n > 0 && (!m.limit_bytes || n < *m.limit_bytes)) {
      m.limit_bytes = n;
      m.limit_file = Join(roots.cgroup, p) + "/memory.max";
    }
  }
  m.usage_bytes = ReadInt(dir + "/memory.current");
  m.peak_bytes = ReadInt(dir + "/memory.peak");
  m.oom_kills = KeyedValue(dir + "/memory.events", "oom_kill");
  if (std::optional<std::string> psi = Slurp(dir + "/memory.pressure")) {
    m.psi_some_avg10 = ParsePsiSomeAvg10(*psi);
  }
  return m;
}

void FillMemoryInputs(pid_t pid, TuneInput* in, const SystemRoots& roots) {
  StatusOr<CgroupMemory> cg = ReadCgroupMemory(pid, roots);
  if (cg.ok()) {
    in->cgroup = std::move(*cg);
  } else {
    in->cgroup.reset();
    in->cgroup_error = cg.status().message();
  }
  StatusOr<NodeMemory> node = ReadNodeMemory(roots);
  if (node.ok()) {
    in->node = *node;
  } else {
    in->node.reset();
    in->node_error = node.status().message();
  }
}

StatusOr<NodeMemory> ReadNodeMemory(const SystemRoots& roots) {
  std::optional<std::string> info = Slurp(roots.proc + "/meminfo");
  if (!info) return Status::Unavailable("cannot read " + roots.proc + "/meminfo");
  NodeMemory n;
  std::istringstream in(*info);
  std::string key;
  int64_t kb = 0;
  bool total = false, avail = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    if (!(ls >> key >> kb)) continue;
    if (key == "MemTotal:") n.total_bytes = kb * 1024, total = true;
    if (key == "MemAvailable:") n.available_bytes = kb * 1024, avail = true;
  }
  if (!total || !avail) {
    return Status::Unavailable(roots.proc + "/meminfo has no MemTotal/MemAvailable");
  }
  if (std::optional<std::string> psi = Slurp(roots.proc + "/pressure/memory")) {
    n.psi_some_avg10 = ParsePsiSomeAvg10(*psi);
  }
  return n;
}

}  // namespace gcpilot::tune
