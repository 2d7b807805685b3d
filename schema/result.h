// The one error convention at layer boundaries: a Result<T> holds a value or
// an Error. Exceptions stay inside main() and third-party call sites.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace specd {

// What a caller can act on. Every fallible function at a layer boundary
// returns Result<T> or Status; none signals failure with an empty string, a
// bool or an exception.
enum class ErrorCode {
  kOther,          // anything else: report it
  kConflict,       // the file (or row) changed under us: re-read and re-apply
  kNotFound,       // no such file, spec, task or ref
  kPermission,     // the OS or a rule refused access
  kAlreadyExists,  // what was to be created is there already
  kBusy,           // another process holds the lock: try again later
  kInvalid,        // bad input: a usage error, a file that does not validate
};

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kOther;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace specd
