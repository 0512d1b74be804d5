#include "registry/internal/attestation.h"

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/internal/http.h"
#include "signing/dsse.h"

namespace arca::registry::internal {
namespace {

using nlohmann::json;

// Deeper JSON than this is junk here (a statement needs four levels; a
// predicate may nest, but not without end).
constexpr int kMaxDepth = 64;

// Parses `text` as JSON, refusing repeated keys in any object: with them,
// the registry and a client's parser could each see a different value.
Result<json> ParseUnique(std::string_view text, std::string_view what) {
  std::vector<std::set<std::string>> open;  // keys seen, per open object
  std::string problem;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth && problem.empty()) problem = "nests deeper than " + std::to_string(kMaxDepth) + " levels";
    switch (event) {
      case json::parse_event_t::object_start:
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && parsed.is_string() && !open.back().insert(parsed.get<std::string>()).second &&
            problem.empty()) {
          problem = "repeats the key \"" + Printable(parsed.get<std::string>()) + "\"";
        }
        break;
      default:
        break;
    }
    return true;
  };
  json j = json::parse(text, cb, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(std::string(what) + " is not valid JSON");
  if (!problem.empty()) return InvalidArgumentError(std::string(what) + " " + problem);
  if (!j.is_object()) return InvalidArgumentError(std::string(what) + " is not a JSON object");
  return j;
}

Status OnlyFields(const json& obj, std::initializer_list<std::string_view> allowed, const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) return InvalidArgumentError(where + ": unknown field \"" + Printable(it.key()) + "\"");
  }
  return Status::Ok();
}

// The string member `name` of `obj`: present, a string, 1..max bytes.
Result<std::string> StringField(const json& obj, const char* name, size_t max, const std::string& where) {
  auto it = obj.find(name);
  if (it == obj.end()) return InvalidArgumentError(where + ": missing \"" + name + "\"");
  if (!it->is_string()) return InvalidArgumentError(where + ": \"" + name + "\" is not a string");
  const std::string& s = it->get_ref<const std::string&>();
  if (s.empty()) return InvalidArgumentError(where + ": \"" + name + "\" is empty");
  if (s.size() > max) {
    return InvalidArgumentError(where + ": \"" + name + "\" is longer than " + std::to_string(max) + " bytes");
  }
  return s;
}

Status CheckSignatures(const json& envelope) {
  auto sigs = envelope.find("signatures");
  if (sigs == envelope.end()) return InvalidArgumentError("envelope: missing \"signatures\"");
  if (!sigs->is_array()) return InvalidArgumentError("envelope: \"signatures\" is not an array");
  if (sigs->empty()) return InvalidArgumentError("envelope: \"signatures\" is empty; sign the envelope first");
  if (sigs->size() > signing::kMaxSignatures) {
    return InvalidArgumentError("envelope: more than " + std::to_string(signing::kMaxSignatures) + " signatures");
  }
  for (size_t i = 0; i < sigs->size(); ++i) {
    const json& s = (*sigs)[i];
    const std::string where = "envelope signatures[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgumentError(where + " is not an object");
    ARCA_RETURN_IF_ERROR(OnlyFields(s, {"keyid", "sig"}, where));
    ARCA_RETURN_IF_ERROR(StringField(s, "keyid", signing::kMaxKeyIdBytes, where).status());
    ARCA_ASSIGN_OR_RETURN(std::string sig, StringField(s, "sig", 1024, where));
    Result<std::string> raw = signing::Base64Decode(sig);
    if (!raw.ok()) return raw.status().WithContext(where + " \"sig\"");
  }
  return Status::Ok();
}

// The statement's subjects must include `subject`; every subject must be
// well-formed, so that what the registry accepts parses anywhere.
Status CheckStatement(const json& statement, const Digest& subject) {
  auto type = statement.find("_type");
  if (type == statement.end() || !type->is_string()) {
    return InvalidArgumentError("statement: \"_type\" is missing or not a string");
  }
  if (*type != kStatementV1Type) {
    return InvalidArgumentError("statement: \"_type\" is \"" + Printable(type->get<std::string>()) +
                                "\", not \"" + std::string(kStatementV1Type) + "\"");
  }
  auto predicate_type = statement.find("predicateType");
  if (predicate_type == statement.end() || !predicate_type->is_string() ||
      predicate_type->get_ref<const std::string&>().empty()) {
    return InvalidArgumentError("statement: \"predicateType\" is missing or not a non-empty string");
  }
  auto predicate = statement.find("predicate");
  if (predicate != statement.end() && !predicate->is_object()) {
    return InvalidArgumentError("statement: \"predicate\" is not an object");
  }
  auto subjects = statement.find("subject");
  if (subjects == statement.end() || !subjects->is_array() || subjects->empty()) {
    return InvalidArgumentError("statement: \"subject\" is missing or not a non-empty array");
  }
  const std::string want = subject.Hex();
  bool named = false;
  for (size_t i = 0; i < subjects->size(); ++i) {
    const json& s = (*subjects)[i];
    const std::string where = "statement subject[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgumentError(where + " is not an object");
    auto name = s.find("name");
    if (name != s.end() && !name->is_string()) return InvalidArgumentError(where + ": \"name\" is not a string");
    auto digest = s.find("digest");
    if (digest == s.end() || !digest->is_object() || digest->empty()) {
      return InvalidArgumentError(where + ": \"digest\" is missing or not a non-empty object");
    }
    for (auto it = digest->begin(); it != digest->end(); ++it) {
      if (!it->is_string()) {
        return InvalidArgumentError(where + ": digest \"" + Printable(it.key()) + "\" is not a string");
      }
    }
    auto sha256 = digest->find("sha256");
    if (sha256 != digest->end() && sha256->get_ref<const std::string&>() == want) named = true;
  }
  if (!named) {
    return InvalidArgumentError("statement: no subject has digest sha256 " + want +
                                "; an attestation is attached only to a bundle it names");
  }
  return Status::Ok();
}

}  // namespace

Status CheckAttestation(std::string_view envelope_text, const Digest& subject) {
  ARCA_ASSIGN_OR_RETURN(json envelope, ParseUnique(envelope_text, "the envelope"));
  ARCA_RETURN_IF_ERROR(OnlyFields(envelope, {"payload", "payloadType", "signatures"}, "envelope"));
  ARCA_ASSIGN_OR_RETURN(std::string payload_type,
                        StringField(envelope, "payloadType", signing::kMaxPayloadTypeBytes, "envelope"));
  if (payload_type != kInTotoPayloadType) {
    return InvalidArgumentError("envelope: \"payloadType\" is \"" + Printable(payload_type) + "\", not \"" +
                                std::string(kInTotoPayloadType) + "\"");
  }
  ARCA_ASSIGN_OR_RETURN(std::string payload_b64,
                        StringField(envelope, "payload", envelope_text.size(), "envelope"));
  Result<std::string> payload = signing::Base64Decode(payload_b64);
  if (!payload.ok()) return payload.status().WithContext("envelope \"payload\"");
  ARCA_RETURN_IF_ERROR(CheckSignatures(envelope));
  ARCA_ASSIGN_OR_RETURN(json statement, ParseUnique(*payload, "the payload (an in-toto statement)"));
  return CheckStatement(statement, subject);
}

}  // namespace arca::registry::internal
