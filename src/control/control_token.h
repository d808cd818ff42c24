// The bearer token of the agent's control endpoints: read from the
// config's token_file, compared in constant time.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gcpilot::control {

// The file's content without surrounding whitespace. NotFound when it
// cannot be read; InvalidArgument when empty, larger than 4 KiB, or readable
// by others than its owner's group (mode & 0004).
StatusOr<std::string> LoadToken(const std::string& path);

// True when `header` is "Bearer <token>"; the comparison takes the same
// time wherever the first difference is.
bool BearerMatches(std::string_view header, std::string_view token);

// a == b in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace gcpilot::control
