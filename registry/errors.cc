#include "registry/errors.h"

#include <nlohmann/json.hpp>

namespace arca::registry {

ApiError ApiErrorFromStatus(const Status& s) {
  std::string message(s.message());
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return {400, "bad_request", message, {}};
    case StatusCode::kUnauthenticated:
      return {401, "unauthorized", message, {}};
    case StatusCode::kPermissionDenied:
      return {403, "denied", message, {}};
    case StatusCode::kNotFound:
      return {404, "not_found", message, {}};
    case StatusCode::kFailedPrecondition:
      return {409, "missing_objects", message, {}};
    case StatusCode::kResourceExhausted:
      return {413, "too_large", message, {}};
    case StatusCode::kOutOfRange:
      return {416, "bad_range", message, {}};
    case StatusCode::kUnavailable:
      return {503, "unavailable", s.ToString(), {}};
    default:
      // Keep the code name in the logged detail: it is what an operator needs.
      return {500, "internal", s.ToString(), {}};
  }
}

ApiError BadRequest(std::string message) { return {400, "bad_request", std::move(message), {}}; }

ApiError WithCode(int http, std::string code, std::string message) {
  return {http, std::move(code), std::move(message), {}};
}

std::string ApiErrorBody(const ApiError& e) {
  std::string message = e.message;
  if (e.http == 503) {
    message = "the registry is unavailable; retry later";
  } else if (e.internal()) {
    message = "internal error";
  }
  nlohmann::json body = {{"error", {{"code", e.code}, {"message", message}}}};
  if (e.http == 409) {
    nlohmann::json missing = nlohmann::json::array();
    for (size_t i = 0; i < e.missing.size() && i < kMaxListedMissing; ++i) {
      missing.push_back(e.missing[i].ToString());
    }
    body["missing"] = std::move(missing);
  }
  // Messages can quote client input (a bad name); replace invalid UTF-8
  // rather than throw from dump().
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace arca::registry
