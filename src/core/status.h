// Status and StatusOr<T>: how the core reports recoverable errors.
//
// A Status is OK or carries a code and a human-readable message that names
// what failed and why (the CLI prints it as is). StatusOr<T> holds either a
// value or a non-OK Status. Exceptions are used only at the top (main).
// Thread-safety: value types; distinct objects may be used from any thread.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gcpilot {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kPermissionDenied,
  kDataLoss,
  kOutOfRange,
  kUnavailable,
  kInternal,
};

class Status {
 public:
  Status() = default;  // OK.

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status PermissionDenied(std::string msg) {
    return Status(StatusCode::kPermissionDenied, std::move(msg));
  }
  static Status DataLoss(std::string msg) { return Status(StatusCode::kDataLoss, std::move(msg)); }
  static Status OutOfRange(std::string msg) {
    return Status(StatusCode::kOutOfRange, std::move(msg));
  }
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }
  // An error from a failed system call: "<what>: <strerror(err)>".
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK" or "<code name>: <message>".
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::string_view StatusCodeName(StatusCode code);

// Holds a T on success or a non-OK Status on failure. Accessing value() of a
// failed StatusOr is a programming error (asserted).
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : data_(std::move(value)) {}        // NOLINT: implicit by design.
  StatusOr(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design.
    assert(!std::get<Status>(data_).ok() && "StatusOr built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

  T& value() & {
    assert(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace gcpilot

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define GCPILOT_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::gcpilot::Status gcpilot_status_ = (expr);        \
    if (!gcpilot_status_.ok()) return gcpilot_status_; \
  } while (0)
