// ChildProcess: starts the program `gcpilot run` wraps, with extra
// environment, its stderr on a pipe we read, stdin/stdout inherited.
//
// Spawn() reports exec failures (missing binary, not executable) as a Status
// instead of a child that silently exits: a close-on-exec pipe carries the
// child's errno back. The child starts with every signal unblocked and the
// default dispositions, whatever gcpilot itself blocks.
// Thread-safety: not thread-safe.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/unique_fd.h"

namespace gcpilot::cli {

struct ExitInfo {
  int exit_code = 0;  // Valid when signal == 0.
  int signal = 0;     // Signal that killed the child, or 0.
  bool core_dumped = false;
  // What a shell would report: exit_code, or 128 + signal.
  int ShellCode() const { return signal != 0 ? 128 + signal : exit_code; }
};

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH.
    // Variables to set (replacing existing ones of the same name).
    std::vector<std::pair<std::string, std::string>> set_env;
    bool capture_stderr = true;
    // Called in the parent after fork, while the child waits to exec; the
    // child execs when it returns (e.g. to put probes on the program first).
    std::function<void(pid_t)> before_exec;
  };

  // Starts the child. Errors: NotFound (no such program), PermissionDenied
  // (not executable), Internal (fork/pipe failures).
  static StatusOr<ChildProcess> Spawn(const Options& options);

  ChildProcess(ChildProcess&&) = default;
  ChildProcess& operator=(ChildProcess&&) = default;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Read end of the child's stderr (non-blocking), if captured.
  int stderr_fd() const { return stderr_.get(); }
  void CloseStderr() { stderr_.Reset(); }

  // Non-blocking reap: the exit info once the child has exited.
  std::optional<ExitInfo> TryWait();
  // Blocking reap.
  ExitInfo Wait();
  // Sends a signal to the child (no-op after it was reaped).
  void Signal(int sig) const;

 private:
  ChildProcess() = default;

  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd stderr_;
};

// Where execvp would find `program`: itself when it holds a '/', else the
// first executable match in $PATH. NotFound otherwise.
StatusOr<std::string> ResolveProgram(const std::string& program);

// The child's GODEBUG value: `existing` with gctrace=1 and gcpacertrace=1
// added, keeping its other settings (an explicit gctrace=N in `existing` is
// replaced, since gcpilot needs the trace).
std::string GodebugWithTrace(const std::string& existing);

}  // namespace gcpilot::cli
