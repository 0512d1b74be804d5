// Status: the outcome of an operation that can fail, as a code and a message.
//
// Codes follow the canonical set of abseil/gRPC, with the same meanings, so a
// caller can decide what to do from the code alone:
//   kInvalidArgument    the input is malformed whatever the system's state
//                       (a bad path, a manifest that fails to parse). Do not retry.
//   kNotFound           a named thing (object, ref, file) does not exist.
//   kAlreadyExists      a create found the thing there already.
//   kPermissionDenied   the caller may not do this. Do not retry as is.
//   kUnauthenticated    no valid credentials were given.
//   kResourceExhausted  a limit was hit (size, count, disk). Retry only after
//                       the limit changes.
//   kFailedPrecondition the system is not in a state that allows this (e.g. a
//                       manifest names a missing object). Fix the state first.
//   kAborted            a concurrency conflict; retry the whole transaction.
//   kOutOfRange         a read or seek past the end of valid data.
//   kUnimplemented      not supported by this build or version.
//   kInternal           an invariant of ours broke: a bug.
//   kUnavailable        transient (network, busy); retry with backoff.
//   kDataLoss           stored or received bytes are corrupt (a digest did not
//                       match, a pack is truncated). Never retry blindly.
//   kDeadlineExceeded   timed out; the operation may or may not have happened.
//   kCancelled          the caller gave up.
//
// A Status is cheap to copy when OK (no allocation). It is [[nodiscard]]:
// every Status must be looked at or returned.
#ifndef ARCA_COMMON_STATUS_H_
#define ARCA_COMMON_STATUS_H_

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace arca {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "INVALID_ARGUMENT", ... : stable names, used in logs and in API error codes.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string_view message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }

  // "NOT_FOUND: object sha256:..." or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>". OK stays OK.
  Status WithContext(std::string_view prefix) const;

  // Explicitly ignores this status (use sparingly, say why at the call site).
  void IgnoreError() const {}

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null when OK; immutable once built
};

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

// Shorthands for building errors: InvalidArgumentError("bad path ", p).
#define ARCA_STATUS_CTOR(Name, Code)                      \
  inline Status Name##Error(std::string_view message) {   \
    return Status(StatusCode::Code, message);             \
  }
ARCA_STATUS_CTOR(Cancelled, kCancelled)
ARCA_STATUS_CTOR(Unknown, kUnknown)
ARCA_STATUS_CTOR(InvalidArgument, kInvalidArgument)
ARCA_STATUS_CTOR(DeadlineExceeded, kDeadlineExceeded)
ARCA_STATUS_CTOR(NotFound, kNotFound)
ARCA_STATUS_CTOR(AlreadyExists, kAlreadyExists)
ARCA_STATUS_CTOR(PermissionDenied, kPermissionDenied)
ARCA_STATUS_CTOR(ResourceExhausted, kResourceExhausted)
ARCA_STATUS_CTOR(FailedPrecondition, kFailedPrecondition)
ARCA_STATUS_CTOR(Aborted, kAborted)
ARCA_STATUS_CTOR(OutOfRange, kOutOfRange)
ARCA_STATUS_CTOR(Unimplemented, kUnimplemented)
ARCA_STATUS_CTOR(Internal, kInternal)
ARCA_STATUS_CTOR(Unavailable, kUnavailable)
ARCA_STATUS_CTOR(DataLoss, kDataLoss)
ARCA_STATUS_CTOR(Unauthenticated, kUnauthenticated)
#undef ARCA_STATUS_CTOR

// Status from errno after a failed system call: "<what>: <strerror>".
Status ErrnoToStatus(int err, std::string_view what);

}  // namespace arca

#define ARCA_STATUS_CONCAT_INNER_(a, b) a##b
#define ARCA_STATUS_CONCAT_(a, b) ARCA_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define ARCA_RETURN_IF_ERROR(expr)                                         \
  do {                                                                     \
    ::arca::Status arca_status_ = (expr);                                  \
    if (!arca_status_.ok()) return arca_status_;                           \
  } while (0)

#endif  // ARCA_COMMON_STATUS_H_
