// Helpers for end-to-end tests (see e2e_util.h).
#include "tests/e2e/e2e_util.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gcpilot::e2e {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

std::string TempDir(const std::string& name) {
  std::string tmpl = "/tmp/gcpilot-e2e-" + name + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  return buf.data();
}

CommandResult Sh(const std::string& command) {
  static int counter = 0;
  std::string dir = TempDir("sh" + std::to_string(++counter));
  std::string full = "( " + command + " ) >" + dir + "/out 2>" + dir + "/err </dev/null";
  int status = std::system(full.c_str());
  CommandResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  r.out = ReadFile(dir + "/out");
  r.err = ReadFile(dir + "/err");
  std::system(("rm -rf " + Quote(dir)).c_str());
  return r;
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::vector<nlohmann::json> ReportJsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (nlohmann::json& j : JsonLines(text)) {
    if (j.contains("type") && (j["type"] == "finding" || j["type"] == "detectors")) continue;
    out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json ReadJson(const std::string& path) { return nlohmann::json::parse(ReadFile(path)); }

std::string GcpilotBin() { return GCPILOT_BIN; }

std::string TestProg(const std::string& go_version, const std::string& name, bool stripped) {
  return std::string(GCPILOT_TESTPROGS_DIR) + "/go" + go_version + "/" + name +
         (stripped ? "-stripped" : "");
}

std::vector<std::string> GoVersions() {
  std::vector<std::string> out;
  for (const char* v : {"1.19", "1.21", "1.22", "1.23"}) {
    struct stat st;
    if (stat(TestProg(v, "steady").c_str(), &st) == 0) out.push_back(v);
  }
  return out;
}

int64_t GctraceQuantumNs(int64_t printed_ns) {
  if (printed_ns < 100'000) return 1'000;
  if (printed_ns < 1'000'000) return 10'000;
  if (printed_ns < 10'000'000) return 100'000;
  return 1'000'000;
}

std::vector<std::string> AllGoMinors() {
  return {"1.19", "1.20", "1.21", "1.22", "1.23", "1.24", "1.25", "1.26", "1.27"};
}

std::string ReadServePortSh() {
  return "port=; for i in $(seq 150); do "
         "port=$(sed -n 's|.*listening on http://127.0.0.1:\\([0-9]*\\).*|\\1|p' $D/serve.err); "
         "[ -n \"$port\" ] && break; sleep 0.1; done; ";
}

std::string StartServeSh(const std::string& args) {
  return GcpilotBin() + " serve --listen 127.0.0.1:0 " + args + " 2>$D/serve.err & s=$!; " +
         ReadServePortSh();
}

}  // namespace gcpilot::e2e
