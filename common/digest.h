// SHA-256 digests: the identity of every chunk, file, object and bundle.
//
// Hashing goes through OpenSSL's EVP interface, which picks the fastest code
// for the CPU (SHA extensions where present, AVX2 otherwise). A Digest prints
// and parses as "sha256:<64 lower-case hex>".
#ifndef ARCA_COMMON_DIGEST_H_
#define ARCA_COMMON_DIGEST_H_

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace arca {

struct Digest {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};

  // "sha256:" followed by 64 lower-case hex characters.
  std::string ToString() const;
  // The 64 hex characters alone.
  std::string Hex() const;
  // Strict parse of "sha256:<64 lower-case hex>".
  static Result<Digest> Parse(std::string_view text);
  // From exactly 32 raw bytes.
  static Digest FromBytes(const uint8_t* p);

  ByteView view() const { return ByteView(bytes.data(), bytes.size()); }
  auto operator<=>(const Digest&) const = default;
};

// Incremental SHA-256. Not thread-safe; one instance per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(ByteView data);
  void Update(std::string_view data) { Update(AsBytes(data)); }
  // Returns the digest and resets the hasher for a new stream.
  Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// One-shot SHA-256 of `data`.
Digest Sha256Of(ByteView data);
inline Digest Sha256Of(std::string_view data) { return Sha256Of(AsBytes(data)); }

struct DigestHash {
  size_t operator()(const Digest& d) const {
    size_t h;
    std::memcpy(&h, d.bytes.data(), sizeof h);
    return h;
  }
};

}  // namespace arca

#endif  // ARCA_COMMON_DIGEST_H_
