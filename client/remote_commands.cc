// login, logout, ls, inspect, tag, rm.
#include "client/remote_commands.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "client/credentials.h"
#include "client/reference.h"
#include "client/remote.h"
#include "format/manifest.h"

namespace arca::client {

using Json = nlohmann::json;

namespace {

int Usage(std::ostream& err, const Status& s) {
  ReportFailure(err, s);
  return 2;
}

}  // namespace

// A publisher's text made safe for a terminal: C0 and C1 control characters
// (which include escape sequences) become '?'.
std::string SafeText(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    uint8_t c = uint8_t(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else if (c == 0xc2 && i + 1 < s.size() && uint8_t(s[i + 1]) >= 0x80 && uint8_t(s[i + 1]) <= 0x9f) {
      out += '?';
      ++i;
    } else {
      out += char(c);
    }
  }
  return out;
}

// Resolves a reference to a bundle digest: its @digest, else its tag.
Result<Digest> ResolveDigest(Remote& remote, const Reference& ref) {
  if (ref.digest) return *ref.digest;
  return remote.GetTag(ref.repository, ref.tag);
}

int LoginCommand(const StoreOptions& so, const LoginOptions& lo, std::istream& in, std::ostream& out,
                 std::ostream& err) {
  Result<Registry> reg = ParseRegistry(lo.registry, InsecureHttpFromEnv());
  if (!reg.ok()) return Usage(err, reg.status());
  if (lo.token_stdin == !lo.token.empty()) {
    return Usage(err, InvalidArgumentError("give the token with exactly one of --token T or --token-stdin"));
  }
  std::string token = lo.token;
  if (lo.token_stdin) {
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  }
  if (Status s = ValidateToken(token); !s.ok()) return ReportFailure(err, s);
  const std::string path = DefaultCredentialsPath();
  Result<Credentials> creds = Credentials::Load(path);
  if (!creds.ok()) return ReportFailure(err, creds.status());
  creds->Set(reg->Address(), token);
  if (Status s = creds->Save(path); !s.ok()) return ReportFailure(err, s);
  if (so.json) {
    out << Json{{"registry", reg->Address()}, {"credentials", path}}.dump() << "\n";
  } else if (!so.quiet) {
    out << "saved a token for " << reg->Address() << " in " << path << " (mode 0600)\n";
  }
  return 0;
}

int LogoutCommand(const StoreOptions& so, const std::string& registry, std::ostream& out, std::ostream& err) {
  Result<Registry> reg = ParseRegistry(registry, InsecureHttpFromEnv());
  if (!reg.ok()) return Usage(err, reg.status());
  const std::string path = DefaultCredentialsPath();
  Result<Credentials> creds = Credentials::Load(path);
  if (!creds.ok()) return ReportFailure(err, creds.status());
  bool removed = creds->Remove(reg->Address());
  if (removed) {
    if (Status s = creds->Save(path); !s.ok()) return ReportFailure(err, s);
  }
  if (so.json) {
    out << Json{{"registry", reg->Address()}, {"removed", removed}}.dump() << "\n";
  } else if (!so.quiet) {
    out << (removed ? "removed the token for " : "no token was stored for ") << reg->Address() << "\n";
  }
  return 0;
}

int ListCommand(const StoreOptions& so, const std::string& where, const std::string& filter, std::ostream& out,
                std::ostream& err) {
  Result<RegistryPath> rp = ParseRegistryPath(where, InsecureHttpFromEnv());
  if (!rp.ok()) return Usage(err, rp.status());
  Result<Endpoint> ep = EndpointFor(rp->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  if (rp->path.find('/') != std::string::npos) {  // a repository: its tags
    Result<std::vector<TagInfo>> tags = remote.ListTags(rp->path);
    if (!tags.ok()) return ReportFailure(err, tags.status());
    if (so.json) {
      Json arr = Json::array();
      for (const TagInfo& t : *tags) arr.push_back(Json{{"tag", t.tag}, {"digest", t.digest.ToString()}});
      out << Json{{"repository", rp->path}, {"tags", arr}}.dump() << "\n";
      return 0;
    }
    for (const TagInfo& t : *tags) out << t.digest.ToString() << "  " << rp->path << ":" << t.tag << "\n";
    return 0;
  }
  Result<std::vector<RepositoryInfo>> repos = remote.ListRepositories(rp->path, filter);
  if (!repos.ok()) return ReportFailure(err, repos.status());
  if (so.json) {
    Json arr = Json::array();
    for (const RepositoryInfo& r : *repos) arr.push_back(Json{{"name", r.name}, {"tags", r.tags}});
    out << Json{{"repositories", arr}}.dump() << "\n";
    return 0;
  }
  if (repos->empty() && !so.quiet) err << "no repositories" << (rp->path.empty() ? "" : " in " + rp->path) << "\n";
  for (const RepositoryInfo& r : *repos) {
    out << r.name << "  (" << r.tags << (r.tags == 1 ? " tag" : " tags") << ")\n";
  }
  return 0;
}

int InspectCommand(const StoreOptions& so, const std::string& text, std::ostream& out, std::ostream& err) {
  Result<Reference> ref = ParseReference(text, InsecureHttpFromEnv());
  if (!ref.ok()) return Usage(err, ref.status());
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> d = ResolveDigest(remote, *ref);
  if (!d.ok()) return ReportFailure(err, d.status());
  Result<std::string> bytes = remote.GetObject(*d, format::kMaxManifestBytes);
  if (!bytes.ok()) return ReportFailure(err, bytes.status());
  Result<format::Manifest> m = format::Manifest::Parse(*bytes);
  if (!m.ok()) return ReportFailure(err, m.status().WithContext("manifest " + d->ToString()));
  if (so.json) {
    out << Json{{"ref", ref->ToString()}, {"digest", d->ToString()}, {"manifest", Json::parse(*bytes)}}.dump() << "\n";
    return 0;
  }
  const format::Metadata& meta = m->meta;
  out << "bundle     " << d->ToString() << "\n"
      << "name       " << SafeText(meta.name) << "\n";
  if (!meta.version.empty()) out << "version    " << SafeText(meta.version) << "\n";
  if (!meta.publisher.empty()) out << "publisher  " << SafeText(meta.publisher) << "\n";
  if (!meta.created.empty()) out << "created    " << SafeText(meta.created) << "\n";
  if (meta.license.spdx.empty()) {
    out << "license    (none stated)\n";
  } else {
    out << "license    " << SafeText(meta.license.spdx) << (meta.license.file.empty() ? "" : " (" + SafeText(meta.license.file) + ")")
        << "\n";
  }
  if (!meta.provenance.source.empty()) {
    out << "source     " << SafeText(meta.provenance.source)
        << (meta.provenance.revision.empty() ? "" : " @ " + SafeText(meta.provenance.revision)) << "\n";
  }
  for (const Digest& b : meta.provenance.base_models) out << "base model " << b.ToString() << "\n";
  for (const std::string& ds : meta.provenance.datasets) out << "dataset    " << SafeText(ds) << "\n";
  uint64_t total = 0;
  for (const auto& f : m->files) total += f.size;
  out << "files      " << m->files.size() << ", " << HumanBytes(total) << "\n";
  for (const auto& f : m->files) {
    char size[32];
    std::snprintf(size, sizeof size, "%12s", HumanBytes(f.size).c_str());
    out << "  " << size << "  " << SafeText(f.media_type) << "  " << SafeText(f.path) << "\n";
  }
  return 0;
}

int TagCommand(const StoreOptions& so, const std::string& src, const std::string& new_tag, std::ostream& out,
               std::ostream& err) {
  Result<Reference> ref = ParseReference(src, InsecureHttpFromEnv());
  if (!ref.ok()) return Usage(err, ref.status());
  Reference dst = *ref;
  dst.digest.reset();
  if (new_tag.find('/') != std::string::npos) {
    Result<Reference> full = ParseReference(new_tag, InsecureHttpFromEnv());
    if (!full.ok()) return Usage(err, full.status());
    if (full->registry.Address() != ref->registry.Address() || full->digest) {
      return Usage(err, InvalidArgumentError("the new tag must be on the same registry as " + ref->ToString() +
                                             " and name a tag, not a digest"));
    }
    dst = *full;
  } else {
    if (Status s = ValidateTag(new_tag); !s.ok()) return Usage(err, s);
    dst.tag = new_tag;
    dst.tag_given = true;
  }
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> d = ResolveDigest(remote, *ref);
  if (!d.ok()) return ReportFailure(err, d.status());
  Result<std::optional<Digest>> prev = remote.PutTag(dst.repository, dst.tag, *d);
  if (!prev.ok()) return ReportFailure(err, prev.status());
  if (so.json) {
    out << Json{{"ref", dst.ToString()},
                {"digest", d->ToString()},
                {"previous", *prev ? Json((*prev)->ToString()) : Json(nullptr)}}
               .dump()
        << "\n";
  } else if (!so.quiet) {
    out << dst.ToString() << " -> " << d->ToString();
    if (*prev && **prev != *d) out << " (was " << (*prev)->ToString() << ")";
    out << "\n";
  }
  return 0;
}

int RemoveTagCommand(const StoreOptions& so, const std::string& text, std::ostream& out, std::ostream& err) {
  Result<Reference> ref = ParseReference(text, InsecureHttpFromEnv());
  if (!ref.ok()) return Usage(err, ref.status());
  if (ref->digest || !ref->tag_given) {
    return Usage(err, InvalidArgumentError("name the tag to remove explicitly, e.g. " + ref->registry.Address() +
                                           "/" + ref->repository + ":v1 (only tags are removed; data goes at gc)"));
  }
  Result<Endpoint> ep = EndpointFor(ref->registry);
  if (!ep.ok()) return ReportFailure(err, ep.status());
  Remote remote(*ep);
  Result<Digest> d = remote.DeleteTag(ref->repository, ref->tag);
  if (!d.ok()) return ReportFailure(err, d.status());
  if (so.json) {
    out << Json{{"ref", ref->ToString()}, {"digest", d->ToString()}}.dump() << "\n";
  } else if (!so.quiet) {
    out << "removed tag " << ref->ToString() << " (it named " << d->ToString() << ")\n";
  }
  return 0;
}

}  // namespace arca::client
