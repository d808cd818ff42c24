// FindCallSites: the uprobe file offsets of every direct CALL from one Go
// function to another, e.g. runtime.forcegchelper's call of runtime.gcStart
// (a probe there fires only for the periodic, forced GC). Works on stripped
// binaries: both functions are found through .gopclntab.
// Thread-safety: free function; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "golang/go_binary.h"

namespace gcpilot::golang {

// File offsets of the CALL instructions in `caller` whose target is the
// entry of `callee`, in address order (possibly empty). NotFound when either
// function is absent; the errors of DecodeFunction when `caller` does not
// decode; OutOfRange when a call's address is not in the file.
StatusOr<std::vector<uint64_t>> FindCallSites(const GoBinary& binary, std::string_view caller,
                                              std::string_view callee);

}  // namespace gcpilot::golang
