// Entries of the registry's transparency log (LOG.md §Entries): one per event
// the registry accepts, as canonical bytes. The log's leaf for an entry is
// HashLeaf(bytes) (signing/merkle.h), so these bytes are what every proof
// and every audit is about: writer and reader share this file.
//
// Layout (integers big-endian; `str` = u16 length, then that many bytes of
// UTF-8 without control characters; `digest` = 32 raw SHA-256 bytes):
//
//   u8     version              1
//   u8     type                 1 publish, 2 attestation, 3 tag, 4 key, 5 mirror
//   u64    time                 Unix seconds when the registry accepted it
//   then, by type:
//   publish      str repository      the manifest's name
//                digest bundle
//                u8 n, n x str       key ids named by the bundle's attestations
//                                    when it was first tagged (claimed)
//   attestation  digest bundle
//                digest envelope     SHA-256 of the envelope bytes as stored
//                str predicate_type
//                u8 n, n x str       key ids the envelope's signatures name
//                                    (claimed, not checked: the registry holds
//                                    no trust; clients verify)
//   tag          str repository
//                str tag
//                u64 sequence        1 for the tag's first entry, +1 per move
//                u8 flags            bit 0: has digest (0: tag deleted)
//                                    bit 1: has previous
//                [digest digest]     when bit 0
//                [digest previous]   when bit 1
//   key          u8 action           1 added, 2 revoked
//                digest key_id       SHA-256 of the Ed25519 public key
//                str name
//                str reason          may be empty
//   mirror       str upstream        the upstream log's origin line
//                u64 size            the upstream checkpoint it verified
//                digest root
//                str repository      what was synced ("" for a whole sync)
//                u8 flags            bit 0: has digest
//                [digest bundle]
//
// Nothing may follow the last field. Parse is strict: unknown versions or
// types, over-long strings, bad flags and trailing bytes are errors, so two
// readers never disagree about what an entry says.
#ifndef ARCA_SIGNING_LOG_ENTRY_H_
#define ARCA_SIGNING_LOG_ENTRY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"

namespace arca::signing {

inline constexpr uint8_t kLogEntryVersion = 1;
inline constexpr size_t kMaxLogString = 1024;     // any one string field
inline constexpr size_t kMaxLogKeyIds = 16;       // as DSSE envelopes in Arca
inline constexpr size_t kMaxLogEntryBytes = 32 << 10;

enum class LogEntryType : uint8_t { kPublish = 1, kAttestation = 2, kTag = 3, kKey = 4, kMirror = 5 };
enum class KeyAction : uint8_t { kAdded = 1, kRevoked = 2 };

// One event. Which members mean something depends on `type` (see the layout
// above); the rest stay empty and are neither written nor compared.
struct LogEntry {
  LogEntryType type = LogEntryType::kPublish;
  uint64_t time = 0;

  std::string repository;              // publish, tag, mirror
  std::optional<Digest> bundle;        // publish, attestation, mirror (optional)
  Digest envelope;                     // attestation
  std::string predicate_type;          // attestation
  std::vector<std::string> key_ids;    // publish, attestation
  std::string tag;                     // tag
  uint64_t sequence = 0;               // tag
  std::optional<Digest> digest;        // tag: where it points now; none = deleted
  std::optional<Digest> previous;      // tag: where it pointed before
  KeyAction key_action = KeyAction::kAdded;  // key
  Digest key_id;                       // key
  std::string name;                    // key
  std::string reason;                  // key
  std::string upstream;                // mirror
  uint64_t upstream_size = 0;          // mirror
  Digest upstream_root;                // mirror

  // The canonical bytes. INVALID_ARGUMENT if a field breaks the rules above
  // (missing bundle for publish, string too long or not printable UTF-8, ...).
  Result<std::string> Encode() const;
  // Strict inverse of Encode: Decode(Encode(e)) == e, and Encode(Decode(b)) == b.
  static Result<LogEntry> Decode(std::string_view bytes);

  bool operator==(const LogEntry&) const = default;
};

LogEntry PublishEntry(uint64_t time, std::string repository, const Digest& bundle,
                      std::vector<std::string> key_ids = {});
LogEntry AttestationEntry(uint64_t time, const Digest& bundle, const Digest& envelope, std::string predicate_type,
                          std::vector<std::string> key_ids);
LogEntry TagEntry(uint64_t time, std::string repository, std::string tag, uint64_t sequence,
                  std::optional<Digest> digest, std::optional<Digest> previous);

std::string_view LogEntryTypeName(LogEntryType t);

// One line for people, e.g. "tag acme/llama:v1 #3 -> sha256:... (was sha256:...)".
std::string DescribeLogEntry(const LogEntry& e);
// A JSON object (type, time, and the type's fields), for --json output.
std::string LogEntryJson(const LogEntry& e);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_LOG_ENTRY_H_
