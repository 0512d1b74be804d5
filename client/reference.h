// References to bundles on a registry, OCI-style:
//
//   HOST[:PORT]/namespace/name[:tag]            tag defaults to "latest"
//   HOST[:PORT]/namespace/name@sha256:<64 hex>  a bundle by digest
//   HOST[:PORT]/namespace/name:tag@sha256:...   both (the digest decides)
//
// HOST is a DNS name, an IPv4 address, "localhost", or an IPv6 address in
// brackets ("[::1]"). A registry address may carry an explicit scheme
// ("http://" or "https://"). Without one, loopback hosts (127.0.0.0/8,
// localhost, ::1) are spoken to over http and every other host over https;
// ARCA_INSECURE_HTTP=1 forces http. A missing port is 443 for https, 80 for
// http.
//
// The first path component is always the registry: there is no default
// registry, so "acme/llama:v1" is refused with an example of a full reference.
#ifndef ARCA_CLIENT_REFERENCE_H_
#define ARCA_CLIENT_REFERENCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/digest.h"
#include "common/result.h"

namespace arca::client {

// Where a registry is.
struct Registry {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case; an IPv6 address without brackets
  uint16_t port = 0;   // always set (explicit or the scheme's default)

  // "host:port" ("[::1]:5000" for IPv6): how credentials are keyed and how
  // the registry is named in messages.
  std::string Address() const;
  // "scheme://host:port", for the HTTP client.
  std::string Url() const;
};

struct Reference {
  Registry registry;
  std::string repository;        // "namespace/name...", a valid bundle name
  std::string tag = "latest";    // always set; "latest" when not given
  bool tag_given = false;
  std::optional<Digest> digest;  // set for "...@sha256:..."

  // "namespace" of "namespace/name".
  std::string Namespace() const;
  // The reference as the user would write it, normalised.
  std::string ToString() const;
  // "repository:tag", the name of the ref in the local cache.
  std::string LocalRef() const { return repository + ":" + tag; }
};

// Parses "[scheme://]HOST[:PORT]". `insecure_http` is ARCA_INSECURE_HTTP's
// value (the caller reads the environment; tests pass it).
Result<Registry> ParseRegistry(std::string_view text, bool insecure_http);
// Parses a full reference (see the file comment).
Result<Reference> ParseReference(std::string_view text, bool insecure_http);

// A registry followed by an optional path: "HOST:PORT", "HOST:PORT/acme",
// "HOST:PORT/acme/llama". `path` is empty or a valid bundle name.
struct RegistryPath {
  Registry registry;
  std::string path;
};
Result<RegistryPath> ParseRegistryPath(std::string_view text, bool insecure_http);

// Whether ARCA_INSECURE_HTTP=1 is set.
bool InsecureHttpFromEnv();

// Tags: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
Status ValidateTag(std::string_view tag);

// localhost, 127.0.0.0/8, ::1.
bool IsLoopbackHost(std::string_view host);

// An example of a good reference, for error messages.
inline constexpr std::string_view kReferenceExample =
    "localhost:5000/acme/llama:v1 or registry.example.org/acme/llama@sha256:<64 hex>";

}  // namespace arca::client

#endif  // ARCA_CLIENT_REFERENCE_H_
