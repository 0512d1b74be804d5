// The server's frame: opening, binding, the route table, auth, error replies
// and body reading. The endpoints themselves are in blob_routes.cc (chunks,
// packs, objects), attestation_routes.cc and tag_routes.cc (tags,
// repositories).
#include "registry/server.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "registry/internal/http.h"

namespace arca::registry {

Result<std::unique_ptr<Server>> Server::Create(const std::string& dir, const ServerOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return InvalidArgumentError("TLS needs both a certificate and a key");
  }
  if (options.threads < 1) return InvalidArgumentError("threads must be at least 1");
  ARCA_RETURN_IF_ERROR(MakeDirs(dir));
  // Absolute, so that Scrub() finds it in any message that names a path.
  std::error_code ec;
  const std::string data_dir = std::filesystem::absolute(dir, ec).lexically_normal().string();
  if (ec) return InvalidArgumentError("bad data directory " + dir);
  Result<std::unique_ptr<store::Store>> st = store::Store::Open(data_dir + "/store");
  if (!st.ok()) return st.status().WithContext("open the store in " + data_dir);
  std::unique_ptr<Server> server(new Server(data_dir, options, std::move(*st)));
  Result<std::unique_ptr<TransparencyLog>> log = TransparencyLog::Open(data_dir, options.log_origin);
  if (!log.ok()) return log.status().WithContext("open the log in " + data_dir);
  server->log_ = std::move(*log);
  ARCA_RETURN_IF_ERROR(server->ReconcileLog());
  if (!options.listen) return server;

  if (server->tls()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!ssl->is_valid()) {
      return InvalidArgumentError("cannot load the TLS certificate " + options.tls_cert + " or key " +
                                  options.tls_key);
    }
    server->http_ = std::move(ssl);
  } else {
    server->http_ = std::make_unique<httplib::Server>();
  }
  server->InstallHandlers();
  server->InstallRoutes();

  httplib::Server& http = *server->http_;
  if (options.port == 0) {
    server->port_ = http.bind_to_any_port(options.host);
  } else if (http.bind_to_port(options.host, options.port)) {
    server->port_ = options.port;
  } else {
    server->port_ = -1;
  }
  if (server->port_ <= 0) {
    return UnavailableError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                            " (address in use or not available)");
  }
  return server;
}

Server::Server(std::string data_dir, ServerOptions options, std::unique_ptr<store::Store> store)
    : data_dir_(std::move(data_dir)),
      options_(std::move(options)),
      store_(std::move(store)),
      tokens_(data_dir_ + "/tokens.json") {}

Server::~Server() { Stop(); }

Status Server::Run() {
  if (!http_) return FailedPreconditionError("this server was opened without listening");
  run_started_ = true;
  // A Stop() that came before Run() could not stop httplib (it ignores
  // stop() until its accept loop runs), and skipping the loop would leave
  // the bound socket accepting connections that nobody answers. So run the
  // loop anyway and stop it as soon as it is up.
  std::thread stopper;
  if (stop_requested_) {
    stopper = std::thread([this] {
      while (!run_finished_ && !http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      http_->stop();
    });
  }
  bool ok = http_->listen_after_bind();
  run_finished_ = true;
  if (stopper.joinable()) stopper.join();
  if (!ok && !stop_requested_) return UnavailableError("the server stopped accepting connections");
  return Status::Ok();
}

void Server::Stop() {
  stop_requested_ = true;
  if (!http_) return;  // Create failed half-way
  // httplib ignores stop() until its accept loop has started; when Run() is
  // on its way there, wait for it (this takes microseconds).
  while (run_started_ && !run_finished_ && !http_->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http_->stop();
}

void Server::InstallHandlers() {
  httplib::Server& http = *http_;
  const int threads = options_.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  // A backstop only: every endpoint with a body checks its own, smaller limit
  // from Content-Length before reading anything.
  http.set_payload_max_length(options_.limits.pack_bytes);
  http.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, with which a second server on
  // the same port starts without error and the kernel splits connections
  // between the two. SO_REUSEADDR alone still allows a quick restart.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  // Range applies to pack bytes only. httplib would otherwise cut any body
  // (JSON, objects) to the requested range; ignoring Range is what RFC 9110
  // allows a server to do. The Request is a non-const object inside httplib,
  // so clearing its parsed ranges is well defined.
  http.set_pre_routing_handler([](const Request& req, Response&) {
    if (!internal::IsPackPath(req.path)) const_cast<Request&>(req).ranges.clear();
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Errors httplib produces itself (no route, a malformed request line or
  // Range header) get the API's JSON body. Errors from our handlers already
  // have one and are left alone.
  httplib::Server::HandlerWithResponse on_error = [this](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ReplyError(req, res, internal::ErrorForHttpStatus(res.status));
    return httplib::Server::HandlerResponse::Handled;
  };
  http.set_error_handler(std::move(on_error));

  // The default handler would put e.what() in a response header.
  http.set_exception_handler([this](const Request& req, Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    ReplyError(req, res, WithCode(500, "internal", "exception: " + what));
  });
}

void Server::InstallRoutes() {
  httplib::Server& http = *http_;
  using namespace std::placeholders;
  http.Get("/v1/", [this](const Request&, Response& res) {
    nlohmann::json body = {{"registry", "arca"}, {"api", 1}, {"anonymous_pull", options_.anonymous_pull}};
    ReplyJson(res, 200, body.dump());
  });
  http.Post("/v1/chunks/missing", [this](const Request& req, Response& res, const ContentReader& reader) {
    HandleChunksQuery(req, res, reader, /*locate=*/false);
  });
  http.Post("/v1/chunks/locate", [this](const Request& req, Response& res, const ContentReader& reader) {
    HandleChunksQuery(req, res, reader, /*locate=*/true);
  });
  // Digests are matched loosely and parsed in the handler, so that a bad one
  // is a 400 naming it rather than a 404.
  http.Get(R"(/v1/packs/([^/]+))", std::bind(&Server::HandleGetPack, this, _1, _2));
  http.Post("/v1/packs", std::bind(&Server::HandleUploadPack, this, _1, _2, _3));
  http.Get(R"(/v1/objects/([^/]+))", std::bind(&Server::HandleGetObject, this, _1, _2));
  http.Put(R"(/v1/objects/([^/]+))", std::bind(&Server::HandlePutObject, this, _1, _2, _3));
  http.Get(R"(/v1/attestations/([^/]+))", std::bind(&Server::HandleGetAttestations, this, _1, _2));
  http.Put(R"(/v1/attestations/([^/]+))", std::bind(&Server::HandlePutAttestation, this, _1, _2, _3));
  // Repository names contain '/', so everything after /v1/tags/ is captured
  // (control characters too, to be refused as bad names rather than 404s);
  // "repo:tag" is a tag, "repo" alone lists the repository.
  http.Get(R"(/v1/tags/([\s\S]+))", [this](const Request& req, Response& res) {
    if (req.matches[1].str().find(':') != std::string::npos) {
      HandleGetTag(req, res);
    } else {
      HandleListRepository(req, res);
    }
  });
  http.Put(R"(/v1/tags/([\s\S]+))", std::bind(&Server::HandlePutTag, this, _1, _2, _3));
  http.Delete(R"(/v1/tags/([\s\S]+))", std::bind(&Server::HandleDeleteTag, this, _1, _2, _3));
  http.Get("/v1/repositories", std::bind(&Server::HandleRepositories, this, _1, _2));
  http.Get("/v1/log/checkpoint", std::bind(&Server::HandleLogCheckpoint, this, _1, _2));
  http.Get("/v1/log/entries", std::bind(&Server::HandleLogEntries, this, _1, _2));
  http.Get("/v1/log/proof/inclusion", std::bind(&Server::HandleLogInclusion, this, _1, _2));
  http.Get("/v1/log/proof/consistency", std::bind(&Server::HandleLogConsistency, this, _1, _2));
  http.Get(R"(/v1/log/bundles/([^/]+))", std::bind(&Server::HandleLogBundle, this, _1, _2));
  http.Get(R"(/v1/log/tags/([\s\S]+))", std::bind(&Server::HandleLogTag, this, _1, _2));
  http.Post("/v1/log/keys", std::bind(&Server::HandleLogKey, this, _1, _2, _3));

  // Last: any other request that may carry a body gets its 404 without the
  // body being read. (Left to itself, httplib reads the body of an unrouted
  // request into memory, up to the pack limit, before answering.)
  auto no_route = [this](const Request& req, Response& res, const ContentReader&) {
    ReplyError(req, res, WithCode(404, "not_found", "no such route"));
  };
  http.Post(R"([\s\S]*)", no_route);
  http.Put(R"([\s\S]*)", no_route);
  http.Patch(R"([\s\S]*)", no_route);
  http.Delete(R"([\s\S]*)", no_route);
}

bool Server::Authorize(const Request& req, Response& res, const Access& need) {
  std::optional<TokenInfo> token;
  if (req.has_header("Authorization")) {
    if (req.get_header_value_count("Authorization") != 1) {
      ReplyError(req, res, WithCode(401, "unauthorized", "send one Authorization header"));
      return false;
    }
    const std::string header = req.get_header_value("Authorization");
    Result<std::string_view> bearer = ParseBearer(header);
    if (!bearer.ok()) {
      ReplyError(req, res, WithCode(401, "unauthorized", std::string(bearer.status().message())));
      return false;
    }
    Result<std::optional<TokenInfo>> found = tokens_.Find(*bearer);
    if (!found.ok()) {
      // Whatever is wrong with the token file is the operator's problem.
      ReplyError(req, res, WithCode(500, "internal", found.status().ToString()));
      return false;
    }
    if (!*found) {
      ReplyError(req, res, WithCode(401, "unauthorized", "unknown token"));
      return false;
    }
    token = std::move(**found);
  }
  Status s = CheckAccess(token ? &*token : nullptr, need, options_.anonymous_pull);
  if (!s.ok()) {
    ReplyError(req, res, ApiErrorFromStatus(s));
    return false;
  }
  return true;
}

void Server::ReplyJson(Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void Server::ReplyError(const Request& req, Response& res, const ApiError& e) {
  ApiError shown = e;
  shown.message = Scrub(e.message);
  if (e.internal()) {
    uint64_t id = next_request_id_++;
    std::fprintf(stderr, "arca-registry: request %" PRIu64 ": %s %s -> %d: %s\n", id,
                 internal::Printable(req.method).c_str(), internal::Printable(req.path).c_str(), e.http,
                 internal::Printable(e.message).c_str());
    std::fflush(stderr);
    res.set_header("Arca-Request-Id", std::to_string(id));
  }
  if (e.http == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"arca\"");
  // A request with a body may be refused before the body is read; its bytes
  // must never be parsed as a next request on this connection.
  if (req.method != "GET" && req.method != "HEAD") internal::CloseAfterReply(res);
  // The error body is the whole response, whatever Range asked for.
  const_cast<Request&>(req).ranges.clear();
  res.status = e.http;
  res.set_content(ApiErrorBody(shown), "application/json");
}

std::optional<std::string> Server::ReadBody(const Request& req, Response& res, const ContentReader& reader,
                                            uint64_t limit) {
  std::variant<uint64_t, ApiError> announced = internal::AnnouncedLength(req, limit);
  if (const ApiError* e = std::get_if<ApiError>(&announced)) {
    ReplyError(req, res, *e);
    return std::nullopt;
  }
  const uint64_t length = std::get<uint64_t>(announced);
  std::string body;
  body.reserve(length);
  bool ok = reader([&](const char* data, size_t n) {
    if (n > length - body.size()) return false;  // more than announced
    body.append(data, n);
    return true;
  });
  if (!ok || body.size() != length) {
    ReplyError(req, res, BadRequest("the body does not match its Content-Length of " + std::to_string(length)));
    return std::nullopt;
  }
  return body;
}

std::string Server::Scrub(std::string message) const {
  for (size_t at; !data_dir_.empty() && (at = message.find(data_dir_)) != std::string::npos;) {
    message.replace(at, data_dir_.size(), "<data>");
  }
  return message;
}

}  // namespace arca::registry
