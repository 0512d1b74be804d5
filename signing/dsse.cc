#include "signing/dsse.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

namespace arca::signing {

std::string Pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

std::string Base64Encode(ByteView data) {
  const size_t len = sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');  // includes the trailing NUL sodium writes
  sodium_bin2base64(out.data(), len, data.data(), data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return InvalidArgumentError("base64 length " + std::to_string(text.size()) +
                                " is not a multiple of 4");
  }
  std::string out(text.size() / 4 * 3, '\0');
  size_t out_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &out_len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgumentError("not valid base64 (standard alphabet, padded)");
  }
  out.resize(out_len);
  // Canonical form only: one encoding per byte string.
  if (Base64Encode(AsBytes(out)) != text) {
    return InvalidArgumentError("non-canonical base64");
  }
  return out;
}

std::string SignEnvelope(std::string_view payload_type, std::string_view payload,
                         const SecretKey& secret, std::string_view keyid) {
  const Signature sig = Sign(secret, AsBytes(Pae(payload_type, payload)));
  nlohmann::json env = {
      {"payload", Base64Encode(AsBytes(payload))},
      {"payloadType", std::string(payload_type)},
      {"signatures", nlohmann::json::array({{{"keyid", std::string(keyid)},
                                            {"sig", Base64Encode(ByteView(sig))}}})},
  };
  return env.dump();
}

namespace {

// The string field `name` of `obj`, at most `max` bytes.
Result<std::string> StringField(const nlohmann::json& obj, const char* name, size_t max,
                                std::string_view where) {
  auto it = obj.find(name);
  if (it == obj.end()) {
    return InvalidArgumentError(std::string(where) + ": missing \"" + name + "\"");
  }
  if (!it->is_string()) {
    return InvalidArgumentError(std::string(where) + ": \"" + name + "\" is not a string");
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max) {
    return InvalidArgumentError(std::string(where) + ": \"" + name + "\" is longer than " +
                                std::to_string(max) + " bytes");
  }
  return s;
}

Status OnlyFields(const nlohmann::json& obj, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) {
      return InvalidArgumentError(std::string(where) + ": unknown field \"" + it.key() + "\"");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Envelope> ParseEnvelope(std::string_view envelope) {
  if (envelope.size() > kMaxEnvelopeBytes) {
    return InvalidArgumentError("envelope is larger than " + std::to_string(kMaxEnvelopeBytes) +
                                " bytes");
  }
  const nlohmann::json env = nlohmann::json::parse(envelope, nullptr, /*allow_exceptions=*/false);
  if (env.is_discarded()) return InvalidArgumentError("envelope is not valid JSON");
  if (!env.is_object()) return InvalidArgumentError("envelope is not a JSON object");
  ARCA_RETURN_IF_ERROR(OnlyFields(env, {"payload", "payloadType", "signatures"}, "envelope"));

  Envelope out;
  ARCA_ASSIGN_OR_RETURN(std::string payload_b64,
                        StringField(env, "payload", kMaxEnvelopeBytes, "envelope"));
  ARCA_ASSIGN_OR_RETURN(out.payload_type,
                        StringField(env, "payloadType", kMaxPayloadTypeBytes, "envelope"));
  {
    Result<std::string> payload = Base64Decode(payload_b64);
    if (!payload.ok()) return payload.status().WithContext("envelope \"payload\"");
    out.payload = std::move(payload).value();
  }
  if (out.payload.size() > kMaxPayloadBytes) {
    return InvalidArgumentError("payload is larger than " + std::to_string(kMaxPayloadBytes) +
                                " bytes");
  }

  auto sigs = env.find("signatures");
  if (sigs == env.end()) return InvalidArgumentError("envelope: missing \"signatures\"");
  if (!sigs->is_array()) return InvalidArgumentError("envelope: \"signatures\" is not an array");
  if (sigs->empty()) return InvalidArgumentError("envelope: \"signatures\" is empty");
  if (sigs->size() > kMaxSignatures) {
    return InvalidArgumentError("envelope: more than " + std::to_string(kMaxSignatures) +
                                " signatures");
  }
  for (size_t i = 0; i < sigs->size(); ++i) {
    const nlohmann::json& s = (*sigs)[i];
    const std::string where = "signatures[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgumentError(where + " is not an object");
    ARCA_RETURN_IF_ERROR(OnlyFields(s, {"keyid", "sig"}, where));
    Envelope::Sig e;
    ARCA_ASSIGN_OR_RETURN(e.keyid, StringField(s, "keyid", kMaxKeyIdBytes, where));
    ARCA_ASSIGN_OR_RETURN(std::string sig_b64, StringField(s, "sig", 1024, where));
    Result<std::string> sig = Base64Decode(sig_b64);
    if (!sig.ok()) return sig.status().WithContext(where + " \"sig\"");
    e.sig = std::move(sig).value();
    out.signatures.push_back(std::move(e));
  }
  return out;
}

Status VerifyEnvelopeSignature(const Envelope& env, const Envelope::Sig& sig,
                               const PublicKey& pub) {
  return Verify(pub, AsBytes(Pae(env.payload_type, env.payload)), AsBytes(sig.sig));
}

Result<VerifiedEnvelope> VerifyEnvelope(std::string_view envelope, std::string_view expected_type,
                                        const TrustedKeys& trusted) {
  // Parse every signature before checking any, so a malformed envelope is
  // always rejected as malformed.
  ARCA_ASSIGN_OR_RETURN(Envelope env, ParseEnvelope(envelope));
  if (env.payload_type != expected_type) {
    return FailedPreconditionError("payloadType \"" + env.payload_type +
                                   "\" is not the expected \"" + std::string(expected_type) + "\"");
  }
  VerifiedEnvelope out;
  out.payload_type = std::move(env.payload_type);
  out.payload = std::move(env.payload);
  const std::string pae = Pae(out.payload_type, out.payload);
  std::string why;
  for (size_t i = 0; i < env.signatures.size(); ++i) {
    const Envelope::Sig& e = env.signatures[i];
    if (!why.empty()) why += "; ";
    why += "signatures[" + std::to_string(i) + "] keyid " + e.keyid + ": ";
    auto key = trusted.find(e.keyid);
    if (key == trusted.end()) {
      why += "not a trusted key";
      continue;
    }
    Status st = Verify(key->second, AsBytes(pae), AsBytes(e.sig));
    if (!st.ok()) {
      why += std::string(st.message());
      continue;
    }
    why += "verified";
    out.verified_keyids.push_back(e.keyid);
  }
  if (out.verified_keyids.empty()) {
    return UnauthenticatedError("no trusted signature verifies: " + why);
  }
  return out;
}

}  // namespace arca::signing
