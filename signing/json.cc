// Strict JSON field helpers for the signing parsers (internal/json.h).
#include "signing/internal/json.h"

#include "common/bytes.h"
#include "common/digest.h"
#include "signing/dsse.h"

namespace arca::signing::internal {

Result<Json> ParseObject(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(std::string(what) + " is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError(std::string(what) + " is not a JSON object");
  return j;
}

Status OnlyFields(const Json& obj, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) {
      return InvalidArgumentError(std::string(where) + ": unknown field \"" +
                                  Printable(it.key()) + "\"");
    }
  }
  return Status::Ok();
}

Result<std::optional<std::string>> OptionalString(const Json& obj, std::string_view name,
                                                  size_t max, std::string_view where) {
  auto it = obj.find(name);
  if (it == obj.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return InvalidArgumentError(std::string(where) + ": \"" + std::string(name) +
                                "\" is not a string");
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max) {
    return InvalidArgumentError(std::string(where) + ": \"" + std::string(name) +
                                "\" is longer than " + std::to_string(max) + " bytes");
  }
  return std::optional<std::string>(s);
}

Result<std::string> RequiredString(const Json& obj, std::string_view name, size_t max,
                                   std::string_view where) {
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> s, OptionalString(obj, name, max, where));
  if (!s) return InvalidArgumentError(std::string(where) + ": missing \"" + std::string(name) + "\"");
  return std::move(*s);
}

Result<uint64_t> RequiredUint(const Json& obj, std::string_view name, std::string_view where) {
  auto it = obj.find(name);
  if (it == obj.end()) {
    return InvalidArgumentError(std::string(where) + ": missing \"" + std::string(name) + "\"");
  }
  if (!it->is_number_unsigned()) {
    return InvalidArgumentError(std::string(where) + ": \"" + std::string(name) +
                                "\" is not a non-negative integer");
  }
  return it->get<uint64_t>();
}

size_t Depth(const Json& j, size_t limit) {
  if (!j.is_structured()) return 0;
  if (limit == 0) return 1;
  size_t deepest = 0;
  for (const Json& child : j) {
    deepest = std::max(deepest, Depth(child, limit - 1));
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

Result<PublicKey> DecodePublicKey(std::string_view b64, std::string_view where) {
  Result<std::string> raw = Base64Decode(b64);
  if (!raw.ok()) return raw.status().WithContext(std::string(where) + ": \"public\"");
  if (raw->size() != PublicKey::kSize) {
    return InvalidArgumentError(std::string(where) + ": \"public\" must be 32 bytes of base64, got " +
                                std::to_string(raw->size()) + " bytes");
  }
  PublicKey pub;
  std::memcpy(pub.bytes.data(), raw->data(), PublicKey::kSize);
  return pub;
}

Result<PublicKey> PublicKeyFromJson(const Json& obj, std::string_view where, std::string* name) {
  if (!obj.is_object()) return InvalidArgumentError(std::string(where) + " is not a JSON object");
  ARCA_RETURN_IF_ERROR(OnlyFields(obj, {"algorithm", "keyid", "name", "public"}, where));
  ARCA_ASSIGN_OR_RETURN(std::string algorithm, RequiredString(obj, "algorithm", 64, where));
  if (algorithm != "ed25519") {
    return InvalidArgumentError(std::string(where) + ": \"algorithm\" is \"" + Printable(algorithm) +
                                "\"; only \"ed25519\" is supported");
  }
  ARCA_ASSIGN_OR_RETURN(std::string public_b64, RequiredString(obj, "public", 256, where));
  ARCA_ASSIGN_OR_RETURN(PublicKey pub, DecodePublicKey(public_b64, where));
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> keyid, OptionalString(obj, "keyid", 256, where));
  if (keyid && *keyid != KeyId(pub).Hex()) {
    return InvalidArgumentError(std::string(where) + ": \"keyid\" " + Printable(*keyid) +
                                " is not the SHA-256 of the public key (" + KeyId(pub).Hex() +
                                "); the key was altered or mis-copied");
  }
  ARCA_ASSIGN_OR_RETURN(std::optional<std::string> key_name, OptionalString(obj, "name", 256, where));
  if (name != nullptr) *name = key_name.value_or("");
  return pub;
}

std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else if (c == 0xc2 && i + 1 < s.size() &&
               static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) < 0xa0) {
      out += '?';  // a C1 control (U+0080..U+009F), e.g. CSI
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace arca::signing::internal
