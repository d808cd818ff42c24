// Human formatting of the units reports use: durations (ns in, "0.31 ms"
// out), byte sizes and rates in MB (2^20 bytes, as gctrace prints them).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace gcpilot {

inline constexpr double kBytesPerMB = 1024.0 * 1024.0;

// "0.031 ms", "1.2 ms", "250 ms", "12.4 s".
std::string FormatDuration(double ns);
// Milliseconds with precision that suits the value, without unit: "0.031".
std::string FormatMs(double ns);
// "3.0 MB", "1536 MB".
std::string FormatMB(double bytes);
// "12.5%".
std::string FormatPercent(double share);

}  // namespace gcpilot
