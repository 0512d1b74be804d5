// Signed notes and checkpoints: formatting, strict parsing, signing and
// verification. See note.h and LOG.md §4-§6.
#include "signing/note.h"

#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>

#include "common/bytes.h"
#include "signing/dsse.h"  // Base64Encode, Base64Decode (strict)

namespace arca::signing {
namespace {

constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";  // U+2014 em dash, space
constexpr std::string_view kCosignatureHeader = "cosignature/v1\n";
constexpr size_t kEd25519SigSize = std::tuple_size_v<Signature>;

std::string KeyIdHex(uint32_t id) {
  uint8_t b[4] = {uint8_t(id >> 24), uint8_t(id >> 16), uint8_t(id >> 8), uint8_t(id)};
  return HexEncode(ByteView(b, 4));
}

void AppendBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(char(uint8_t(v >> (8 * i))));
}

uint64_t ReadBE(std::string_view s, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | uint8_t(s[i]);
  return v;
}

// Decodes the UTF-8 sequence at s[*pos] and advances past it. Returns -1 for
// anything but the shortest encoding of a scalar value (no overlong forms,
// surrogates, values past U+10FFFF or truncated sequences).
int32_t DecodeRune(std::string_view s, size_t* pos) {
  const uint8_t b0 = uint8_t(s[*pos]);
  if (b0 < 0x80) {
    ++*pos;
    return b0;
  }
  int len;
  int32_t cp;
  int32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (s.size() - *pos < size_t(len)) return -1;
  for (int i = 1; i < len; ++i) {
    const uint8_t b = uint8_t(s[*pos + i]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *pos += len;
  return cp;
}

// Unicode White_Space, as Go's unicode.IsSpace (which C2SP names follow).
bool IsUnicodeSpace(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Valid UTF-8 with no control character below U+0020 except newline.
Status CheckNoteChars(std::string_view s, std::string_view what) {
  for (size_t pos = 0; pos < s.size();) {
    const size_t at = pos;
    const int32_t cp = DecodeRune(s, &pos);
    if (cp < 0) {
      return InvalidArgumentError(std::string(what) + ": invalid UTF-8 at byte " +
                                  std::to_string(at));
    }
    if (cp < 0x20 && cp != '\n') {
      return InvalidArgumentError(std::string(what) + ": control character " + std::to_string(cp) +
                                  " at byte " + std::to_string(at));
    }
  }
  return Status::Ok();
}

Status CheckText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return InvalidArgumentError("note text must end with a newline");
  }
  return CheckNoteChars(text, "note text");
}

Status CheckName(std::string_view name) {
  if (!IsValidKeyName(name)) {
    return InvalidArgumentError("key name \"" + std::string(name) +
                                "\" is empty or has white space, '+' or a control character");
  }
  return Status::Ok();
}

std::string CosignedMessage(std::string_view text, uint64_t timestamp) {
  std::string msg(kCosignatureHeader);
  msg += "time " + std::to_string(timestamp) + "\n";
  msg += text;
  return msg;
}

// "— <name> base64(key id || payload)\n"
std::string SignatureLine(std::string_view name, uint32_t key_id, std::string_view payload) {
  std::string raw;
  AppendBE(&raw, key_id, 4);
  raw += payload;
  std::string line(kSigPrefix);
  line += name;
  line += ' ';
  line += Base64Encode(AsBytes(raw));
  line += '\n';
  return line;
}

Result<std::string> Assemble(std::string_view text, const std::string& line) {
  std::string note(text);
  note += '\n';
  note += line;
  if (note.size() > kMaxNoteBytes) {
    return InvalidArgumentError("signed note would be " + std::to_string(note.size()) +
                                " bytes, over the limit of " + std::to_string(kMaxNoteBytes));
  }
  return note;
}

// Checks `sig` (the bytes after the key id) by verifier `v` over `text`;
// for a cosignature returns its timestamp.
Result<std::optional<uint64_t>> CheckSignature(const NoteVerifier& v, std::string_view text,
                                               std::string_view sig) {
  const std::string who = v.name + "+" + KeyIdHex(v.key_id());
  switch (v.type) {
    case NoteSignatureType::kEd25519: {
      if (sig.size() != kEd25519SigSize) {
        return UnauthenticatedError("signature by " + who + " is " + std::to_string(sig.size()) +
                                    " bytes, want " + std::to_string(kEd25519SigSize));
      }
      Status s = Verify(v.key, AsBytes(text), AsBytes(sig));
      if (!s.ok()) return UnauthenticatedError("signature by " + who + " does not verify");
      return std::optional<uint64_t>();
    }
    case NoteSignatureType::kCosignatureV1: {
      if (sig.size() != 8 + kEd25519SigSize) {
        return UnauthenticatedError("cosignature by " + who + " is " + std::to_string(sig.size()) +
                                    " bytes, want " + std::to_string(8 + kEd25519SigSize));
      }
      const uint64_t timestamp = ReadBE(sig, 8);
      if (timestamp > kMaxNoteTimestamp) {
        return UnauthenticatedError("cosignature by " + who + " has timestamp " +
                                    std::to_string(timestamp) + " past 2^63 - 1");
      }
      Status s = Verify(v.key, AsBytes(CosignedMessage(text, timestamp)), AsBytes(sig.substr(8)));
      if (!s.ok()) return UnauthenticatedError("cosignature by " + who + " does not verify");
      return std::optional<uint64_t>(timestamp);
    }
  }
  return InternalError("unknown signature type");
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t pos = 0; pos < name.size();) {
    const int32_t cp = DecodeRune(name, &pos);
    if (cp < 0x20 || cp == '+' || IsUnicodeSpace(cp)) return false;  // -1: bad UTF-8
  }
  return true;
}

uint32_t NoteVerifier::key_id() const {
  Sha256 h;
  h.Update(name);
  const uint8_t sep[2] = {'\n', uint8_t(type)};
  h.Update(ByteView(sep, 2));
  h.Update(key.view());
  const Digest d = h.Finish();
  return uint32_t(ReadBE(AsChars(d.view()), 4));
}

// --- Verifier keys ---

Result<std::string> FormatVerifierKey(const NoteVerifier& verifier) {
  ARCA_RETURN_IF_ERROR(CheckName(verifier.name));
  std::string raw(1, char(verifier.type));
  raw += AsChars(verifier.key.view());
  return verifier.name + "+" + KeyIdHex(verifier.key_id()) + "+" + Base64Encode(AsBytes(raw));
}

Result<NoteVerifier> ParseVerifierKey(std::string_view vkey) {
  const size_t plus1 = vkey.find('+');
  const size_t plus2 = plus1 == std::string_view::npos ? plus1 : vkey.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) {
    return InvalidArgumentError("verifier key must be <name>+<key id>+<key>");
  }
  const std::string_view name = vkey.substr(0, plus1);
  const std::string_view id_hex = vkey.substr(plus1 + 1, plus2 - plus1 - 1);
  ARCA_RETURN_IF_ERROR(CheckName(name).WithContext("verifier key"));
  std::array<uint8_t, 4> id_bytes;
  if (id_hex.size() != 8 || !HexDecode(id_hex, id_bytes)) {
    return InvalidArgumentError("verifier key: key id \"" + std::string(id_hex) +
                                "\" is not 8 hex digits");
  }
  Result<std::string> raw = Base64Decode(vkey.substr(plus2 + 1));
  if (!raw.ok()) return raw.status().WithContext("verifier key");
  if (raw->empty()) return InvalidArgumentError("verifier key: no key after the key id");
  const uint8_t type = uint8_t((*raw)[0]);
  if (type != uint8_t(NoteSignatureType::kEd25519) &&
      type != uint8_t(NoteSignatureType::kCosignatureV1)) {
    return UnimplementedError("verifier key: signature type " + std::to_string(type) +
                              " is not supported (want 1 or 4)");
  }
  if (raw->size() != 1 + PublicKey::kSize) {
    return InvalidArgumentError("verifier key: Ed25519 key is " + std::to_string(raw->size() - 1) +
                                " bytes, want 32");
  }
  NoteVerifier v;
  v.name = std::string(name);
  v.type = NoteSignatureType(type);
  std::memcpy(v.key.bytes.data(), raw->data() + 1, PublicKey::kSize);
  const uint32_t want = v.key_id();
  if (ReadBE(AsChars(ByteView(id_bytes)), 4) != want) {
    return InvalidArgumentError("verifier key: key id " + std::string(id_hex) +
                                " does not match the key's " + KeyIdHex(want));
  }
  return v;
}

// --- Signing ---

Result<std::string> SignNote(std::string_view text, std::string_view name, const KeyPair& key) {
  ARCA_RETURN_IF_ERROR(CheckName(name));
  ARCA_RETURN_IF_ERROR(CheckText(text));
  const NoteVerifier v{std::string(name), NoteSignatureType::kEd25519, key.public_key};
  const Signature sig = Sign(key.secret_key, AsBytes(text));
  return Assemble(text, SignatureLine(name, v.key_id(), AsChars(ByteView(sig))));
}

Result<std::string> CosignNote(std::string_view text, std::string_view name, const KeyPair& key,
                               uint64_t timestamp) {
  ARCA_RETURN_IF_ERROR(CheckName(name));
  ARCA_RETURN_IF_ERROR(CheckText(text));
  if (timestamp > kMaxNoteTimestamp) {
    return InvalidArgumentError("cosignature timestamp " + std::to_string(timestamp) +
                                " is past 2^63 - 1");
  }
  const NoteVerifier v{std::string(name), NoteSignatureType::kCosignatureV1, key.public_key};
  const Signature sig = Sign(key.secret_key, AsBytes(CosignedMessage(text, timestamp)));
  std::string payload;
  AppendBE(&payload, timestamp, 8);
  payload += AsChars(ByteView(sig));
  return Assemble(text, SignatureLine(name, v.key_id(), payload));
}

// --- Opening ---

Result<Note> OpenNote(std::string_view note, std::span<const NoteVerifier> known) {
  if (note.size() > kMaxNoteBytes) {
    return InvalidArgumentError("note is " + std::to_string(note.size()) +
                                " bytes, over the limit of " + std::to_string(kMaxNoteBytes));
  }
  ARCA_RETURN_IF_ERROR(CheckNoteChars(note, "note"));
  for (size_t i = 0; i < known.size(); ++i) {
    for (size_t j = i + 1; j < known.size(); ++j) {
      const NoteVerifier &a = known[i], &b = known[j];
      if (a.name == b.name && a.key_id() == b.key_id() && (a.type != b.type || a.key != b.key)) {
        return InvalidArgumentError("known verifiers: two keys named \"" + a.name +
                                    "\" have key id " + KeyIdHex(a.key_id()));
      }
    }
  }
  // The text ends at the last blank line; signature lines are never empty.
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return InvalidArgumentError("note has no blank line before its signatures");
  }
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return InvalidArgumentError("note has no signature lines");
  if (sigs.back() != '\n') return InvalidArgumentError("note does not end with a newline");

  std::vector<std::string> who_signed;  // for the error when no known key signed
  for (size_t count = 1; !sigs.empty(); ++count) {
    if (count > kMaxNoteSignatures) {
      return InvalidArgumentError("note has more than " + std::to_string(kMaxNoteSignatures) +
                                  " signature lines");
    }
    const size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    const std::string where = "note signature line " + std::to_string(count);
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return InvalidArgumentError(where + " does not start with an em dash and a space");
    }
    line.remove_prefix(kSigPrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return InvalidArgumentError(where + " has no space between key name and signature");
    }
    const std::string_view name = line.substr(0, space);
    ARCA_RETURN_IF_ERROR(CheckName(name).WithContext(where));
    Result<std::string> raw = Base64Decode(line.substr(space + 1));
    if (!raw.ok()) return raw.status().WithContext(where);
    if (raw->size() < 5) {
      return InvalidArgumentError(where + ": signature is " + std::to_string(raw->size()) +
                                  " bytes, want a 4-byte key id and more");
    }
    NoteSignature sig;
    sig.name = std::string(name);
    sig.key_id = uint32_t(ReadBE(*raw, 4));
    sig.signature = raw->substr(4);
    who_signed.push_back(sig.name + "+" + KeyIdHex(sig.key_id));

    const NoteVerifier* verifier = nullptr;
    for (const NoteVerifier& v : known) {
      if (v.name == sig.name && v.key_id() == sig.key_id) verifier = &v;
    }
    if (verifier == nullptr) {
      out.unverified.push_back(std::move(sig));
      continue;
    }
    // Every line by a known key is checked, repeats included.
    ARCA_ASSIGN_OR_RETURN(sig.timestamp, CheckSignature(*verifier, out.text, sig.signature));
    bool seen = false;
    for (const NoteSignature& s : out.verified) {
      seen = seen || (s.name == sig.name && s.key_id == sig.key_id);
    }
    if (!seen) out.verified.push_back(std::move(sig));
  }
  if (out.verified.empty()) {
    std::string list;
    for (const std::string& w : who_signed) list += (list.empty() ? "" : ", ") + w;
    return UnauthenticatedError("note has no signature by a known key (signed by " + list + ")");
  }
  return out;
}

// --- Checkpoints ---

Result<std::string> FormatCheckpoint(const Checkpoint& checkpoint) {
  auto check_line = [](std::string_view line, std::string_view what) -> Status {
    if (line.empty()) return InvalidArgumentError("checkpoint " + std::string(what) + " is empty");
    if (line.find('\n') != std::string_view::npos) {
      return InvalidArgumentError("checkpoint " + std::string(what) + " contains a newline");
    }
    return CheckNoteChars(line, "checkpoint " + std::string(what));
  };
  ARCA_RETURN_IF_ERROR(check_line(checkpoint.origin, "origin"));
  std::string text = checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
                     Base64Encode(checkpoint.root_hash.view()) + "\n";
  for (const std::string& ext : checkpoint.extensions) {
    ARCA_RETURN_IF_ERROR(check_line(ext, "extension line"));
    text += ext;
    text += '\n';
  }
  return text;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.size() > kMaxNoteBytes) {
    return InvalidArgumentError("checkpoint is " + std::to_string(text.size()) +
                                " bytes, over the limit of " + std::to_string(kMaxNoteBytes));
  }
  ARCA_RETURN_IF_ERROR(CheckNoteChars(text, "checkpoint"));
  if (text.empty() || text.back() != '\n') {
    return InvalidArgumentError("checkpoint does not end with a newline");
  }
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol + 1);
    if (lines.back().empty()) {
      return InvalidArgumentError("checkpoint line " + std::to_string(lines.size()) + " is empty");
    }
  }
  if (lines.size() < 3) {
    return InvalidArgumentError("checkpoint has " + std::to_string(lines.size()) +
                                " lines, want at least 3 (origin, size, root hash)");
  }
  Checkpoint cp;
  cp.origin = std::string(lines[0]);

  const std::string_view size = lines[1];
  const bool digits = size.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits || (size.size() > 1 && size[0] == '0') || size.size() > 20) {
    return InvalidArgumentError("checkpoint size \"" + std::string(size) +
                                "\" is not a decimal number without leading zeros");
  }
  for (char c : size) {
    const uint64_t d = uint64_t(c - '0');
    if (cp.size > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return InvalidArgumentError("checkpoint size " + std::string(size) + " overflows 64 bits");
    }
    cp.size = cp.size * 10 + d;
  }

  Result<std::string> root = Base64Decode(lines[2]);
  if (!root.ok()) return root.status().WithContext("checkpoint root hash");
  if (root->size() != Digest::kSize) {
    return InvalidArgumentError("checkpoint root hash is " + std::to_string(root->size()) +
                                " bytes, want 32");
  }
  cp.root_hash = Digest::FromBytes(reinterpret_cast<const uint8_t*>(root->data()));
  for (size_t i = 3; i < lines.size(); ++i) cp.extensions.emplace_back(lines[i]);
  return cp;
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const KeyPair& log_key,
                                   uint64_t timestamp) {
  ARCA_RETURN_IF_ERROR(CheckName(checkpoint.origin).WithContext("checkpoint origin"));
  ARCA_ASSIGN_OR_RETURN(std::string text, FormatCheckpoint(checkpoint));
  return CosignNote(text, checkpoint.origin, log_key, timestamp);
}

Result<SignedCheckpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& log) {
  if (log.type != NoteSignatureType::kCosignatureV1) {
    return InvalidArgumentError("log verifier " + log.name +
                                " must be of type 4 (cosignature/v1): it carries the time");
  }
  SignedCheckpoint out;
  ARCA_ASSIGN_OR_RETURN(out.note, OpenNote(note, std::span<const NoteVerifier>(&log, 1)));
  ARCA_ASSIGN_OR_RETURN(out.checkpoint, ParseCheckpoint(out.note.text));
  if (out.checkpoint.origin != log.name) {
    return UnauthenticatedError("checkpoint origin \"" + out.checkpoint.origin +
                                "\" is not the log's name \"" + log.name + "\"");
  }
  // OpenNote verified at least one line, and `log` is the only known key.
  out.timestamp = out.note.verified.front().timestamp.value_or(0);
  return out;
}

}  // namespace arca::signing
