// Helpers private to registry/: reading what a request announces and carries
// (lengths, JSON, digests), and the error for a status httplib set itself.
#ifndef ARCA_REGISTRY_INTERNAL_HTTP_H_
#define ARCA_REGISTRY_INTERNAL_HTTP_H_

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/result.h"
#include "registry/errors.h"

namespace arca::registry::internal {

// Whether `path` names a pack (the only resource served in ranges).
bool IsPackPath(std::string_view path);

// The API error for a status that httplib chose (no route: 404, a malformed
// request: 400, a bad Range header: 416, ...).
ApiError ErrorForHttpStatus(int status);

// `s` with control characters and non-ASCII bytes escaped as \xNN and cut to
// 200 bytes: safe to put in a log line or an error message.
std::string Printable(std::string_view s);

// The body length a request announces, within `limit`: 411 length_required
// without Content-Length (or with Transfer-Encoding, whose length is unknown
// until the end), 413 too_large over the limit, 400 for a malformed or
// repeated Content-Length or a Content-Encoding (a compressed body's size is
// unknown until it is inflated).
std::variant<uint64_t, ApiError> AnnouncedLength(const httplib::Request& req, uint64_t limit);

// Tells the client to close the connection after this response: used when a
// body may be left unread. (httplib 0.11.4 itself keeps the connection open;
// bytes a client sends anyway are parsed, and refused, as requests on that
// client's own connection, at most keep_alive_max_count of them.)
void CloseAfterReply(httplib::Response& res);

// Parses a JSON request body that must be an object. INVALID_ARGUMENT if not.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// `text` as a digest, or INVALID_ARGUMENT quoting it (Printable).
Result<Digest> ParseDigestText(std::string_view text);

// The "digests" member of a missing/locate request: an array of at most
// `max` digest strings. INVALID_ARGUMENT names the first bad entry;
// RESOURCE_EXHAUSTED when there are too many.
Result<std::vector<Digest>> ParseDigestList(const nlohmann::json& request, size_t max);

// JSON text for the API's responses (invalid UTF-8 replaced, never thrown).
std::string Dump(const nlohmann::json& j);

}  // namespace arca::registry::internal

#endif  // ARCA_REGISTRY_INTERNAL_HTTP_H_
