// The transparency log's endpoints (docs/API.md "The transparency log") and
// the server's two ways of writing to it: LogEvents from the handlers that
// accept events, and ReconcileLog at start. Reads need `pull`; nothing here
// writes except through those two.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <set>

#include <nlohmann/json.hpp>

#include "format/manifest.h"
#include "registry/internal/http.h"
#include "registry/server.h"
#include "signing/dsse.h"
#include "signing/keyfile.h"

namespace arca::registry {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxEntriesPerRequest = 1000;
// An idle log's checkpoint is re-signed when older than this (docs/API.md).
constexpr uint64_t kCheckpointRefreshSeconds = 60;

uint64_t Now() { return uint64_t(::time(nullptr)); }

// A decimal query parameter; nullopt when absent, an error when malformed.
Result<std::optional<uint64_t>> NumberParam(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::optional<uint64_t>();
  const std::string v = req.get_param_value(name);
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
    return InvalidArgumentError(std::string(name) + " must be a decimal number");
  }
  return std::optional<uint64_t>(n);
}

json HexList(const std::vector<Digest>& proof) {
  json out = json::array();
  for (const Digest& d : proof) out.push_back(d.Hex());
  return out;
}

std::string B64(const std::string& bytes) { return signing::Base64Encode(AsBytes(bytes)); }

// Whether a key id, as an envelope names it, can be a string of a log entry
// (signing/log_entry.h: printable UTF-8, at most kMaxLogString bytes). Asked
// of the encoder itself, so the two cannot disagree.
bool LoggableKeyId(const std::string& key_id) {
  return signing::PublishEntry(0, "x", Digest{}, {key_id}).Encode().ok();
}

}  // namespace

Status Server::LogEvents(const std::vector<signing::LogEntry>& entries) {
  Result<uint64_t> first = log_->Append(entries, Now());
  if (!first.ok()) {
    std::fprintf(stderr, "arca-registry: log append failed: %s\n", first.status().ToString().c_str());
    return first.status();
  }
  for (uint64_t i = *first; i < *first + entries.size(); ++i) {
    // As stored (tag entries got their sequence numbers in Append).
    Result<std::string> bytes = log_->Entry(i);
    Result<signing::LogEntry> e = bytes.ok() ? signing::LogEntry::Decode(*bytes) : bytes.status();
    std::fprintf(stderr, "arca-registry: log #%llu %s\n", static_cast<unsigned long long>(i),
                 e.ok() ? signing::DescribeLogEntry(*e).c_str() : e.status().ToString().c_str());
  }
  return Status::Ok();
}

Status Server::ReconcileLog() {
  std::vector<signing::LogEntry> missing;
  std::set<Digest> published;  // by entries in `missing`
  for (const auto& [ref, digest] : store_->ListRefs()) {
    const size_t colon = ref.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string repository = ref.substr(0, colon), tag = ref.substr(colon + 1);
    std::optional<Digest> logged;
    if (std::optional<TagHead> head = log_->Tag(repository, tag)) {
      ARCA_ASSIGN_OR_RETURN(std::string bytes, log_->Entry(head->index));
      ARCA_ASSIGN_OR_RETURN(signing::LogEntry e, signing::LogEntry::Decode(bytes));
      logged = e.digest;
    }
    if (logged == digest) continue;
    for (signing::LogEntry& e : PublishAndTagEntries(repository, tag, digest, logged)) {
      // Two tags may name one bundle the log has not seen: publish it once.
      if (e.type == signing::LogEntryType::kPublish && !published.insert(*e.bundle).second) continue;
      missing.push_back(std::move(e));
    }
  }
  // Tags the log says exist but the store no longer has: deleted just
  // before a crash that kept the deletion out of the log.
  ARCA_ASSIGN_OR_RETURN(auto logged_tags, log_->Tags());
  for (const auto& [ref, head] : logged_tags) {
    if (store_->GetRef(ref).ok()) continue;
    ARCA_ASSIGN_OR_RETURN(std::string bytes, log_->Entry(head.index));
    ARCA_ASSIGN_OR_RETURN(signing::LogEntry e, signing::LogEntry::Decode(bytes));
    if (!e.digest) continue;  // already logged as deleted
    missing.push_back(signing::TagEntry(Now(), e.repository, e.tag, 0, std::nullopt, e.digest));
  }
  if (missing.empty()) return Status::Ok();
  std::fprintf(stderr, "arca-registry: the log lacked %zu entries for tags changed before a crash; appending them\n",
               missing.size());
  return LogEvents(missing);
}

std::vector<signing::LogEntry> Server::PublishAndTagEntries(const std::string& repository, const std::string& tag,
                                                            const Digest& digest,
                                                            const std::optional<Digest>& previous) {
  std::vector<signing::LogEntry> out;
  const uint64_t now = Now();
  if (!log_->PublishIndex(digest)) {
    // The key ids the bundle's attestations name, as claimed (the registry
    // verifies no signature); one the log cannot hold is left out, so that
    // what a pusher attached can never keep the bundle from being tagged.
    std::vector<std::string> key_ids;
    Result<std::vector<Digest>> atts = store_->ListAttestations(digest);
    for (const Digest& a : atts.ok() ? *atts : std::vector<Digest>()) {
      Result<std::string> env = store_->GetObject(a, store::ObjectKind::kAttestation);
      if (!env.ok()) continue;
      Result<signing::Envelope> parsed = signing::ParseEnvelope(*env);
      if (!parsed.ok()) continue;
      for (const signing::Envelope::Sig& s : parsed->signatures) {
        if (key_ids.size() < signing::kMaxLogKeyIds && LoggableKeyId(s.keyid) &&
            std::find(key_ids.begin(), key_ids.end(), s.keyid) == key_ids.end()) {
          key_ids.push_back(s.keyid);
        }
      }
    }
    Result<format::Manifest> m = store_->GetManifest(digest);
    out.push_back(signing::PublishEntry(now, m.ok() ? m->meta.name : repository, digest, std::move(key_ids)));
  }
  out.push_back(signing::TagEntry(now, repository, tag, 0, digest, previous));
  return out;
}

void Server::HandleLogCheckpoint(const Request& req, Response& res) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<std::string> cp = log_->FreshCheckpoint(Now(), kCheckpointRefreshSeconds);
  if (!cp.ok()) return ReplyError(req, res, WithCode(500, "internal", cp.status().ToString()));
  res.status = 200;
  res.set_content(std::move(*cp), "text/plain; charset=utf-8");
}

void Server::HandleLogEntries(const Request& req, Response& res) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<std::optional<uint64_t>> start = NumberParam(req, "start");
  Result<std::optional<uint64_t>> end = NumberParam(req, "end");
  if (!start.ok()) return ReplyError(req, res, BadRequest(std::string(start.status().message())));
  if (!end.ok()) return ReplyError(req, res, BadRequest(std::string(end.status().message())));
  const uint64_t s = start->value_or(0);
  uint64_t e = end->value_or(s + kMaxEntriesPerRequest);
  const uint64_t size = log_->size();
  if (s >= size || e <= s) {
    return ReplyError(req, res, BadRequest("no entries in [" + std::to_string(s) + ", " + std::to_string(e) +
                                           "): the log has " + std::to_string(size)));
  }
  e = std::min({e, size, s + kMaxEntriesPerRequest});
  Result<std::vector<std::string>> entries = log_->Entries(s, e);
  if (!entries.ok()) return ReplyError(req, res, WithCode(500, "internal", entries.status().ToString()));
  json list = json::array();
  for (const std::string& bytes : *entries) list.push_back(B64(bytes));
  ReplyJson(res, 200, internal::Dump({{"start", s}, {"entries", std::move(list)}}));
}

void Server::HandleLogInclusion(const Request& req, Response& res) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<std::optional<uint64_t>> index = NumberParam(req, "index");
  Result<std::optional<uint64_t>> size = NumberParam(req, "size");
  if (!index.ok()) return ReplyError(req, res, BadRequest(std::string(index.status().message())));
  if (!size.ok() || !*size) return ReplyError(req, res, BadRequest("size is required, a decimal number"));
  uint64_t i = 0;
  if (req.has_param("hash")) {
    const std::string hex = req.get_param_value("hash");
    Result<Digest> d = Digest::Parse("sha256:" + hex);
    if (!d.ok()) return ReplyError(req, res, BadRequest("hash must be 64 lower-case hex digits"));
    Result<uint64_t> found = log_->IndexOfLeaf(*d);
    if (!found.ok()) return ReplyError(req, res, WithCode(404, "not_found", "no log entry has leaf hash " + hex));
    i = *found;
  } else if (*index) {
    i = **index;
  } else {
    return ReplyError(req, res, BadRequest("give index or hash"));
  }
  const uint64_t n = **size;
  if (n == 0 || n > log_->size() || i >= n) {
    return ReplyError(req, res, BadRequest("need index < size <= " + std::to_string(log_->size())));
  }
  Result<std::vector<Digest>> proof = log_->InclusionProof(i, n);
  Result<Digest> leaf = log_->LeafHash(i);
  if (!proof.ok() || !leaf.ok()) {
    return ReplyError(req, res, WithCode(500, "internal", (proof.ok() ? leaf.status() : proof.status()).ToString()));
  }
  ReplyJson(res, 200,
            internal::Dump({{"index", i}, {"size", n}, {"leaf_hash", leaf->Hex()}, {"proof", HexList(*proof)}}));
}

void Server::HandleLogConsistency(const Request& req, Response& res) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<std::optional<uint64_t>> from = NumberParam(req, "from");
  Result<std::optional<uint64_t>> to = NumberParam(req, "to");
  if (!from.ok() || !to.ok() || !*from || !*to) {
    return ReplyError(req, res, BadRequest("from and to are required, decimal numbers"));
  }
  const uint64_t m = **from, n = **to;
  if (m == 0 || m > n || n > log_->size()) {
    return ReplyError(req, res, BadRequest("need 1 <= from <= to <= " + std::to_string(log_->size())));
  }
  Result<std::vector<Digest>> proof = log_->ConsistencyProof(m, n);
  if (!proof.ok()) return ReplyError(req, res, WithCode(500, "internal", proof.status().ToString()));
  ReplyJson(res, 200, internal::Dump({{"from", m}, {"to", n}, {"proof", HexList(*proof)}}));
}

void Server::HandleLogBundle(const Request& req, Response& res) {
  Result<Digest> d = internal::ParseDigestText(req.matches[1].str());
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  std::optional<uint64_t> index = log_->PublishIndex(*d);
  if (!index) return ReplyError(req, res, WithCode(404, "not_found", "bundle " + d->ToString() + " was never published here"));
  Result<std::string> entry = log_->Entry(*index);
  if (!entry.ok()) return ReplyError(req, res, WithCode(500, "internal", entry.status().ToString()));
  ReplyJson(res, 200, internal::Dump({{"index", *index}, {"entry", B64(*entry)}}));
}

void Server::HandleLogKey(const Request& req, Response& res, const ContentReader& reader) {
  // Key events speak for the whole registry: an admin token for every namespace.
  if (!Authorize(req, res, {Scope::kAdmin, "*"})) return;
  std::optional<std::string> body = ReadBody(req, res, reader, options_.limits.json_bytes);
  if (!body) return;
  Result<json> j = internal::ParseJsonObject(*body);
  if (!j.ok()) return ReplyError(req, res, ApiErrorFromStatus(j.status()));
  signing::LogEntry e;
  e.type = signing::LogEntryType::kKey;
  e.time = Now();
  try {
    for (auto it = j->begin(); it != j->end(); ++it) {
      if (it.key() != "action" && it.key() != "key" && it.key() != "keyid" && it.key() != "name" &&
          it.key() != "reason") {
        return ReplyError(req, res, BadRequest("unknown field \"" + internal::Printable(it.key()) + "\""));
      }
    }
    const std::string action = j->value("action", "");
    if (action != "added" && action != "revoked") {
      return ReplyError(req, res, BadRequest("action must be \"added\" or \"revoked\""));
    }
    e.key_action = action == "added" ? signing::KeyAction::kAdded : signing::KeyAction::kRevoked;
    if (j->contains("key")) {
      Result<signing::PublicKey> pub = signing::ParsePublicKeyJson(j->at("key").dump(), &e.name);
      if (!pub.ok()) return ReplyError(req, res, BadRequest("key: " + std::string(pub.status().message())));
      e.key_id = signing::KeyId(*pub);
    } else if (e.key_action == signing::KeyAction::kRevoked && j->contains("keyid")) {
      Result<Digest> d = Digest::Parse("sha256:" + j->at("keyid").get<std::string>());
      if (!d.ok()) return ReplyError(req, res, BadRequest("keyid must be 64 lower-case hex digits"));
      e.key_id = *d;
    } else {
      return ReplyError(req, res, BadRequest("give \"key\" (the public key as `arca key export` prints it), "
                                             "or \"keyid\" to revoke a key whose public part is lost"));
    }
    if (j->contains("name")) e.name = j->at("name").get<std::string>();
    e.reason = j->value("reason", "");
  } catch (const json::exception&) {
    return ReplyError(req, res, BadRequest("name, reason and keyid must be strings"));
  }
  if (Result<std::string> bytes = e.Encode(); !bytes.ok()) {
    return ReplyError(req, res, BadRequest(std::string(bytes.status().message())));
  }
  Status logged = LogEvents({e});
  if (!logged.ok()) return ReplyError(req, res, WithCode(500, "internal", logged.ToString()));
  ReplyJson(res, 201, internal::Dump({{"key_id", e.key_id.Hex()}, {"action", e.key_action == signing::KeyAction::kAdded ? "added" : "revoked"}, {"size", log_->size()}}));
}

}  // namespace arca::registry
