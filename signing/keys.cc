#include "signing/keys.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace arca::signing {
namespace {

void EnsureSodium() {
  static const bool ok = [] {
    if (sodium_init() < 0) {
      std::fprintf(stderr, "sodium_init failed\n");
      std::abort();
    }
    return true;
  }();
  (void)ok;
}

}  // namespace

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), other.bytes_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

KeyPair GenerateKeyPair() {
  EnsureSodium();
  KeyPair kp;
  crypto_sign_keypair(kp.public_key.bytes.data(), kp.secret_key.mutable_data());
  return kp;
}

Result<KeyPair> KeyPairFromSeed(ByteView seed) {
  static_assert(crypto_sign_SEEDBYTES == SecretKey::kSeedSize);
  static_assert(crypto_sign_SECRETKEYBYTES == SecretKey::kSize);
  static_assert(crypto_sign_PUBLICKEYBYTES == PublicKey::kSize);
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return InvalidArgumentError("Ed25519 seed must be 32 bytes, got " +
                                std::to_string(seed.size()));
  }
  EnsureSodium();
  KeyPair kp;
  crypto_sign_seed_keypair(kp.public_key.bytes.data(), kp.secret_key.mutable_data(),
                           seed.data());
  return kp;
}

Digest KeyId(const PublicKey& pub) { return Sha256Of(pub.view()); }

Signature Sign(const SecretKey& secret, ByteView message) {
  static_assert(crypto_sign_BYTES == std::tuple_size_v<Signature>);
  EnsureSodium();
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret.data());
  return sig;
}

Status Verify(const PublicKey& pub, ByteView message, ByteView sig) {
  if (sig.size() != crypto_sign_BYTES) {
    return InvalidArgumentError("Ed25519 signature must be 64 bytes, got " +
                                std::to_string(sig.size()));
  }
  EnsureSodium();
  if (crypto_sign_verify_detached(sig.data(), message.data(), message.size(),
                                  pub.bytes.data()) != 0) {
    return UnauthenticatedError("Ed25519 signature does not verify");
  }
  return Status::Ok();
}

}  // namespace arca::signing
