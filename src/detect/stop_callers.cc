// The caller-stack investigation of observer-induced stops: see
// stop_callers.h.
#include "detect/stop_callers.h"

#include <algorithm>
#include <utility>

#include "detect/detector_engine.h"

namespace gcpilot::detect {

using nlohmann::json;

namespace {

bool RuntimeFrame(std::string_view f) {
  return f.starts_with("runtime.") || f.starts_with("internal/");
}

}  // namespace

std::string UserCaller(const std::vector<std::string>& frames) {
  for (const std::string& f : frames) {
    if (!RuntimeFrame(f)) return f;
  }
  return frames.empty() ? std::string() : frames.front();
}

void StopCallerProfile::Add(const StopStack& s) {
  ++samples_;
  cost_total_ns_ += s.capture_ns;
  cost_max_ns_ = std::max(cost_max_ns_, s.capture_ns);
  std::vector<std::string> frames(
      s.frames.begin(),
      s.frames.begin() + static_cast<std::ptrdiff_t>(std::min(s.frames.size(), kMaxFrames)));
  std::string key(StwReasonName(s.reason));
  for (const std::string& f : frames) key += "\n" + f;
  auto it = stacks_.find(key);
  if (it == stacks_.end()) {
    if (stacks_.size() >= kMaxStacks) {
      ++not_kept_;
      return;
    }
    it = stacks_.emplace(std::move(key), Entry{s.reason, std::move(frames), 0}).first;
  }
  ++it->second.count;
}

json StopCallerProfile::Summary(size_t top_n) const {
  std::vector<const Entry*> order;
  order.reserve(stacks_.size());
  for (const auto& [key, e] : stacks_) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(),
                   [](const Entry* a, const Entry* b) { return a->count > b->count; });
  json top = json::array();
  for (size_t i = 0; i < order.size() && i < top_n; ++i) {
    const Entry& e = *order[i];
    top.push_back(json{{"caller", UserCaller(e.frames)},
                       {"reason", std::string(StwReasonName(e.reason))},
                       {"count", e.count},
                       {"share", samples_ ? static_cast<double>(e.count) / samples_ : 0.0},
                       {"stack", e.frames}});
  }
  const double mean_us =
      samples_ ? static_cast<double>(cost_total_ns_) / static_cast<double>(samples_) / 1e3 : 0.0;
  return json{{"stacks", samples_},
              {"distinct", stacks_.size()},
              {"not_kept", not_kept_},
              {"cost",
               {{"mean_us", mean_us},
                {"max_us", cost_max_ns_ / 1e3},
                {"total_ms", static_cast<double>(cost_total_ns_) / 1e6}}},
              {"top", std::move(top)}};
}

void StopCallerCapture::OnSuspicion(const ProcessKey& p, std::string_view detector,
                                    int64_t now_ns) {
  if (detector != options_.detector) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = captures_.find(p);
  if (it != captures_.end()) {
    const Capture& c = it->second;
    if (c.state == State::kRequested || c.state == State::kOn) return;
    const int64_t since = c.started_ns != 0 ? c.started_ns : c.requested_ns;
    if (now_ns - since < options_.cooldown_ns) return;
    captures_.erase(it);
  } else if (captures_.size() >= kMaxProcesses) {
    return;
  }
  Capture c;
  c.requested_ns = now_ns;
  captures_.emplace(p, std::move(c));
}

void StopCallerCapture::Add(const ProcessKey& p, const StopStack& s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = captures_.find(p);
  if (it == captures_.end() || it->second.state != State::kOn) return;
  it->second.profile.Add(s);
  it->second.changed = true;
}

size_t StopCallerCapture::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count_if(captures_.begin(), captures_.end(), [](const auto& kv) {
    return kv.second.state == State::kOn;
  }));
}

std::string_view StopCallerCapture::StateName(State s) {
  switch (s) {
    case State::kRequested:
      return "starting";
    case State::kOn:
      return "capturing";
    case State::kDone:
      return "done";
    case State::kFailed:
      return "failed";
  }
  return "failed";
}

json StopCallerCapture::SummaryLocked(const Capture& c, int64_t now_ns) const {
  json j = c.profile.Summary();
  const int64_t end = c.state == State::kOn ? now_ns : c.ended_ns;
  j["state"] = std::string(StateName(c.state));
  j["captured_s"] = c.started_ns != 0 ? static_cast<double>(end - c.started_ns) / 1e9 : 0.0;
  j["time_box_s"] = static_cast<double>(options_.duration_ns) / 1e9;
  j["probe"] =
      "frame-pointer walk of the calling goroutine's stack in the probe at the entry of "
      "runtime.stopTheWorld, before the world stops: it delays the caller by the cost "
      "below, not the stop";
  if (!c.error.empty()) j["error"] = c.error;
  return j;
}

void StopCallerCapture::Service(int64_t now_ns, const Switch& sw, DetectorEngine* engine) {
  if (engine != nullptr) {
    for (const ProcessKey& p :
         engine->Suspected([this](const Detector& d) { return d.name() == options_.detector; })) {
      OnSuspicion(p, options_.detector, now_ns);
    }
  }
  struct Action {
    ProcessKey key;
    bool on;
  };
  std::vector<Action> actions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, c] : captures_) {
      if (c.state == State::kRequested) actions.push_back({key, true});
      if (c.state == State::kOn && now_ns - c.started_ns >= options_.duration_ns) {
        actions.push_back({key, false});
      }
    }
  }
  // Switching reads /proc and updates a BPF map: outside the lock.
  std::vector<std::pair<ProcessKey, Status>> results;
  for (const Action& a : actions) results.emplace_back(a.key, sw(a.key.pid, a.on));
  std::vector<std::pair<ProcessKey, json>> summaries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < actions.size(); ++i) {
      auto it = captures_.find(actions[i].key);
      if (it == captures_.end()) continue;
      Capture& c = it->second;
      const Status& s = results[i].second;
      if (actions[i].on) {
        if (s.ok()) {
          c.state = State::kOn;
          c.started_ns = now_ns;
        } else {
          c.state = State::kFailed;
          c.ended_ns = now_ns;
          c.error = s.message();
        }
      } else {
        // Switching off fails only when the process is gone, and its
        // probe entry with it: the capture is over either way.
        c.state = State::kDone;
        c.ended_ns = now_ns;
      }
      c.changed = true;
    }
    for (auto it = captures_.begin(); it != captures_.end();) {
      Capture& c = it->second;
      if (c.changed) {
        summaries.emplace_back(it->first, SummaryLocked(c, now_ns));
        c.changed = false;
      }
      const bool over = c.state == State::kDone || c.state == State::kFailed;
      const int64_t since = c.started_ns != 0 ? c.started_ns : c.requested_ns;
      if (over && now_ns - since >= options_.cooldown_ns) {
        it = captures_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (engine == nullptr) return;
  for (auto& [key, summary] : summaries) engine->OnStopCallers(key, std::move(summary));
}

}  // namespace gcpilot::detect
