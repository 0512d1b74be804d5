// Signed notes (https://c2sp.org/signed-note) and transparency log
// checkpoints (https://c2sp.org/tlog-checkpoint): how Arca's log publishes
// its signed tree heads. The normative text is LOG.md §4-§6.
//
// A signed note is UTF-8 text without control characters other than
// newline: the note text (ending in a newline), a blank line, then one or
// more signature lines
//
//   "\u2014 " <key name> " " base64(key id [4, big-endian] || signature) "\n"
//
// (U+2014 is the em dash, bytes e2 80 94). A key is known to a verifier by
// its name, signature type and Ed25519 public key; its key id is
//
//   SHA-256(name || "\n" || type [1] || public key [32])[0:4]
//
// and its verifier key, the text form that configuration carries, is
//
//   <name> "+" <key id, 8 lower-case hex> "+" base64(type [1] || public key [32])
//
// Two signature types are supported:
//   0x01 (kEd25519)       signed-note Ed25519: the signature [64] is over the
//                         note text.
//   0x04 (kCosignatureV1) tlog-cosignature Ed25519: the signature is
//                         timestamp [8, big-endian POSIX seconds] ||
//                         Ed25519 [64] over
//                           "cosignature/v1\ntime <timestamp>\n" || note text.
// Arca's log signs its checkpoints with type 0x04, under a key name equal to
// the checkpoint's origin: that is where a checkpoint's time lives (LOG.md §6).
//
// A checkpoint is the note text
//
//   <origin> "\n" <tree size, decimal> "\n" base64(root hash [32]) "\n"
//   (<extension line> "\n")*
//
// All functions are pure and thread-safe. Parsing treats its input as
// hostile: sizes are bounded (constants below) and every rule above is
// checked, answered with kInvalidArgument saying which.
#ifndef ARCA_SIGNING_NOTE_H_
#define ARCA_SIGNING_NOTE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "signing/keys.h"

namespace arca::signing {

inline constexpr size_t kMaxNoteBytes = 1u << 20;  // a whole signed note
inline constexpr size_t kMaxNoteSignatures = 100;  // signature lines, known or not
inline constexpr uint64_t kMaxNoteTimestamp = (uint64_t{1} << 63) - 1;

enum class NoteSignatureType : uint8_t {
  kEd25519 = 0x01,
  kCosignatureV1 = 0x04,
};

// True if `name` can name a key: non-empty, valid UTF-8, no Unicode white
// space and no '+'.
bool IsValidKeyName(std::string_view name);

// A public key as verifiers know it.
struct NoteVerifier {
  std::string name;
  NoteSignatureType type = NoteSignatureType::kEd25519;
  PublicKey key;

  // SHA-256(name || "\n" || type || key)[0:4], big-endian.
  uint32_t key_id() const;
};

// The verifier key text of `verifier`; kInvalidArgument if its name is not
// valid.
Result<std::string> FormatVerifierKey(const NoteVerifier& verifier);

// Strict parse of a verifier key: a valid name, exactly 8 hex digits, strict
// base64 of a supported type byte and a 32-byte key, and a key id equal to
// the one computed. kInvalidArgument saying which part is wrong
// (kUnimplemented for a well-formed key of another signature type).
Result<NoteVerifier> ParseVerifierKey(std::string_view vkey);

// `text` followed by the blank line and one type 0x01 signature line by
// `key` under `name`. kInvalidArgument if text does not end in a newline,
// breaks the note character rules, or the note would exceed kMaxNoteBytes,
// or if name is not valid.
Result<std::string> SignNote(std::string_view text, std::string_view name, const KeyPair& key);

// The same with a type 0x04 (cosignature/v1) signature at `timestamp`
// (POSIX seconds, at most kMaxNoteTimestamp).
Result<std::string> CosignNote(std::string_view text, std::string_view name, const KeyPair& key,
                               uint64_t timestamp);

// One signature line of an opened note.
struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;              // decoded bytes after the key id
  std::optional<uint64_t> timestamp;  // set for verified cosignature/v1 lines
};

struct Note {
  std::string text;                       // including its final newline
  std::vector<NoteSignature> verified;    // by known keys, first line per key
  std::vector<NoteSignature> unverified;  // by unknown keys, ignored
};

// Parses a signed note and checks the signature of every line whose name and
// key id match a verifier in `known`; lines of other keys are returned
// unverified. Errors:
//   kInvalidArgument  malformed note (too large, bad UTF-8 or control
//                     character, no blank line before the signatures, a bad
//                     signature line, more than kMaxNoteSignatures lines), or
//                     `known` holds two different keys with one name and id
//   kUnauthenticated  a signature by a known key does not verify (the whole
//                     note is refused), or no line is by a known key
Result<Note> OpenNote(std::string_view note, std::span<const NoteVerifier> known);

// A checkpoint body.
struct Checkpoint {
  std::string origin;                   // the log's identity, e.g. "arca.example/log"
  uint64_t size = 0;                    // number of leaves
  Digest root_hash;                     // RFC 6962 root at `size`
  std::vector<std::string> extensions;  // opaque, non-empty, without newlines

  bool operator==(const Checkpoint&) const = default;
};

// The note text of `checkpoint`. kInvalidArgument if the origin or an
// extension line is empty, contains a newline, or breaks the note character
// rules.
Result<std::string> FormatCheckpoint(const Checkpoint& checkpoint);

// Strict parse of a checkpoint note text: at least three lines, each
// non-empty and newline-terminated; the size in decimal without leading
// zeros (except "0") and within uint64; the root hash in canonical base64 of
// exactly 32 bytes.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

// A checkpoint opened and verified against the log's key.
struct SignedCheckpoint {
  Checkpoint checkpoint;
  uint64_t timestamp = 0;  // POSIX seconds, from the log's cosignature/v1 line
  Note note;               // text and every signature line (witnesses included)
};

// The log's signed checkpoint: FormatCheckpoint(checkpoint) cosigned
// (type 0x04) at `timestamp` by `log_key` under the name checkpoint.origin.
// kInvalidArgument if the origin is not a valid key name or as for
// FormatCheckpoint and CosignNote.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const KeyPair& log_key,
                                   uint64_t timestamp);

// Opens a checkpoint signed by `log`, which must be a kCosignatureV1 verifier
// (kInvalidArgument otherwise). Errors of OpenNote (kUnauthenticated if
// `log` did not sign), of ParseCheckpoint, and kUnauthenticated if the origin
// is not log.name.
Result<SignedCheckpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& log);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_NOTE_H_
