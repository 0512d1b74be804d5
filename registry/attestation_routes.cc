// Endpoints for attestations: DSSE envelopes attached to a bundle. The
// registry checks their structure and that they name the bundle, and keeps
// them verbatim; it verifies no signature (clients do, with their own trust
// policy). Writing one needs push on the namespace of the bundle's name, as
// read from the held manifest. docs/API.md is the contract.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "format/manifest.h"
#include "format/path.h"
#include "registry/internal/attestation.h"
#include "registry/internal/http.h"
#include "registry/server.h"
#include "signing/dsse.h"
#include "signing/statement.h"

namespace arca::registry {
namespace {

using nlohmann::json;

ApiError ManifestUnknown(const Digest& d) {
  return WithCode(404, "manifest_unknown",
                  "bundle " + d.ToString() + " is not held here; push it before attaching attestations");
}

}  // namespace

void Server::HandlePutAttestation(const Request& req, Response& res, const ContentReader& reader) {
  Result<Digest> d = internal::ParseDigestText(req.matches[1].str());
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));
  // Any push token first, so that no one without one learns which bundles
  // are held; then the namespace, which only the manifest can tell.
  if (!Authorize(req, res, {Scope::kPush, {}})) return;
  Result<format::Manifest> manifest = store_->GetManifest(*d);
  // Not held, or held as another kind of object: either way no such bundle.
  if (!manifest.ok() && (manifest.status().code() == StatusCode::kNotFound ||
                         manifest.status().code() == StatusCode::kInvalidArgument)) {
    return ReplyError(req, res, ManifestUnknown(*d));
  }
  if (!manifest.ok()) return ReplyError(req, res, WithCode(500, "internal", manifest.status().ToString()));
  const std::string& name = manifest->meta.name;
  const std::string ns = name.substr(0, name.find('/'));
  if (!Authorize(req, res, {Scope::kPush, ns})) return;

  const uint64_t limit = std::min<uint64_t>(options_.limits.attestation_bytes, store::kMaxAttestationBytes);
  std::optional<std::string> body = ReadBody(req, res, reader, limit);
  if (!body) return;
  Result<bool> added = AttachAttestation(*d, *body);
  if (!added.ok()) {
    switch (added.status().code()) {
      case StatusCode::kFailedPrecondition:  // removed by gc since it was read
        return ReplyError(req, res, ManifestUnknown(*d));
      case StatusCode::kResourceExhausted:
        return ReplyError(req, res, WithCode(409, "too_many_attestations", std::string(added.status().message())));
      case StatusCode::kInvalidArgument:
        return ReplyError(req, res, WithCode(400, "attestation_invalid", std::string(added.status().message())));
      default:
        return ReplyError(req, res, WithCode(500, "internal", added.status().ToString()));
    }
  }
  ReplyJson(res, *added ? 201 : 200, internal::Dump({{"digest", Sha256Of(*body).ToString()}, {"created", *added}}));
}

Result<bool> Server::AttachAttestation(const Digest& bundle, std::string_view envelope_bytes) {
  ARCA_RETURN_IF_ERROR(internal::CheckAttestation(envelope_bytes, bundle));
  ARCA_ASSIGN_OR_RETURN(bool added, store_->PutAttestation(bundle, envelope_bytes));
  if (!added) return false;
  const Digest envelope = Sha256Of(envelope_bytes);
  std::vector<std::string> key_ids;
  std::string predicate_type;
  // Only what a log entry can hold (printable UTF-8, bounded): the rest
  // of an envelope is the clients' to judge, and must not stop logging.
  auto loggable = [](std::string_view v) {
    if (v.size() > signing::kMaxLogString || !format::IsValidUtf8(v)) return false;
    return std::none_of(v.begin(), v.end(), [](char c) { return uint8_t(c) < 0x20 || c == 0x7f; });
  };
  if (Result<signing::Envelope> env = signing::ParseEnvelope(envelope_bytes); env.ok()) {
    for (const signing::Envelope::Sig& s : env->signatures) {
      if (loggable(s.keyid) && key_ids.size() < signing::kMaxLogKeyIds) key_ids.push_back(s.keyid);
    }
    if (Result<signing::Statement> st = signing::ParseStatement(env->payload); st.ok()) {
      if (loggable(st->predicate_type)) predicate_type = st->predicate_type;
    }
  }
  Status logged = LogEvents({signing::AttestationEntry(uint64_t(::time(nullptr)), bundle, envelope, predicate_type,
                                                       std::move(key_ids))});
  if (!logged.ok()) return InternalError(logged.ToString());
  std::fprintf(stderr, "arca-registry: attestation %s attached to %s\n", envelope.ToString().c_str(),
               bundle.ToString().c_str());
  return true;
}

void Server::HandleGetAttestations(const Request& req, Response& res) {
  Result<Digest> d = internal::ParseDigestText(req.matches[1].str());
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<store::ObjectKind> kind = store_->GetObjectKind(*d);
  if ((!kind.ok() && kind.status().code() == StatusCode::kNotFound) ||
      (kind.ok() && *kind != store::ObjectKind::kManifest)) {
    return ReplyError(req, res, ManifestUnknown(*d));
  }
  if (!kind.ok()) return ReplyError(req, res, WithCode(500, "internal", kind.status().ToString()));
  Result<std::vector<Digest>> digests = store_->ListAttestations(*d);
  if (!digests.ok()) return ReplyError(req, res, WithCode(500, "internal", digests.status().ToString()));
  json list = json::array();
  for (const Digest& a : *digests) {
    Result<std::string> envelope = store_->GetObject(a, store::ObjectKind::kAttestation);
    // A listed envelope that cannot be read is damage for fsck, not something to skip quietly.
    if (!envelope.ok()) return ReplyError(req, res, WithCode(500, "internal", envelope.status().ToString()));
    list.push_back({{"digest", a.ToString()}, {"envelope", std::move(*envelope)}});
  }
  ReplyJson(res, 200, internal::Dump({{"attestations", std::move(list)}}));
}

}  // namespace arca::registry
