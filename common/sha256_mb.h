// Multi-buffer SHA-256: many independent messages hashed at once.
//
// Arca hashes every chunk on ingest and verifies every chunk on read-back.
// Chunks are independent messages, so instead of one stream at a time
// (OpenSSL, ~310 MB/s on a CPU without SHA extensions) this hashes 16 messages
// side by side in the 32-bit lanes of AVX-512 registers, or 8 in AVX2
// registers, FIPS 180-4 in every lane. Messages of any mix of lengths may share
// a batch: lanes that finish are refilled from the rest of the batch.
//
// The implementation is chosen at run time from the CPU's features; the
// environment variable ARCA_SHA256_IMPL=openssl|avx2|avx512 (read once, at
// the first call) forces one, for tests and benchmarks. A forced
// implementation the CPU lacks is ignored, with a warning on stderr.
//
// Batches of 8 or more messages (16 or more with AVX-512) of similar size get
// the full speed-up; smaller batches gain less, and a lone message is handed
// to OpenSSL.
#ifndef ARCA_COMMON_SHA256_MB_H_
#define ARCA_COMMON_SHA256_MB_H_

#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/digest.h"

namespace arca {

// Hashes independent messages: out[i] = SHA-256(inputs[i]) for every i.
// Bit-identical to Sha256Of(); thread-safe (no shared state). inputs and out
// have the same size (aborts otherwise). The viewed memory is only read.
void Sha256Batch(std::span<const ByteView> inputs, std::span<Digest> out);

// Which implementation Sha256Batch uses on this CPU: "avx512x16", "avx2x8" or
// "openssl".
std::string_view Sha256BatchImplementation();

// For tests and benchmarks: the implementations by name, whether this CPU can
// run each, and Sha256Batch with a given one.
enum class Sha256Impl { kOpenssl, kAvx2x8, kAvx512x16 };
std::string_view Sha256ImplName(Sha256Impl impl);
bool Sha256ImplSupported(Sha256Impl impl);
// As Sha256Batch, with `impl`, which must be supported (aborts otherwise).
void Sha256BatchWith(Sha256Impl impl, std::span<const ByteView> inputs,
                     std::span<Digest> out);

}  // namespace arca

#endif  // ARCA_COMMON_SHA256_MB_H_
