// libFuzzer target for the recorded-stream reader (EventFromJsonLine): each
// input line is parsed; when it yields an event, writing it back with
// EventToJsonLine and reading that again must give the same event, i.e.
// the same JSON line (what `--record` writes, replay must read back
// unchanged). Invalid lines must come back as errors, never crashes,
// exceptions or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "model/event_json.h"

namespace {

void CheckLine(std::string_view line) {
  gcpilot::StatusOr<std::optional<gcpilot::Event>> first = gcpilot::EventFromJsonLine(line);
  if (!first.ok()) {
    FUZZ_CHECK(!first.status().message().empty());
    return;
  }
  if (!first.value().has_value()) return;  // Valid JSON, not an event.
  std::string json1 = gcpilot::EventToJsonLine(*first.value());
  gcpilot::StatusOr<std::optional<gcpilot::Event>> second = gcpilot::EventFromJsonLine(json1);
  if (!second.ok() || !second.value().has_value()) {
    std::fprintf(stderr, "written event does not read back (%s):\n  in:  %.*s\n  out: %s\n",
                 second.ok() ? "not an event" : second.status().ToString().c_str(),
                 static_cast<int>(line.size()), line.data(), json1.c_str());
    FUZZ_CHECK(false);
  }
  std::string json2 = gcpilot::EventToJsonLine(*second.value());
  if (json1 != json2) {
    std::fprintf(stderr, "event changed on a round trip:\n  1st: %s\n  2nd: %s\n", json1.c_str(),
                 json2.c_str());
    FUZZ_CHECK(false);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t begin = 0;
  while (begin <= input.size()) {
    size_t nl = input.find('\n', begin);
    size_t end = nl == std::string_view::npos ? input.size() : nl;
    CheckLine(input.substr(begin, end - begin));
    if (nl == std::string_view::npos) break;
    begin = nl + 1;
  }
  return 0;
}
