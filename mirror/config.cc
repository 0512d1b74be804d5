// Strict parsing of the mirror configuration (config.h, PROTOCOL.md §2).
#include "mirror/config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <set>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "signing/note.h"
#include "signing/policy.h"

namespace arca::mirror {

namespace {

using Json = nlohmann::json;

constexpr int kMaxJsonDepth = 16;        // the format needs 4 levels
constexpr size_t kMaxPathBytes = 4096;   // PATH_MAX
constexpr uint64_t kMaxTokenBytes = 64 << 10;
constexpr uint64_t kNoMax = UINT64_MAX;

// `s` with control characters replaced, safe to print on a terminal.
std::string Printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string Quote(std::string_view s) { return "\"" + Printable(s) + "\""; }

// How messages name a field: `<where>: "<field>"`.
std::string At(const std::string& where, std::string_view field) { return where + ": " + Quote(field); }

// A JSON value as a message shows it, cut short.
std::string Shown(const Json& j) {
  std::string s = j.dump();
  if (s.size() <= 40) return Printable(s);
  return j.is_array() ? "a list of " + std::to_string(j.size()) + " entries" : Printable(s.substr(0, 40)) + "...";
}

// Parses `text`, refusing repeated keys in any object (two parsers could
// each take a different one) and absurd nesting; never throws.
Result<Json> ParseStrict(std::string_view text, const std::string& source) {
  std::vector<std::set<std::string>> open;  // keys seen, per open object
  std::string problem;
  Json::parser_callback_t cb = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxJsonDepth && problem.empty()) {
      problem = "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    }
    if (event == Json::parse_event_t::object_start) open.emplace_back();
    if (event == Json::parse_event_t::object_end && !open.empty()) open.pop_back();
    if (event == Json::parse_event_t::key && !open.empty() && parsed.is_string() &&
        !open.back().insert(parsed.get<std::string>()).second && problem.empty()) {
      problem = "repeats the key " + Quote(parsed.get<std::string>()) + " in one object";
    }
    return true;
  };
  Json j = Json::parse(text, cb, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(source + " is not valid JSON");
  if (!problem.empty()) return InvalidArgumentError(source + " " + problem);
  return j;
}

Status OnlyFields(const Json& obj, std::initializer_list<std::string_view> allowed, const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (known) continue;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return InvalidArgumentError(where + ": unknown field " + Quote(it.key()) + " (allowed: " + list + ")");
  }
  return Status::Ok();
}

Status RequireObject(const Json& j, const std::string& where) {
  if (j.is_object()) return Status::Ok();
  return InvalidArgumentError(where + " is " + Shown(j) + ", not a JSON object");
}

// A string field of 1..max bytes; nullopt when absent.
Result<std::optional<std::string>> OptString(const Json& obj, std::string_view field, size_t max,
                                             const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) return std::optional<std::string>();
  const std::string& s = it->is_string() ? it->get_ref<const std::string&>() : std::string();
  if (s.empty() || s.size() > max) {
    return InvalidArgumentError(At(where, field) + " is " + Shown(*it) + "; allowed: a string of 1 to " +
                                std::to_string(max) + " bytes");
  }
  return std::optional<std::string>(s);
}

Result<std::string> ReqString(const Json& obj, std::string_view field, size_t max, const std::string& where) {
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(obj, field, max, where));
  if (!s) return InvalidArgumentError(where + ": missing " + Quote(field));
  return std::move(*s);
}

// An integer field in [lo, hi]; `def` when absent.
Result<uint64_t> Uint(const Json& obj, std::string_view field, uint64_t def, uint64_t lo, uint64_t hi,
                      const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) return def;
  if (it->is_number_unsigned() && it->get<uint64_t>() >= lo && it->get<uint64_t>() <= hi) {
    return it->get<uint64_t>();
  }
  const std::string allowed = hi != kNoMax ? "an integer from " + std::to_string(lo) + " to " + std::to_string(hi)
                              : lo == 0   ? std::string("a non-negative integer")
                                          : "an integer of at least " + std::to_string(lo);
  return InvalidArgumentError(At(where, field) + " is " + Shown(*it) + "; allowed: " + allowed);
}

Result<bool> Bool(const Json& obj, std::string_view field, const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return InvalidArgumentError(At(where, field) + " is " + Shown(*it) + "; allowed: true or false");
}

// A list of strings (kMaxListEntries of kMaxListEntryBytes); `def` when absent.
Result<std::vector<std::string>> List(const Json& obj, std::string_view field, std::vector<std::string> def,
                                      const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) return def;
  if (!it->is_array() || it->size() > kMaxListEntries) {
    return InvalidArgumentError(At(where, field) + " is " + Shown(*it) + "; allowed: a list of at most " +
                                std::to_string(kMaxListEntries) + " strings");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    const size_t size = v.is_string() ? v.get_ref<const std::string&>().size() : 0;
    if (size == 0 || size > kMaxListEntryBytes) {
      return InvalidArgumentError(At(where, field) + "[" + std::to_string(i) + "] is " + Shown(v) +
                                  "; allowed: a string of 1 to " + std::to_string(kMaxListEntryBytes) + " bytes");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Repository globs (signing/policy.h). A namespace has no '/', so a
// namespace glob holding one could never match: refuse it.
Result<std::vector<std::string>> Globs(const Json& obj, std::string_view field, std::vector<std::string> def,
                                       const std::string& where, bool is_namespace = false) {
  ARCA_ASSIGN_OR_RETURN(std::vector<std::string> globs, List(obj, field, std::move(def), where));
  for (size_t i = 0; i < globs.size(); ++i) {
    const std::string at = At(where, field) + "[" + std::to_string(i) + "]";
    ARCA_RETURN_IF_ERROR(signing::ValidatePattern(globs[i]).WithContext(at));
    if (is_namespace && globs[i].find('/') != std::string::npos) {
      return InvalidArgumentError(at + " " + Quote(globs[i]) + " holds '/'; a namespace is the part of a "
                                  "repository name before the first '/' (put full names in \"repositories\")");
    }
  }
  return globs;
}

bool AnyGlob(const std::vector<std::string>& globs, std::string_view name) {
  for (const std::string& g : globs) {
    if (signing::GlobMatch(g, name)) return true;
  }
  return false;
}

std::string Resolve(const std::string& base_dir, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path.string() : abs.string();
}

// An optional path field, resolved; empty when absent.
Result<std::string> Path(const Json& obj, std::string_view field, const std::string& base_dir,
                         const std::string& where) {
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> p, OptString(obj, field, kMaxPathBytes, where));
  return p ? Resolve(base_dir, *p) : std::string();
}

// Opens a referenced file and checks that it is a regular file; `at` names
// the field. The descriptor is returned so that checks and reads see one file.
Result<UniqueFd> OpenReferenced(const std::string& path, const std::string& at, struct stat* st) {
  Result<UniqueFd> fd = OpenForRead(path);
  if (!fd.ok()) return fd.status().WithContext(at);
  if (::fstat(fd->get(), st) != 0) return ErrnoToStatus(errno, at + ": stat " + path);
  if (!S_ISREG(st->st_mode)) return InvalidArgumentError(at + ": " + Printable(path) + " is not a regular file");
  return fd;
}

Status CheckReadable(const std::string& path, const std::string& at) {
  struct stat st;
  return OpenReferenced(path, at, &st).status();
}

// The pull token: the file's content without surrounding white space. The
// file must be private, since the token grants access to the upstream.
Result<std::string> ReadToken(const std::string& path, const std::string& at) {
  struct stat st;
  ARCA_ASSIGN_OR_RETURN(UniqueFd fd, OpenReferenced(path, at, &st));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    return FailedPreconditionError(at + ": " + Printable(path) + " has mode " + mode +
                                   ", open to group or others; run chmod 600 " + Printable(path));
  }
  if (uint64_t(st.st_size) > kMaxTokenBytes) {
    return InvalidArgumentError(at + ": " + Printable(path) + " is larger than " +
                                std::to_string(kMaxTokenBytes) + " bytes");
  }
  std::string token(size_t(st.st_size), '\0');
  ARCA_RETURN_IF_ERROR(
      PreadAll(fd.get(), std::span<uint8_t>(reinterpret_cast<uint8_t*>(token.data()), token.size()), 0, path));
  const size_t begin = token.find_first_not_of(" \t\r\n");
  token = begin == std::string::npos ? "" : token.substr(begin, token.find_last_not_of(" \t\r\n") + 1 - begin);
  // It goes into an Authorization header: one line of visible characters.
  bool visible = !token.empty();
  for (char c : token) visible = visible && c > 0x20 && c < 0x7f;
  if (!visible) {
    return InvalidArgumentError(at + ": " + Printable(path) + " must hold one token (visible ASCII, no spaces)");
  }
  return token;
}

// A log's verifier key (LOG.md §5); returns its name, the log's origin.
Result<std::string> LogOrigin(const std::string& vkey, const std::string& at) {
  Result<signing::NoteVerifier> v = signing::ParseVerifierKey(vkey);
  const std::string hint = " (give the log's verifier key, as `arca-registry log-key` prints it)";
  if (!v.ok()) return InvalidArgumentError(at + ": " + std::string(v.status().message()) + hint);
  if (v->type != signing::NoteSignatureType::kCosignatureV1) {
    return InvalidArgumentError(at + " is not a log key: its type is not cosignature/v1 (0x04)" + hint);
  }
  return v->name;
}

Result<client::Registry> ParseUrl(const std::string& url, const std::string& at) {
  const std::string allowed = "; allowed: https://HOST[:PORT], or http://HOST[:PORT] for a loopback host";
  std::string_view text = url;
  if (text.ends_with('/')) text.remove_suffix(1);
  if (text.find("://") == std::string_view::npos) return InvalidArgumentError(at + " is " + Quote(url) + allowed);
  Result<client::Registry> r = client::ParseRegistry(text, /*insecure_http=*/false);
  if (!r.ok()) return InvalidArgumentError(at + ": " + std::string(r.status().message()) + allowed);
  // Plain http is only safe where nobody sits between the two ends.
  if (r->scheme == "http" && !client::IsLoopbackHost(r->host)) {
    return InvalidArgumentError(at + " is " + Quote(url) + ": http:// is allowed only for loopback hosts "
                                "(127.0.0.0/8, localhost, [::1]); use https://");
  }
  return r;
}

Result<RetryConfig> ParseRetry(const Json& obj, const std::string& where) {
  RetryConfig r;
  auto it = obj.find("retry");
  if (it == obj.end()) return r;
  const std::string at = At(where, "retry");
  ARCA_RETURN_IF_ERROR(RequireObject(*it, at));
  ARCA_RETURN_IF_ERROR(OnlyFields(*it, {"initial_seconds", "max_seconds", "attempts"}, at));
  ARCA_ASSIGN_OR_RETURN(r.initial_seconds, Uint(*it, "initial_seconds", r.initial_seconds, 1, 3600, at));
  ARCA_ASSIGN_OR_RETURN(r.max_seconds, Uint(*it, "max_seconds", r.max_seconds, r.initial_seconds, 86400, at));
  ARCA_ASSIGN_OR_RETURN(r.attempts, Uint(*it, "attempts", r.attempts, 1, 100, at));
  return r;
}

// Each entry a single SPDX licence id, as the policy's allow lists.
Status CheckLicenseIds(const std::vector<std::string>& ids, const std::string& at) {
  for (const std::string& id : ids) {
    Result<std::unique_ptr<signing::LicenseExpr>> e = signing::ParseLicenseExpression(id);
    if (!e.ok() || (*e)->kind != signing::LicenseExpr::Kind::kId) {
      return InvalidArgumentError(at + ": " + Quote(id) + " is not a single SPDX licence id (e.g. \"MIT\")");
    }
  }
  return Status::Ok();
}

// The "policy" of `j` (an upstream or import), else the top-level one.
Result<std::string> PolicyOrDefault(const Json& j, const MirrorConfig& config, const std::string& base_dir,
                                    const std::string& where) {
  ARCA_ASSIGN_OR_RETURN(std::string policy, Path(j, "policy", base_dir, where));
  if (!policy.empty()) {
    ARCA_RETURN_IF_ERROR(CheckReadable(policy, At(where, "policy")));
    return policy;
  }
  if (config.policy.empty()) {
    return InvalidArgumentError(where + ": no \"policy\" here and no top-level \"policy\"; give one of the two");
  }
  return config.policy;  // checked when the top level was parsed
}

bool IsValidName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '_' && name[0] != '-';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  return ok;
}

// Where to fetch from and what to trust: url, token, CA, log key, policy.
Status ParseAccess(const Json& j, const MirrorConfig& config, const std::string& base_dir, const std::string& where,
                   UpstreamConfig* u) {
  ARCA_ASSIGN_OR_RETURN(u->url, ReqString(j, "url", 1024, where));
  ARCA_ASSIGN_OR_RETURN(u->registry, ParseUrl(u->url, At(where, "url")));
  ARCA_ASSIGN_OR_RETURN(std::string token_file, Path(j, "token_file", base_dir, where));
  if (!token_file.empty()) {
    ARCA_ASSIGN_OR_RETURN(u->token, ReadToken(token_file, At(where, "token_file")));
  }
  ARCA_ASSIGN_OR_RETURN(u->ca_file, Path(j, "ca_file", base_dir, where));
  if (!u->ca_file.empty()) ARCA_RETURN_IF_ERROR(CheckReadable(u->ca_file, At(where, "ca_file")));
  ARCA_ASSIGN_OR_RETURN(u->log_key, ReqString(j, "log_key", 1024, where));
  ARCA_ASSIGN_OR_RETURN(u->origin, LogOrigin(u->log_key, At(where, "log_key")));
  ARCA_ASSIGN_OR_RETURN(u->policy, PolicyOrDefault(j, config, base_dir, where));
  return Status::Ok();
}

// What to take: repository globs, tag regex, licences, deletes.
Status ParseFilters(const Json& j, const std::string& where, UpstreamConfig* u) {
  ARCA_ASSIGN_OR_RETURN(u->namespaces, Globs(j, "namespaces", u->namespaces, where, /*is_namespace=*/true));
  ARCA_ASSIGN_OR_RETURN(u->repositories, Globs(j, "repositories", u->repositories, where));
  ARCA_ASSIGN_OR_RETURN(u->exclude, Globs(j, "exclude", u->exclude, where));
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> tags, OptString(j, "tags", kMaxTagPatternBytes, where));
  if (tags) {
    try {
      u->tag_regex = std::regex(*tags, std::regex::ECMAScript);
    } catch (const std::exception& e) {  // regex_error, or bad_alloc for a huge automaton
      return InvalidArgumentError(At(where, "tags") + " " + Quote(*tags) +
                                  " is not a usable ECMAScript regular expression: " + e.what());
    }
    u->tags = *tags;
  }
  ARCA_ASSIGN_OR_RETURN(u->licenses, List(j, "licenses", {}, where));
  ARCA_RETURN_IF_ERROR(CheckLicenseIds(u->licenses, At(where, "licenses")));
  ARCA_ASSIGN_OR_RETURN(u->follow_deletes, Bool(j, "follow_deletes", where));
  return Status::Ok();
}

// How often and how hard to pull.
Status ParseLimits(const Json& j, const std::string& where, UpstreamConfig* u) {
  ARCA_ASSIGN_OR_RETURN(u->interval_seconds, Uint(j, "interval_seconds", u->interval_seconds, 5, 604800, where));
  ARCA_ASSIGN_OR_RETURN(u->concurrency, Uint(j, "concurrency", u->concurrency, 1, 64, where));
  ARCA_ASSIGN_OR_RETURN(u->bandwidth_bytes_per_second, Uint(j, "bandwidth_bytes_per_second", 0, 0, kNoMax, where));
  ARCA_ASSIGN_OR_RETURN(u->timeout_seconds, Uint(j, "timeout_seconds", u->timeout_seconds, 5, 3600, where));
  ARCA_ASSIGN_OR_RETURN(u->retry, ParseRetry(j, where));
  ARCA_ASSIGN_OR_RETURN(u->max_checkpoint_age_seconds,
                        Uint(j, "max_checkpoint_age_seconds", u->max_checkpoint_age_seconds, 0, kNoMax, where));
  return Status::Ok();
}

Result<UpstreamConfig> ParseUpstream(const Json& j, size_t index, const MirrorConfig& config,
                                     const std::string& base_dir, const std::string& source) {
  std::string where = source + ": upstreams[" + std::to_string(index) + "]";
  ARCA_RETURN_IF_ERROR(RequireObject(j, where));
  UpstreamConfig u;
  ARCA_ASSIGN_OR_RETURN(u.name, ReqString(j, "name", 64, where));
  if (!IsValidName(u.name)) {
    return InvalidArgumentError(At(where, "name") + " is " + Quote(u.name) +
                                "; allowed: [a-z0-9][a-z0-9_-]{0,63}");
  }
  where += " " + Quote(u.name);
  ARCA_RETURN_IF_ERROR(OnlyFields(
      j, {"name", "url", "token_file", "ca_file", "log_key", "policy", "namespaces", "repositories", "exclude", "tags",
          "licenses", "follow_deletes", "interval_seconds", "concurrency", "bandwidth_bytes_per_second",
          "timeout_seconds", "retry", "max_checkpoint_age_seconds"},
      where));
  ARCA_RETURN_IF_ERROR(ParseAccess(j, config, base_dir, where, &u));
  ARCA_RETURN_IF_ERROR(ParseFilters(j, where, &u));
  ARCA_RETURN_IF_ERROR(ParseLimits(j, where, &u));
  return u;
}

Result<ImportConfig> ParseImport(const Json& j, const MirrorConfig& config, const std::string& base_dir,
                                 const std::string& source) {
  const std::string where = source + ": import";
  ARCA_RETURN_IF_ERROR(RequireObject(j, where));
  ARCA_RETURN_IF_ERROR(OnlyFields(j, {"policy", "log_keys", "repositories", "max_checkpoint_age_seconds"}, where));
  ImportConfig im;
  ARCA_ASSIGN_OR_RETURN(im.policy, PolicyOrDefault(j, config, base_dir, where));
  ARCA_ASSIGN_OR_RETURN(im.log_keys, List(j, "log_keys", {}, where));
  if (im.log_keys.empty()) {
    return InvalidArgumentError(At(where, "log_keys") + " is missing or empty; list the verifier keys of the logs "
                                "whose checkpoints archives may carry");
  }
  for (size_t i = 0; i < im.log_keys.size(); ++i) {
    ARCA_RETURN_IF_ERROR(LogOrigin(im.log_keys[i], At(where, "log_keys") + "[" + std::to_string(i) + "]").status());
  }
  ARCA_ASSIGN_OR_RETURN(im.repositories, Globs(j, "repositories", im.repositories, where));
  ARCA_ASSIGN_OR_RETURN(im.max_checkpoint_age_seconds, Uint(j, "max_checkpoint_age_seconds", 0, 0, kNoMax, where));
  return im;
}

// The top-level fields other than "upstreams" and "import".
Status ParseSite(const Json& j, const std::string& base_dir, const std::string& source, MirrorConfig* c) {
  ARCA_ASSIGN_OR_RETURN(std::string schema, ReqString(j, "schema", 64, source));
  if (schema != kMirrorConfigSchema) {
    return InvalidArgumentError(At(source, "schema") + " is " + Quote(schema) + "; expected \"" +
                                std::string(kMirrorConfigSchema) + "\"");
  }
  ARCA_ASSIGN_OR_RETURN(std::string data, ReqString(j, "data", kMaxPathBytes, source));
  c->data = Resolve(base_dir, data);
  ARCA_ASSIGN_OR_RETURN(c->policy, Path(j, "policy", base_dir, source));
  if (!c->policy.empty()) ARCA_RETURN_IF_ERROR(CheckReadable(c->policy, At(source, "policy")));
  ARCA_ASSIGN_OR_RETURN(c->key, Path(j, "key", base_dir, source));
  if (c->key.empty()) c->key = c->data + "/keys/mirror.key";  // created at first use
  ARCA_ASSIGN_OR_RETURN(c->bandwidth_bytes_per_second, Uint(j, "bandwidth_bytes_per_second", 0, 0, kNoMax, source));
  return Status::Ok();
}

Status ParseUpstreams(const Json& j, const std::string& base_dir, const std::string& source, MirrorConfig* c) {
  // An import-only site (an air-gapped one) follows no upstream.
  const size_t min = c->import ? 0 : 1;
  auto it = j.find("upstreams");
  if (it == j.end() && min == 0) return Status::Ok();
  if (it == j.end()) {
    return InvalidArgumentError(source + ": missing \"upstreams\" (1 to 64 upstream objects; none only with \"import\")");
  }
  if (!it->is_array() || it->size() < min || it->size() > kMaxUpstreams) {
    return InvalidArgumentError(At(source, "upstreams") + " is " + Shown(*it) + "; allowed: a list of " +
                                std::to_string(min) + " to " + std::to_string(kMaxUpstreams) + " upstream objects" +
                                (min == 0 ? "" : " (or none with \"import\", for an import-only site)"));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    ARCA_ASSIGN_OR_RETURN(UpstreamConfig u, ParseUpstream((*it)[i], i, *c, base_dir, source));
    if (c->Upstream(u.name) != nullptr) {
      return InvalidArgumentError(source + ": upstreams[" + std::to_string(i) + "]: the name " + Quote(u.name) +
                                  " is used twice; give each upstream its own name");
    }
    c->upstreams.push_back(std::move(u));
  }
  return Status::Ok();
}

Result<MirrorConfig> Parse(std::string_view text, const std::string& base_dir, const std::string& source) {
  if (text.size() > kMaxMirrorConfigBytes) {
    return InvalidArgumentError(source + " is larger than " + std::to_string(kMaxMirrorConfigBytes) + " bytes");
  }
  ARCA_ASSIGN_OR_RETURN(Json j, ParseStrict(text, source));
  ARCA_RETURN_IF_ERROR(RequireObject(j, source));
  ARCA_RETURN_IF_ERROR(OnlyFields(
      j, {"schema", "data", "policy", "key", "bandwidth_bytes_per_second", "upstreams", "import"}, source));
  MirrorConfig c;
  ARCA_RETURN_IF_ERROR(ParseSite(j, base_dir, source, &c));
  if (auto im = j.find("import"); im != j.end()) {
    ARCA_ASSIGN_OR_RETURN(c.import, ParseImport(*im, c, base_dir, source));
  }
  ARCA_RETURN_IF_ERROR(ParseUpstreams(j, base_dir, source, &c));
  return c;
}

}  // namespace

bool UpstreamConfig::SelectsRepository(std::string_view repository) const {
  const std::string_view ns = repository.substr(0, repository.find('/'));
  return AnyGlob(namespaces, ns) && AnyGlob(repositories, repository) && !AnyGlob(exclude, repository);
}

bool UpstreamConfig::SelectsTag(std::string_view tag) const {
  try {
    return std::regex_match(tag.begin(), tag.end(), tag_regex);
  } catch (const std::exception&) {
    return false;  // too complex to decide (libstdc++ gives up with error_complexity): not selected
  }
}

bool ImportConfig::SelectsRepository(std::string_view repository) const { return AnyGlob(repositories, repository); }

const UpstreamConfig* MirrorConfig::Upstream(std::string_view name) const {
  for (const UpstreamConfig& u : upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

Result<MirrorConfig> ParseMirrorConfig(std::string_view text, const std::string& base_dir) {
  return Parse(text, base_dir, "mirror config");
}

Result<MirrorConfig> LoadMirrorConfig(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  const std::string source = "mirror config " + Printable(path);
  if (ec) return InvalidArgumentError(source + ": " + ec.message());
  Result<std::string> text = ReadFile(abs.string(), kMaxMirrorConfigBytes);
  if (!text.ok()) return text.status().WithContext(source);
  ARCA_ASSIGN_OR_RETURN(MirrorConfig c, Parse(*text, abs.parent_path().string(), source));
  c.path = abs.string();
  return c;
}

}  // namespace arca::mirror
