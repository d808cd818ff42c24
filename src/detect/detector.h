// Detector: one named jitter pattern. The DetectorEngine calls Evaluate for
// every completed window of the detector's view (e.g. every "1s" window,
// emitted every 500 ms) with the process's bounded history; the detector
// answers with a Verdict. The engine owns the hysteresis: a finding is
// raised after raise_after() consecutive kFire verdicts and cleared after
// clear_after() consecutive kQuiet ones; kHold (the pattern has weakened
// but not below the clear threshold) keeps an active finding without
// counting toward raising, and kUnknown (the data is missing) changes
// nothing.
// Thread-safety: detectors are stateless; Evaluate is const.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "detect/detector_config.h"
#include "detect/finding.h"
#include "detect/process_history.h"

namespace gcpilot::detect {

struct Verdict {
  enum class Level : uint8_t { kUnknown = 0, kQuiet, kHold, kFire };
  Level level = Level::kUnknown;
  // For kFire and kHold: what the finding says now.
  Severity severity = Severity::kWarning;
  std::string title;
  std::string summary;
  nlohmann::json evidence = nlohmann::json::object();
  std::string fix;

  static Verdict Unknown() { return Verdict{}; }
  static Verdict Quiet() {
    Verdict v;
    v.level = Level::kQuiet;
    return v;
  }
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string_view name() const = 0;
  virtual DataNeed needs() const = 0;
  // The window view evaluated ("1s", "10s" or "1m").
  virtual std::string_view view() const = 0;
  virtual int raise_after() const { return 1; }
  virtual int clear_after() const = 0;
  // One line: the rule with its thresholds (docs, report).
  virtual std::string rule() const = 0;
  virtual Verdict Evaluate(const ProcessHistory& h, const WindowStats& w) const = 0;
  // True when a suspicion of this detector (a kHold or kFire verdict)
  // should switch on goroutine creation-site tracking for the process
  // (DetectorEngine::WantCreationSites).
  virtual bool wants_creation_sites() const { return false; }
};

// Every detector, with thresholds from `config`.
std::vector<std::unique_ptr<Detector>> MakeDetectors(const DetectorConfig& config);

}  // namespace gcpilot::detect
