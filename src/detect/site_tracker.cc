// Bounded creation-site tracking sessions (see site_tracker.h).
#include "detect/site_tracker.h"

#include <set>

namespace gcpilot::detect {

SiteSample SampleFromWalk(const proc::GoroutineWalk& w) {
  SiteSample s;
  s.live = w.live;
  s.cpu_ns = w.cpu_ns;
  s.wall_ns = w.wall_ns;
  s.bytes_read = w.bytes_read;
  s.walked = w.walked;
  s.unreadable = w.unreadable;
  s.truncated = w.truncated;
  for (const proc::GoroutineSite& g : w.sites) {
    SiteCount c;
    c.function = g.function;
    c.file = g.file;
    c.line = g.line;
    c.goroutine_function = g.goroutine_function;
    c.live = g.live;
    s.sites.push_back(std::move(c));
  }
  return s;
}

size_t SiteTracker::active() const {
  size_t n = 0;
  for (const auto& [k, s] : sessions_) n += s.ended_ns == 0 ? 1 : 0;
  return n;
}

void SiteTracker::Tick(int64_t now_ns) {
  const std::vector<ProcessKey> wanted = engine_->WantCreationSites();
  const std::set<ProcessKey> want(wanted.begin(), wanted.end());
  // Forget ended sessions after their cool-down (and processes gone).
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Session& s = it->second;
    if (s.ended_ns != 0 && now_ns - s.ended_ns >= config_.sites_cooldown_ns) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  for (const ProcessKey& p : wanted) {
    if (sessions_.count(p) || active() >= kMaxConcurrent) continue;
    sessions_[p] = Session{now_ns, 0, 0};
  }
  for (auto& [p, s] : sessions_) {
    if (s.ended_ns != 0) continue;
    if (now_ns - s.started_ns >= config_.sites_duration_ns) {
      s.ended_ns = now_ns;
      engine_->OnCreationSitesEnded(p, now_ns);
      continue;
    }
    if (s.last_walk_ns != 0 && now_ns - s.last_walk_ns < config_.sites_interval_ns) continue;
    s.last_walk_ns = now_ns;
    StatusOr<SiteSample> sample = walk_(p, config_.sites_max_goroutines);
    if (!sample.ok()) {
      engine_->OnCreationSiteError(p, s.started_ns, config_.sites_duration_ns, now_ns,
                                   sample.status().message());
      if (sample.status().code() == StatusCode::kNotFound && !want.count(p)) {
        // The process is gone (or no longer traced): end the session.
        s.ended_ns = now_ns;
        engine_->OnCreationSitesEnded(p, now_ns);
      }
      continue;
    }
    sample->t_ns = now_ns;
    engine_->OnCreationSites(p, s.started_ns, config_.sites_duration_ns, std::move(*sample));
  }
}

}  // namespace gcpilot::detect
