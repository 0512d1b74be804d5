// Parsing registry addresses and bundle references.
#include "client/reference.h"

#include <arpa/inet.h>

#include <cstdlib>

#include "format/manifest.h"

namespace arca::client {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(uint8_t(c)));
  return out;
}

bool IsIpv4(const std::string& host) {
  in_addr a;
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& host) {
  in6_addr a;
  return ::inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

// A DNS name: dot-separated labels of [a-z0-9-], none empty, none starting or
// ending with '-'.
bool IsDnsName(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t end = h.find('.', start);
    if (end == std::string_view::npos) end = h.size();
    std::string_view label = h.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    start = end + 1;
  }
  return true;
}

// `reference_example`: show what a whole reference looks like (else a registry).
Status Invalid(std::string_view what, std::string_view text, std::string_view why, bool reference_example = true) {
  std::string example = reference_example
                            ? "a reference looks like " + std::string(kReferenceExample)
                            : std::string("a registry looks like localhost:5000, [::1]:5000 or registry.example.org");
  return InvalidArgumentError("invalid " + std::string(what) + " \"" + std::string(text) + "\": " +
                              std::string(why) + " (" + example + ")");
}

// Splits off "http://" or "https://"; refuses other schemes.
Result<std::string> TakeScheme(std::string_view* text) {
  size_t sep = text->find("://");
  if (sep == std::string_view::npos) return std::string();
  std::string scheme = Lower(text->substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return InvalidArgumentError("unsupported scheme \"" + scheme + "://\" (use http:// or https://, or none)");
  }
  text->remove_prefix(sep + 3);
  return scheme;
}

// Parses "HOST[:PORT]" (no scheme, no path).
Result<Registry> ParseHostPort(std::string_view text, std::string scheme, bool insecure_http, bool in_reference) {
  auto Invalid = [in_reference](std::string_view what, std::string_view t, std::string_view why) {
    return client::Invalid(what, t, why, in_reference);
  };
  Registry r;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Invalid("registry", text, "missing ']' after an IPv6 address");
    r.host = Lower(text.substr(1, close - 1));
    if (!IsIpv6(r.host)) return Invalid("registry", text, "\"" + r.host + "\" is not an IPv6 address");
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Invalid("registry", text, "expected ':PORT' after ']'");
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = text.find(':');
    std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    r.host = Lower(host);
    if (r.host.empty()) return Invalid("registry", text, "the host is empty");
    if (IsIpv6(r.host)) return Invalid("registry", text, "write an IPv6 address in brackets, e.g. [::1]:5000");
    if (!IsIpv4(r.host) && !IsDnsName(r.host)) {
      return Invalid("registry", text, "\"" + std::string(host) + "\" is not a host name or IP address");
    }
  }
  if (scheme.empty()) scheme = (insecure_http || IsLoopbackHost(r.host)) ? "http" : "https";
  r.scheme = scheme;
  if (has_port) {
    bool digits = !port_text.empty() && port_text.size() <= 5;
    for (char c : port_text) digits = digits && c >= '0' && c <= '9';
    long port = digits ? std::strtol(std::string(port_text).c_str(), nullptr, 10) : 0;
    if (port < 1 || port > 65535) return Invalid("registry", text, "the port must be a number from 1 to 65535");
    r.port = uint16_t(port);
  } else {
    r.port = scheme == "https" ? 443 : 80;
  }
  return r;
}

// Whether the first component of a reference can be a registry: it has a
// '.', a ':' or a '[', or it is "localhost". Otherwise the user most likely
// left the registry out ("acme/llama:v1").
bool LooksLikeRegistry(std::string_view first) {
  return first.find_first_of(".:[") != std::string_view::npos || Lower(first) == "localhost";
}

Status ValidateRepository(std::string_view text, const std::string& repo) {
  if (repo.find('/') == std::string::npos) {
    return Invalid("reference", text, "the repository \"" + repo + "\" needs a namespace: namespace/name");
  }
  Status s = format::ValidateBundleName(repo);
  if (!s.ok()) return Invalid("reference", text, s.message());
  return Status::Ok();
}

}  // namespace

std::string Registry::Address() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Registry::Url() const { return scheme + "://" + Address(); }

std::string Reference::Namespace() const { return repository.substr(0, repository.find('/')); }

std::string Reference::ToString() const {
  // The scheme is written only when it is not the one the host implies.
  std::string implied = IsLoopbackHost(registry.host) || InsecureHttpFromEnv() ? "http" : "https";
  std::string s = (registry.scheme == implied ? "" : registry.scheme + "://") + registry.Address() + "/" + repository;
  if (!digest || tag_given) s += ":" + tag;
  if (digest) s += "@" + digest->ToString();
  return s;
}

bool InsecureHttpFromEnv() {
  const char* v = std::getenv("ARCA_INSECURE_HTTP");
  return v != nullptr && std::string_view(v) == "1";
}

Status ValidateTag(std::string_view tag) {
  bool ok = !tag.empty() && tag.size() <= 128 && tag[0] != '.' && tag[0] != '-';
  for (char c : tag) ok = ok && (std::isalnum(uint8_t(c)) || c == '_' || c == '.' || c == '-');
  if (!ok) {
    return InvalidArgumentError("tag \"" + std::string(tag) +
                                "\" must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
  }
  return Status::Ok();
}

bool IsLoopbackHost(std::string_view host) {
  std::string h = Lower(host);
  if (h == "localhost") return true;
  in_addr a4;
  if (::inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6;
  if (::inet_pton(AF_INET6, h.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return false;
}

Result<Registry> ParseRegistry(std::string_view text, bool insecure_http) {
  std::string_view rest = text;
  ARCA_ASSIGN_OR_RETURN(std::string scheme, TakeScheme(&rest));
  if (rest.find('/') != std::string_view::npos) {
    return InvalidArgumentError("invalid registry \"" + std::string(text) +
                                "\": give only HOST[:PORT], e.g. localhost:5000 or registry.example.org");
  }
  return ParseHostPort(rest, scheme, insecure_http, /*in_reference=*/false);
}

Result<RegistryPath> ParseRegistryPath(std::string_view text, bool insecure_http) {
  std::string_view rest = text;
  ARCA_ASSIGN_OR_RETURN(std::string scheme, TakeScheme(&rest));
  size_t slash = rest.find('/');
  RegistryPath rp;
  ARCA_ASSIGN_OR_RETURN(rp.registry, ParseHostPort(rest.substr(0, slash), scheme, insecure_http, false));
  if (slash != std::string_view::npos) {
    rp.path = std::string(rest.substr(slash + 1));
    while (!rp.path.empty() && rp.path.back() == '/') rp.path.pop_back();
    if (!rp.path.empty()) {
      Status s = format::ValidateBundleName(rp.path);
      if (!s.ok()) {
        return InvalidArgumentError("invalid \"" + std::string(text) + "\": " + std::string(s.message()) +
                                    " (write HOST:PORT, HOST:PORT/namespace or HOST:PORT/namespace/name)");
      }
    }
  }
  return rp;
}

Result<Reference> ParseReference(std::string_view text, bool insecure_http) {
  std::string_view rest = text;
  ARCA_ASSIGN_OR_RETURN(std::string scheme, TakeScheme(&rest));
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return Invalid("reference", text, "it names no repository after the registry");
  }
  std::string_view first = rest.substr(0, slash);
  if (scheme.empty() && !LooksLikeRegistry(first)) {
    return Invalid("reference", text,
                   "it must start with the registry's HOST[:PORT]; \"" + std::string(first) +
                       "\" does not look like one");
  }
  Reference ref;
  ARCA_ASSIGN_OR_RETURN(ref.registry, ParseHostPort(first, scheme, insecure_http, /*in_reference=*/true));
  std::string_view path = rest.substr(slash + 1);
  size_t at = path.find('@');
  if (at != std::string_view::npos) {
    Result<Digest> d = Digest::Parse(path.substr(at + 1));
    if (!d.ok()) return Invalid("reference", text, "after '@' comes a digest sha256:<64 lower-case hex>");
    ref.digest = *d;
    path = path.substr(0, at);
  }
  size_t colon = path.rfind(':');
  if (colon != std::string_view::npos) {
    ref.tag = std::string(path.substr(colon + 1));
    ref.tag_given = true;
    Status s = ValidateTag(ref.tag);
    if (!s.ok()) return Invalid("reference", text, s.message());
    path = path.substr(0, colon);
  }
  ref.repository = std::string(path);
  ARCA_RETURN_IF_ERROR(ValidateRepository(text, ref.repository));
  return ref;
}

}  // namespace arca::client
