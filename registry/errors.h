// API errors (docs/API.md "Errors"): the HTTP status, the stable code and the
// message a client sees, and the one table that maps a Status onto them.
#ifndef ARCA_REGISTRY_ERRORS_H_
#define ARCA_REGISTRY_ERRORS_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/status.h"

namespace arca::registry {

struct ApiError {
  int http = 500;
  std::string code;     // stable: "bad_request", "not_found", ...
  std::string message;  // for people; for a 5xx, the detail that is only logged
  std::vector<Digest> missing;  // 409 missing_objects only

  // Whether the message must stay in the server's log: a 5xx's detail may
  // name paths or library errors.
  bool internal() const { return http >= 500; }
};

// The table: INVALID_ARGUMENT -> 400 bad_request, UNAUTHENTICATED -> 401,
// PERMISSION_DENIED -> 403, NOT_FOUND -> 404, FAILED_PRECONDITION -> 409
// missing_objects, RESOURCE_EXHAUSTED -> 413 too_large, OUT_OF_RANGE -> 416
// bad_range, UNAVAILABLE -> 503; anything else is a 500. `s` must not be OK.
ApiError ApiErrorFromStatus(const Status& s);

// Errors whose code the table cannot know (it depends on the endpoint).
ApiError BadRequest(std::string message);
ApiError WithCode(int http, std::string code, std::string message);

// The JSON body: {"error": {"code": ..., "message": ...}} plus "missing" when
// there is a list. A 5xx gets a fixed message ("internal error" for a 500).
std::string ApiErrorBody(const ApiError& e);

// Up to how many missing digests a 409 lists.
inline constexpr size_t kMaxListedMissing = 100;

}  // namespace arca::registry

#endif  // ARCA_REGISTRY_ERRORS_H_
