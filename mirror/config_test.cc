// Tests of the mirror configuration parser (config.h, PROTOCOL.md §2).
#include "mirror/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/testing.h"
#include "signing/keys.h"
#include "signing/note.h"

namespace arca::mirror {
namespace {

using Json = nlohmann::json;
using ::arca::testing::TempDir;

void WriteFile(const std::string& path, const std::string& text, int mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::filesystem::remove(path);  // it may be read-only
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode_t(mode)), 0);
}

// A fresh log verifier key (type cosignature/v1) named `origin`.
std::string LogKey(const std::string& origin,
                   signing::NoteSignatureType type = signing::NoteSignatureType::kCosignatureV1) {
  signing::NoteVerifier v;
  v.name = origin;
  v.type = type;
  v.key = signing::GenerateKeyPair().public_key;
  Result<std::string> text = signing::FormatVerifierKey(v);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : std::string();
}

class MirrorConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "mirror-policy.json", R"({"schema":"arca.policy.v1","rules":[]})");
    WriteFile(dir_ / "national-policy.json", R"({"schema":"arca.policy.v1","rules":[]})");
    WriteFile(dir_ / "acme.token", "  pull-token-123\n", 0600);
    WriteFile(dir_ / "ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
    acme_key_ = LogKey("models.acme.example");
    national_key_ = LogKey("arca.ai-office.example");
  }

  // PROTOCOL.md §2's example, with real files and keys, and without the
  // dropped fields (countersigned_by, origin_log_keys).
  Json Example() const {
    Json j = Json::parse(R"({"schema": "arca.mirror.v1", "data": "/srv/arca",
      "policy": "mirror-policy.json", "bandwidth_bytes_per_second": 262144000,
      "upstreams": [
       {"name": "acme", "url": "https://models.acme.example",
        "token_file": "acme.token",
        "namespaces": ["acme"], "repositories": ["acme/llama-*", "acme/tiny-**"],
        "tags": "v[0-9]+(\\.[0-9]+)*",
        "licenses": ["Apache-2.0", "MIT", "LicenseRef-Llama-3.1"],
        "concurrency": 8, "bandwidth_bytes_per_second": 104857600},
       {"name": "national", "url": "https://arca.ai-office.example",
        "policy": "national-policy.json", "ca_file": "ca.pem",
        "namespaces": ["qwen", "deepseek-ai"], "exclude": ["qwen/*-preview"],
        "interval_seconds": 21600, "follow_deletes": true, "timeout_seconds": 120,
        "max_checkpoint_age_seconds": 0,
        "retry": {"initial_seconds": 30, "max_seconds": 3600, "attempts": 8}}]})");
    j["upstreams"][0]["log_key"] = acme_key_;
    j["upstreams"][1]["log_key"] = national_key_;
    return j;
  }

  Result<MirrorConfig> Parse(const Json& j) const { return ParseMirrorConfig(j.dump(), dir_.path()); }

  TempDir dir_;
  std::string acme_key_, national_key_;
};

TEST_F(MirrorConfigTest, FullExample) {
  Result<MirrorConfig> c = Parse(Example());
  ASSERT_OK(c);
  EXPECT_EQ(c->data, "/srv/arca");
  EXPECT_EQ(c->policy, dir_ / "mirror-policy.json");
  EXPECT_EQ(c->key, "/srv/arca/keys/mirror.key");
  EXPECT_EQ(c->bandwidth_bytes_per_second, 262144000u);
  EXPECT_FALSE(c->import.has_value());
  ASSERT_EQ(c->upstreams.size(), 2u);

  const UpstreamConfig& acme = c->upstreams[0];
  EXPECT_EQ(acme.name, "acme");
  EXPECT_EQ(acme.url, "https://models.acme.example");
  EXPECT_EQ(acme.registry.scheme, "https");
  EXPECT_EQ(acme.registry.host, "models.acme.example");
  EXPECT_EQ(acme.registry.port, 443);
  EXPECT_EQ(acme.token, "pull-token-123");
  EXPECT_EQ(acme.log_key, acme_key_);
  EXPECT_EQ(acme.origin, "models.acme.example");
  EXPECT_EQ(acme.policy, dir_ / "mirror-policy.json");  // the top-level one
  EXPECT_EQ(acme.namespaces, std::vector<std::string>{"acme"});
  EXPECT_EQ(acme.repositories, (std::vector<std::string>{"acme/llama-*", "acme/tiny-**"}));
  EXPECT_EQ(acme.tags, "v[0-9]+(\\.[0-9]+)*");
  EXPECT_EQ(acme.licenses, (std::vector<std::string>{"Apache-2.0", "MIT", "LicenseRef-Llama-3.1"}));
  EXPECT_EQ(acme.concurrency, 8);
  EXPECT_EQ(acme.bandwidth_bytes_per_second, 104857600u);
  EXPECT_EQ(acme.interval_seconds, 3600u);

  const UpstreamConfig& national = c->upstreams[1];
  EXPECT_EQ(national.origin, "arca.ai-office.example");
  EXPECT_EQ(national.policy, dir_ / "national-policy.json");
  EXPECT_EQ(national.ca_file, dir_ / "ca.pem");
  EXPECT_EQ(national.token, "");
  EXPECT_EQ(national.exclude, std::vector<std::string>{"qwen/*-preview"});
  EXPECT_EQ(national.interval_seconds, 21600u);
  EXPECT_TRUE(national.follow_deletes);
  EXPECT_EQ(national.timeout_seconds, 120u);
  EXPECT_EQ(national.max_checkpoint_age_seconds, 0u);
  EXPECT_EQ(national.retry.initial_seconds, 30u);
  EXPECT_EQ(national.retry.max_seconds, 3600u);
  EXPECT_EQ(national.retry.attempts, 8u);

  EXPECT_EQ(c->Upstream("national"), &c->upstreams[1]);
  EXPECT_EQ(c->Upstream("nobody"), nullptr);
}

TEST_F(MirrorConfigTest, Defaults) {
  Json j = {{"schema", "arca.mirror.v1"},
            {"data", "/srv/arca"},
            {"policy", "mirror-policy.json"},
            {"upstreams", {{{"name", "a"}, {"url", "https://a.example"}, {"log_key", acme_key_}}}}};
  Result<MirrorConfig> c = Parse(j);
  ASSERT_OK(c);
  EXPECT_EQ(c->bandwidth_bytes_per_second, 0u);
  EXPECT_EQ(c->key, "/srv/arca/keys/mirror.key");
  const UpstreamConfig& u = c->upstreams.at(0);
  EXPECT_EQ(u.token, "");
  EXPECT_EQ(u.ca_file, "");
  EXPECT_EQ(u.namespaces, std::vector<std::string>{"*"});
  EXPECT_EQ(u.repositories, std::vector<std::string>{"**"});
  EXPECT_TRUE(u.exclude.empty());
  EXPECT_EQ(u.tags, ".*");
  EXPECT_TRUE(u.licenses.empty());
  EXPECT_FALSE(u.follow_deletes);
  EXPECT_EQ(u.interval_seconds, 3600u);
  EXPECT_EQ(u.concurrency, 4);
  EXPECT_EQ(u.bandwidth_bytes_per_second, 0u);
  EXPECT_EQ(u.timeout_seconds, 60u);
  EXPECT_EQ(u.retry.initial_seconds, 5u);
  EXPECT_EQ(u.retry.max_seconds, 600u);
  EXPECT_EQ(u.retry.attempts, 6u);
  EXPECT_EQ(u.max_checkpoint_age_seconds, 86400u);
  EXPECT_TRUE(u.SelectsRepository("any/thing/deep"));
  EXPECT_TRUE(u.SelectsTag("latest"));
}

struct Refusal {
  std::string name;
  std::function<void(Json&)> edit;
  std::vector<std::string> says;  // substrings of the message
  StatusCode code = StatusCode::kInvalidArgument;
};

TEST_F(MirrorConfigTest, Refusals) {
  const std::string long_entry(257, 'a');
  const std::vector<Refusal> cases = {
      {"unknown top-level field", [](Json& j) { j["colour"] = "blue"; }, {"unknown field \"colour\"", "allowed: schema"}},
      {"dropped countersigned_by",
       [](Json& j) { j["upstreams"][1]["countersigned_by"] = {"x"}; },
       {"upstreams[1] \"national\"", "unknown field \"countersigned_by\""}},
      {"dropped origin_log_keys",
       [](Json& j) { j["upstreams"][0]["origin_log_keys"] = Json::array(); },
       {"\"acme\"", "unknown field \"origin_log_keys\""}},
      {"unknown retry field",
       [](Json& j) { j["upstreams"][1]["retry"]["jitter"] = 1; },
       {"\"national\"", "\"retry\"", "unknown field \"jitter\"", "initial_seconds, max_seconds, attempts"}},
      {"wrong schema", [](Json& j) { j["schema"] = "arca.mirror.v2"; }, {"\"schema\"", "expected \"arca.mirror.v1\""}},
      {"missing schema", [](Json& j) { j.erase("schema"); }, {"missing \"schema\""}},
      {"missing data", [](Json& j) { j.erase("data"); }, {"missing \"data\""}},
      {"interval too short",
       [](Json& j) { j["upstreams"][0]["interval_seconds"] = 4; },
       {"\"acme\"", "\"interval_seconds\" is 4", "5 to 604800"}},
      {"interval too long",
       [](Json& j) { j["upstreams"][0]["interval_seconds"] = 604801; },
       {"\"interval_seconds\"", "5 to 604800"}},
      {"concurrency zero", [](Json& j) { j["upstreams"][0]["concurrency"] = 0; }, {"\"concurrency\"", "1 to 64"}},
      {"concurrency too high", [](Json& j) { j["upstreams"][0]["concurrency"] = 65; }, {"1 to 64"}},
      {"timeout too short", [](Json& j) { j["upstreams"][0]["timeout_seconds"] = 4; }, {"\"timeout_seconds\"", "5 to 3600"}},
      {"retry max below initial",
       [](Json& j) { j["upstreams"][1]["retry"]["max_seconds"] = 10; },
       {"\"retry\"", "\"max_seconds\" is 10", "30 to 86400"}},
      {"retry attempts", [](Json& j) { j["upstreams"][1]["retry"]["attempts"] = 101; }, {"\"attempts\"", "1 to 100"}},
      {"negative bandwidth",
       [](Json& j) { j["bandwidth_bytes_per_second"] = -1; },
       {"\"bandwidth_bytes_per_second\" is -1", "a non-negative integer"}},
      {"fractional number", [](Json& j) { j["upstreams"][0]["concurrency"] = 2.5; }, {"\"concurrency\" is 2.5"}},
      {"list is a string",
       [](Json& j) { j["upstreams"][0]["namespaces"] = "acme"; },
       {"\"namespaces\" is \"acme\"", "a list of at most 256 strings"}},
      {"bool is a string", [](Json& j) { j["upstreams"][0]["follow_deletes"] = "yes"; }, {"true or false"}},
      {"list too long",
       [](Json& j) { j["upstreams"][0]["exclude"] = std::vector<std::string>(257, "x/y"); },
       {"\"exclude\"", "at most 256"}},
      {"list entry too long",
       [&](Json& j) { j["upstreams"][0]["licenses"] = {long_entry}; },
       {"\"licenses\"[0]", "1 to 256 bytes"}},
      {"bad glob", [](Json& j) { j["upstreams"][0]["repositories"] = {"Acme/*"}; }, {"\"repositories\"[0]", "a-z 0-9"}},
      {"namespace glob with slash",
       [](Json& j) { j["upstreams"][0]["namespaces"] = {"acme/x"}; },
       {"\"namespaces\"[0]", "holds '/'"}},
      {"licence expression", [](Json& j) { j["upstreams"][0]["licenses"] = {"MIT OR Apache-2.0"}; }, {"single SPDX"}},
      {"bad tag regex",
       [](Json& j) { j["upstreams"][1]["tags"] = "v[0-9"; },
       {"upstreams[1] \"national\"", "\"tags\"", "not a usable ECMAScript regular expression"}},
      {"tag regex too long",
       [](Json& j) { j["upstreams"][0]["tags"] = std::string(257, 'a'); },
       {"\"tags\"", "1 to 256 bytes"}},
      {"duplicate upstream names",
       [](Json& j) { j["upstreams"][1]["name"] = "acme"; },
       {"upstreams[1]", "\"acme\" is used twice"}},
      {"bad upstream name", [](Json& j) { j["upstreams"][0]["name"] = "Acme"; }, {"upstreams[0]", "[a-z0-9][a-z0-9_-]"}},
      {"missing upstream name", [](Json& j) { j["upstreams"][1].erase("name"); }, {"upstreams[1]", "missing \"name\""}},
      {"upstream not an object", [](Json& j) { j["upstreams"][1] = 7; }, {"upstreams[1] is 7, not a JSON object"}},
      {"url scheme", [](Json& j) { j["upstreams"][0]["url"] = "ftp://a.example"; }, {"\"url\"", "https://HOST[:PORT]"}},
      {"url without scheme", [](Json& j) { j["upstreams"][0]["url"] = "a.example"; }, {"\"url\"", "https://HOST[:PORT]"}},
      {"url with path", [](Json& j) { j["upstreams"][0]["url"] = "https://a.example/v2"; }, {"\"url\""}},
      {"http non-loopback",
       [](Json& j) { j["upstreams"][0]["url"] = "http://models.acme.example:5000"; },
       {"\"acme\"", "\"url\"", "only for loopback hosts"}},
      {"bad log key", [](Json& j) { j["upstreams"][0]["log_key"] = "acme+01234567+AAAA"; }, {"\"log_key\"", "log-key"}},
      {"signed-note key, not a log key",
       [](Json& j) { j["upstreams"][0]["log_key"] = LogKey("acme", signing::NoteSignatureType::kEd25519); },
       {"\"log_key\"", "cosignature/v1"}},
      {"missing log key", [](Json& j) { j["upstreams"][0].erase("log_key"); }, {"\"acme\"", "missing \"log_key\""}},
      {"no policy anywhere",
       [](Json& j) { j.erase("policy"); },
       {"upstreams[0] \"acme\"", "no \"policy\" here and no top-level \"policy\""}},
      {"policy file missing",
       [](Json& j) { j["upstreams"][1]["policy"] = "nope.json"; },
       {"\"national\"", "\"policy\"", "nope.json"},
       StatusCode::kNotFound},
      {"top-level policy is a directory", [](Json& j) { j["policy"] = "."; }, {"\"policy\"", "not a regular file"}},
      {"token file missing",
       [](Json& j) { j["upstreams"][0]["token_file"] = "missing.token"; },
       {"\"token_file\"", "missing.token"},
       StatusCode::kNotFound},
      {"ca file missing", [](Json& j) { j["upstreams"][1]["ca_file"] = "nope.pem"; }, {"\"ca_file\""}, StatusCode::kNotFound},
      {"no upstreams", [](Json& j) { j["upstreams"] = Json::array(); }, {"\"upstreams\"", "1 to 64", "import"}},
      {"missing upstreams", [](Json& j) { j.erase("upstreams"); }, {"missing \"upstreams\""}},
      {"too many upstreams",
       [](Json& j) {
         for (int i = 0; i < 63; ++i) j["upstreams"].push_back(j["upstreams"][0]);
       },
       {"\"upstreams\" is a list of 65 entries", "1 to 64"}},
      {"import without log keys",
       [](Json& j) { j["import"] = Json::object(); },
       {"import", "\"log_keys\" is missing or empty"}},
      {"import unknown field",
       [](Json& j) { j["import"] = {{"origin_log_keys", Json::array()}}; },
       {"import", "unknown field \"origin_log_keys\""}},
      {"import bad log key",
       [](Json& j) { j["import"] = {{"log_keys", {"junk"}}}; },
       {"import", "\"log_keys\"[0]"}},
      {"not an object", [](Json& j) { j = Json::array(); }, {"not a JSON object"}},
  };
  for (const Refusal& r : cases) {
    SCOPED_TRACE(r.name);
    Json j = Example();
    r.edit(j);
    Result<MirrorConfig> c = Parse(j);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), r.code) << c.status();
    for (const std::string& s : r.says) EXPECT_NE(c.status().message().find(s), std::string_view::npos) << c.status();
  }
}

TEST_F(MirrorConfigTest, RefusesMalformedText) {
  const std::string base = Example().dump();
  struct Case {
    std::string text, says;
  };
  const std::vector<Case> cases = {
      {"", "not valid JSON"},
      {base.substr(0, base.size() - 1), "not valid JSON"},
      {R"({"schema":"arca.mirror.v1","data":"/a","data":"/b"})", "repeats the key \"data\""},
      {"{\"import\":{\"policy\":\"a\",\"policy\":\"b\"}}", "repeats the key \"policy\""},
      {std::string(70, '[') + std::string(70, ']'), "nests deeper"},
      {std::string(kMaxMirrorConfigBytes + 1, ' '), "larger than"},
  };
  for (const Case& c : cases) {
    Result<MirrorConfig> r = ParseMirrorConfig(c.text, dir_.path());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.says), std::string_view::npos) << r.status();
  }
}

TEST_F(MirrorConfigTest, TokenFileMustBePrivate) {
  Json j = Example();
  for (int mode : {0644, 0640, 0604}) {
    ASSERT_EQ(::chmod((dir_ / "acme.token").c_str(), mode_t(mode)), 0);
    Result<MirrorConfig> c = Parse(j);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(c.status().message().find("\"token_file\""), std::string_view::npos) << c.status();
    EXPECT_NE(c.status().message().find("chmod 600"), std::string_view::npos) << c.status();
  }
  ASSERT_EQ(::chmod((dir_ / "acme.token").c_str(), 0400), 0);
  ASSERT_OK(Parse(j));
  // Empty, or more than one token: refused.
  for (const std::string& text : {std::string(" \n"), std::string("a b\n")}) {
    WriteFile(dir_ / "acme.token", text, 0600);
    Result<MirrorConfig> c = Parse(j);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("must hold one token"), std::string_view::npos) << c.status();
  }
}

TEST_F(MirrorConfigTest, UnreadablePolicy) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  ASSERT_EQ(::chmod((dir_ / "national-policy.json").c_str(), 0), 0);
  Result<MirrorConfig> c = Parse(Example());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("upstreams[1] \"national\": \"policy\""), std::string_view::npos)
      << c.status();
}

TEST_F(MirrorConfigTest, HttpOnlyForLoopback) {
  struct Case {
    std::string url, scheme, host;
    uint16_t port;
  };
  const std::vector<Case> good = {
      {"http://127.0.0.1:5000", "http", "127.0.0.1", 5000},
      {"http://127.8.9.10:5000", "http", "127.8.9.10", 5000},
      {"http://localhost:5000/", "http", "localhost", 5000},
      {"http://[::1]:5000", "http", "::1", 5000},
      {"https://models.acme.example:8443", "https", "models.acme.example", 8443},
  };
  for (const Case& g : good) {
    Json j = Example();
    j["upstreams"][0]["url"] = g.url;
    Result<MirrorConfig> c = Parse(j);
    ASSERT_OK(c);
    EXPECT_EQ(c->upstreams[0].url, g.url);
    EXPECT_EQ(c->upstreams[0].registry.scheme, g.scheme);
    EXPECT_EQ(c->upstreams[0].registry.host, g.host);
    EXPECT_EQ(c->upstreams[0].registry.port, g.port);
  }
  for (const std::string url : {"http://models.acme.example", "http://10.0.0.1:5000", "http://[::2]:5000"}) {
    Json j = Example();
    j["upstreams"][0]["url"] = url;
    Result<MirrorConfig> c = Parse(j);
    ASSERT_FALSE(c.ok()) << url;
    EXPECT_NE(c.status().message().find("only for loopback hosts"), std::string_view::npos) << c.status();
  }
}

TEST_F(MirrorConfigTest, RelativePathsAndLoad) {
  WriteFile(dir_ / "etc/policy.json", "{}");
  WriteFile(dir_ / "etc/import-policy.json", "{}");
  WriteFile(dir_ / "etc/secrets/acme.token", "tok\n", 0600);
  WriteFile(dir_ / "etc/ca/private.pem", "pem");
  Json j = {{"schema", "arca.mirror.v1"},
            {"data", "data"},
            {"policy", "policy.json"},
            {"key", "keys/m.key"},
            {"upstreams",
             {{{"name", "a"},
               {"url", "https://a.example"},
               {"log_key", acme_key_},
               {"token_file", "secrets/acme.token"},
               {"ca_file", "ca/private.pem"}}}},
            {"import", {{"policy", "import-policy.json"}, {"log_keys", {acme_key_}}}}};
  const std::string file = dir_ / "etc/mirror.json";
  WriteFile(file, j.dump());
  Result<MirrorConfig> c = LoadMirrorConfig(file);
  ASSERT_OK(c);
  const std::string etc = dir_ / "etc";
  EXPECT_EQ(c->path, file);
  EXPECT_EQ(c->data, etc + "/data");
  EXPECT_EQ(c->policy, etc + "/policy.json");
  EXPECT_EQ(c->key, etc + "/keys/m.key");
  EXPECT_EQ(c->upstreams.at(0).token, "tok");
  EXPECT_EQ(c->upstreams.at(0).ca_file, etc + "/ca/private.pem");
  ASSERT_TRUE(c->import.has_value());
  EXPECT_EQ(c->import->policy, etc + "/import-policy.json");

  // Absolute paths are kept; the default key lives under data.
  j["data"] = "/var/lib/arca";
  j.erase("key");
  WriteFile(file, j.dump());
  c = LoadMirrorConfig(file);
  ASSERT_OK(c);
  EXPECT_EQ(c->data, "/var/lib/arca");
  EXPECT_EQ(c->key, "/var/lib/arca/keys/mirror.key");

  // Errors name the file.
  j["upstreams"][0]["concurrency"] = 100;
  WriteFile(file, j.dump());
  c = LoadMirrorConfig(file);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("mirror config " + file + ": upstreams[0] \"a\": \"concurrency\" is 100"),
            std::string_view::npos)
      << c.status();
  c = LoadMirrorConfig(dir_ / "etc/absent.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("absent.json"), std::string_view::npos) << c.status();
}

TEST_F(MirrorConfigTest, ImportOnlySite) {
  Json j = {{"schema", "arca.mirror.v1"},
            {"data", "/srv/arca"},
            {"policy", "mirror-policy.json"},
            {"import",
             {{"log_keys", {acme_key_, national_key_}},
              {"repositories", {"acme/**", "qwen/qwen2-*"}},
              {"max_checkpoint_age_seconds", 604800}}}};
  Result<MirrorConfig> c = Parse(j);
  ASSERT_OK(c);
  EXPECT_TRUE(c->upstreams.empty());
  ASSERT_TRUE(c->import.has_value());
  EXPECT_EQ(c->import->policy, dir_ / "mirror-policy.json");  // the top-level one
  EXPECT_EQ(c->import->log_keys, (std::vector<std::string>{acme_key_, national_key_}));
  EXPECT_EQ(c->import->max_checkpoint_age_seconds, 604800u);
  EXPECT_TRUE(c->import->SelectsRepository("acme/a/b"));
  EXPECT_TRUE(c->import->SelectsRepository("qwen/qwen2-7b"));
  EXPECT_FALSE(c->import->SelectsRepository("qwen/qwen3-7b"));

  j["upstreams"] = Json::array();  // explicit and empty: the same
  ASSERT_OK(Parse(j));
  j.erase("policy");
  Result<MirrorConfig> refused = Parse(j);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("import: no \"policy\""), std::string_view::npos) << refused.status();
}

TEST_F(MirrorConfigTest, Selection) {
  Result<MirrorConfig> c = Parse(Example());
  ASSERT_OK(c);
  const UpstreamConfig& acme = c->upstreams[0];
  EXPECT_TRUE(acme.SelectsRepository("acme/llama-3"));
  EXPECT_FALSE(acme.SelectsRepository("acme/llama-3/sub"));  // '*' stays in one component
  EXPECT_TRUE(acme.SelectsRepository("acme/tiny-a/b/c"));    // '**' crosses '/'
  EXPECT_FALSE(acme.SelectsRepository("acme/mistral"));      // no repositories glob matches
  EXPECT_FALSE(acme.SelectsRepository("other/llama-3"));     // namespace not selected

  const UpstreamConfig& national = c->upstreams[1];
  EXPECT_TRUE(national.SelectsRepository("qwen/qwen2"));
  EXPECT_TRUE(national.SelectsRepository("deepseek-ai/r1"));
  EXPECT_FALSE(national.SelectsRepository("qwen/qwen3-preview"));  // excluded
  EXPECT_TRUE(national.SelectsRepository("qwen/a/b-preview"));     // exclude's '*' is one component
  EXPECT_FALSE(national.SelectsRepository("qwenx/a"));

  // Tags: the regex must match the whole tag.
  EXPECT_TRUE(acme.SelectsTag("v1"));
  EXPECT_TRUE(acme.SelectsTag("v1.2.3"));
  EXPECT_FALSE(acme.SelectsTag("v1-rc"));
  EXPECT_FALSE(acme.SelectsTag("xv1"));
  EXPECT_FALSE(acme.SelectsTag("latest"));
  Json j = Example();
  j["upstreams"][0]["tags"] = "v[0-9]+";
  c = Parse(j);
  ASSERT_OK(c);
  EXPECT_TRUE(c->upstreams[0].SelectsTag("v1"));
  EXPECT_FALSE(c->upstreams[0].SelectsTag("v1-rc"));
  EXPECT_FALSE(c->upstreams[0].SelectsTag(""));
}

}  // namespace
}  // namespace arca::mirror
