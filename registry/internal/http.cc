#include "registry/internal/http.h"

#include <cstdio>

namespace arca::registry::internal {

bool IsPackPath(std::string_view path) { return path.substr(0, 10) == "/v1/packs/"; }

ApiError ErrorForHttpStatus(int status) {
  switch (status) {
    case 404: return WithCode(404, "not_found", "no such route");
    case 413: return WithCode(413, "too_large", "the request body is too large");
    case 414: return WithCode(414, "too_large", "the request line is too long");
    case 416: return WithCode(416, "bad_range", "malformed Range header");
    case 503: return WithCode(503, "unavailable", "unavailable");
    default:
      if (status >= 500) return WithCode(status, "internal", "httplib reported status " + std::to_string(status));
      return WithCode(status, "bad_request", "malformed request");
  }
}

std::string Printable(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string out;
  size_t i = 0;
  for (; i < s.size() && out.size() < kMax; ++i) {
    uint8_t c = uint8_t(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(char(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (i < s.size()) out += "...";
  return out;
}

std::variant<uint64_t, ApiError> AnnouncedLength(const httplib::Request& req, uint64_t limit) {
  if (req.has_header("Transfer-Encoding") || !req.has_header("Content-Length")) {
    return WithCode(411, "length_required", "send the body with a Content-Length");
  }
  if (req.get_header_value_count("Content-Length") != 1) return BadRequest("more than one Content-Length");
  if (req.has_header("Content-Encoding") && req.get_header_value("Content-Encoding") != "identity") {
    return BadRequest("compressed request bodies are not accepted (Content-Encoding)");
  }
  const std::string text = req.get_header_value("Content-Length");
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    return BadRequest("malformed Content-Length");
  }
  uint64_t length = std::stoull(text);
  if (length > limit) {
    return WithCode(413, "too_large",
                    "the body of " + text + " bytes is over this request's limit of " + std::to_string(limit));
  }
  return length;
}

void CloseAfterReply(httplib::Response& res) { res.set_header("Connection", "close"); }

Result<nlohmann::json> ParseJsonObject(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("malformed JSON");
  if (!j.is_object()) return InvalidArgumentError("the body must be a JSON object");
  return j;
}

Result<Digest> ParseDigestText(std::string_view text) {
  Result<Digest> d = Digest::Parse(text);
  if (!d.ok()) return InvalidArgumentError("\"" + Printable(text) + "\" is not a digest (sha256:<64 lower-case hex>)");
  return d;
}

Result<std::vector<Digest>> ParseDigestList(const nlohmann::json& request, size_t max) {
  auto it = request.find("digests");
  if (it == request.end() || !it->is_array()) return InvalidArgumentError("\"digests\" must be an array");
  if (it->size() > max) {
    return ResourceExhaustedError("at most " + std::to_string(max) + " digests per request, not " +
                                  std::to_string(it->size()));
  }
  std::vector<Digest> out;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& e = (*it)[i];
    if (!e.is_string()) return InvalidArgumentError("digests[" + std::to_string(i) + "] is not a string");
    Result<Digest> d = ParseDigestText(e.get_ref<const std::string&>());
    if (!d.ok()) return d.status().WithContext("digests[" + std::to_string(i) + "]");
    out.push_back(*d);
  }
  return out;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace arca::registry::internal
