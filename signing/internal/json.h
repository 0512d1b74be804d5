// Strict JSON field access shared by the signing parsers (key files, public
// keys, statements, policies). Private to signing/.
//
// Every helper names the field and where it sits (`where`, e.g. "policy
// /home/a/policy.json: rules[2]") in its error, so a user can find it.
#ifndef ARCA_SIGNING_INTERNAL_JSON_H_
#define ARCA_SIGNING_INTERNAL_JSON_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "signing/keys.h"

namespace arca::signing::internal {

using Json = nlohmann::json;

// Parses `text` (never throws); kInvalidArgument "<what> is not valid JSON"
// or "<what> is not a JSON object".
Result<Json> ParseObject(std::string_view text, std::string_view what);

// kInvalidArgument naming the first field of `obj` not in `allowed`.
Status OnlyFields(const Json& obj, std::initializer_list<std::string_view> allowed,
                  std::string_view where);

// The string field `name`: required (error if missing) or optional (nullopt
// if missing); at most `max` bytes; a wrong type is an error either way.
Result<std::string> RequiredString(const Json& obj, std::string_view name, size_t max,
                                   std::string_view where);
Result<std::optional<std::string>> OptionalString(const Json& obj, std::string_view name,
                                                  size_t max, std::string_view where);
// An unsigned integer field.
Result<uint64_t> RequiredUint(const Json& obj, std::string_view name, std::string_view where);

// Depth of nested arrays/objects, counting stops after `limit` (so a hostile
// document costs at most `limit` frames of recursion).
size_t Depth(const Json& j, size_t limit);

// The public key object of `arca key export` (keyfile.h).
Result<PublicKey> PublicKeyFromJson(const Json& obj, std::string_view where, std::string* name);

// Exactly 32 bytes of canonical base64.
Result<PublicKey> DecodePublicKey(std::string_view b64, std::string_view where);

// `s` with control characters (C0, DEL, and C1 in UTF-8) replaced by '?', so
// that it is safe to print on a terminal.
std::string Printable(std::string_view s);

}  // namespace arca::signing::internal

#endif  // ARCA_SIGNING_INTERNAL_JSON_H_
