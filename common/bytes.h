// Byte views and little-endian encoding helpers for on-disk and wire formats.
#ifndef ARCA_COMMON_BYTES_H_
#define ARCA_COMMON_BYTES_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace arca {

// A non-owning view of bytes. The viewed memory must outlive the view.
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsChars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

inline void PutLE16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
inline void PutLE32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void PutLE64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint16_t GetLE16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t GetLE32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t GetLE64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline void AppendLE32(std::string* out, uint32_t v) {
  uint8_t b[4];
  PutLE32(b, v);
  out->append(reinterpret_cast<char*>(b), 4);
}
inline void AppendLE64(std::string* out, uint64_t v) {
  uint8_t b[8];
  PutLE64(b, v);
  out->append(reinterpret_cast<char*>(b), 8);
}

// Lower-case hex of `b`.
std::string HexEncode(ByteView b);
// Decodes lower- or upper-case hex into `out` (exactly out.size() bytes).
// Returns false on a wrong length or a non-hex character.
bool HexDecode(std::string_view hex, std::span<uint8_t> out);

}  // namespace arca

#endif  // ARCA_COMMON_BYTES_H_
