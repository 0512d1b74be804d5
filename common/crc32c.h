// CRC-32C (Castagnoli): a fast checksum of stored bytes, so that damage to
// compressed data is caught, and located, before anything is decoded.
// Not a security measure: content is authenticated by SHA-256 digests.
#ifndef ARCA_COMMON_CRC32C_H_
#define ARCA_COMMON_CRC32C_H_

#include <cstdint>

#include "common/bytes.h"

namespace arca {

// CRC-32C of `data` (reflected polynomial 0x82F63B78, initial and final
// xor 0xFFFFFFFF): Crc32c("123456789") == 0xE3069283. Uses the SSE4.2 crc32
// instruction where the CPU has it.
uint32_t Crc32c(ByteView data);

}  // namespace arca

#endif  // ARCA_COMMON_CRC32C_H_
