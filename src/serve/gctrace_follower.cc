// Following a gctrace log file (see gctrace_follower.h).
#include "serve/gctrace_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace gcpilot::serve {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxReadPerPoll = 8 << 20;  // Catch up gradually after a burst.

std::string FileName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

gctrace::GctraceSource::Options SourceOptions(const GctraceTarget& t) {
  gctrace::GctraceSource::Options o;
  o.pid = t.pid;
  o.info.comm = t.name.empty() ? FileName(t.path) : t.name;
  o.info.exe = o.info.comm;
  return o;
}

void Shift(Event& e, int64_t by) {
  e.ts_ns += by;
  if (auto* c = std::get_if<GcCycleObserved>(&e.payload)) c->cycle.start_ns += by;
  if (auto* s = std::get_if<StwObserved>(&e.payload)) s->pause.start_ns += by;
}

}  // namespace

GctraceFollower::GctraceFollower(GctraceTarget target, Emit emit, Notice notice)
    : target_(std::move(target)),
      emit_(std::move(emit)),
      notice_(std::move(notice)),
      source_(SourceOptions(target_), [this](const Event& e) { OnEvent(e); }),
      splitter_([this](std::string_view piece, LineSplitter::Piece kind, bool) {
        if (kind == LineSplitter::Piece::kLine) {
          source_.OnLine(piece);
        } else if (kind == LineSplitter::Piece::kLongEnd) {
          source_.OnOverlongLine(long_bytes_ + piece.size());
          long_bytes_ = 0;
        } else {
          long_bytes_ += piece.size();
        }
      }) {
  if (target_.name.empty()) target_.name = FileName(target_.path);
  Open(/*at_end=*/true);
}

void GctraceFollower::Open(bool at_end) {
  int fd = ::open(target_.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (!missing_noted_) {
      notice_("gctrace log " + target_.path + ": " + std::strerror(errno) +
              " (waiting for it to appear)");
      missing_noted_ = true;
    }
    return;
  }
  missing_noted_ = false;
  fd_ = UniqueFd(fd);
  struct stat st {};
  fstat(fd, &st);
  inode_ = st.st_ino;
  offset_ = at_end ? st.st_size : 0;
  tail_.clear();
  if (at_end && offset_ > 0) {
    char buf[kTailBytes];
    off_t from = std::max<off_t>(0, offset_ - static_cast<off_t>(kTailBytes));
    ssize_t n = ::pread(fd, buf, static_cast<size_t>(offset_ - from), from);
    if (n > 0) RememberTail(std::string_view(buf, static_cast<size_t>(n)));
  }
}

void GctraceFollower::RememberTail(std::string_view data) {
  tail_ += data.size() >= kTailBytes ? data.substr(data.size() - kTailBytes) : data;
  if (tail_.size() > kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
}

bool GctraceFollower::TailStillThere() const {
  // A file truncated and written again up to (or past) our offset before we
  // looked has other bytes where the last ones we read were.
  if (tail_.empty() || offset_ < static_cast<off_t>(tail_.size())) return true;
  char buf[kTailBytes];
  ssize_t n = ::pread(fd_.get(), buf, tail_.size(), offset_ - static_cast<off_t>(tail_.size()));
  return n == static_cast<ssize_t>(tail_.size()) && std::string_view(buf, tail_.size()) == tail_;
}

void GctraceFollower::Poll(int64_t now_ns) {
  now_ns_ = now_ns;
  if (fd_.get() < 0) {
    Open(/*at_end=*/false);  // It appeared after start: read it from the top.
    if (fd_.get() < 0) return;
  }
  struct stat by_path {};
  struct stat by_fd {};
  fstat(fd_.get(), &by_fd);
  if (by_fd.st_size < offset_ || !TailStillThere()) {
    offset_ = 0;  // Truncated (copytruncate rotation): read from the top.
    tail_.clear();
    ++rotations_;
  }
  size_t total = 0;
  char buf[kReadChunk];
  while (total < kMaxReadPerPoll) {
    ssize_t n = ::pread(fd_.get(), buf, sizeof(buf), offset_);
    if (n <= 0) break;
    offset_ += n;
    total += static_cast<size_t>(n);
    RememberTail(std::string_view(buf, static_cast<size_t>(n)));
    splitter_.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  // Rotated away (a new file at the path): finish this one, then switch.
  if (total < kMaxReadPerPoll && stat(target_.path.c_str(), &by_path) == 0 &&
      by_path.st_ino != inode_) {
    ++rotations_;
    Open(/*at_end=*/false);
  }
}

void GctraceFollower::OnEvent(Event e) {
  if (last_key_ && !(e.process == *last_key_) && std::holds_alternative<ProcessSeen>(e.payload)) {
    // The service restarted (its cycle counter began again): its previous
    // run ended, and the new run's times count from its own start.
    Event exit;
    exit.ts_ns = last_ts_ns_;
    exit.process = *last_key_;
    exit.source = EventSource::kGctrace;
    exit.payload = ProcessExited{};
    emit_(exit);
    shift_ns_.reset();
    last_key_.reset();
  }
  if (!shift_ns_) {
    held_.push_back(std::move(e));
    const Event& last = held_.back();
    if (const auto* c = std::get_if<GcCycleObserved>(&last.payload)) {
      // The runtime prints a cycle's line when the cycle ends.
      shift_ns_ = now_ns_ - c->cycle.end_ns();
      std::vector<Event> held;
      held.swap(held_);
      for (Event& h : held) Release(std::move(h));
    } else if (held_.size() > 4096) {
      // Only pacer lines and no cycle yet: keep the announcement and the
      // latest lines.
      held_.erase(held_.begin() + 1);
    }
    return;
  }
  Release(std::move(e));
}

void GctraceFollower::Release(Event e) {
  Shift(e, *shift_ns_);
  last_key_ = e.process;
  last_ts_ns_ = std::max(last_ts_ns_, e.ts_ns);
  emit_(e);
}

}  // namespace gcpilot::serve
