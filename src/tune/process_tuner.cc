// ProcessTuner (see process_tuner.h).
#include "tune/process_tuner.h"

namespace gcpilot::tune {

StatusOr<Recommendation> ProcessTuner::Update(const TuneInput& in) {
  Status valid = ValidateInput(in);
  StatusOr<Recommendation> r =
      valid.ok() ? policy_->Recommend(in, &state_) : StatusOr<Recommendation>(valid);
  last_ = r;
  return r;
}

}  // namespace gcpilot::tune
