// Result<T>: either a value of type T or a non-OK Status.
//
// Return it from functions that produce a value and can fail; unpack it with
// ARCA_ASSIGN_OR_RETURN in code that propagates errors, or check ok() and
// then use value() / operator*. Calling value() on an error is a bug (it
// aborts), never a way to handle untrusted input.
#ifndef ARCA_COMMON_RESULT_H_
#define ARCA_COMMON_RESULT_H_

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/status.h"

namespace arca {

template <typename T>
class [[nodiscard]] Result {
 public:
  // From an error. Passing an OK status is a bug: it becomes kInternal.
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = InternalError("Result constructed from OK status without a value");
  }
  // From a value (anything T can be built from).
  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, Result<T>>>>
  Result(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { Check(); return *value_; }
  const T& value() const& { Check(); return *value_; }
  T&& value() && { Check(); return std::move(*value_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Check() const {
    if (!value_) {
      std::fprintf(stderr, "Result::value() on error: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }
  Status status_;  // OK iff value_ holds a value
  std::optional<T> value_;
};

}  // namespace arca

// ARCA_ASSIGN_OR_RETURN(auto x, Compute()); or ARCA_ASSIGN_OR_RETURN(x, Compute());
// Evaluates the Result; on error returns its Status, else assigns the value.
#define ARCA_ASSIGN_OR_RETURN(lhs, expr) \
  ARCA_ASSIGN_OR_RETURN_IMPL_(ARCA_STATUS_CONCAT_(arca_result_, __LINE__), lhs, expr)
#define ARCA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // ARCA_COMMON_RESULT_H_
