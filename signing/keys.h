// Ed25519 key pairs, signatures and key ids, through libsodium.
//
// A key id is the SHA-256 of the 32 raw public key bytes (KeyId). Secret keys
// are wiped with sodium_memzero when destroyed or moved from, and cannot be
// copied. libsodium is initialised once, on first use, by every entry point.
#ifndef ARCA_SIGNING_KEYS_H_
#define ARCA_SIGNING_KEYS_H_

#include <array>
#include <compare>
#include <cstdint>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"
#include "common/status.h"

namespace arca::signing {

struct PublicKey {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};

  ByteView view() const { return ByteView(bytes.data(), bytes.size()); }
  auto operator<=>(const PublicKey&) const = default;
};

using Signature = std::array<uint8_t, 64>;

// An Ed25519 secret key in libsodium's 64-byte form (seed followed by the
// public key). Move-only; the bytes are zeroed on destruction and in the
// moved-from object.
class SecretKey {
 public:
  static constexpr size_t kSize = 64;
  static constexpr size_t kSeedSize = 32;

  SecretKey() = default;  // all zero: not a usable key
  ~SecretKey();
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }

 private:
  std::array<uint8_t, kSize> bytes_{};
};

struct KeyPair {
  PublicKey public_key;
  SecretKey secret_key;
};

// A fresh random key pair.
KeyPair GenerateKeyPair();
// The key pair for a 32-byte seed (RFC 8032's "secret key"). Anything other
// than 32 bytes is kInvalidArgument.
Result<KeyPair> KeyPairFromSeed(ByteView seed);

// SHA-256 of the 32 public key bytes.
Digest KeyId(const PublicKey& pub);

// Detached Ed25519 signature of `message`.
Signature Sign(const SecretKey& secret, ByteView message);

// OK if `sig` is a valid signature of `message` by `pub`; kInvalidArgument
// if `sig` is not 64 bytes, kUnauthenticated if it does not verify.
Status Verify(const PublicKey& pub, ByteView message, ByteView sig);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_KEYS_H_
