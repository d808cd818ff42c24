// Factories of the individual detectors and the formatting helpers their
// findings share; only detectors.cc and the detector files include it.
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <string>

#include "detect/detector.h"

namespace gcpilot::detect::internal {

std::unique_ptr<Detector> MakeAllocStorm(const DetectorConfig& c);
std::unique_ptr<Detector> MakeMarkAssist(const DetectorConfig& c);
std::unique_ptr<Detector> MakeLongMark(const DetectorConfig& c);
std::unique_ptr<Detector> MakePauseSpike(const DetectorConfig& c);
std::unique_ptr<Detector> MakeObserverStops(const DetectorConfig& c);
std::unique_ptr<Detector> MakeMemlimitThrash(const DetectorConfig& c);
std::unique_ptr<Detector> MakeGoroutineLeak(const DetectorConfig& c);
std::unique_ptr<Detector> MakeHeapSurge(const DetectorConfig& c);
std::unique_ptr<Detector> MakeFragmentation(const DetectorConfig& c);
std::unique_ptr<Detector> MakeFinalizerBacklog(const DetectorConfig& c);

// printf into a std::string.
std::string Fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
// "52.4 MB/s"-style numbers (MB = 10^6 bytes, as the seed's 50 MB/s).
std::string MBps(double bytes_per_sec);
std::string MiB(double bytes);
std::string Millis(double ns);
std::string Percent(double share);

// evidence["window"] and evidence["cycles"] for window w.
nlohmann::json WindowEvidence(const WindowStats& w);
nlohmann::json CycleEvidence(const ProcessHistory& h, const WindowStats& w);

}  // namespace gcpilot::detect::internal
