// SIMD SHA-256 compression kernels for multi-buffer hashing (see
// sha256_mb.cc): one message per 32-bit lane, 16 lanes in AVX-512 registers
// or 8 in AVX2 registers, written from FIPS 180-4 section 6.2.2.
//
// The rounds are written once with GCC vector extensions and instantiated
// in functions compiled for AVX-512 (vprord rotates, vpternlogd for Ch, Maj
// and three-way xors) or AVX2, so this file builds for baseline x86-64 and
// only the dispatcher decides which kernel may run. Everything but the three
// entry points is always inlined into them; no AVX code is emitted outside.
#if defined(__x86_64__)

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

// The helpers below pass vectors by value but are always inlined into the
// kernels, so no call ever crosses the ABI GCC warns about.
#pragma GCC diagnostic ignored "-Wpsabi"

#define ARCA_INLINE inline __attribute__((always_inline))

namespace arca::sha256_mb_internal {
namespace {

typedef uint32_t U32x16 __attribute__((vector_size(64)));
typedef uint32_t U32x8 __attribute__((vector_size(32)));
typedef uint8_t U8x64 __attribute__((vector_size(64)));
typedef uint8_t U8x32 __attribute__((vector_size(32)));

template <int kLanes>
struct VecOf;
template <>
struct VecOf<16> {
  using Words = U32x16;
  using Bytes = U8x64;
};
template <>
struct VecOf<8> {
  using Words = U32x8;
  using Bytes = U8x32;
};

constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

template <class V>
ARCA_INLINE V Rotr(const V& x, int n) {
  return (x >> n) | (x << (32 - n));
}

// Big-endian words from bytes: reverse each group of 4.
template <class B, size_t... i>
ARCA_INLINE B ByteSwap32(const B& x, std::index_sequence<i...>) {
  return __builtin_shufflevector(x, x, (i ^ 3)...);
}

// One step of an in-register transpose: swaps bit k of the row index with
// bit k of the column index, for rows r (bit k clear) and r | 1 << k.
template <int k, size_t n, class V, size_t... c>
ARCA_INLINE V SwapLow(const V& a, const V& b, std::index_sequence<c...>) {
  return __builtin_shufflevector(a, b, (((c >> k) & 1) ? n : 0) + (c & ~(size_t{1} << k))...);
}
template <int k, size_t n, class V, size_t... c>
ARCA_INLINE V SwapHigh(const V& a, const V& b, std::index_sequence<c...>) {
  return __builtin_shufflevector(a, b, (((c >> k) & 1) ? n : 0) + (c | (size_t{1} << k))...);
}
template <int k, size_t n, class V>
ARCA_INLINE void TransposeStep(V* rows) {
#pragma GCC unroll 16
  for (size_t r = 0; r < n; ++r) {
    if (r & (size_t{1} << k)) continue;
    V a = rows[r], b = rows[r | (size_t{1} << k)];
    rows[r] = SwapLow<k, n>(a, b, std::make_index_sequence<n>());
    rows[r | (size_t{1} << k)] = SwapHigh<k, n>(a, b, std::make_index_sequence<n>());
  }
}
// rows[i][j] becomes rows[j][i], for an n x n matrix of 32-bit words.
template <size_t n, class V>
ARCA_INLINE void Transpose(V* rows) {
  TransposeStep<0, n>(rows);
  TransposeStep<1, n>(rows);
  TransposeStep<2, n>(rows);
  if constexpr (n == 16) TransposeStep<3, n>(rows);
}

// w[t] gets word t (big-endian) of the 64-byte block at p[i], in lane i.
template <int kLanes>
ARCA_INLINE void LoadBlocks(const uint8_t* const* p, typename VecOf<kLanes>::Words* w) {
  using Words = typename VecOf<kLanes>::Words;
  using Bytes = typename VecOf<kLanes>::Bytes;
  constexpr size_t kWordsPerVec = sizeof(Words) / 4;
  // A block is 64 / sizeof(Words) vectors; transpose each column of them.
#pragma GCC unroll 2
  for (size_t half = 0; half < 64 / sizeof(Words); ++half) {
    Words rows[kLanes];
#pragma GCC unroll 16
    for (int i = 0; i < kLanes; ++i) {
      Bytes b;
      std::memcpy(&b, p[i] + half * sizeof(Words), sizeof b);
      b = ByteSwap32(b, std::make_index_sequence<sizeof(Bytes)>());
      std::memcpy(&rows[i], &b, sizeof b);
    }
    Transpose<kLanes>(rows);
#pragma GCC unroll 16
    for (int i = 0; i < kLanes; ++i) w[half * kWordsPerVec + i] = rows[i];
  }
}

// FIPS 180-4 6.2.2 for `blocks` blocks in each of kLanes lanes. kTernary
// picks Ch and Maj forms that map onto one vpternlogd each; without it, the
// forms with the fewest two-operand instructions.
template <int kLanes, bool kTernary>
ARCA_INLINE void Compress(uint32_t* state, const uint8_t* const* ptrs, int busy, size_t blocks) {
  using V = typename VecOf<kLanes>::Words;
  V s[8];
  for (int j = 0; j < 8; ++j) std::memcpy(&s[j], state + j * kLanes, sizeof(V));
  const uint8_t* p[kLanes];
  for (int i = 0; i < kLanes; ++i) p[i] = ptrs[i];

  for (size_t block = 0; block < blocks; ++block) {
    V w[16];
    LoadBlocks<kLanes>(p, w);
    for (int i = 0; i < busy; ++i) p[i] += 64;

    V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    V b_xor_c = b ^ c;  // For the two-operand Maj.
#pragma GCC unroll 64
    for (int t = 0; t < 64; ++t) {
      if (t >= 16) {
        V w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
        V sigma0 = Rotr(w15, 7) ^ Rotr(w15, 18) ^ (w15 >> 3);
        V sigma1 = Rotr(w2, 17) ^ Rotr(w2, 19) ^ (w2 >> 10);
        w[t & 15] += sigma0 + w[(t - 7) & 15] + sigma1;
      }
      V big_sigma1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
      V big_sigma0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
      V ch, maj;
      if constexpr (kTernary) {
        ch = (e & f) ^ (~e & g);
        maj = (a & b) ^ (a & c) ^ (b & c);
      } else {
        ch = ((f ^ g) & e) ^ g;
        V a_xor_b = a ^ b;
        maj = (a_xor_b & b_xor_c) ^ b;
        b_xor_c = a_xor_b;  // Next round's b ^ c.
      }
      V t1 = h + big_sigma1 + ch + kRoundConstants[t] + w[t & 15];
      V t2 = big_sigma0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    s[0] += a, s[1] += b, s[2] += c, s[3] += d;
    s[4] += e, s[5] += f, s[6] += g, s[7] += h;
  }
  for (int j = 0; j < 8; ++j) std::memcpy(state + j * kLanes, &s[j], sizeof(V));
}

}  // namespace

__attribute__((target("avx512f,avx512vl,avx512bw"))) void Avx512x16(
    uint32_t* state, const uint8_t* const* ptrs, int busy, size_t blocks) {
  Compress<16, true>(state, ptrs, busy, blocks);
}

__attribute__((target("avx512f,avx512vl,avx512bw"))) void Avx512x8(
    uint32_t* state, const uint8_t* const* ptrs, int busy, size_t blocks) {
  Compress<8, true>(state, ptrs, busy, blocks);
}

__attribute__((target("avx2"))) void Avx2x8(uint32_t* state, const uint8_t* const* ptrs,
                                            int busy, size_t blocks) {
  Compress<8, false>(state, ptrs, busy, blocks);
}

}  // namespace arca::sha256_mb_internal

#endif  // defined(__x86_64__)
