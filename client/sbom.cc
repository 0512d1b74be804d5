// SPDX 3.0.1 and CycloneDX 1.6 documents for a bundle, and `arca sbom`.
//
// Both documents state only what the signed manifest states, plus what the
// caller passes in the context, and say where each statement comes from.
//
// SPDX 3.0.1 (JSON-LD, one @graph):
//   - CreationInfo (created = the timestamp, createdBy = a SoftwareAgent
//     "arca") and the SpdxDocument, whose rootElement is the bundle;
//   - the bundle as an ai_AIPackage: name, software_packageVersion, primary
//     purpose "model", releaseTime (`created`, when it names a real UTC
//     time), suppliedBy (the publisher, an Agent: the manifest does not say
//     whether a person or an organisation), a sha256 Hash of the bundle
//     digest, software_sourceInfo (upstream source and revision),
//     software_downloadLocation and the reference when given;
//   - one software_File per manifest file with its sha256 Hash and media
//     type, tied to the bundle by one `contains` relationship marked complete
//     (the manifest lists every file);
//   - hasDeclaredLicense to a simplelicensing_LicenseExpression holding the
//     manifest's expression as written (NoAssertionLicense when it states
//     none); hasConcludedLicense to NoAssertionLicense: arca concludes nothing
//     of its own about the licence;
//   - base models by digest as ai_AIPackage elements whose spdxId derives
//     from their own digest (the same id as the bundle has in its own SBOM),
//     base models by name as separate ai_AIPackage elements marked unverified,
//     each set tied by `descendantOf`; datasets as dataset_DatasetPackage
//     (type noAssertion) tied by `trainedOn`;
//   - the verified signers' key ids as an Annotation on the bundle.
//   profileConformance always claims core, software and simpleLicensing, and
//   claims ai only when the manifest gives everything the AI profile requires
//   of an AIPackage (version, publisher, created) and a download location is
//   known. dataset is never claimed: its conformance needs facts (build and
//   release times, originator, download location) that no manifest states.
//
// CycloneDX 1.6: the bundle as metadata.component of type
// "machine-learning-model" (publisher, supplier, version, SHA-256 of the
// bundle digest, the licence expression acknowledged as "declared",
// pedigree.ancestors for base models, modelCard datasets), the files as
// top-level components of type "file" (SHA-256, mime-type, size), and arca's
// own facts as "arca:" properties. serialNumber is a UUID derived from the
// bundle digest, so the SBOMs of one bundle share it; version is 1.
//
// Times: the document's is the context's timestamp, else the manifest's
// `created`, else the epoch. The manifest checks only the shape of `created`;
// one that names no real UTC time (February 30, a leap second, which most
// date-time parsers refuse) is not used as a time, only kept as the
// arca:created property.
//
// Left unasserted in both: copyright text, a licence concluded by analysis,
// the licence's text or its LicenseRef- definitions, anything about datasets
// or name-only base models beyond their names, the SBOM's own data licence,
// the files' purposes (and in SPDX, whose 3.0.1 model has no such property,
// their sizes), model parameters, and vulnerabilities. The files are
// those the signed manifest lists: an SBOM of a pulled directory describes
// the bundle, and `arca verify DIR` checks that the directory still holds it.
//
// Ids: the bundle's SPDX id is "urn:uuid:<UUIDv8>", its other elements are
// fragments of it ("#file-3"); the UUIDs are RFC 9562 version 8 UUIDs from
// SHA-256 over a label and the digest.
#include "client/sbom.h"

#include <sys/stat.h>

#include <cctype>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "client/reference.h"
#include "client/remote.h"
#include "client/remote_commands.h"
#include "client/store_commands.h"
#include "client/worktree.h"
#include "common/file.h"
#include "format/path.h"

namespace arca::client {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kSpdxContext = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";
constexpr std::string_view kCreationInfo = "_:creationinfo";
constexpr std::string_view kNoAssertionLicense = "expandedlicensing_NoAssertionLicense";

// "YYYY-MM-DDTHH:MM:SSZ" naming a real UTC time: a day the month has, and no
// leap second (60), which most date-time parsers refuse. The manifest's
// `created` is checked for shape only, so it may fail this.
bool IsTimestamp(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != kShape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? !std::isdigit(uint8_t(s[i])) : s[i] != kShape[i]) return false;
  }
  auto num = [&](size_t pos) { return (s[pos] - '0') * 10 + (s[pos + 1] - '0'); };
  const int year = num(0) * 100 + num(2), month = num(5), day = num(8);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= days && num(11) <= 23 && num(14) <= 59 && num(17) <= 59;
}

// Checks the inputs both documents share; returns the timestamp to use.
Result<std::string> CheckInputs(const format::Manifest& m, const Digest& bundle,
                                const SbomContext& ctx) {
  ARCA_RETURN_IF_ERROR(m.Validate());
  if (m.BundleDigest() != bundle) {
    return InvalidArgumentError("the manifest hashes to " + m.BundleDigest().ToString() +
                                ", not to the bundle " + bundle.ToString());
  }
  for (std::string_view text :
       {std::string_view(ctx.reference), std::string_view(ctx.download_location)}) {
    if (!format::IsValidUtf8(text) || text.find('\0') != std::string_view::npos ||
        text.size() > format::kMaxStringBytes) {
      return InvalidArgumentError(
          "the SBOM context's reference or download location is not UTF-8 text of at most 4096 "
          "bytes");
    }
  }
  for (const std::string& k : ctx.signer_key_ids) {
    if (!Digest::Parse(k).ok())
      return InvalidArgumentError("signer key id \"" + k + "\" is not sha256:<64 hex>");
  }
  if (!ctx.timestamp.empty()) {
    if (!IsTimestamp(ctx.timestamp)) {
      return InvalidArgumentError("timestamp must be a UTC time like 2026-11-22T10:00:00Z, got \"" +
                                  ctx.timestamp + "\"");
    }
    return ctx.timestamp;
  }
  return IsTimestamp(m.meta.created) ? m.meta.created : std::string(kSbomFallbackTimestamp);
}

// An RFC 9562 version 8 UUID: the first 16 bytes of SHA-256(label, digest)
// with the version and variant bits set.
std::string DerivedUuid(std::string_view label, const Digest& d) {
  Digest h = Sha256Of(std::string(label) + "\n" + d.ToString());
  h.bytes[6] = uint8_t((h.bytes[6] & 0x0f) | 0x80);
  h.bytes[8] = uint8_t((h.bytes[8] & 0x3f) | 0x80);
  const std::string hex = h.Hex();
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

// The SPDX id of a bundle, the same in every document that names it.
std::string BundleIri(const Digest& d) { return "urn:uuid:" + DerivedUuid("arca bundle spdx", d); }

// Lower-case "type/subtype" of the characters CycloneDX's mime-type allows
// (SPDX's contentType allows a superset).
bool IsPlainMediaType(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == slash) continue;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.'))
      return false;
  }
  return true;
}

// Base model digests in manifest order, each once.
std::vector<Digest> DistinctBaseModels(const format::Manifest& m) {
  std::vector<Digest> out;
  std::set<Digest> seen;
  for (const Digest& d : m.meta.provenance.base_models) {
    if (seen.insert(d).second) out.push_back(d);
  }
  return out;
}

std::string SourceInfo(const format::Provenance& p) {
  std::string s;
  if (!p.source.empty()) s = "upstream source: " + p.source;
  if (!p.revision.empty())
    s += (s.empty() ? "" : "; ") + std::string("upstream revision: ") + p.revision;
  return s;
}

// Indented, members in insertion order; invalid UTF-8 (none passes the
// checks above) would become U+FFFD rather than an exception.
std::string Dump(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace

Result<std::string> SpdxDocument(const format::Manifest& m, const Digest& bundle,
                                 const SbomContext& ctx) {
  ARCA_ASSIGN_OR_RETURN(const std::string timestamp, CheckInputs(m, bundle, ctx));
  const format::Metadata& meta = m.meta;
  const std::string pkg = BundleIri(bundle);
  auto id = [&](const std::string& local) { return pkg + "#" + local; };
  auto sha256 = [](const Digest& d) {
    return Json{{"type", "Hash"}, {"algorithm", "sha256"}, {"hashValue", d.Hex()}};
  };

  // A deque: the references `element` returns stay valid as it grows.
  std::deque<Json> elements;
  auto element = [&](std::string_view type, const std::string& spdx_id) -> Json& {
    elements.push_back(Json{{"type", type}, {"spdxId", spdx_id}, {"creationInfo", kCreationInfo}});
    return elements.back();
  };
  auto relationship = [&](const std::string& local, const std::string& type, Json to) -> Json& {
    Json& r = element("Relationship", id(local));
    r["from"] = pkg;
    r["relationshipType"] = type;
    r["to"] = std::move(to);
    return r;
  };

  Json& tool = element("SoftwareAgent", id("arca"));
  tool["name"] = "arca";
  tool["comment"] = "The arca client, which wrote this document from the bundle's signed manifest.";

  Json& model = element("ai_AIPackage", pkg);
  model["name"] = meta.name;
  if (!meta.version.empty()) model["software_packageVersion"] = meta.version;
  model["software_primaryPurpose"] = "model";
  if (!ctx.download_location.empty()) model["software_downloadLocation"] = ctx.download_location;
  if (IsTimestamp(meta.created)) model["releaseTime"] = meta.created;
  if (!meta.publisher.empty()) model["suppliedBy"] = id("publisher");
  Json bundle_hash = sha256(bundle);
  bundle_hash["comment"] =
      "The bundle digest: the SHA-256 of the canonical manifest, which lists every file's SHA-256.";
  model["verifiedUsing"] = Json::array({bundle_hash});
  if (const std::string info = SourceInfo(meta.provenance); !info.empty())
    model["software_sourceInfo"] = info;
  if (!ctx.reference.empty()) {
    model["externalRef"] = Json::array(
        {Json{{"type", "ExternalRef"},
              {"externalRefType", "other"},
              {"locator", Json::array({ctx.reference})},
              {"comment", "The arca registry reference this document was made from."}}});
  }
  model["comment"] = "An arca bundle " + bundle.ToString() + ".";

  const bool model_has_release_time = model.contains("releaseTime");
  if (!meta.publisher.empty()) {
    Json& publisher = element("Agent", id("publisher"));
    publisher["name"] = meta.publisher;
    publisher["comment"] = "The publisher the manifest names.";
  }

  Json files = Json::array();
  for (size_t i = 0; i < m.files.size(); ++i) {
    const format::ManifestFile& f = m.files[i];
    Json& file = element("software_File", id("file-" + std::to_string(i)));
    file["name"] = f.path;
    file["verifiedUsing"] = Json::array({sha256(f.digest)});
    if (IsPlainMediaType(f.media_type)) file["contentType"] = f.media_type;
    file["software_fileKind"] = "file";
    if (f.path == meta.license.file) file["comment"] = "The licence text the manifest names.";
    files.push_back(file["spdxId"]);
  }
  if (!files.empty())
    relationship("contains", "contains", std::move(files))["completeness"] = "complete";

  if (!meta.license.spdx.empty()) {
    Json& expr = element("simplelicensing_LicenseExpression", id("license-declared"));
    expr["simplelicensing_licenseExpression"] = meta.license.spdx;
    if (!meta.license.file.empty())
      expr["comment"] = "Licence text: the bundle's file " + meta.license.file + ".";
    relationship("declared-license", "hasDeclaredLicense",
                 Json::array({id("license-declared")}))["comment"] =
        "The licence the publisher declares in the signed manifest.";
  } else {
    relationship("declared-license", "hasDeclaredLicense",
                 Json::array({kNoAssertionLicense}))["comment"] = "The manifest states no licence.";
  }
  relationship("concluded-license", "hasConcludedLicense",
               Json::array({kNoAssertionLicense}))["comment"] =
      "arca draws no conclusion of its own; see the declared licence.";

  if (const std::vector<Digest> bases = DistinctBaseModels(m); !bases.empty()) {
    Json to = Json::array();
    for (const Digest& d : bases) {
      Json& base = element("ai_AIPackage", BundleIri(d));
      base["name"] = d.ToString();
      base["software_primaryPurpose"] = "model";
      base["verifiedUsing"] = Json::array({sha256(d)});
      base["comment"] =
          "A bundle this model derives from, by digest; its own manifest and SBOM describe it.";
      to.push_back(BundleIri(d));
    }
    relationship("base-models", "descendantOf", std::move(to))["comment"] =
        "Base models by bundle digest, as the signed manifest lists them.";
  }
  if (const auto& names = meta.provenance.base_model_names; !names.empty()) {
    Json to = Json::array();
    for (size_t i = 0; i < names.size(); ++i) {
      Json& base = element("ai_AIPackage", id("base-model-name-" + std::to_string(i)));
      base["name"] = names[i];
      base["software_primaryPurpose"] = "model";
      base["comment"] = "Named by the publisher; unverified: no digest identifies it.";
      to.push_back(base["spdxId"]);
    }
    relationship("base-model-names", "descendantOf", std::move(to))["comment"] =
        "Base models by name only, as the publisher states them; unverified.";
  }
  if (const auto& datasets = meta.provenance.datasets; !datasets.empty()) {
    Json to = Json::array();
    for (size_t i = 0; i < datasets.size(); ++i) {
      Json& ds = element("dataset_DatasetPackage", id("dataset-" + std::to_string(i)));
      ds["name"] = datasets[i];
      ds["software_primaryPurpose"] = "data";
      ds["dataset_datasetType"] = Json::array({"noAssertion"});
      ds["comment"] = "Named by the publisher; unverified.";
      to.push_back(ds["spdxId"]);
    }
    relationship("datasets", "trainedOn", std::move(to))["comment"] =
        "Training datasets as the publisher states them.";
  }
  if (!ctx.signer_key_ids.empty()) {
    std::string keys;
    for (const std::string& k : ctx.signer_key_ids) keys += (keys.empty() ? "" : ", ") + k;
    Json& note = element("Annotation", id("signers"));
    note["annotationType"] = "other";
    note["subject"] = pkg;
    note["statement"] =
        "Signatures over this bundle that arca verified under the user's trust policy, by keys " +
        keys + ".";
  }

  const bool ai = !meta.version.empty() && !meta.publisher.empty() && model_has_release_time &&
                  !ctx.download_location.empty();
  Json profiles = Json::array({"core", "software", "simpleLicensing"});
  if (ai) profiles.push_back("ai");
  Json doc{{"type", "SpdxDocument"}, {"spdxId", id("document")}, {"creationInfo", kCreationInfo}};
  doc["name"] = "SBOM of " + meta.name + (meta.version.empty() ? "" : " " + meta.version);
  doc["profileConformance"] = std::move(profiles);
  doc["rootElement"] = Json::array({pkg});
  doc["element"] = Json::array();
  for (const Json& e : elements) doc["element"].push_back(e["spdxId"]);

  Json graph = Json::array();
  graph.push_back(Json{{"type", "CreationInfo"},
                       {"@id", kCreationInfo},
                       {"specVersion", "3.0.1"},
                       {"created", timestamp},
                       {"createdBy", Json::array({id("arca")})}});
  graph.push_back(std::move(doc));
  for (Json& e : elements) graph.push_back(std::move(e));
  return Dump(Json{{"@context", kSpdxContext}, {"@graph", std::move(graph)}});
}

Result<std::string> CycloneDxDocument(const format::Manifest& m, const Digest& bundle,
                                      const SbomContext& ctx) {
  ARCA_ASSIGN_OR_RETURN(const std::string timestamp, CheckInputs(m, bundle, ctx));
  const format::Metadata& meta = m.meta;
  auto sha256 = [](const Digest& d) {
    return Json::array({Json{{"alg", "SHA-256"}, {"content", d.Hex()}}});
  };
  auto property = [](std::string_view name, const std::string& value) {
    return Json{{"name", name}, {"value", value}};
  };

  Json model{{"type", "machine-learning-model"}, {"bom-ref", bundle.ToString()}};
  if (!meta.publisher.empty()) {
    model["supplier"] = Json{{"name", meta.publisher}};
    model["publisher"] = meta.publisher;
  }
  model["name"] = meta.name;
  if (!meta.version.empty()) model["version"] = meta.version;
  model["description"] =
      "An arca bundle; its hash is the bundle digest, the SHA-256 of its canonical manifest.";
  model["hashes"] = sha256(bundle);
  if (!meta.license.spdx.empty()) {
    model["licenses"] =
        Json::array({Json{{"expression", meta.license.spdx}, {"acknowledgement", "declared"}}});
  }
  if (!ctx.download_location.empty()) {
    model["externalReferences"] =
        Json::array({Json{{"url", ctx.download_location},
                          {"type", "distribution"},
                          {"comment", "The bundle's manifest on the arca registry."}}});
  }
  const std::vector<Digest> bases = DistinctBaseModels(m);
  const auto& names = meta.provenance.base_model_names;
  if (!bases.empty() || !names.empty()) {
    Json ancestors = Json::array();
    for (const Digest& d : bases) {
      ancestors.push_back(Json{{"type", "machine-learning-model"},
                               {"bom-ref", d.ToString()},
                               {"name", d.ToString()},
                               {"description", "A bundle this model derives from, by digest."},
                               {"hashes", sha256(d)}});
    }
    for (size_t i = 0; i < names.size(); ++i) {
      ancestors.push_back(
          Json{{"type", "machine-learning-model"},
               {"bom-ref", "base-model-name-" + std::to_string(i)},
               {"name", names[i]},
               {"description", "Named by the publisher; unverified: no digest identifies it."}});
    }
    model["pedigree"] =
        Json{{"ancestors", std::move(ancestors)},
             {"notes",
              "Ancestors with hashes are bundles named by digest in the signed manifest; "
              "those without are names the publisher states, unverified."}};
  }
  if (!meta.provenance.datasets.empty()) {
    Json datasets = Json::array();
    for (const std::string& d : meta.provenance.datasets) {
      datasets.push_back(Json{{"type", "dataset"},
                              {"name", d},
                              {"description", "Named by the publisher; unverified."}});
    }
    model["modelCard"] = Json{{"modelParameters", Json{{"datasets", std::move(datasets)}}}};
  }
  Json model_props = Json::array();
  if (!meta.license.file.empty())
    model_props.push_back(property("arca:license-file", meta.license.file));
  if (!meta.provenance.source.empty())
    model_props.push_back(property("arca:upstream-source", meta.provenance.source));
  if (!meta.provenance.revision.empty()) {
    model_props.push_back(property("arca:upstream-revision", meta.provenance.revision));
  }
  if (!meta.created.empty()) model_props.push_back(property("arca:created", meta.created));
  if (!model_props.empty()) model["properties"] = std::move(model_props);

  Json components = Json::array();
  for (const format::ManifestFile& f : m.files) {
    Json c{{"type", "file"}, {"bom-ref", "file:" + f.path}, {"name", f.path}};
    Json props = Json::array({property("arca:size", std::to_string(f.size))});
    if (IsPlainMediaType(f.media_type)) {
      c["mime-type"] = f.media_type;
    } else {
      props.push_back(property("arca:media-type", f.media_type));
    }
    c["hashes"] = sha256(f.digest);
    c["properties"] = std::move(props);
    components.push_back(std::move(c));
  }

  Json metadata{{"timestamp", timestamp},
                {"tools", Json{{"components",
                                Json::array({Json{{"type", "application"}, {"name", "arca"}}})}}},
                {"component", std::move(model)}};
  Json meta_props = Json::array();
  if (!ctx.reference.empty()) meta_props.push_back(property("arca:reference", ctx.reference));
  for (const std::string& k : ctx.signer_key_ids)
    meta_props.push_back(property("arca:verified-signer-keyid", k));
  if (!meta_props.empty()) metadata["properties"] = std::move(meta_props);

  Json bom{{"bomFormat", "CycloneDX"},
           {"specVersion", "1.6"},
           {"serialNumber", "urn:uuid:" + DerivedUuid("arca bundle cyclonedx", bundle)},
           {"version", 1},
           {"metadata", std::move(metadata)},
           {"components", std::move(components)}};
  return Dump(bom);
}

// --- arca sbom ---

namespace {

struct Loaded {
  std::string manifest_bytes;
  Digest digest;
  format::Manifest manifest;
  std::vector<std::string> envelopes;
  std::string repository;  // the name the policy judges under; empty for a directory
  SbomContext ctx;
};

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// DIR/.arca/, with the manifest checked against the digest the pull recorded.
Result<Loaded> LoadDirectory(const std::string& dir) {
  ARCA_ASSIGN_OR_RETURN(Offline off, LoadOffline(dir));
  Result<std::string> state = ReadFile(dir + "/.arca/state.json", 64ull << 20);
  if (state.ok()) {
    const Json j = Json::parse(*state, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("bundle") && j["bundle"].is_string()) {
      Result<Digest> recorded = Digest::Parse(j["bundle"].get<std::string>());
      if (recorded.ok() && *recorded != off.bundle) {
        return DataLossError(dir +
                             "/.arca/manifest.json has changed since the pull: it hashes to " +
                             off.bundle.ToString() + ", the pull recorded " + recorded->ToString());
      }
    }
  }
  Loaded l;
  l.manifest_bytes = std::move(off.manifest_bytes);
  l.digest = off.bundle;
  l.manifest = std::move(off.manifest);
  l.envelopes = std::move(off.envelopes);
  return l;
}

Result<Loaded> LoadReference(const Reference& ref) {
  ARCA_ASSIGN_OR_RETURN(Endpoint ep, EndpointFor(ref.registry));
  Remote remote(ep);
  Loaded l;
  ARCA_ASSIGN_OR_RETURN(l.digest, ResolveDigest(remote, ref));
  ARCA_ASSIGN_OR_RETURN(l.manifest_bytes, remote.GetObject(l.digest, format::kMaxManifestBytes));
  // GetObject checks this too; the SBOM's every statement rests on it.
  if (Sha256Of(l.manifest_bytes) != l.digest) {
    return DataLossError("the registry's manifest for " + l.digest.ToString() +
                         " does not hash to it");
  }
  Result<format::Manifest> m = format::Manifest::Parse(l.manifest_bytes);
  if (!m.ok()) return m.status().WithContext("manifest " + l.digest.ToString());
  l.manifest = std::move(*m);
  ARCA_ASSIGN_OR_RETURN(l.envelopes, remote.GetAttestations(l.digest));
  l.repository = ref.repository;
  l.ctx.reference = ref.ToString();
  l.ctx.download_location = ref.registry.Url() + "/v1/objects/" + l.digest.ToString();
  return l;
}

// Key ids of the valid signatures over the bundle by keys the policy knows
// (and has not revoked), sorted. No policy file: none.
Result<std::vector<std::string>> VerifiedSignerKeyIds(const TrustOptions& trust, const Loaded& l) {
  TrustOptions lenient = trust;
  lenient.allow_unsigned = true;
  ARCA_ASSIGN_OR_RETURN(
      signing::VerifyReport report,
      JudgeBundle(lenient, l.repository, l.manifest_bytes, l.digest, l.envelopes));
  std::set<std::string> ids;
  for (const signing::SignatureCheck& c : report.signatures) {
    using Outcome = signing::SignatureCheck::Outcome;
    if (c.outcome == Outcome::kCounted || c.outcome == Outcome::kValidNotInRule)
      ids.insert("sha256:" + c.keyid_hex);
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

}  // namespace

int SbomCommand(const SbomOptions& o, std::ostream& out, std::ostream& err) {
  if (o.format != "spdx" && o.format != "cyclonedx") {
    ReportFailure(
        err, InvalidArgumentError("--format must be spdx or cyclonedx, not \"" + o.format + "\""));
    return 2;
  }
  std::optional<Reference> ref;
  if (!IsDirectory(o.target)) {
    Result<Reference> parsed = ParseReference(o.target, InsecureHttpFromEnv());
    if (!parsed.ok()) {
      ReportFailure(err, parsed.status().WithContext(
                             o.target + " is neither a pulled directory nor a reference"));
      return 2;
    }
    ref = std::move(*parsed);
  }
  Result<Loaded> loaded = ref ? LoadReference(*ref) : LoadDirectory(o.target);
  if (!loaded.ok()) return ReportFailure(err, loaded.status());
  SbomContext& ctx = loaded->ctx;
  ctx.timestamp = o.timestamp;
  Result<std::vector<std::string>> signers = VerifiedSignerKeyIds(o.trust, *loaded);
  if (signers.ok()) {
    ctx.signer_key_ids = std::move(*signers);
  } else {
    err << "arca: warning: no signer key ids recorded: " << SafeText(signers.status().message())
        << "\n";
  }
  Result<std::string> doc = o.format == "spdx"
                                ? SpdxDocument(loaded->manifest, loaded->digest, ctx)
                                : CycloneDxDocument(loaded->manifest, loaded->digest, ctx);
  if (!doc.ok()) return ReportFailure(err, doc.status());
  if (o.output.empty()) {
    out << *doc;
    return out ? 0 : 1;
  }
  if (Status s = WriteFileAtomic(o.output, *doc); !s.ok()) return ReportFailure(err, s);
  out << "wrote " << o.output << ": " << (o.format == "spdx" ? "SPDX 3.0.1" : "CycloneDX 1.6")
      << " SBOM of " << SafeText(loaded->manifest.meta.name) << " (" << loaded->digest.ToString()
      << ", " << loaded->manifest.files.size() << " files, " << ctx.signer_key_ids.size()
      << " verified signer keys)\n";
  return 0;
}

}  // namespace arca::client
