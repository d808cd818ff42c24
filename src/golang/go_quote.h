// Go string literals as `go version -m` and runtime/debug quote build
// settings: "..." with Go escapes (\n, \t, \xNN, \NNN, \uNNNN,
// \UNNNNNNNN, ...) or `raw`. A subset of strconv.Unquote and
// strconv.QuotedPrefix for untrusted input.
// Thread-safety: stateless free functions; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gcpilot::golang {

// Unquotes a Go string literal into `out`. Returns false (and leaves `out`
// unspecified) on malformed input.
bool UnquoteGoString(std::string_view quoted, std::string& out);

// The length of the quoted string literal at the start of `s` (its closing
// quote included), or 0 when `s` does not start with a complete one.
size_t QuotedPrefixLength(std::string_view s);

}  // namespace gcpilot::golang
