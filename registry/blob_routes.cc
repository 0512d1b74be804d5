// Endpoints for content-addressed data: which chunks are held and where,
// packs (ranged reads, streamed uploads) and objects (file indexes and
// manifests). docs/API.md is the contract; each handler follows its section.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "registry/internal/http.h"
#include "registry/ranges.h"
#include "registry/server.h"

namespace arca::registry {
namespace {

using nlohmann::json;

// Pack bytes are sent in pieces of at most this size.
constexpr size_t kSendPiece = 1 << 20;

std::string_view KindName(store::ObjectKind kind) {
  switch (kind) {
    case store::ObjectKind::kFileIndex: return "file-index";
    case store::ObjectKind::kManifest: return "manifest";
    case store::ObjectKind::kBlob: return "blob";
    case store::ObjectKind::kAttestation: return "attestation";
  }
  return "unknown";
}

// Removes a temporary file unless released (handed to the store, which then
// owns it).
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  std::string Release() { return std::exchange(path_, std::string()); }

 private:
  std::string path_;
};

// The code for a rejected upload: the pack's own fault, or the server's.
ApiError ErrorForIngest(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kDataLoss:
    case StatusCode::kOutOfRange:
      return WithCode(400, "invalid_pack", std::string(s.message()));
    default:
      // Disk full, I/O errors: not the client's fault, and not its business.
      return WithCode(500, "internal", s.ToString());
  }
}

ApiError ErrorForPutObject(const Status& s, std::vector<Digest> missing) {
  switch (s.code()) {
    case StatusCode::kFailedPrecondition: {
      ApiError e = WithCode(409, "missing_objects", std::string(s.message()));
      e.missing = std::move(missing);
      return e;
    }
    case StatusCode::kInvalidArgument:
    case StatusCode::kResourceExhausted:
      return WithCode(400, "invalid_object", std::string(s.message()));
    default:
      return ApiErrorFromStatus(s);
  }
}

}  // namespace

void Server::HandleChunksQuery(const Request& req, Response& res, const ContentReader& reader, bool locate) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  std::optional<std::string> body = ReadBody(req, res, reader, options_.limits.json_bytes);
  if (!body) return;
  Result<json> request = internal::ParseJsonObject(*body);
  if (!request.ok()) return ReplyError(req, res, ApiErrorFromStatus(request.status()));
  Result<std::vector<Digest>> digests = internal::ParseDigestList(*request, options_.limits.digests_per_request);
  if (!digests.ok()) return ReplyError(req, res, ApiErrorFromStatus(digests.status()));

  std::vector<std::optional<store::ChunkLocation>> found = store_->FindChunks(*digests);
  json missing = json::array();
  json chunks = json::array();
  for (size_t i = 0; i < found.size(); ++i) {
    if (!found[i]) {
      missing.push_back((*digests)[i].ToString());
    } else if (locate) {
      const format::PackEntry& e = found[i]->entry;
      chunks.push_back({{"digest", e.digest.ToString()},
                        {"pack", found[i]->pack.ToString()},
                        {"offset", e.offset},
                        {"stored", e.stored_len},
                        {"raw", e.raw_len},
                        {"codec", e.codec},
                        {"crc32c", e.crc32c}});
    }
  }
  json reply = locate ? json{{"chunks", std::move(chunks)}, {"missing", std::move(missing)}}
                      : json{{"missing", std::move(missing)}};
  ReplyJson(res, 200, internal::Dump(reply));
}

void Server::HandleGetPack(const Request& req, Response& res) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<Digest> d = internal::ParseDigestText(req.matches[1].str());
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));
  // Only packs with a record are served: a file in packs/ without one is an
  // orphan (an interrupted commit) that nothing vouches for.
  Result<store::PackInfo> info = store_->GetPack(*d);
  if (!info.ok()) return ReplyError(req, res, ApiErrorFromStatus(info.status()));

  const std::string path = store_->PackPath(*d);
  Result<UniqueFd> fd = OpenForRead(path);
  if (!fd.ok()) return ReplyError(req, res, WithCode(500, "internal", fd.status().ToString()));
  struct stat st;
  if (::fstat(fd->get(), &st) != 0 || uint64_t(st.st_size) != info->size) {
    return ReplyError(req, res, WithCode(500, "internal", path + ": size differs from the pack record"));
  }
  const uint64_t size = info->size;
  Status ranges = CheckRanges(req.ranges, size, options_.limits.ranges_per_request);
  if (!ranges.ok()) return ReplyError(req, res, ApiErrorFromStatus(ranges));

  // The provider runs after this handler returns, once per piece httplib
  // asks for; it owns the descriptor and a reusable buffer.
  auto file = std::make_shared<UniqueFd>(std::move(*fd));
  auto buffer = std::make_shared<std::vector<uint8_t>>();
  std::string what = d->ToString();
  res.set_header("Accept-Ranges", "bytes");
  res.set_content_provider(
      size, "application/octet-stream",
      [file, buffer, what](size_t offset, size_t length, httplib::DataSink& sink) {
        size_t n = std::min(length, kSendPiece);
        buffer->resize(n);
        Status s = PreadAll(file->get(), std::span<uint8_t>(buffer->data(), n), offset, what);
        if (!s.ok()) {
          std::fprintf(stderr, "arca-registry: reading pack %s: %s\n", what.c_str(), s.ToString().c_str());
          return false;  // httplib drops the connection: the client sees a short body
        }
        return sink.write(reinterpret_cast<const char*>(buffer->data()), n);
      });
}

void Server::HandleUploadPack(const Request& req, Response& res, const ContentReader& reader) {
  if (!Authorize(req, res, {Scope::kPush, {}})) return;
  std::variant<uint64_t, ApiError> announced = internal::AnnouncedLength(req, options_.limits.pack_bytes);
  if (const ApiError* e = std::get_if<ApiError>(&announced)) {
    return ReplyError(req, res, *e);
  }
  const uint64_t length = std::get<uint64_t>(announced);

  // Stream the body to a file under the store's tmp/: a pack is never held
  // whole in memory.
  TempFile tmp(store_->NewTempPath("upload"));
  UniqueFd fd(::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return ReplyError(req, res, WithCode(500, "internal", ErrnoToStatus(errno, tmp.path()).ToString()));
  uint64_t received = 0;
  Status written;
  bool ok = reader([&](const char* data, size_t n) {
    if (n > length - received) return false;  // more than announced
    written = WriteAll(fd.get(), ByteView(reinterpret_cast<const uint8_t*>(data), n), tmp.path());
    received += n;
    return written.ok();
  });
  if (!written.ok()) return ReplyError(req, res, WithCode(500, "internal", written.ToString()));
  if (!ok || received != length) {
    return ReplyError(req, res, BadRequest("the body ended after " + std::to_string(received) + " of " +
                                           std::to_string(length) + " bytes"));
  }
  // The store may keep this very file as the pack: make its bytes durable
  // before its chunks can be recorded.
  if (::fsync(fd.get()) != 0) {
    return ReplyError(req, res, WithCode(500, "internal", ErrnoToStatus(errno, "fsync " + tmp.path()).ToString()));
  }
  fd.Reset();

  Result<store::IngestResult> ingested = store_->IngestPack(tmp.Release());  // removes the file in all cases
  if (!ingested.ok()) return ReplyError(req, res, ErrorForIngest(ingested.status()));
  json reply = {{"pack", ingested->pack ? ingested->pack->ToString() : ""},
                {"chunks", ingested->chunks},
                {"new_chunks", ingested->new_chunks},
                {"stored_bytes", ingested->stored_bytes}};
  ReplyJson(res, 201, internal::Dump(reply));
}

void Server::HandlePutObject(const Request& req, Response& res, const ContentReader& reader) {
  if (!Authorize(req, res, {Scope::kPush, {}})) return;
  Result<Digest> d = internal::ParseDigestText(req.matches[1].str());
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));
  const std::string kind = req.get_param_value("kind");
  if (kind != "file-index" && kind != "manifest") {
    return ReplyError(req, res, BadRequest("kind must be file-index or manifest"));
  }
  const bool manifest = kind == "manifest";
  uint64_t limit = manifest ? options_.limits.manifest_bytes : options_.limits.object_bytes;
  std::optional<std::string> body = ReadBody(req, res, reader, limit);
  if (!body) return;

  Digest actual = Sha256Of(*body);
  if (actual != *d) {
    return ReplyError(req, res, WithCode(400, "digest_mismatch",
                                         "the body hashes to " + actual.ToString() + ", not " + d->ToString()));
  }
  std::vector<Digest> missing;
  Result<bool> added = manifest ? store_->PutManifest(*d, *body, &missing) : store_->PutFileIndex(*d, *body, &missing);
  if (!added.ok()) return ReplyError(req, res, ErrorForPutObject(added.status(), std::move(missing)));
  json reply = {{"digest", d->ToString()}, {"kind", kind}};
  ReplyJson(res, *added ? 201 : 200, internal::Dump(reply));
}

void Server::HandleGetObject(const Request& req, Response& res) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<Digest> d = internal::ParseDigestText(req.matches[1].str());
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));
  Result<store::ObjectKind> kind = store_->GetObjectKind(*d);
  if (!kind.ok()) return ReplyError(req, res, ApiErrorFromStatus(kind.status()));
  Result<std::string> bytes = store_->GetObject(*d, *kind);
  if (!bytes.ok()) return ReplyError(req, res, ApiErrorFromStatus(bytes.status()));
  res.status = 200;
  res.set_header("Arca-Object-Kind", std::string(KindName(*kind)));
  res.set_content(std::move(*bytes), "application/octet-stream");
}

}  // namespace arca::registry
