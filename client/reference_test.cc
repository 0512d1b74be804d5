#include "client/reference.h"

#include <gtest/gtest.h>

#include "common/testing.h"

namespace arca::client {
namespace {

const std::string kHex(64, 'a');

Reference Parse(const std::string& text, bool insecure = false) {
  Result<Reference> r = ParseReference(text, insecure);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status();
  return r.ok() ? *r : Reference();
}

TEST(ReferenceTest, HostPortRepositoryTag) {
  Reference r = Parse("localhost:5000/acme/llama:v1");
  EXPECT_EQ(r.registry.scheme, "http");
  EXPECT_EQ(r.registry.host, "localhost");
  EXPECT_EQ(r.registry.port, 5000);
  EXPECT_EQ(r.repository, "acme/llama");
  EXPECT_EQ(r.Namespace(), "acme");
  EXPECT_EQ(r.tag, "v1");
  EXPECT_TRUE(r.tag_given);
  EXPECT_FALSE(r.digest);
  EXPECT_EQ(r.ToString(), "localhost:5000/acme/llama:v1");
  EXPECT_EQ(r.LocalRef(), "acme/llama:v1");
  EXPECT_EQ(r.registry.Url(), "http://localhost:5000");
}

TEST(ReferenceTest, TagDefaultsToLatest) {
  Reference r = Parse("127.0.0.1:8080/acme/llama");
  EXPECT_EQ(r.tag, "latest");
  EXPECT_FALSE(r.tag_given);
  EXPECT_EQ(r.ToString(), "127.0.0.1:8080/acme/llama:latest");
}

TEST(ReferenceTest, Digest) {
  Reference r = Parse("localhost:5000/acme/llama@sha256:" + kHex);
  ASSERT_TRUE(r.digest);
  EXPECT_EQ(r.digest->Hex(), kHex);
  EXPECT_FALSE(r.tag_given);
  EXPECT_EQ(r.ToString(), "localhost:5000/acme/llama@sha256:" + kHex);
  Reference both = Parse("localhost:5000/acme/llama:v2@sha256:" + kHex);
  EXPECT_TRUE(both.digest);
  EXPECT_EQ(both.tag, "v2");
  EXPECT_EQ(both.ToString(), "localhost:5000/acme/llama:v2@sha256:" + kHex);
}

TEST(ReferenceTest, DeepNamesAndSeparators) {
  Reference r = Parse("reg.example.org/acme/team/llama-3.2_1b:v1.0-rc_1");
  EXPECT_EQ(r.repository, "acme/team/llama-3.2_1b");
  EXPECT_EQ(r.Namespace(), "acme");
  EXPECT_EQ(r.tag, "v1.0-rc_1");
}

TEST(ReferenceTest, SchemeAndDefaultPorts) {
  Reference remote = Parse("registry.example.org/acme/llama:v1");
  EXPECT_EQ(remote.registry.scheme, "https");
  EXPECT_EQ(remote.registry.port, 443);
  EXPECT_EQ(remote.registry.Address(), "registry.example.org:443");

  Reference loop = Parse("localhost/acme/llama");
  EXPECT_EQ(loop.registry.scheme, "http");
  EXPECT_EQ(loop.registry.port, 80);

  Reference insecure = Parse("registry.example.org:8080/acme/llama", /*insecure=*/true);
  EXPECT_EQ(insecure.registry.scheme, "http");
  EXPECT_EQ(insecure.registry.port, 8080);

  Reference explicit_https = Parse("https://localhost:5000/acme/llama");
  EXPECT_EQ(explicit_https.registry.scheme, "https");
  EXPECT_EQ(explicit_https.ToString(), "https://localhost:5000/acme/llama:latest");
  Reference explicit_http = Parse("http://registry.example.org/acme/llama");
  EXPECT_EQ(explicit_http.registry.scheme, "http");
  EXPECT_EQ(explicit_http.registry.port, 80);
}

TEST(ReferenceTest, Ipv6) {
  Reference r = Parse("[::1]:5000/acme/llama:v1");
  EXPECT_EQ(r.registry.host, "::1");
  EXPECT_EQ(r.registry.port, 5000);
  EXPECT_EQ(r.registry.scheme, "http");
  EXPECT_EQ(r.registry.Address(), "[::1]:5000");
  EXPECT_EQ(r.registry.Url(), "http://[::1]:5000");
  Reference noport = Parse("[2001:db8::1]/acme/llama");
  EXPECT_EQ(noport.registry.scheme, "https");
  EXPECT_EQ(noport.registry.port, 443);
}

TEST(ReferenceTest, HostIsLowerCased) {
  EXPECT_EQ(Parse("Registry.Example.ORG:5000/acme/llama").registry.host, "registry.example.org");
}

TEST(ReferenceTest, Loopback) {
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("LOCALHOST"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.5.6.7"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("::2"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example.org"));
}

void ExpectBad(const std::string& text, const std::string& fragment) {
  Result<Reference> r = ParseReference(text, false);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(fragment), std::string_view::npos) << r.status();
  // Every message shows what a good reference looks like.
  EXPECT_NE(r.status().message().find("localhost:5000/acme/llama:v1"), std::string_view::npos) << r.status();
}

TEST(ReferenceTest, Errors) {
  ExpectBad("acme/llama:v1", "does not look like");       // registry forgotten
  ExpectBad("localhost:5000", "no repository");
  ExpectBad("localhost:5000/llama:v1", "needs a namespace");
  ExpectBad("localhost:5000/Acme/llama", "invalid bundle name");
  ExpectBad("localhost:5000/acme//llama", "invalid bundle name");
  ExpectBad("localhost:5000/acme/llama:", "tag");
  ExpectBad("localhost:5000/acme/llama:-x", "tag");
  ExpectBad("localhost:5000/acme/llama:a/b", "");
  ExpectBad("localhost:5000/acme/llama@sha256:abc", "digest");
  ExpectBad("localhost:5000/acme/llama@md5:" + kHex, "digest");
  ExpectBad("localhost:0/acme/llama", "port");
  ExpectBad("localhost:65536/acme/llama", "port");
  ExpectBad("localhost:50x/acme/llama", "port");
  ExpectBad("[::1/acme/llama", "']'");
  ExpectBad("[nothex]:5000/acme/llama", "IPv6");
  ExpectBad("bad_host.org/acme/llama", "host name");
  ExpectBad("-bad.org/acme/llama", "host name");
  Result<Reference> ftp = ParseReference("ftp://localhost/acme/llama", false);
  ASSERT_FALSE(ftp.ok());
  EXPECT_NE(ftp.status().message().find("scheme"), std::string_view::npos);
  EXPECT_FALSE(ParseReference("localhost:5000/acme/" + std::string(300, 'a'), false).ok());
  EXPECT_FALSE(ParseReference("localhost:5000/acme/llama:" + std::string(129, 't'), false).ok());
  EXPECT_TRUE(ParseReference("localhost:5000/acme/llama:" + std::string(128, 't'), false).ok());
}

TEST(ReferenceTest, Registry) {
  Result<Registry> r = ParseRegistry("localhost:5000", false);
  ASSERT_OK(r);
  EXPECT_EQ(r->Address(), "localhost:5000");
  ASSERT_OK(ParseRegistry("http://10.1.2.3", false));
  EXPECT_EQ(ParseRegistry("http://10.1.2.3", false)->port, 80);
  EXPECT_EQ(ParseRegistry("10.1.2.3", false)->scheme, "https");
  EXPECT_FALSE(ParseRegistry("localhost:5000/acme", false).ok());
  EXPECT_FALSE(ParseRegistry("", false).ok());
}

TEST(ReferenceTest, RegistryPath) {
  Result<RegistryPath> a = ParseRegistryPath("localhost:5000", false);
  ASSERT_OK(a);
  EXPECT_EQ(a->path, "");
  Result<RegistryPath> b = ParseRegistryPath("localhost:5000/acme/", false);
  ASSERT_OK(b);
  EXPECT_EQ(b->path, "acme");
  Result<RegistryPath> c = ParseRegistryPath("localhost:5000/acme/llama", false);
  ASSERT_OK(c);
  EXPECT_EQ(c->path, "acme/llama");
  EXPECT_FALSE(ParseRegistryPath("localhost:5000/ACME", false).ok());
}

TEST(ReferenceTest, Tags) {
  EXPECT_OK(ValidateTag("latest"));
  EXPECT_OK(ValidateTag("_x"));
  EXPECT_OK(ValidateTag("V1.2-rc_3"));
  EXPECT_FALSE(ValidateTag("").ok());
  EXPECT_FALSE(ValidateTag(".x").ok());
  EXPECT_FALSE(ValidateTag("a b").ok());
  EXPECT_FALSE(ValidateTag("a:b").ok());
}

}  // namespace
}  // namespace arca::client
