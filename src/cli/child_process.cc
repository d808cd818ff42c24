// Spawning and reaping the wrapped program (see the header).
#include "cli/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

extern char** environ;

namespace gcpilot::cli {
namespace {

// Builds the child's environment: ours, with `set` applied.
std::vector<std::string> BuildEnv(const std::vector<std::pair<std::string, std::string>>& set) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    bool replaced = false;
    for (const auto& [k, v] : set) {
      if (kv.size() > k.size() && kv.substr(0, k.size()) == k && kv[k.size()] == '=') {
        replaced = true;
        break;
      }
    }
    if (!replaced) env.emplace_back(kv);
  }
  for (const auto& [k, v] : set) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

StatusOr<std::string> ResolveProgram(const std::string& program) {
  if (program.empty()) return Status::InvalidArgument("empty program name");
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), F_OK) != 0) return Status::FromErrno(errno, program);
    return program;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Status::NotFound(program + ": not found in $PATH");
}

std::string GodebugWithTrace(const std::string& existing) {
  std::string out;
  std::stringstream ss(existing);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty() || item.rfind("gctrace=", 0) == 0 || item.rfind("gcpacertrace=", 0) == 0) {
      continue;
    }
    out += item + ",";
  }
  return out + "gctrace=1,gcpacertrace=1";
}

StatusOr<ChildProcess> ChildProcess::Spawn(const Options& options) {
  if (options.argv.empty()) return Status::InvalidArgument("no program to run");
  int err_pipe[2] = {-1, -1};
  if (options.capture_stderr && pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Status::FromErrno(errno, "pipe");
  }
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  UniqueFd exec_read(exec_pipe[0]), exec_write(exec_pipe[1]);
  int gate_pipe[2] = {-1, -1};
  if (options.before_exec && pipe2(gate_pipe, O_CLOEXEC) != 0) {
    return Status::FromErrno(errno, "pipe");
  }
  UniqueFd gate_read(gate_pipe[0]), gate_write(gate_pipe[1]);

  // Everything the child needs is prepared before fork (no allocation after).
  std::vector<std::string> env = BuildEnv(options.set_env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return Status::FromErrno(errno, "fork");
  if (pid == 0) {
    // Child: default signal state, stderr to the pipe, then exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD}) {
      signal(sig, SIG_DFL);
    }
    if (err_write.valid()) dup2(err_write.get(), STDERR_FILENO);
    if (gate_read.valid()) {
      // Wait until the parent closes the gate (EOF).
      gate_write.Reset();
      char c;
      while (read(gate_read.get(), &c, 1) < 0 && errno == EINTR) {
      }
    }
    execvpe(argv[0], argv.data(), envp.data());
    int e = errno;
    ssize_t ignored = write(exec_write.get(), &e, sizeof(e));
    (void)ignored;
    _exit(127);
  }
  exec_write.Reset();
  err_write.Reset();
  gate_read.Reset();
  if (options.before_exec) {
    options.before_exec(pid);
    gate_write.Reset();  // Lets the child exec.
  }
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(exec_read.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(child_errno)) {
    waitpid(pid, nullptr, 0);
    Status s = Status::FromErrno(child_errno, "cannot run '" + options.argv[0] + "'");
    if (child_errno == EACCES || child_errno == ENOEXEC) {
      return Status::PermissionDenied(s.message());
    }
    return s;
  }
  ChildProcess child;
  child.pid_ = pid;
  if (err_read.valid()) {
    fcntl(err_read.get(), F_SETFL, fcntl(err_read.get(), F_GETFL) | O_NONBLOCK);
    child.stderr_ = std::move(err_read);
  }
  return child;
}

ChildProcess::~ChildProcess() {
  // A child we never reaped is left to run (gcpilot is exiting anyway); we
  // never kill what the user started.
}

namespace {
ExitInfo DecodeStatus(int status) {
  ExitInfo info;
  if (WIFEXITED(status)) {
    info.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    info.signal = WTERMSIG(status);
    info.core_dumped = WCOREDUMP(status);
  }
  return info;
}
}  // namespace

std::optional<ExitInfo> ChildProcess::TryWait() {
  if (reaped_ || pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  reaped_ = true;
  return DecodeStatus(status);
}

ExitInfo ChildProcess::Wait() {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  return DecodeStatus(status);
}

void ChildProcess::Signal(int sig) const {
  if (!reaped_ && pid_ > 0) kill(pid_, sig);
}

}  // namespace gcpilot::cli
