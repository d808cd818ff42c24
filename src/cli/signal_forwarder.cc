// signalfd-based signal capture for `gcpilot run` (see the header).
#include "cli/signal_forwarder.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace gcpilot::cli {

StatusOr<SignalForwarder> SignalForwarder::Create() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD}) {
    sigaddset(&mask, sig);
  }
  SignalForwarder f;
  if (sigprocmask(SIG_BLOCK, &mask, &f.old_mask_) != 0) {
    return Status::FromErrno(errno, "sigprocmask");
  }
  f.restore_ = true;
  int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "signalfd");
  f.fd_.Reset(fd);
  return f;
}

SignalForwarder::SignalForwarder(SignalForwarder&& other) noexcept
    : fd_(std::move(other.fd_)), old_mask_(other.old_mask_), restore_(other.restore_) {
  other.restore_ = false;
}

SignalForwarder::~SignalForwarder() {
  fd_.Reset();
  if (restore_) sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::optional<SignalForwarder::Received> SignalForwarder::Read() {
  signalfd_siginfo info{};
  ssize_t n = read(fd_.get(), &info, sizeof(info));
  if (n != sizeof(info)) return std::nullopt;
  Received r;
  r.signal = static_cast<int>(info.ssi_signo);
  r.from_terminal = info.ssi_code == SI_KERNEL;
  return r;
}

void SignalForwarder::ForwardPending(const std::function<void(int)>& send) {
  while (std::optional<Received> sig = Read()) {
    if (sig->signal == SIGCHLD || sig->from_terminal) continue;
    send(sig->signal);
  }
}

}  // namespace gcpilot::cli
