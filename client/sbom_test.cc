// SpdxDocument and CycloneDxDocument on the sample manifests
// (tests/sbom/sample_manifests.h): the fields each format requires, every
// file's hash, the licence expression as written, base models and datasets,
// ids that resolve, determinism, refusal of a manifest that is not the
// bundle, and JSON that survives hostile publisher text. Then `arca sbom`
// itself on a pulled directory and on a reference to a registry run in this
// process. tests/sbom checks the same documents against the official schemas.
#include "client/sbom.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "client/remote.h"
#include "client/worktree.h"
#include "common/file.h"
#include "common/testing.h"
#include "registry/test_server.h"
#include "signing/keyfile.h"
#include "signing/keys.h"
#include "tests/sbom/sample_manifests.h"

namespace arca::client {
namespace {

using arca::testing::TempDir;
using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace arca::sbom_samples;

Json Spdx(const format::Manifest& m, const SbomContext& ctx = {}) {
  Result<std::string> doc = SpdxDocument(m, m.BundleDigest(), ctx);
  EXPECT_OK(doc);
  return doc.ok() ? Json::parse(*doc) : Json();
}

Json CycloneDx(const format::Manifest& m, const SbomContext& ctx = {}) {
  Result<std::string> doc = CycloneDxDocument(m, m.BundleDigest(), ctx);
  EXPECT_OK(doc);
  return doc.ok() ? Json::parse(*doc) : Json();
}

// The SPDX @graph nodes by spdxId (or @id), and of one type.
std::map<std::string, Json> ById(const Json& doc) {
  std::map<std::string, Json> out;
  for (const Json& n : doc["@graph"]) out[n.value("spdxId", n.value("@id", ""))] = n;
  return out;
}
std::vector<Json> OfType(const Json& doc, std::string_view type) {
  std::vector<Json> out;
  for (const Json& n : doc["@graph"]) {
    if (n["type"] == type) out.push_back(n);
  }
  return out;
}
// The relationships of one type, from the bundle.
std::vector<Json> Relations(const Json& doc, std::string_view type) {
  std::vector<Json> out;
  for (const Json& r : OfType(doc, "Relationship")) {
    if (r["relationshipType"] == type) out.push_back(r);
  }
  return out;
}
// The names of the elements a relationship points to.
std::vector<std::string> TargetNames(const Json& doc, const Json& rel) {
  std::map<std::string, Json> by_id = ById(doc);
  std::vector<std::string> out;
  for (const Json& to : rel["to"])
    out.push_back(by_id.count(to) ? by_id[to].value("name", "?") : to.get<std::string>());
  return out;
}

TEST(SpdxDocumentTest, StatesTheBundleFilesLicenceAndLineage) {
  const format::Manifest m = FullManifest();
  const Json doc = Spdx(m, FullContext());
  EXPECT_EQ(doc["@context"], "https://spdx.org/rdf/3.0.1/spdx-context.jsonld");

  const std::vector<Json> infos = OfType(doc, "CreationInfo");
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0]["specVersion"], "3.0.1");
  EXPECT_EQ(infos[0]["created"], m.meta.created);
  ASSERT_EQ(infos[0]["createdBy"].size(), 1u);

  const std::vector<Json> docs = OfType(doc, "SpdxDocument");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_THAT(docs[0]["profileConformance"],
              ElementsAre("core", "software", "simpleLicensing", "ai"));
  ASSERT_EQ(docs[0]["rootElement"].size(), 1u);
  std::map<std::string, Json> by_id = ById(doc);
  const Json model = by_id[docs[0]["rootElement"][0]];
  EXPECT_EQ(model["type"], "ai_AIPackage");
  EXPECT_EQ(model["name"], m.meta.name);
  EXPECT_EQ(model["software_packageVersion"], m.meta.version);
  EXPECT_EQ(model["software_primaryPurpose"], "model");
  EXPECT_EQ(model["releaseTime"], m.meta.created);
  EXPECT_EQ(model["software_downloadLocation"], FullContext().download_location);
  EXPECT_EQ(model["verifiedUsing"][0]["algorithm"], "sha256");
  EXPECT_EQ(model["verifiedUsing"][0]["hashValue"], m.BundleDigest().Hex());
  EXPECT_EQ(model["externalRef"][0]["locator"][0], FullContext().reference);
  EXPECT_THAT(model["software_sourceInfo"].get<std::string>(),
              HasSubstr(m.meta.provenance.revision));
  EXPECT_EQ(by_id[model["suppliedBy"]]["name"], m.meta.publisher);

  // Every file, with its SHA-256, in one complete `contains`.
  const std::vector<Json> files = OfType(doc, "software_File");
  ASSERT_EQ(files.size(), m.files.size());
  for (size_t i = 0; i < m.files.size(); ++i) {
    EXPECT_EQ(files[i]["name"], m.files[i].path);
    EXPECT_EQ(files[i]["verifiedUsing"][0]["algorithm"], "sha256");
    EXPECT_EQ(files[i]["verifiedUsing"][0]["hashValue"], m.files[i].digest.Hex());
    EXPECT_EQ(files[i]["contentType"], m.files[i].media_type);
  }
  const std::vector<Json> contains = Relations(doc, "contains");
  ASSERT_EQ(contains.size(), 1u);
  EXPECT_EQ(contains[0]["from"], model["spdxId"]);
  EXPECT_EQ(contains[0]["to"].size(), m.files.size());
  EXPECT_EQ(contains[0]["completeness"], "complete");

  // Exactly one declared and one concluded licence, as the AI profile asks.
  const std::vector<Json> declared = Relations(doc, "hasDeclaredLicense");
  ASSERT_EQ(declared.size(), 1u);
  const Json expr = by_id[declared[0]["to"][0]];
  EXPECT_EQ(expr["type"], "simplelicensing_LicenseExpression");
  EXPECT_EQ(expr["simplelicensing_licenseExpression"], "Apache-2.0");
  EXPECT_THAT(expr["comment"].get<std::string>(), HasSubstr("LICENSE"));
  const std::vector<Json> concluded = Relations(doc, "hasConcludedLicense");
  ASSERT_EQ(concluded.size(), 1u);
  EXPECT_EQ(concluded[0]["to"][0], "expandedlicensing_NoAssertionLicense");

  // Base models by digest (hashed), by name (not), datasets.
  const std::vector<Json> descends = Relations(doc, "descendantOf");
  ASSERT_EQ(descends.size(), 2u);
  EXPECT_THAT(TargetNames(doc, descends[0]),
              ElementsAre(m.meta.provenance.base_models[0].ToString(),
                          m.meta.provenance.base_models[1].ToString()));
  for (const Json& to : descends[0]["to"]) {
    EXPECT_EQ(by_id[to]["type"], "ai_AIPackage");
    EXPECT_EQ("sha256:" + by_id[to]["verifiedUsing"][0]["hashValue"].get<std::string>(),
              by_id[to]["name"]);
  }
  EXPECT_THAT(TargetNames(doc, descends[1]), ElementsAre("meta-llama/Llama-3.2-3B"));
  EXPECT_FALSE(by_id[descends[1]["to"][0]].contains("verifiedUsing"));
  const std::vector<Json> trained = Relations(doc, "trainedOn");
  ASSERT_EQ(trained.size(), 1u);
  EXPECT_THAT(TargetNames(doc, trained[0]),
              ElementsAre("HuggingFaceFW/fineweb-edu", "open-web-math/open-web-math"));
  for (const Json& to : trained[0]["to"]) {
    EXPECT_EQ(by_id[to]["type"], "dataset_DatasetPackage");
    EXPECT_THAT(by_id[to]["dataset_datasetType"], ElementsAre("noAssertion"));
  }

  const std::vector<Json> notes = OfType(doc, "Annotation");
  ASSERT_EQ(notes.size(), 1u);
  for (const std::string& k : FullContext().signer_key_ids) {
    EXPECT_THAT(notes[0]["statement"].get<std::string>(), HasSubstr(k));
  }
}

TEST(SpdxDocumentTest, EveryReferenceResolvesAndIdsAreUnique) {
  for (const Sample& s : AllSamples()) {
    SCOPED_TRACE(s.name);
    const Json doc = Spdx(s.manifest, s.ctx);
    std::set<std::string> ids;
    for (const Json& n : doc["@graph"]) {
      if (n.contains("spdxId")) {
        EXPECT_TRUE(ids.insert(n["spdxId"]).second) << n["spdxId"];
      }
    }
    ids.insert("expandedlicensing_NoAssertionLicense");
    const Json root = OfType(doc, "SpdxDocument")[0];
    for (const Json& e : root["element"]) EXPECT_TRUE(ids.count(e)) << e;
    EXPECT_EQ(root["element"].size() + 1,
              ids.size() - 1);  // all but the document and the individual
    for (const Json& n : doc["@graph"]) {
      if (n.contains("spdxId")) {
        EXPECT_EQ(n["creationInfo"], "_:creationinfo");
      }
      if (n["type"] != "Relationship") continue;
      EXPECT_TRUE(ids.count(n["from"])) << n["from"];
      EXPECT_FALSE(n["to"].empty());
      for (const Json& to : n["to"]) EXPECT_TRUE(ids.count(to)) << to;
    }
  }
}

TEST(SpdxDocumentTest, ClaimsTheAiProfileOnlyWhenItsRequirementsAreMet) {
  // Offline: no download location; minimal: no version, publisher or time.
  for (const format::Manifest& m : {FullManifest(), MinimalManifest()}) {
    EXPECT_THAT(OfType(Spdx(m), "SpdxDocument")[0]["profileConformance"],
                ElementsAre("core", "software", "simpleLicensing"));
  }
}

TEST(SpdxDocumentTest, NoLicenceIsNoAssertion) {
  const Json doc = Spdx(NoLicenseManifest());
  EXPECT_TRUE(OfType(doc, "simplelicensing_LicenseExpression").empty());
  const std::vector<Json> declared = Relations(doc, "hasDeclaredLicense");
  ASSERT_EQ(declared.size(), 1u);
  EXPECT_EQ(declared[0]["to"][0], "expandedlicensing_NoAssertionLicense");
  EXPECT_EQ(Relations(doc, "descendantOf").size(), 1u);  // names only
  EXPECT_EQ(Relations(doc, "trainedOn").size(), 1u);
}

TEST(SbomTest, LicenceExpressionsAreCarriedAsWritten) {
  for (const format::Manifest& m : {ComplexLicenseManifest(), LicenseRefManifest()}) {
    SCOPED_TRACE(m.meta.license.spdx);
    EXPECT_EQ(OfType(Spdx(m),
                     "simplelicensing_LicenseExpression")[0]["simplelicensing_licenseExpression"],
              m.meta.license.spdx);
    const Json licenses = CycloneDx(m)["metadata"]["component"]["licenses"];
    ASSERT_EQ(licenses.size(), 1u);
    EXPECT_EQ(licenses[0]["expression"], m.meta.license.spdx);
    EXPECT_EQ(licenses[0]["acknowledgement"], "declared");
  }
  EXPECT_FALSE(CycloneDx(NoLicenseManifest())["metadata"]["component"].contains("licenses"));
}

TEST(CycloneDxDocumentTest, StatesTheBundleFilesLicenceAndLineage) {
  const format::Manifest m = FullManifest();
  const SbomContext ctx = FullContext();
  const Json bom = CycloneDx(m, ctx);
  EXPECT_EQ(bom["bomFormat"], "CycloneDX");
  EXPECT_EQ(bom["specVersion"], "1.6");
  EXPECT_EQ(bom["version"], 1);
  const std::string serial = bom["serialNumber"];
  ASSERT_EQ(serial.size(), 45u);
  EXPECT_EQ(serial.substr(0, 9), "urn:uuid:");
  EXPECT_EQ(serial[23], '8');  // RFC 9562 version 8
  EXPECT_EQ(bom["metadata"]["timestamp"], m.meta.created);

  const Json model = bom["metadata"]["component"];
  EXPECT_EQ(model["type"], "machine-learning-model");
  EXPECT_EQ(model["name"], m.meta.name);
  EXPECT_EQ(model["version"], m.meta.version);
  EXPECT_EQ(model["publisher"], m.meta.publisher);
  EXPECT_EQ(model["hashes"][0]["alg"], "SHA-256");
  EXPECT_EQ(model["hashes"][0]["content"], m.BundleDigest().Hex());
  EXPECT_EQ(model["licenses"][0]["expression"], "Apache-2.0");
  EXPECT_EQ(model["externalReferences"][0]["url"], ctx.download_location);

  const Json ancestors = model["pedigree"]["ancestors"];
  ASSERT_EQ(ancestors.size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(ancestors[i]["type"], "machine-learning-model");
    EXPECT_EQ(ancestors[i]["hashes"][0]["content"], m.meta.provenance.base_models[i].Hex());
  }
  EXPECT_EQ(ancestors[2]["name"], "meta-llama/Llama-3.2-3B");
  EXPECT_FALSE(ancestors[2].contains("hashes"));
  const Json datasets = model["modelCard"]["modelParameters"]["datasets"];
  ASSERT_EQ(datasets.size(), 2u);
  EXPECT_EQ(datasets[0]["type"], "dataset");
  EXPECT_EQ(datasets[0]["name"], "HuggingFaceFW/fineweb-edu");

  const Json components = bom["components"];
  ASSERT_EQ(components.size(), m.files.size());
  std::set<std::string> refs = {model["bom-ref"]};
  for (const Json& a : ancestors) EXPECT_TRUE(refs.insert(a["bom-ref"]).second);
  for (size_t i = 0; i < m.files.size(); ++i) {
    EXPECT_EQ(components[i]["type"], "file");
    EXPECT_EQ(components[i]["name"], m.files[i].path);
    EXPECT_EQ(components[i]["hashes"][0]["alg"], "SHA-256");
    EXPECT_EQ(components[i]["hashes"][0]["content"], m.files[i].digest.Hex());
    EXPECT_TRUE(refs.insert(components[i]["bom-ref"]).second);
  }
  std::vector<std::string> signers;
  for (const Json& p : bom["metadata"]["properties"]) {
    if (p["name"] == "arca:verified-signer-keyid") signers.push_back(p["value"]);
    if (p["name"] == "arca:reference") {
      EXPECT_EQ(p["value"], ctx.reference);
    }
  }
  EXPECT_EQ(signers, ctx.signer_key_ids);
}

TEST(SbomTest, SameInputSameBytes) {
  for (const Sample& s : AllSamples()) {
    SCOPED_TRACE(s.name);
    const Digest d = s.manifest.BundleDigest();
    EXPECT_EQ(*SpdxDocument(s.manifest, d, s.ctx), *SpdxDocument(s.manifest, d, s.ctx));
    EXPECT_EQ(*CycloneDxDocument(s.manifest, d, s.ctx), *CycloneDxDocument(s.manifest, d, s.ctx));
  }
  // Ids follow the bundle.
  EXPECT_NE(CycloneDx(FullManifest())["serialNumber"],
            CycloneDx(MinimalManifest())["serialNumber"]);
  EXPECT_NE(OfType(Spdx(FullManifest()), "SpdxDocument")[0]["spdxId"],
            OfType(Spdx(MinimalManifest()), "SpdxDocument")[0]["spdxId"]);
}

TEST(SbomTest, TimestampIsTheContextsElseCreatedElseTheEpoch) {
  SbomContext ctx;
  ctx.timestamp = "2030-05-06T07:08:09Z";
  EXPECT_EQ(CycloneDx(FullManifest(), ctx)["metadata"]["timestamp"], ctx.timestamp);
  EXPECT_EQ(OfType(Spdx(FullManifest(), ctx), "CreationInfo")[0]["created"], ctx.timestamp);
  EXPECT_EQ(CycloneDx(FullManifest())["metadata"]["timestamp"], FullManifest().meta.created);
  EXPECT_EQ(CycloneDx(MinimalManifest())["metadata"]["timestamp"], kSbomFallbackTimestamp);
  EXPECT_EQ(OfType(Spdx(MinimalManifest()), "CreationInfo")[0]["created"], kSbomFallbackTimestamp);

  // A `created` of the right shape that names no real time is not used as one.
  format::Manifest feb30 = FullManifest();
  feb30.meta.created = "2026-02-30T00:00:00Z";
  ASSERT_OK(feb30.Validate());
  EXPECT_EQ(CycloneDx(feb30)["metadata"]["timestamp"], kSbomFallbackTimestamp);
  const Json doc = Spdx(feb30);
  EXPECT_FALSE(ById(doc)[OfType(doc, "SpdxDocument")[0]["rootElement"][0]].contains("releaseTime"));
  for (const char* bad : {"2026-02-29T00:00:00Z", "2026-01-01T00:00:60Z", "2026-13-01T00:00:00Z"}) {
    ctx.timestamp = bad;
    EXPECT_FALSE(SpdxDocument(FullManifest(), FullManifest().BundleDigest(), ctx).ok()) << bad;
  }
  ctx.timestamp = "2028-02-29T23:59:59Z";
  EXPECT_OK(SpdxDocument(FullManifest(), FullManifest().BundleDigest(), ctx));
}

TEST(SbomTest, RefusesAManifestThatIsNotTheBundle) {
  const format::Manifest m = FullManifest();
  const Digest other = MinimalManifest().BundleDigest();
  for (const auto& make : {SpdxDocument, CycloneDxDocument}) {
    Result<std::string> doc = make(m, other, {});
    EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(doc.status().message(), HasSubstr(other.ToString()));

    format::Manifest unsorted = m;
    std::swap(unsorted.files[0], unsorted.files[1]);
    EXPECT_FALSE(make(unsorted, m.BundleDigest(), {}).ok());

    SbomContext bad_time;
    bad_time.timestamp = "2026-01-15 09:30:00";
    EXPECT_EQ(make(m, m.BundleDigest(), bad_time).status().code(), StatusCode::kInvalidArgument);
    SbomContext bad_key;
    bad_key.signer_key_ids = {"abc"};
    EXPECT_EQ(make(m, m.BundleDigest(), bad_key).status().code(), StatusCode::kInvalidArgument);
    SbomContext bad_text;
    bad_text.reference = "\xff\xfe";
    EXPECT_EQ(make(m, m.BundleDigest(), bad_text).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SbomTest, HostileTextStaysData) {
  const format::Manifest m = HostileManifest();
  ASSERT_OK(m.Validate());
  for (const bool spdx : {true, false}) {
    Result<std::string> text =
        spdx ? SpdxDocument(m, m.BundleDigest(), {}) : CycloneDxDocument(m, m.BundleDigest(), {});
    ASSERT_OK(text);
    // Valid JSON, with no raw control character anywhere in it.
    const Json doc = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(doc.is_discarded());
    for (const char c : *text) {
      if (c != '\n') {
        EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in the document";
      }
    }
    // The strings come back exactly.
    std::multiset<std::string> found;
    std::function<void(const Json&)> walk = [&](const Json& j) {
      if (j.is_string()) found.insert(j.get<std::string>());
      if (!j.is_structured()) return;
      for (const Json& v : j) walk(v);
    };
    walk(doc);
    EXPECT_TRUE(found.count(HostileText())) << "publisher";
    EXPECT_TRUE(found.count(m.meta.provenance.datasets[1]));
    EXPECT_TRUE(found.count(m.meta.provenance.base_model_names[1]));
    EXPECT_TRUE(found.count(m.files[0].path));
    // The structure is the writer's, not the publisher's.
    if (spdx) {
      EXPECT_EQ(OfType(doc, "SpdxDocument").size(), 1u);
    } else {
      EXPECT_EQ(doc["bomFormat"], "CycloneDX");
      // created is a leap second, which date-time parsers refuse: not used.
      EXPECT_EQ(doc["metadata"]["timestamp"], kSbomFallbackTimestamp);
      // A media type outside the schema's pattern is kept as a property.
      EXPECT_FALSE(doc["components"][0].contains("mime-type"));
    }
  }
}

// --- arca sbom ---

// A pulled directory's .arca/ as Materialize leaves it (manifest and state).
void WritePulledDir(const std::string& dir, const format::Manifest& m, const Digest& recorded) {
  ASSERT_OK(MakeDirs(dir + "/.arca"));
  ASSERT_OK(WriteFileAtomic(dir + "/.arca/manifest.json", m.Canonical()));
  ASSERT_OK(WriteFileAtomic(dir + "/.arca/state.json", EncodeState(recorded, {})));
}

TEST(SbomCommandTest, WritesTheDocumentOfAPulledDirectory) {
  TempDir tmp;
  const format::Manifest m = FullManifest();
  WritePulledDir(tmp / "model", m, m.BundleDigest());
  SbomOptions o;
  o.target = tmp / "model";
  o.format = "cyclonedx";
  o.trust.policy_path = tmp / "no-policy.json";  // no policy: no signers recorded
  std::ostringstream out, err;
  ASSERT_EQ(SbomCommand(o, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), *CycloneDxDocument(m, m.BundleDigest(), {}));

  o.format = "spdx";
  o.output = tmp / "model.spdx.json";
  o.timestamp = "2031-01-01T00:00:00Z";
  out.str("");
  ASSERT_EQ(SbomCommand(o, out, err), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("wrote " + o.output));
  SbomContext ctx;
  ctx.timestamp = o.timestamp;
  EXPECT_EQ(*ReadFile(o.output, 1 << 20), *SpdxDocument(m, m.BundleDigest(), ctx));
}

TEST(SbomCommandTest, RefusesAManifestChangedSinceThePullAndBadUsage) {
  TempDir tmp;
  WritePulledDir(tmp / "model", FullManifest(), MinimalManifest().BundleDigest());
  SbomOptions o;
  o.target = tmp / "model";
  o.format = "spdx";
  o.trust.policy_path = tmp / "no-policy.json";
  std::ostringstream out, err;
  EXPECT_EQ(SbomCommand(o, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("has changed since the pull"));
  EXPECT_EQ(out.str(), "");

  o.format = "xml";
  EXPECT_EQ(SbomCommand(o, out, err), 2);
  o.format = "spdx";
  o.target = tmp / "not-there";
  EXPECT_EQ(SbomCommand(o, out, err), 2);
  o.target = tmp.path();  // a directory arca did not pull into
  EXPECT_EQ(SbomCommand(o, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("not a directory pulled by arca"));
}

TEST(SbomCommandTest, RecordsTheSignersThePolicyVerifies) {
  TempDir tmp;
  const format::Manifest m = FullManifest();
  const Digest d = m.BundleDigest();
  WritePulledDir(tmp / "model", m, d);
  const signing::KeyPair trusted = signing::GenerateKeyPair();
  const signing::KeyPair stranger = signing::GenerateKeyPair();
  ASSERT_OK(MakeDirs(tmp / "model/.arca/attestations"));
  for (const signing::KeyPair* k : {&trusted, &stranger}) {
    const std::string envelope = SignBundle(m, d, *k);
    ASSERT_OK(
        WriteFileAtomic(tmp / ("model/.arca/attestations/" + Sha256Of(envelope).Hex()), envelope));
  }
  const Json policy{
      {"schema", "arca.policy.v1"},
      {"keys", {{"release", Json::parse(signing::ExportPublicKey("release", trusted.public_key))}}},
      {"rules", Json::array({{{"repositories", "acme/**"}, {"keys", {"release"}}}})}};
  ASSERT_OK(WriteFileAtomic(tmp / "policy.json", policy.dump()));

  SbomOptions o;
  o.target = tmp / "model";
  o.format = "cyclonedx";
  o.trust.policy_path = tmp / "policy.json";
  std::ostringstream out, err;
  ASSERT_EQ(SbomCommand(o, out, err), 0) << err.str();
  const Json bom = Json::parse(out.str());
  std::vector<std::string> signers;
  for (const Json& p : bom["metadata"]["properties"]) {
    if (p["name"] == "arca:verified-signer-keyid") signers.push_back(p["value"]);
  }
  EXPECT_THAT(signers, ElementsAre(signing::KeyId(trusted.public_key).ToString()));

  // A policy that cannot be read: the document, without signers, and a warning.
  ASSERT_OK(WriteFileAtomic(tmp / "policy.json", "{not json"));
  out.str("");
  ASSERT_EQ(SbomCommand(o, out, err), 0);
  EXPECT_THAT(err.str(), HasSubstr("no signer key ids recorded"));
  EXPECT_EQ(out.str(), *CycloneDxDocument(m, d, {}));
}

// The registry in this process; the client's token and credentials file are
// kept out of the way (and restored afterwards).
class SbomRegistryTest : public registry::testing::RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    for (const char* name : {"ARCA_TOKEN", "XDG_CONFIG_HOME"}) {
      if (const char* v = ::getenv(name)) saved_.emplace_back(name, v);
    }
    ::unsetenv("ARCA_TOKEN");
    ::setenv("XDG_CONFIG_HOME", (tmp_ / "config").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("XDG_CONFIG_HOME");
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
    RegistryTest::TearDown();
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(SbomRegistryTest, FetchesTheManifestByReference) {
  StartServer(/*anonymous_pull=*/true);
  store::AddResult added = AddBundle("acme/llama", 7);
  Remote pusher(
      Endpoint{*ParseRegistry("127.0.0.1:" + std::to_string(server_->port()), false), push_, ""});
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp_ / "client/packs")) {
    if (e.is_regular_file()) ASSERT_OK(pusher.UploadPack(e.path().string()));
  }
  for (const format::ManifestFile& f : added.built.manifest.files) {
    ASSERT_OK(pusher.PutObject(f.index, "file-index",
                               *client_store_->GetObject(f.index, store::ObjectKind::kFileIndex)));
  }
  ASSERT_OK(pusher.PutObject(added.bundle, "manifest", added.built.manifest_bytes));
  ASSERT_OK(pusher.PutTag("acme/llama", "v1", added.bundle));

  SbomOptions o;
  o.target = "127.0.0.1:" + std::to_string(server_->port()) + "/acme/llama:v1";
  o.format = "spdx";
  o.trust.policy_path = tmp_ / "no-policy.json";
  std::ostringstream out, err;
  ASSERT_EQ(SbomCommand(o, out, err), 0) << err.str();
  const Json doc = Json::parse(out.str());
  const Json model = ById(doc)[OfType(doc, "SpdxDocument")[0]["rootElement"][0]];
  EXPECT_EQ(model["verifiedUsing"][0]["hashValue"], added.bundle.Hex());
  EXPECT_EQ(model["externalRef"][0]["locator"][0], o.target);
  EXPECT_EQ(model["software_downloadLocation"],
            "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1/objects/" +
                added.bundle.ToString());
  EXPECT_EQ(OfType(doc, "software_File").size(), added.built.manifest.files.size());

  o.target = "127.0.0.1:" + std::to_string(server_->port()) + "/acme/llama:missing";
  EXPECT_EQ(SbomCommand(o, out, err), 1);
}

}  // namespace
}  // namespace arca::client
