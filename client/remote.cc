// The registry client: requests, retries, error mapping.
#include "client/remote.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "client/credentials.h"
#include "common/file.h"
#include "signing/dsse.h"
#include "signing/log_entry.h"
#include "signing/note.h"
#include "store/store.h"

namespace arca::client {

using Json = nlohmann::json;

namespace {

constexpr size_t kMaxDigestsPerRequest = 65536;
constexpr uint64_t kMaxJsonAnswer = 64ull << 20;   // a locate answer for 65 536 chunks is ~15 MiB
constexpr uint64_t kMaxErrorBody = 64 << 10;
constexpr size_t kUploadBlock = 1 << 20;

// Keeps what a registry says printable: no terminal escapes, bounded length.
std::string Printable(std::string_view s, size_t max = 500) {
  std::string out;
  for (char c : s.substr(0, max)) out += (uint8_t(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (s.size() > max) out += "...";
  return out;
}

Status Malformed(const Registry& r, std::string_view what, std::string_view detail) {
  return DataLossError("registry " + r.Address() + " sent a malformed answer to " + std::string(what) + ": " +
                       Printable(detail, 200));
}

std::string DigestsBody(std::span<const Digest> digests) {
  std::string body = "{\"digests\":[";
  body.reserve(digests.size() * 74 + 16);
  for (size_t i = 0; i < digests.size(); ++i) {
    if (i) body += ',';
    body += '"';
    body += digests[i].ToString();
    body += '"';
  }
  return body + "]}";
}

Result<Digest> DigestField(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return InvalidArgumentError(std::string("no string \"") + key + "\"");
  return Digest::Parse(it->get<std::string>());
}

std::string PercentEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (std::isalnum(uint8_t(c)) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[uint8_t(c) >> 4];
      out += kHex[uint8_t(c) & 15];
    }
  }
  return out;
}

// Whether a failure without an HTTP answer is worth retrying.
bool RetryableError(httplib::Error e) {
  switch (e) {
    case httplib::Error::Canceled:  // we cancelled: the answer was wrong
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
    case httplib::Error::UnsupportedMultipartBoundaryChars:
    case httplib::Error::Compression:
      return false;
    default:
      return true;
  }
}

Status StatusFromError(httplib::Error e, const Registry& r) {
  std::string what = httplib::to_string(e);
  switch (e) {
    case httplib::Error::SSLServerVerification:
    case httplib::Error::SSLLoadingCerts:
      return FailedPreconditionError(
          "TLS with registry " + r.Address() + " failed (" + what +
          "); if it uses a private CA, set ARCA_CA_CERT=/path/to/ca.pem; for a plain-http registry set "
          "ARCA_INSECURE_HTTP=1 or write http://" + r.Address());
    case httplib::Error::SSLConnection:
      return UnavailableError("TLS connection to registry " + r.Address() + " failed (" + what +
                              "); if the registry speaks plain http, set ARCA_INSECURE_HTTP=1 or write http://" +
                              r.Address());
    case httplib::Error::Connection:
      return UnavailableError("cannot connect to registry " + r.Url() + " (" + what + "); is it running?");
    case httplib::Error::Read:
      if (r.scheme == "http") {
        return UnavailableError("request to registry " + r.Address() + " failed: " + what +
                                " (if the registry speaks https, write https://" + r.Address() + ")");
      }
      [[fallthrough]];
    default:
      return UnavailableError("request to registry " + r.Address() + " failed: " + what);
  }
}

}  // namespace

// The answer to one request.
struct Remote::Response {
  int status = 0;
  std::string body;
};

Status StatusFromHttp(int http_status, std::string_view body, const Registry& registry, bool* retry) {
  *retry = http_status >= 500 || http_status == 429;
  std::string code, message;
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const Json& e = j["error"];
    if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) message = e["message"].get<std::string>();
    if (j.contains("missing") && j["missing"].is_array() && !j["missing"].empty()) {
      const Json& m = j["missing"];
      message += " (" + std::to_string(m.size()) + " missing";
      if (m[0].is_string()) message += ", e.g. " + m[0].get<std::string>();
      message += ")";
    }
  }
  if (message.empty()) message = "HTTP " + std::to_string(http_status) + (body.empty() ? "" : ": " + std::string(body));
  std::string said = "registry " + registry.Address() + " said: " + Printable(message);
  if (!code.empty()) said += " [" + Printable(code, 40) + "]";
  const std::string login = "`arca login " + registry.Address() + " --token TOKEN`";
  switch (http_status) {
    case 400: return InvalidArgumentError(said);
    case 401:
      return UnauthenticatedError(said + "; log in with " + login +
                                  " (a registry admin makes tokens with `arca-registry token create`) or set ARCA_TOKEN");
    case 403:
      return PermissionDeniedError(said + "; your token's namespace or scope does not allow this: log in with one "
                                          "that does, " + login);
    case 404: return NotFoundError(said);
    case 409: return FailedPreconditionError(said);
    case 411: case 413: return ResourceExhaustedError(said);
    case 416: return OutOfRangeError(said);
    case 429: case 503: return UnavailableError(said);
    default:
      if (http_status >= 500) return UnavailableError(said);
      return UnknownError(said);
  }
}

Result<Endpoint> EndpointFor(const Registry& registry) {
  Endpoint ep;
  ep.registry = registry;
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> token, TokenFor(registry.Address()));
  if (token) ep.token = *token;
  if (const char* ca = std::getenv("ARCA_CA_CERT"); ca && *ca) {
    if (::access(ca, R_OK) != 0) return ErrnoToStatus(errno, "ARCA_CA_CERT=" + std::string(ca));
    ep.ca_cert = ca;
  }
  return ep;
}

Remote::Remote(Endpoint endpoint, RetryPolicy retry) : endpoint_(std::move(endpoint)), retry_(retry) {}
Remote::~Remote() = default;

httplib::Client& Remote::client() {
  if (client_) return *client_;
  client_ = std::make_unique<httplib::Client>(endpoint_.registry.Url());
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);
  client_->set_follow_location(false);
  const int t = endpoint_.timeout_seconds;
  client_->set_connection_timeout(std::chrono::seconds(t > 0 ? t : 10));
  client_->set_read_timeout(std::chrono::seconds(t > 0 ? t : 120));
  client_->set_write_timeout(std::chrono::seconds(t > 0 ? t : 120));
  if (!endpoint_.token.empty()) client_->set_bearer_token_auth(endpoint_.token);
  if (endpoint_.registry.scheme == "https") {
    client_->enable_server_certificate_verification(true);
    if (!endpoint_.ca_cert.empty()) client_->set_ca_cert_path(endpoint_.ca_cert);
  }
  return *client_;
}

void Remote::ResetClient() { client_.reset(); }

Status Remote::WithRetries(std::string_view what, const Attempt& attempt, Response* out) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  auto delay = retry_.initial_delay;
  Status last;
  for (int i = 0; i < retry_.attempts; ++i) {
    if (i > 0) {
      // Full jitter over the upper half: [delay/2, delay].
      std::uniform_int_distribution<int64_t> jitter(delay.count() / 2, delay.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
      delay = std::min(retry_.max_delay, delay * 2);
      ResetClient();  // a fresh connection after a failure
    }
    *out = Response();
    bool retry = false;
    last = attempt(out, &retry);
    if (last.ok() || !retry) return last;
  }
  return Status(last.code(), std::string(last.message()) + " (" + std::string(what) + ", gave up after " +
                                 std::to_string(retry_.attempts) + " attempts)");
}

Status Remote::Call(std::string_view method, const std::string& path, const std::string& body, Response* out,
                    std::initializer_list<int> ok_statuses, uint64_t max_answer) {
  if (max_answer == 0) max_answer = kMaxJsonAnswer;
  std::vector<int> oks(ok_statuses);
  std::string what = std::string(method) + " " + path;
  return WithRetries(what, [&](Response* r, bool* retry) -> Status {
    httplib::Request req;
    req.method = std::string(method);
    req.path = path;
    req.headers = {{"Accept", "application/json"}};
    if (!body.empty()) {
      req.headers.emplace("Content-Type", "application/json");
      req.body = body;
    }
    req.response_handler = [r](const httplib::Response& res) {
      r->status = res.status;
      return true;
    };
    req.content_receiver = [r, max_answer](const char* data, size_t n, uint64_t, uint64_t) {
      uint64_t cap = (r->status >= 200 && r->status < 300) ? max_answer : kMaxErrorBody;
      if (r->body.size() + n > cap) return false;
      r->body.append(data, n);
      return true;
    };
    httplib::Result res = client().send(req);
    if (!res) {
      if (res.error() == httplib::Error::Canceled) {
        return ResourceExhaustedError("registry " + endpoint_.registry.Address() + " sent an oversized answer to " +
                                      what);
      }
      *retry = RetryableError(res.error());
      return StatusFromError(res.error(), endpoint_.registry);
    }
    r->status = res->status;
    if (std::find(oks.begin(), oks.end(), r->status) == oks.end()) {
      return StatusFromHttp(r->status, r->body, endpoint_.registry, retry);
    }
    return Status::Ok();
  }, out);
}

namespace {

// Runs `fn` over the parsed JSON body, turning type errors into a Status.
template <typename T, typename F>
Result<T> FromJson(const Registry& reg, std::string_view what, const std::string& body, F fn) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Malformed(reg, what, "not a JSON object");
  try {
    Result<T> r = fn(j);
    if (!r.ok()) return Malformed(reg, what, r.status().message());
    return r;
  } catch (const Json::exception& e) {
    return Malformed(reg, what, e.what());
  }
}

}  // namespace

Result<PingInfo> Remote::Ping() {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/", "", &r));
  return FromJson<PingInfo>(endpoint_.registry, "GET /v1/", r.body, [](const Json& j) -> Result<PingInfo> {
    if (j.value("registry", "") != "arca") return InvalidArgumentError("this is not an Arca registry");
    PingInfo p;
    p.api = j.at("api").get<int>();
    p.anonymous_pull = j.value("anonymous_pull", false);
    return p;
  });
}

Result<std::vector<Digest>> Remote::Missing(std::span<const Digest> digests) {
  std::vector<Digest> missing;
  for (size_t start = 0; start < digests.size(); start += kMaxDigestsPerRequest) {
    auto batch = digests.subspan(start, std::min(kMaxDigestsPerRequest, digests.size() - start));
    Response r;
    ARCA_RETURN_IF_ERROR(Call("POST", "/v1/chunks/missing", DigestsBody(batch), &r));
    ARCA_ASSIGN_OR_RETURN(std::vector<Digest> part,
                          (FromJson<std::vector<Digest>>(
                              endpoint_.registry, "missing", r.body, [&](const Json& j) -> Result<std::vector<Digest>> {
                                std::vector<Digest> out;
                                const Json& arr = j.at("missing");
                                if (!arr.is_array() || arr.size() > batch.size()) {
                                  return InvalidArgumentError("\"missing\" is not a list of the digests asked for");
                                }
                                for (const Json& d : arr) {
                                  ARCA_ASSIGN_OR_RETURN(Digest x, Digest::Parse(d.get<std::string>()));
                                  out.push_back(x);
                                }
                                return out;
                              })));
    missing.insert(missing.end(), part.begin(), part.end());
  }
  return missing;
}

Result<LocateResult> Remote::Locate(std::span<const Digest> digests) {
  LocateResult all;
  for (size_t start = 0; start < digests.size(); start += kMaxDigestsPerRequest) {
    auto batch = digests.subspan(start, std::min(kMaxDigestsPerRequest, digests.size() - start));
    Response r;
    ARCA_RETURN_IF_ERROR(Call("POST", "/v1/chunks/locate", DigestsBody(batch), &r));
    ARCA_ASSIGN_OR_RETURN(
        LocateResult part,
        (FromJson<LocateResult>(endpoint_.registry, "locate", r.body, [&](const Json& j) -> Result<LocateResult> {
          LocateResult out;
          const Json& chunks = j.at("chunks");
          if (!chunks.is_array() || chunks.size() > batch.size()) return InvalidArgumentError("bad \"chunks\"");
          for (const Json& c : chunks) {
            RemoteChunk rc;
            ARCA_ASSIGN_OR_RETURN(rc.digest, DigestField(c, "digest"));
            ARCA_ASSIGN_OR_RETURN(rc.pack, DigestField(c, "pack"));
            rc.offset = c.at("offset").get<uint64_t>();
            rc.stored = c.at("stored").get<uint32_t>();
            rc.raw = c.at("raw").get<uint32_t>();
            rc.codec = c.at("codec").get<uint8_t>();
            rc.crc32c = c.at("crc32c").get<uint32_t>();
            out.chunks.push_back(rc);
          }
          if (j.contains("missing")) {
            for (const Json& d : j.at("missing")) {
              ARCA_ASSIGN_OR_RETURN(Digest x, Digest::Parse(d.get<std::string>()));
              out.missing.push_back(x);
            }
          }
          return out;
        })));
    all.chunks.insert(all.chunks.end(), part.chunks.begin(), part.chunks.end());
    all.missing.insert(all.missing.end(), part.missing.begin(), part.missing.end());
  }
  return all;
}

Status Remote::GetPackRange(const Digest& pack, uint64_t offset, uint64_t length, std::string* out,
                            const ByteCounter& progress) {
  if (length == 0) return InvalidArgumentError("empty range");
  const std::string path = "/v1/packs/" + pack.ToString();
  const std::string range = "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  Response unused;
  return WithRetries("GET " + path + " " + range, [&](Response*, bool* retry) -> Status {
    out->clear();
    out->reserve(length);
    int status = 0;
    std::string content_range, error_body;
    bool too_long = false;
    int64_t counted = 0;
    httplib::Request req;
    req.method = "GET";
    req.path = path;
    req.headers = {{"Range", range}};
    req.response_handler = [&](const httplib::Response& res) {
      status = res.status;
      content_range = res.get_header_value("Content-Range");
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (status != 206) {
        if (error_body.size() + n > kMaxErrorBody) return false;
        error_body.append(data, n);
        return true;
      }
      if (out->size() + n > length) {
        too_long = true;
        return false;
      }
      out->append(data, n);
      if (progress) progress(int64_t(n));
      counted += int64_t(n);
      return true;
    };
    httplib::Result res = client().send(req);
    if (!res || status != 206 || out->size() != length) {
      if (progress && counted) progress(-counted);
    }
    if (too_long) return DataLossError("registry sent more than the " + std::to_string(length) + " bytes asked of " + path);
    if (!res) {
      *retry = RetryableError(res.error());
      return StatusFromError(res.error(), endpoint_.registry);
    }
    if (status != 206) {
      if (status == 200) return DataLossError("registry ignored the Range header of a pack request");
      return StatusFromHttp(status, error_body, endpoint_.registry, retry);
    }
    const std::string want = "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) + "/";
    if (content_range.rfind(want, 0) != 0) {
      return DataLossError("registry answered a request for " + range + " of " + path + " with Content-Range \"" +
                           Printable(content_range, 100) + "\"");
    }
    if (out->size() != length) {
      *retry = true;
      return UnavailableError("short read of " + path);
    }
    return Status::Ok();
  }, &unused);
}

Status Remote::CheckCanUpload() {
  Response r;
  return WithRetries("POST /v1/packs (empty)", [&](Response*, bool* retry) -> Status {
    httplib::Result res = client().Post("/v1/packs", httplib::Headers{{"Accept", "application/json"}}, "",
                                        "application/octet-stream");
    if (!res) {
      *retry = RetryableError(res.error());
      return StatusFromError(res.error(), endpoint_.registry);
    }
    if (res->status == 401 || res->status == 403 || res->status >= 500) {
      return StatusFromHttp(res->status, res->body, endpoint_.registry, retry);
    }
    return Status::Ok();  // the token was accepted; the empty pack was refused (or ignored)
  }, &r);
}

Result<PackUploadResult> Remote::UploadPack(const std::string& file, const ByteCounter& progress) {
  ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(file));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "stat " + file);
  const uint64_t size = uint64_t(st.st_size);
  Response r;
  ARCA_RETURN_IF_ERROR(WithRetries("POST /v1/packs", [&](Response* resp, bool* retry) -> Status {
    std::string buf;
    Status read_status;
    int64_t counted = 0;
    httplib::ContentProvider provider = [&](size_t offset, size_t length, httplib::DataSink& sink) {
      size_t n = std::min(length, kUploadBlock);
      buf.resize(n);
      read_status = PreadAll(fd.get(), std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), n), offset, file);
      if (!read_status.ok()) return false;
      if (!sink.write(buf.data(), n)) return false;
      if (progress) progress(int64_t(n));
      counted += int64_t(n);
      return true;
    };
    httplib::Result res = client().Post("/v1/packs", httplib::Headers{{"Accept", "application/json"}}, size_t(size),
                                        provider, "application/octet-stream");
    if (!read_status.ok()) return read_status;
    if (!res || (res->status != 201 && res->status != 200)) {
      if (progress && counted) progress(-counted);
    }
    if (!res) {
      *retry = RetryableError(res.error());
      return StatusFromError(res.error(), endpoint_.registry);
    }
    resp->status = res->status;
    resp->body = std::move(res->body);
    if (resp->status != 201 && resp->status != 200) {
      return StatusFromHttp(resp->status, resp->body, endpoint_.registry, retry);
    }
    return Status::Ok();
  }, &r));
  return FromJson<PackUploadResult>(endpoint_.registry, "POST /v1/packs", r.body,
                                    [](const Json& j) -> Result<PackUploadResult> {
                                      PackUploadResult p;
                                      std::string pack = j.value("pack", "");
                                      if (!pack.empty()) {
                                        ARCA_ASSIGN_OR_RETURN(Digest d, Digest::Parse(pack));
                                        p.pack = d;
                                      }
                                      p.chunks = j.value("chunks", uint64_t(0));
                                      p.new_chunks = j.value("new_chunks", uint64_t(0));
                                      p.stored_bytes = j.value("stored_bytes", uint64_t(0));
                                      return p;
                                    });
}

Result<bool> Remote::PutObject(const Digest& digest, std::string_view kind, std::string_view bytes) {
  const std::string path = "/v1/objects/" + digest.ToString() + "?kind=" + std::string(kind);
  Response r;
  ARCA_RETURN_IF_ERROR(WithRetries("PUT " + path, [&](Response* resp, bool* retry) -> Status {
    httplib::Result res = client().Put(path, httplib::Headers{{"Accept", "application/json"}}, bytes.data(),
                                       bytes.size(), "application/octet-stream");
    if (!res) {
      *retry = RetryableError(res.error());
      return StatusFromError(res.error(), endpoint_.registry);
    }
    resp->status = res->status;
    if (res->status != 200 && res->status != 201) {
      return StatusFromHttp(res->status, res->body, endpoint_.registry, retry);
    }
    return Status::Ok();
  }, &r));
  return r.status == 201;
}

Result<std::string> Remote::GetObject(const Digest& digest, uint64_t max_bytes) {
  const std::string path = "/v1/objects/" + digest.ToString();
  Response r;
  ARCA_RETURN_IF_ERROR(WithRetries("GET " + path, [&](Response* resp, bool* retry) -> Status {
    httplib::Request req;
    req.method = "GET";
    req.path = path;
    req.response_handler = [resp](const httplib::Response& res) {
      resp->status = res.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      uint64_t cap = resp->status == 200 ? max_bytes : kMaxErrorBody;
      if (resp->body.size() + n > cap) return false;
      resp->body.append(data, n);
      return true;
    };
    httplib::Result res = client().send(req);
    if (!res) {
      if (res.error() == httplib::Error::Canceled) {
        return ResourceExhaustedError("object " + digest.ToString() + " from registry " +
                                      endpoint_.registry.Address() + " is larger than " + std::to_string(max_bytes) +
                                      " bytes");
      }
      *retry = RetryableError(res.error());
      return StatusFromError(res.error(), endpoint_.registry);
    }
    if (resp->status != 200) return StatusFromHttp(resp->status, resp->body, endpoint_.registry, retry);
    return Status::Ok();
  }, &r));
  if (Sha256Of(r.body) != digest) {
    return DataLossError("object " + digest.ToString() + " from registry " + endpoint_.registry.Address() +
                         " does not match its digest");
  }
  return std::move(r.body);
}

Result<Digest> Remote::GetTag(const std::string& repository, const std::string& tag) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/tags/" + repository + ":" + tag, "", &r));
  return FromJson<Digest>(endpoint_.registry, "GET tag", r.body,
                          [](const Json& j) -> Result<Digest> { return DigestField(j, "digest"); });
}

Result<std::optional<Digest>> Remote::PutTag(const std::string& repository, const std::string& tag,
                                             const Digest& digest) {
  Response r;
  std::string body = Json{{"digest", digest.ToString()}}.dump();
  ARCA_RETURN_IF_ERROR(Call("PUT", "/v1/tags/" + repository + ":" + tag, body, &r, {200, 201}));
  return FromJson<std::optional<Digest>>(endpoint_.registry, "PUT tag", r.body,
                                         [](const Json& j) -> Result<std::optional<Digest>> {
                                           auto it = j.find("previous");
                                           if (it == j.end() || it->is_null()) return std::optional<Digest>();
                                           ARCA_ASSIGN_OR_RETURN(Digest d, Digest::Parse(it->get<std::string>()));
                                           return std::optional<Digest>(d);
                                         });
}

Result<Digest> Remote::DeleteTag(const std::string& repository, const std::string& tag) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("DELETE", "/v1/tags/" + repository + ":" + tag, "", &r));
  return FromJson<Digest>(endpoint_.registry, "DELETE tag", r.body,
                          [](const Json& j) -> Result<Digest> { return DigestField(j, "digest"); });
}

Result<std::vector<TagInfo>> Remote::ListTags(const std::string& repository) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/tags/" + repository, "", &r));
  return FromJson<std::vector<TagInfo>>(endpoint_.registry, "list tags", r.body,
                                        [](const Json& j) -> Result<std::vector<TagInfo>> {
                                          std::vector<TagInfo> out;
                                          for (const Json& t : j.at("tags")) {
                                            TagInfo ti;
                                            ti.tag = Printable(t.at("tag").get<std::string>(), 128);
                                            ARCA_ASSIGN_OR_RETURN(ti.digest, DigestField(t, "digest"));
                                            out.push_back(std::move(ti));
                                          }
                                          return out;
                                        });
}

Result<std::vector<RepositoryInfo>> Remote::ListRepositories(const std::string& ns, const std::string& query) {
  std::string path = "/v1/repositories";
  std::string sep = "?";
  if (!ns.empty()) { path += sep + "namespace=" + PercentEncode(ns); sep = "&"; }
  if (!query.empty()) path += sep + "q=" + PercentEncode(query);
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", path, "", &r));
  return FromJson<std::vector<RepositoryInfo>>(endpoint_.registry, "list repositories", r.body,
                                               [](const Json& j) -> Result<std::vector<RepositoryInfo>> {
                                                 std::vector<RepositoryInfo> out;
                                                 for (const Json& t : j.at("repositories")) {
                                                   RepositoryInfo ri;
                                                   ri.name = Printable(t.at("name").get<std::string>(), 255);
                                                   ri.tags = t.value("tags", uint64_t(0));
                                                   out.push_back(std::move(ri));
                                                 }
                                                 return out;
                                               });
}

Status ForEachOnConnections(const Endpoint& endpoint, int jobs, size_t n,
                            const std::function<Status(Remote&, int worker, size_t item)>& fn) {
  if (n == 0) return Status::Ok();
  int threads = int(std::min<size_t>(size_t(std::max(jobs, 1)), n));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first;
  auto work = [&](int worker) {
    Remote remote(endpoint);
    for (;;) {
      if (failed.load()) return;
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status s = fn(remote, worker, i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true)) first = s;
        return;
      }
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < threads; ++w) pool.emplace_back(work, w);
    for (auto& t : pool) t.join();
  }
  return first;
}


Result<Digest> Remote::PutAttestation(const Digest& bundle, std::string_view envelope) {
  if (envelope.size() > store::kMaxAttestationBytes) {
    return ResourceExhaustedError("attestation of " + std::to_string(envelope.size()) + " bytes is over the " +
                                  std::to_string(store::kMaxAttestationBytes) + "-byte limit");
  }
  Response r;
  ARCA_RETURN_IF_ERROR(
      Call("PUT", "/v1/attestations/" + bundle.ToString(), std::string(envelope), &r, {200, 201}));
  ARCA_ASSIGN_OR_RETURN(Digest stored,
                        FromJson<Digest>(endpoint_.registry, "PUT attestation", r.body,
                                         [](const Json& j) -> Result<Digest> { return DigestField(j, "digest"); }));
  if (stored != Sha256Of(envelope)) {
    return DataLossError("registry " + endpoint_.registry.Address() + " stored attestation " + stored.ToString() +
                         " for an envelope whose digest is " + Sha256Of(envelope).ToString());
  }
  return stored;
}

Result<std::vector<std::string>> Remote::GetAttestations(const Digest& bundle) {
  // Envelopes travel as JSON strings: escaping can at most double base64 and
  // JSON text; one KiB per entry covers the rest.
  constexpr uint64_t kMaxAnswer = store::kMaxAttestationsPerSubject * (2 * store::kMaxAttestationBytes + 1024);
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/attestations/" + bundle.ToString(), "", &r, {200}, kMaxAnswer));
  const Registry& reg = endpoint_.registry;
  return FromJson<std::vector<std::string>>(
      reg, "attestations of " + bundle.ToString(), r.body, [&](const Json& j) -> Result<std::vector<std::string>> {
        const Json& list = j.at("attestations");
        if (!list.is_array()) return InvalidArgumentError("\"attestations\" is not a list");
        if (list.size() > store::kMaxAttestationsPerSubject) {
          return InvalidArgumentError("lists " + std::to_string(list.size()) + " attestations, more than the " +
                                      std::to_string(store::kMaxAttestationsPerSubject) + " a bundle may have");
        }
        std::vector<std::string> out;
        for (const Json& a : list) {
          ARCA_ASSIGN_OR_RETURN(Digest d, DigestField(a, "digest"));
          std::string envelope = a.at("envelope").get<std::string>();
          if (envelope.size() > store::kMaxAttestationBytes) {
            return InvalidArgumentError("attestation " + d.ToString() + " is over the size limit");
          }
          if (Sha256Of(envelope) != d) {
            return DataLossError("attestation " + d.ToString() + " does not match its digest");
          }
          out.push_back(std::move(envelope));
        }
        return out;
      });
}

namespace {

// A list of 64-hex-digit hashes, at most 64 of them (a proof in a tree of
// up to 2^64 leaves is never longer).
Result<std::vector<Digest>> HashList(const Json& j, std::string_view field) {
  const Json& arr = j.at(std::string(field));
  if (!arr.is_array() || arr.size() > 64) return InvalidArgumentError(std::string(field) + " is not a proof");
  std::vector<Digest> out;
  for (const Json& h : arr) {
    ARCA_ASSIGN_OR_RETURN(Digest d, Digest::Parse("sha256:" + h.get<std::string>()));
    out.push_back(d);
  }
  return out;
}

Result<std::string> Base64Field(const Json& j, std::string_view field) {
  return signing::Base64Decode(j.at(std::string(field)).get<std::string>());
}

}  // namespace

Result<std::string> Remote::GetCheckpoint() {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/log/checkpoint", "", &r, {200}, signing::kMaxNoteBytes));
  return std::move(r.body);
}

Result<Remote::LogLookup> Remote::GetLogBundle(const Digest& bundle) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/log/bundles/" + bundle.ToString(), "", &r));
  return FromJson<LogLookup>(endpoint_.registry, "log entry of " + bundle.ToString(), r.body,
                             [](const Json& j) -> Result<LogLookup> {
                               LogLookup l;
                               l.index = j.at("index").get<uint64_t>();
                               ARCA_ASSIGN_OR_RETURN(l.entry, Base64Field(j, "entry"));
                               return l;
                             });
}

Result<Remote::LogLookup> Remote::GetLogTag(const std::string& repository, const std::string& tag) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/log/tags/" + repository + ":" + tag, "", &r));
  return FromJson<LogLookup>(endpoint_.registry, "log entry of tag " + repository + ":" + tag, r.body,
                             [](const Json& j) -> Result<LogLookup> {
                               LogLookup l;
                               l.index = j.at("index").get<uint64_t>();
                               l.sequence = j.at("sequence").get<uint64_t>();
                               ARCA_ASSIGN_OR_RETURN(l.entry, Base64Field(j, "entry"));
                               return l;
                             });
}

Result<std::vector<Digest>> Remote::GetInclusionProof(uint64_t index, uint64_t size) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET",
                            "/v1/log/proof/inclusion?index=" + std::to_string(index) + "&size=" + std::to_string(size),
                            "", &r));
  return FromJson<std::vector<Digest>>(endpoint_.registry, "inclusion proof", r.body,
                                       [](const Json& j) { return HashList(j, "proof"); });
}

Result<std::vector<Digest>> Remote::GetConsistencyProof(uint64_t from, uint64_t to) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET",
                            "/v1/log/proof/consistency?from=" + std::to_string(from) + "&to=" + std::to_string(to),
                            "", &r));
  return FromJson<std::vector<Digest>>(endpoint_.registry, "consistency proof", r.body,
                                       [](const Json& j) { return HashList(j, "proof"); });
}

Result<std::string> Remote::PostLogKey(const std::string& body) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("POST", "/v1/log/keys", body, &r, {201}));
  return std::move(r.body);
}

Result<std::vector<std::string>> Remote::GetLogEntries(uint64_t start, uint64_t end) {
  Response r;
  ARCA_RETURN_IF_ERROR(Call("GET", "/v1/log/entries?start=" + std::to_string(start) + "&end=" + std::to_string(end),
                            "", &r));
  return FromJson<std::vector<std::string>>(
      endpoint_.registry, "log entries", r.body, [&](const Json& j) -> Result<std::vector<std::string>> {
        if (j.at("start").get<uint64_t>() != start) return InvalidArgumentError("entries from the wrong start");
        const Json& arr = j.at("entries");
        if (!arr.is_array() || arr.empty() || arr.size() > end - start || arr.size() > 1000) {
          return InvalidArgumentError("\"entries\" is not the list asked for");
        }
        std::vector<std::string> out;
        for (const Json& e : arr) {
          ARCA_ASSIGN_OR_RETURN(std::string bytes, signing::Base64Decode(e.get<std::string>()));
          if (bytes.size() > signing::kMaxLogEntryBytes) return InvalidArgumentError("an entry is too large");
          out.push_back(std::move(bytes));
        }
        return out;
      });
}

}  // namespace arca::client
