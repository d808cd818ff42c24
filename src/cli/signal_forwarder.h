// SignalForwarder: while `gcpilot run` waits on its child, catches the
// signals a supervisor or user sends gcpilot and passes them to the child.
//
// Signals are blocked and read from a signalfd, so they arrive in the poll
// loop, never in an async handler. A signal the terminal sent to the whole
// foreground process group (Ctrl-C: si_code SI_KERNEL) already reached the
// child, so it is not sent twice. SIGCHLD is reported, not forwarded.
// The destructor restores the previous signal mask (RAII).
// Thread-safety: construct on the main thread before starting other threads.
#pragma once

#include <signal.h>

#include <functional>
#include <optional>

#include "core/status.h"
#include "core/unique_fd.h"

namespace gcpilot::cli {

class SignalForwarder {
 public:
  static StatusOr<SignalForwarder> Create();
  SignalForwarder(SignalForwarder&& other) noexcept;
  SignalForwarder& operator=(SignalForwarder&&) = delete;
  ~SignalForwarder();

  int fd() const { return fd_.get(); }

  struct Received {
    int signal = 0;
    bool from_terminal = false;  // Sent by the kernel to the process group.
  };
  // Reads one pending signal, if any (the fd is non-blocking).
  std::optional<Received> Read();
  // Reads every pending signal and sends it on with `send`, except SIGCHLD
  // and signals the terminal sent (they reached the child's process group
  // directly).
  void ForwardPending(const std::function<void(int)>& send);

 private:
  SignalForwarder() = default;
  UniqueFd fd_;
  sigset_t old_mask_{};
  bool restore_ = false;
};

}  // namespace gcpilot::cli
