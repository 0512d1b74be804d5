// RocksDB key and value layouts of the store (all in the default column family).
//
//   'c' digest[32]  -> pack digest[32] | offset u64 | stored_len u32 | raw_len u32 | codec u8 | crc32c u32
//   'p' digest[32]  -> pack size u64 | chunk count u32
//   'o' digest[32]  -> kind u8 | object bytes
//   'r' name        -> bundle digest[32]
//   'a' subject[32] envelope[32] -> empty: attestation `envelope` (an 'o'
//                                   object of kind 'A') is attached to bundle `subject`
#ifndef ARCA_STORE_INTERNAL_KEYS_H_
#define ARCA_STORE_INTERNAL_KEYS_H_

#include <string>
#include <string_view>

#include "common/digest.h"
#include "common/result.h"
#include "format/pack.h"

namespace arca::store::internal {

inline constexpr char kChunkPrefix = 'c';
inline constexpr char kPackPrefix = 'p';
inline constexpr char kObjectPrefix = 'o';
inline constexpr char kRefPrefix = 'r';
inline constexpr char kAttestationPrefix = 'a';
inline constexpr size_t kAttestationKeySize = 1 + 32 + 32;
inline constexpr size_t kChunkValueSize = 53;
inline constexpr size_t kPackValueSize = 12;

inline std::string DigestKey(char prefix, const Digest& d) {
  std::string k(1, prefix);
  k.append(reinterpret_cast<const char*>(d.bytes.data()), 32);
  return k;
}

// The index key of attestation `envelope` of `subject`; its first 33 bytes
// (DigestKey(kAttestationPrefix, subject)) are the prefix that lists a subject.
inline std::string AttestationKey(const Digest& subject, const Digest& envelope) {
  std::string k = DigestKey(kAttestationPrefix, subject);
  k.append(reinterpret_cast<const char*>(envelope.bytes.data()), 32);
  return k;
}

inline std::string RefKey(std::string_view name) { return std::string(1, kRefPrefix) + std::string(name); }

inline std::string EncodeChunkValue(const Digest& pack, const format::PackEntry& e) {
  std::string v(reinterpret_cast<const char*>(pack.bytes.data()), 32);
  AppendLE64(&v, e.offset);
  AppendLE32(&v, e.stored_len);
  AppendLE32(&v, e.raw_len);
  v.push_back(char(e.codec));
  AppendLE32(&v, e.crc32c);
  return v;
}

// Decodes a chunk record; `digest` is the chunk's own (from the key).
inline Status DecodeChunkValue(std::string_view v, const Digest& digest, Digest* pack,
                               format::PackEntry* e) {
  if (v.size() != kChunkValueSize) return DataLossError("chunk record of " + digest.ToString() + " is malformed");
  const uint8_t* p = reinterpret_cast<const uint8_t*>(v.data());
  *pack = Digest::FromBytes(p);
  e->digest = digest;
  e->offset = GetLE64(p + 32);
  e->stored_len = GetLE32(p + 40);
  e->raw_len = GetLE32(p + 44);
  e->codec = p[48];
  e->crc32c = GetLE32(p + 49);
  return Status::Ok();
}

}  // namespace arca::store::internal

#endif  // ARCA_STORE_INTERNAL_KEYS_H_
