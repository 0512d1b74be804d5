// SHA-256 through OpenSSL EVP, and the "sha256:<hex>" text form.
#include "common/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace arca {

namespace {
constexpr std::string_view kPrefix = "sha256:";
}

std::string HexEncode(ByteView b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(b.size() * 2, '\0');
  for (size_t i = 0; i < b.size(); ++i) {
    out[2 * i] = kHex[b[i] >> 4];
    out[2 * i + 1] = kHex[b[i] & 15];
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool HexDecode(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = uint8_t(hi << 4 | lo);
  }
  return true;
}

std::string Digest::Hex() const { return HexEncode(view()); }
std::string Digest::ToString() const { return std::string(kPrefix) + Hex(); }

Digest Digest::FromBytes(const uint8_t* p) {
  Digest d;
  std::memcpy(d.bytes.data(), p, kSize);
  return d;
}

Result<Digest> Digest::Parse(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return InvalidArgumentError("digest must start with \"sha256:\"");
  }
  std::string_view hex = text.substr(kPrefix.size());
  for (char c : hex) {
    if (c >= 'A' && c <= 'F') return InvalidArgumentError("digest hex must be lower-case");
  }
  Digest d;
  if (!HexDecode(hex, d.bytes)) {
    return InvalidArgumentError("digest must be \"sha256:\" and 64 hex characters");
  }
  return d;
}

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

static void InitOrDie(EVP_MD_CTX* md) {
  if (md == nullptr || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "fatal: OpenSSL SHA-256 initialisation failed\n");
    std::abort();
  }
}

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  InitOrDie(ctx_->md);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(ByteView data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

Digest Sha256::Finish() {
  Digest d;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, d.bytes.data(), &len);
  InitOrDie(ctx_->md);
  return d;
}

Digest Sha256Of(ByteView data) {
  Digest d;
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.bytes.data(), &len, EVP_sha256(), nullptr);
  return d;
}

}  // namespace arca
