// ProcessTuner: one process's tuner: a policy plus what it remembers about
// the process (hysteresis state, the last recommendation). Validates every
// input before the policy sees it, so absurd values end as a clear error,
// never as a recommendation.
// Thread-safety: not thread-safe; one owner.
#pragma once

#include <memory>
#include <optional>

#include "core/status.h"
#include "tune/policy.h"

namespace gcpilot::tune {

class ProcessTuner {
 public:
  explicit ProcessTuner(std::shared_ptr<const TunerPolicy> policy) : policy_(std::move(policy)) {}

  // The recommendation for `in`; InvalidArgument for absurd inputs,
  // Unavailable when the policy lacks what it needs. The last result (value
  // or error) is kept for last().
  StatusOr<Recommendation> Update(const TuneInput& in);

  const TunerPolicy& policy() const { return *policy_; }
  const PolicyState& state() const { return state_; }
  // nullopt before the first Update.
  const std::optional<StatusOr<Recommendation>>& last() const { return last_; }

 private:
  std::shared_ptr<const TunerPolicy> policy_;
  PolicyState state_;
  std::optional<StatusOr<Recommendation>> last_;
};

}  // namespace gcpilot::tune
