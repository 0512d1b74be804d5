// The mirror's countersignature (countersign.h).
#include "mirror/countersign.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "client/log_check.h"
#include "signing/dsse.h"
#include "signing/keyfile.h"
#include "signing/statement.h"

namespace arca::mirror {
namespace {

using Json = nlohmann::ordered_json;

Json Included(const client::IncludedEntry& e) {
  Json proof = Json::array();
  for (const Digest& d : e.proof) proof.push_back(d.Hex());
  return {{"entry", signing::Base64Encode(AsBytes(e.entry))}, {"index", e.index}, {"proof", std::move(proof)}};
}

}  // namespace

Result<std::string> Countersign(const CountersignInput& in, const Digest& bundle, const signing::KeyPair& key) {
  if (!in.log || !in.log->tag) return InvalidArgumentError("a countersignature needs the tag's log evidence");
  Json envelopes = Json::array();
  for (const Digest& d : in.envelopes) envelopes.push_back(d.ToString());
  Json tag = Included(*in.log->tag);
  tag["repository"] = in.repository;
  tag["sequence"] = in.log->tag_sequence;
  tag["tag"] = in.tag;
  // Keys in sorted order: the predicate is canonical JSON.
  Json predicate = {
      {"checkpoint", in.log->checkpoint},
      {"envelopes", std::move(envelopes)},
      {"mirror", in.mirror},
      {"policy", {{"digest", in.policy_digest.ToString()}, {"keys", in.keys}, {"rule", in.rule}}},
      {"publish", Included(in.log->publish)},
      {"source", in.source},
      {"tag", std::move(tag)},
      {"time", client::FormatUtc(in.time)},
  };
  ARCA_ASSIGN_OR_RETURN(std::string statement,
                        signing::GenericStatement(in.repository, bundle, kMirrorPredicateType, predicate.dump()));
  return signing::SignStatement(statement, key);
}

bool HasCountersignature(const std::vector<std::string>& envelopes, const signing::PublicKey& key) {
  const std::string keyid = signing::KeyId(key).Hex();
  for (const std::string& e : envelopes) {
    Result<signing::Envelope> env = signing::ParseEnvelope(e);
    if (!env.ok()) continue;
    Result<signing::Statement> st = signing::ParseStatement(env->payload);
    if (!st.ok() || st->predicate_type != kMirrorPredicateType) continue;
    for (const signing::Envelope::Sig& s : env->signatures) {
      if (s.keyid == keyid) return true;
    }
  }
  return false;
}

Result<signing::KeyPair> LoadOrCreateMirrorKey(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    const std::filesystem::path p(path);
    if (p.extension() != ".key") return InvalidArgumentError("the mirror key file must end in .key: " + path);
    Result<signing::KeyInfo> made = signing::WriteSecretKey(p.parent_path().string(), p.stem().string(),
                                                            signing::GenerateKeyPair(), std::nullopt,
                                                            signing::DefaultKdfParams());
    if (!made.ok()) return made.status().WithContext("create the mirror key " + path);
  }
  Result<signing::KeyPair> key = signing::LoadSecretKey(path, "", nullptr);
  if (!key.ok()) return key.status().WithContext("the mirror key " + path + " (it must not be encrypted)");
  return key;
}

}  // namespace arca::mirror
