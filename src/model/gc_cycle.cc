// Names of the model's enums, as used in JSON, reports and metrics labels.
#include "model/gc_cycle.h"

#include <array>

namespace gcpilot {
namespace {

constexpr std::array<std::string_view, 4> kTriggerNames = {"unknown", "heap", "time", "forced"};
constexpr std::array<std::string_view, 3> kStwKindNames = {"sweep_termination", "mark_termination",
                                                           "other"};
constexpr std::array<std::string_view, kStwReasonCount> kStwReasonNames = {
    "unknown",
    "gc_mark_termination",
    "gc_sweep_termination",
    "write_heap_dump",
    "goroutine_profile",
    "goroutine_profile_cleanup",
    "all_goroutines_stack_trace",
    "read_mem_stats",
    "all_threads_syscall",
    "gomaxprocs",
    "start_trace",
    "stop_trace",
};
constexpr std::array<std::string_view, 5> kSourceNames = {"unknown", "gctrace", "ebpf", "scrape",
                                                          "replay"};

template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, Enum e) {
  size_t i = static_cast<size_t>(e);
  return i < N ? names[i] : "unknown";
}

template <typename Enum, size_t N>
std::optional<Enum> FromName(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view GcTriggerName(GcTrigger t) { return NameOf(kTriggerNames, t); }
std::string_view StwKindName(StwKind k) { return NameOf(kStwKindNames, k); }
std::string_view StwReasonName(StwReason r) { return NameOf(kStwReasonNames, r); }
std::string_view EventSourceName(EventSource s) { return NameOf(kSourceNames, s); }

std::optional<GcTrigger> GcTriggerFromName(std::string_view name) {
  return FromName<GcTrigger>(kTriggerNames, name);
}
std::optional<StwKind> StwKindFromName(std::string_view name) {
  return FromName<StwKind>(kStwKindNames, name);
}
std::optional<StwReason> StwReasonFromName(std::string_view name) {
  return FromName<StwReason>(kStwReasonNames, name);
}
std::optional<EventSource> EventSourceFromName(std::string_view name) {
  return FromName<EventSource>(kSourceNames, name);
}

}  // namespace gcpilot
