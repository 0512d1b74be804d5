#include "format/manifest.h"

#include <gtest/gtest.h>

#include "common/testing.h"

namespace arca::format {
namespace {

Manifest Sample() {
  Manifest m;
  m.meta.name = "tinyllamas/stories260k";
  m.meta.version = "1.0";
  m.meta.publisher = "Andrej \"K\"\n";
  m.meta.created = "2023-08-01T00:00:00Z";
  m.meta.license = {"MIT", "LICENSE"};
  m.meta.provenance.source = "https://example.org/tinyllamas";
  m.meta.provenance.revision = "abc123";
  m.meta.provenance.base_models = {Sha256Of(std::string_view("base"))};
  m.meta.provenance.datasets = {"roneneldan/TinyStories"};
  m.files.push_back({"LICENSE", 3, Sha256Of(std::string_view("MIT")), Sha256Of(std::string_view("i1")), "application/octet-stream"});
  m.files.push_back({"stories260K.gguf", 1185376, Sha256Of(std::string_view("gguf")), Sha256Of(std::string_view("i2")),
                     "application/vnd.gguf"});
  return m;
}

// Golden vector: the canonical bytes, written out by hand from FORMAT.md §5.
TEST(ManifestTest, CanonicalGolden) {
  Manifest m = Sample();
  ASSERT_OK(m.Validate());
  std::string want =
      R"({"created":"2023-08-01T00:00:00Z","files":[)"
      R"({"digest":")" + Sha256Of(std::string_view("MIT")).ToString() +
      R"(","index":")" + Sha256Of(std::string_view("i1")).ToString() +
      R"(","media_type":"application/octet-stream","path":"LICENSE","size":3},)"
      R"({"digest":")" + Sha256Of(std::string_view("gguf")).ToString() +
      R"(","index":")" + Sha256Of(std::string_view("i2")).ToString() +
      R"(","media_type":"application/vnd.gguf","path":"stories260K.gguf","size":1185376}],)"
      R"("license":{"file":"LICENSE","spdx":"MIT"},"name":"tinyllamas/stories260k",)"
      R"("provenance":{"base_models":[")" + Sha256Of(std::string_view("base")).ToString() +
      R"("],"datasets":["roneneldan/TinyStories"],"revision":"abc123",)"
      R"("source":"https://example.org/tinyllamas"},"publisher":"Andrej \"K\"\n",)"
      R"("schema":"arca.manifest.v1","version":"1.0"})";
  EXPECT_EQ(m.Canonical(), want);
  // Golden digest: changes only if the canonical form changes.
  EXPECT_EQ(m.BundleDigest().ToString(),
            "sha256:" + Sha256Of(want).Hex());
  auto back = Manifest::Parse(want);
  ASSERT_OK(back);
  EXPECT_EQ(*back, m);
}

TEST(ManifestTest, MinimalManifest) {
  Manifest m;
  m.meta.name = "a";
  EXPECT_EQ(m.Canonical(), R"({"files":[],"name":"a","schema":"arca.manifest.v1"})");
  // The digest of the line above, as computed by sha256sum.
  EXPECT_EQ(m.BundleDigest().ToString(),
            "sha256:f46843980657a27f49b85b45823f0abb0b5a4bd80963ded1cb9ce426a638ee83");
}

Status ParseStatus(const std::string& s) { return Manifest::Parse(s).status(); }

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

TEST(ManifestTest, RejectsNonCanonicalAndBadInput) {
  const std::string good = Sample().Canonical();
  ASSERT_OK(ParseStatus(good));
  std::vector<std::pair<std::string, std::string>> cases = {
      {"white space", Replace(good, "\"name\":", "\"name\": ")},
      {"key order", Replace(Replace(good, "\"spdx\":\"MIT\"", "\"file\":\"LICENSE\""), "\"file\":\"LICENSE\",", "\"spdx\":\"MIT\",")},
      {"duplicate key", Replace(good, "\"name\":\"tinyllamas/stories260k\"", "\"name\":\"x\",\"name\":\"tinyllamas/stories260k\"")},
      {"unknown member", Replace(good, "\"name\":", "\"nam\":\"x\",\"name\":")},
      {"unknown schema", Replace(good, "arca.manifest.v1", "arca.manifest.v9")},
      {"negative size", Replace(good, "\"size\":3", "\"size\":-3")},
      {"float size", Replace(good, "\"size\":3", "\"size\":3.0")},
      {"bad digest", Replace(good, "\"digest\":\"sha256:", "\"digest\":\"sha1:")},
      {"traversal", Replace(good, "\"path\":\"LICENSE\"", "\"path\":\"../LICENSE\"")},
      {"absolute", Replace(good, "\"path\":\"LICENSE\"", "\"path\":\"/LICENSE\"")},
      {"NUL in path", Replace(good, "\"path\":\"LICENSE\"", "\"path\":\"LIC\\u0000ENSE\"")},
      {"unsorted files", Replace(good, "\"path\":\"LICENSE\"", "\"path\":\"zz\"")},
      {"bad name", Replace(good, "tinyllamas/stories260k", "Tiny/../x")},
      {"bad created", Replace(good, "2023-08-01T00:00:00Z", "yesterday")},
      {"empty optional", Replace(good, "\"version\":\"1.0\"", "\"version\":\"\"")},
      {"not json", good.substr(0, good.size() - 1)},
      {"not an object", "[]"},
      {"escaped slash", Replace(good, "https://", "https:\\/\\/")},
      {"bad spdx", Replace(good, "\"spdx\":\"MIT\"", "\"spdx\":\"MIT AND\"")},
  };
  for (const auto& [what, text] : cases) {
    Status s = ParseStatus(text);
    EXPECT_FALSE(s.ok()) << what;
  }
  // Duplicate paths and a file that is also a directory.
  Manifest m = Sample();
  m.files.insert(m.files.begin() + 1, m.files[0]);
  EXPECT_FALSE(m.Validate().ok());
  m = Sample();
  m.files.insert(m.files.begin() + 1, ManifestFile{"LICENSE/x", 1, {}, {}, "text/plain"});
  EXPECT_FALSE(m.Validate().ok());
  m = Sample();
  m.meta.license.file = "COPYING";
  EXPECT_FALSE(m.Validate().ok());
  EXPECT_EQ(ParseStatus(std::string(kMaxManifestBytes + 1, ' ')).code(), StatusCode::kResourceExhausted);
}

// base_model_names is optional: a manifest without it keeps the bytes above
// (CanonicalGolden and MinimalManifest are unchanged), and with it the member
// sorts before "base_models" ('_' < 's').
TEST(ManifestTest, BaseModelNames) {
  Manifest m;
  m.meta.name = "a";
  m.meta.provenance.base_model_names = {"meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B"};
  m.meta.provenance.base_models = {Sha256Of(std::string_view("base"))};
  ASSERT_OK(m.Validate());
  std::string want = R"({"files":[],"name":"a","provenance":{"base_model_names":["meta-llama/Llama-3.1-8B",)"
                     R"("Qwen/Qwen2.5-7B"],"base_models":[")" +
                     Sha256Of(std::string_view("base")).ToString() + R"("]},"schema":"arca.manifest.v1"})";
  EXPECT_EQ(m.Canonical(), want);
  auto back = Manifest::Parse(want);
  ASSERT_OK(back);
  EXPECT_EQ(*back, m);

  // Names alone are a valid provenance.
  m.meta.provenance.base_models.clear();
  auto alone = Manifest::Parse(m.Canonical());
  ASSERT_OK(alone);
  EXPECT_EQ(alone->meta.provenance.base_model_names.size(), 2u);

  const std::string good = m.Canonical();
  for (const auto& [what, text] : std::vector<std::pair<std::string, std::string>>{
           {"not a list", Replace(good, R"(["meta-llama/Llama-3.1-8B","Qwen/Qwen2.5-7B"])", R"("meta-llama/x")")},
           {"empty list", Replace(good, R"(["meta-llama/Llama-3.1-8B","Qwen/Qwen2.5-7B"])", "[]")},
           {"number entry", Replace(good, R"("Qwen/Qwen2.5-7B")", "7")},
           {"empty entry", Replace(good, R"("Qwen/Qwen2.5-7B")", R"("")")},
           {"misspelt", Replace(good, "base_model_names", "base_model_name")},
       }) {
    Status s = ParseStatus(text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << what << ": " << s.ToString();
  }

  Manifest big = m;
  big.meta.provenance.base_model_names.assign(kMaxListEntries + 1, "x/y");
  EXPECT_EQ(big.Validate().code(), StatusCode::kResourceExhausted);
  big.meta.provenance.base_model_names = {std::string(kMaxStringBytes + 1, 'x')};
  EXPECT_EQ(big.Validate().code(), StatusCode::kResourceExhausted);
  big.meta.provenance.base_model_names = {"bad\xff"};
  EXPECT_EQ(big.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(ManifestTest, MediaTypes) {
  EXPECT_EQ(MediaTypeForPath("m/model.gguf"), "application/vnd.gguf");
  EXPECT_EQ(MediaTypeForPath("config.json"), "application/json");
  EXPECT_EQ(MediaTypeForPath("weights.bin"), "application/octet-stream");
}

TEST(ManifestTest, Names) {
  for (const char* ok : {"a", "org/model", "qwen/qwen2.5-7b-instruct", "a_b/c-d.e"}) EXPECT_OK(ValidateBundleName(ok));
  for (const char* bad : {"", "Org/model", "a//b", "/a", "a/", "a..b", "-a", "a b", "a:tag"}) {
    EXPECT_FALSE(ValidateBundleName(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace arca::format
