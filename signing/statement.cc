// in-toto Statement v1 building and strict parsing (statement.h, SIGNING.md §3).
#include "signing/statement.h"

#include <algorithm>

#include "format/path.h"
#include "signing/dsse.h"
#include "signing/internal/json.h"

namespace arca::signing {

using internal::Json;

namespace {

Json BundlePredicateJson(const format::Manifest& m) {
  const format::Metadata& meta = m.meta;
  Json p = Json::object();
  p["name"] = meta.name;
  if (!meta.version.empty()) p["version"] = meta.version;
  if (!meta.publisher.empty()) p["publisher"] = meta.publisher;
  if (!meta.license.spdx.empty() || !meta.license.file.empty()) {
    Json l = Json::object();
    if (!meta.license.spdx.empty()) l["spdx"] = meta.license.spdx;
    if (!meta.license.file.empty()) {
      l["file"] = meta.license.file;
      // Validate() guarantees the licence file is among the (sorted) files.
      auto it = std::lower_bound(m.files.begin(), m.files.end(), meta.license.file,
                                 [](const format::ManifestFile& f, const std::string& v) { return f.path < v; });
      if (it != m.files.end() && it->path == meta.license.file) l["file_digest"] = it->digest.ToString();
    }
    p["license"] = l;
  }
  const format::Provenance& prov = meta.provenance;
  Json pj = Json::object();
  if (!prov.source.empty()) pj["source"] = prov.source;
  if (!prov.revision.empty()) pj["revision"] = prov.revision;
  if (!prov.base_models.empty()) {
    Json arr = Json::array();
    for (const Digest& d : prov.base_models) arr.push_back(d.ToString());
    pj["base_models"] = arr;
  }
  if (!prov.datasets.empty()) pj["datasets"] = prov.datasets;
  if (!pj.empty()) p["provenance"] = pj;
  return p;
}

Json StatementJson(std::string_view name, const Digest& digest, std::string_view predicate_type,
                   Json predicate) {
  return Json{{"_type", kStatementType},
              {"subject", Json::array({Json{{"name", std::string(name)},
                                            {"digest", Json{{"sha256", digest.Hex()}}}}})},
              {"predicateType", std::string(predicate_type)},
              {"predicate", std::move(predicate)}};
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

std::string BundlePredicate(const format::Manifest& manifest) {
  return BundlePredicateJson(manifest).dump();
}

std::string BundleStatement(const format::Manifest& manifest, const Digest& bundle_digest) {
  return StatementJson(manifest.meta.name, bundle_digest, kBundlePredicateType,
                       BundlePredicateJson(manifest))
      .dump();
}

Result<std::string> GenericStatement(std::string_view subject_name, const Digest& digest,
                                     std::string_view predicate_type,
                                     std::string_view predicate_json) {
  if (subject_name.empty() || subject_name.size() > kMaxSubjectNameBytes) {
    return InvalidArgumentError("subject name must be 1 to " + std::to_string(kMaxSubjectNameBytes) + " bytes");
  }
  if (!format::IsValidUtf8(subject_name) || !format::IsValidUtf8(predicate_type)) {
    return InvalidArgumentError("subject name and predicate type must be valid UTF-8");
  }
  if (predicate_type.empty() || predicate_type.size() > kMaxPredicateTypeBytes) {
    return InvalidArgumentError("predicate type must be 1 to " + std::to_string(kMaxPredicateTypeBytes) +
                                " bytes (a URI, e.g. https://slsa.dev/provenance/v1)");
  }
  if (predicate_json.size() > kMaxPredicateBytes) {
    return ResourceExhaustedError("predicate is " + std::to_string(predicate_json.size()) +
                                  " bytes, over the limit of " + std::to_string(kMaxPredicateBytes));
  }
  ARCA_ASSIGN_OR_RETURN(Json predicate, internal::ParseObject(predicate_json, "predicate"));
  if (internal::Depth(predicate, kMaxPredicateDepth) > kMaxPredicateDepth) {
    return ResourceExhaustedError("predicate nests deeper than " + std::to_string(kMaxPredicateDepth) + " levels");
  }
  Json statement = StatementJson(subject_name, digest, predicate_type, std::move(predicate));
  // Strings came from a parse, so they are valid UTF-8 and dump cannot throw.
  return statement.dump();
}

Result<Statement> ParseStatement(std::string_view payload) {
  if (payload.size() > kMaxStatementBytes) {
    return InvalidArgumentError("statement is " + std::to_string(payload.size()) +
                                " bytes, over the limit of " + std::to_string(kMaxStatementBytes));
  }
  ARCA_ASSIGN_OR_RETURN(Json j, internal::ParseObject(payload, "statement"));
  ARCA_RETURN_IF_ERROR(internal::OnlyFields(j, {"_type", "subject", "predicateType", "predicate"}, "statement"));
  ARCA_ASSIGN_OR_RETURN(std::string type, internal::RequiredString(j, "_type", 256, "statement"));
  if (type != kStatementType) {
    return InvalidArgumentError("statement: \"_type\" is \"" + internal::Printable(type) + "\", expected \"" +
                                std::string(kStatementType) + "\"");
  }
  Statement out;
  auto subjects = j.find("subject");
  if (subjects == j.end()) return InvalidArgumentError("statement: missing \"subject\"");
  if (!subjects->is_array()) return InvalidArgumentError("statement: \"subject\" is not an array");
  if (subjects->empty()) return InvalidArgumentError("statement: \"subject\" is empty");
  if (subjects->size() > kMaxSubjects) {
    return InvalidArgumentError("statement: more than " + std::to_string(kMaxSubjects) + " subjects");
  }
  for (size_t i = 0; i < subjects->size(); ++i) {
    const Json& s = (*subjects)[i];
    const std::string where = "statement: subject[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgumentError(where + " is not an object");
    ARCA_RETURN_IF_ERROR(internal::OnlyFields(s, {"name", "digest", "uri", "annotations"}, where));
    Subject subject;
    ARCA_ASSIGN_OR_RETURN(subject.name, internal::RequiredString(s, "name", kMaxSubjectNameBytes, where));
    auto digest = s.find("digest");
    if (digest == s.end()) return InvalidArgumentError(where + ": missing \"digest\"");
    if (!digest->is_object()) return InvalidArgumentError(where + ": \"digest\" is not an object");
    if (digest->size() > 16) return InvalidArgumentError(where + ": \"digest\" has more than 16 algorithms");
    for (auto it = digest->begin(); it != digest->end(); ++it) {
      if (!it->is_string()) {
        return InvalidArgumentError(where + ": digest \"" + internal::Printable(it.key()) + "\" is not a string");
      }
    }
    ARCA_ASSIGN_OR_RETURN(std::string hex, internal::RequiredString(*digest, "sha256", 64, where + " digest"));
    if (!IsLowerHex64(hex)) {
      return InvalidArgumentError(where + ": digest \"sha256\" is not 64 lower-case hex characters");
    }
    ARCA_ASSIGN_OR_RETURN(subject.digest, Digest::Parse("sha256:" + hex));
    out.subjects.push_back(std::move(subject));
  }
  ARCA_ASSIGN_OR_RETURN(out.predicate_type,
                        internal::RequiredString(j, "predicateType", kMaxPredicateTypeBytes, "statement"));
  if (out.predicate_type.empty()) return InvalidArgumentError("statement: \"predicateType\" is empty");
  auto predicate = j.find("predicate");
  if (predicate == j.end()) return InvalidArgumentError("statement: missing \"predicate\"");
  if (!predicate->is_object()) return InvalidArgumentError("statement: \"predicate\" is not an object");
  if (internal::Depth(*predicate, kMaxPredicateDepth) > kMaxPredicateDepth) {
    return InvalidArgumentError("statement: \"predicate\" nests deeper than " +
                                std::to_string(kMaxPredicateDepth) + " levels");
  }
  out.predicate_json = predicate->dump();
  return out;
}

std::string SignStatement(std::string_view statement, const KeyPair& key) {
  return SignEnvelope(kInTotoPayloadType, statement, key.secret_key, KeyId(key.public_key).Hex());
}

}  // namespace arca::signing
