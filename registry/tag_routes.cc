// Endpoints for names: tags (repository:tag -> bundle digest) and the list of
// repositories. Tags are the only namespaced data, so these are the only
// handlers that check a token's namespace.
#include <cstdio>
#include <ctime>
#include <map>

#include <nlohmann/json.hpp>

#include "format/manifest.h"
#include "registry/internal/http.h"
#include "registry/server.h"
#include "signing/dsse.h"

namespace arca::registry {
namespace {

using nlohmann::json;

// A validated "<repository>:<tag>" from a URL.
struct TagRef {
  std::string repository;  // "acme/llama"
  std::string tag;         // "v1"
  std::string ns;          // "acme"
  std::string ref() const { return repository + ":" + tag; }
};

// Checks a repository name: a bundle name with a namespace ("ns/name...").
Status ValidateRepository(std::string_view repository) {
  Status s = format::ValidateBundleName(repository);
  if (!s.ok()) return InvalidArgumentError("bad repository \"" + internal::Printable(repository) + "\"");
  if (repository.find('/') == std::string_view::npos) {
    return InvalidArgumentError("repository \"" + std::string(repository) + "\" must be namespace/name");
  }
  return Status::Ok();
}

std::string NamespaceOf(std::string_view repository) {
  return std::string(repository.substr(0, repository.find('/')));
}

Result<TagRef> ParseTagRef(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return InvalidArgumentError("\"" + internal::Printable(text) + "\" is not repository:tag");
  }
  TagRef r{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)), ""};
  ARCA_RETURN_IF_ERROR(ValidateRepository(r.repository));
  if (!store::ValidateRefName(r.ref()).ok()) {
    return InvalidArgumentError("bad tag \"" + internal::Printable(r.tag) +
                                "\" (1-128 of [A-Za-z0-9_.-], not starting with '.' or '-')");
  }
  r.ns = NamespaceOf(r.repository);
  return r;
}

json TagJson(const TagRef& r, const Digest& d) {
  return {{"repository", r.repository}, {"tag", r.tag}, {"digest", d.ToString()}};
}

}  // namespace

void Server::HandleGetTag(const Request& req, Response& res) {
  Result<TagRef> ref = ParseTagRef(req.matches[1].str());
  if (!ref.ok()) return ReplyError(req, res, ApiErrorFromStatus(ref.status()));
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  Result<Digest> d = store_->GetRef(ref->ref());
  if (!d.ok() && d.status().code() == StatusCode::kNotFound) {
    return ReplyError(req, res, WithCode(404, "not_found", "tag " + ref->ref() + " does not exist"));
  }
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));
  ReplyJson(res, 200, internal::Dump(TagJson(*ref, *d)));
}

void Server::HandlePutTag(const Request& req, Response& res, const ContentReader& reader) {
  Result<TagRef> ref = ParseTagRef(req.matches[1].str());
  if (!ref.ok()) return ReplyError(req, res, ApiErrorFromStatus(ref.status()));
  if (!Authorize(req, res, {Scope::kPush, ref->ns})) return;
  std::optional<std::string> body = ReadBody(req, res, reader, options_.limits.json_bytes);
  if (!body) return;
  Result<json> request = internal::ParseJsonObject(*body);
  if (!request.ok()) return ReplyError(req, res, ApiErrorFromStatus(request.status()));
  auto it = request->find("digest");
  if (it == request->end() || !it->is_string()) return ReplyError(req, res, BadRequest("\"digest\" must be a string"));
  Result<Digest> d = internal::ParseDigestText(it->get_ref<const std::string&>());
  if (!d.ok()) return ReplyError(req, res, ApiErrorFromStatus(d.status()));

  // The tag may only name a complete bundle: its manifest, every file index
  // and every chunk held.
  Result<store::ObjectKind> kind = store_->GetObjectKind(*d);
  if (!kind.ok() && kind.status().code() == StatusCode::kNotFound) {
    ApiError e = WithCode(409, "missing_objects", "manifest " + d->ToString() + " is not held");
    e.missing = {*d};
    return ReplyError(req, res, e);
  }
  if (!kind.ok()) return ReplyError(req, res, ApiErrorFromStatus(kind.status()));
  if (*kind != store::ObjectKind::kManifest) {
    return ReplyError(req, res, WithCode(400, "invalid_object", d->ToString() + " is not a manifest"));
  }
  std::vector<Digest> missing;
  Status complete = store_->CheckBundleComplete(*d, &missing);
  if (!complete.ok()) {
    ApiError e = ApiErrorFromStatus(complete);
    if (complete.code() == StatusCode::kFailedPrecondition) e.missing = std::move(missing);
    return ReplyError(req, res, e);
  }

  Result<std::optional<Digest>> previous = SetTag(ref->repository, ref->tag, *d);
  if (!previous.ok()) return ReplyError(req, res, WithCode(500, "internal", previous.status().ToString()));
  json reply = TagJson(*ref, *d);
  reply["previous"] = *previous ? json((*previous)->ToString()) : json(nullptr);
  ReplyJson(res, 200, internal::Dump(reply));
}

Result<std::optional<Digest>> Server::SetTag(const std::string& repository, const std::string& tag,
                                             const Digest& d) {
  const std::string name = repository + ":" + tag;
  ARCA_RETURN_IF_ERROR(store::ValidateRefName(name));
  ARCA_RETURN_IF_ERROR(store_->CheckBundleComplete(d));
  std::optional<Digest> previous;
  {
    std::lock_guard<std::mutex> lock(tag_mu_);
    Result<Digest> old = store_->GetRef(name);
    if (old.ok()) {
      previous = *old;
    } else if (old.status().code() != StatusCode::kNotFound) {
      return old.status();
    }
    ARCA_RETURN_IF_ERROR(store_->SetRef(name, d));
    // Visible only once logged: if the log cannot take it, the tag goes back.
    // Setting a tag to where it already points moves nothing and logs nothing.
    Status logged = previous == d ? Status::Ok() : LogEvents(PublishAndTagEntries(repository, tag, d, previous));
    if (!logged.ok()) {
      Status undo = previous ? store_->SetRef(name, *previous) : store_->DeleteRef(name);
      return InternalError(logged.ToString() + "; undo: " + undo.ToString());
    }
  }
  std::fprintf(stderr, "arca-registry: tag %s -> %s (was %s)\n", name.c_str(), d.ToString().c_str(),
               previous ? previous->ToString().c_str() : "unset");
  return previous;
}

Result<Digest> Server::DeleteTag(const std::string& repository, const std::string& tag) {
  const std::string name = repository + ":" + tag;
  Digest was;
  {
    std::lock_guard<std::mutex> lock(tag_mu_);
    ARCA_ASSIGN_OR_RETURN(was, store_->GetRef(name));
    ARCA_RETURN_IF_ERROR(store_->DeleteRef(name));
    Status logged =
        LogEvents({signing::TagEntry(uint64_t(::time(nullptr)), repository, tag, 0, std::nullopt, was)});
    if (!logged.ok()) {
      Status undo = store_->SetRef(name, was);
      return InternalError(logged.ToString() + "; undo: " + undo.ToString());
    }
  }
  std::fprintf(stderr, "arca-registry: tag %s deleted (was %s)\n", name.c_str(), was.ToString().c_str());
  return was;
}

void Server::HandleDeleteTag(const Request& req, Response& res, const ContentReader& reader) {
  Result<TagRef> ref = ParseTagRef(req.matches[1].str());
  if (!ref.ok()) return ReplyError(req, res, ApiErrorFromStatus(ref.status()));
  if (!Authorize(req, res, {Scope::kAdmin, ref->ns})) return;
  // A DELETE has no body; one that was sent anyway is read (within the JSON
  // limit) and ignored, so the connection stays in step.
  if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
    if (!ReadBody(req, res, reader, options_.limits.json_bytes)) return;
  }
  Result<Digest> was = DeleteTag(ref->repository, ref->tag);
  if (!was.ok() && was.status().code() == StatusCode::kNotFound) {
    return ReplyError(req, res, WithCode(404, "not_found", "tag " + ref->ref() + " does not exist"));
  }
  if (!was.ok()) return ReplyError(req, res, WithCode(500, "internal", was.status().ToString()));
  ReplyJson(res, 200, internal::Dump(TagJson(*ref, *was)));
}

void Server::HandleListRepository(const Request& req, Response& res) {
  const std::string repository = req.matches[1].str();
  Status valid = ValidateRepository(repository);
  if (!valid.ok()) return ReplyError(req, res, ApiErrorFromStatus(valid));
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  const std::string prefix = repository + ":";
  std::map<std::string, Digest> tags;  // sorted by tag
  for (const auto& [name, digest] : store_->ListRefs()) {
    if (name.compare(0, prefix.size(), prefix) == 0) tags.emplace(name.substr(prefix.size()), digest);
  }
  if (tags.empty()) {
    return ReplyError(req, res, WithCode(404, "not_found", "repository " + repository + " has no tags"));
  }
  json list = json::array();
  for (const auto& [tag, digest] : tags) list.push_back({{"tag", tag}, {"digest", digest.ToString()}});
  ReplyJson(res, 200, internal::Dump({{"repository", repository}, {"tags", std::move(list)}}));
}

void Server::HandleRepositories(const Request& req, Response& res) {
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  const std::string ns = req.get_param_value("namespace");
  const std::string q = req.get_param_value("q");
  std::map<std::string, uint64_t> counts;  // repository -> tags, sorted by name
  for (const auto& [name, digest] : store_->ListRefs()) {
    std::string repository = name.substr(0, name.rfind(':'));
    if (!ns.empty() && NamespaceOf(repository) != ns) continue;
    if (!q.empty() && repository.find(q) == std::string::npos) continue;
    ++counts[repository];
  }
  json list = json::array();
  for (const auto& [name, tags] : counts) list.push_back({{"name", name}, {"tags", tags}});
  ReplyJson(res, 200, internal::Dump({{"repositories", std::move(list)}}));
}

void Server::HandleLogTag(const Request& req, Response& res) {
  Result<TagRef> ref = ParseTagRef(req.matches[1].str());
  if (!ref.ok()) return ReplyError(req, res, ApiErrorFromStatus(ref.status()));
  if (!Authorize(req, res, {Scope::kPull, {}})) return;
  std::optional<TagHead> head = log_->Tag(ref->repository, ref->tag);
  if (!head) return ReplyError(req, res, WithCode(404, "not_found", "the log has no entry for tag " + ref->ref()));
  Result<std::string> entry = log_->Entry(head->index);
  if (!entry.ok()) return ReplyError(req, res, WithCode(500, "internal", entry.status().ToString()));
  json reply = {{"index", head->index}, {"sequence", head->sequence},
                {"entry", signing::Base64Encode(AsBytes(*entry))}};
  ReplyJson(res, 200, internal::Dump(reply));
}

}  // namespace arca::registry
