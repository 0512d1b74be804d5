// AVX2 and AVX-512 dot-product kernels, compiled with per-function target
// attributes so the rest of the program stays portable; kernels.cc calls
// them only after checking the CPU (see kernels.h).
#include <cstdint>

#include "common/bytes.h"
#include "runtime/kernels.h"

#if defined(__x86_64__)
// GCC 12's AVX-512 headers trip -Wuninitialized inside their own casts.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#define ARCA_AVX2 __attribute__((target("avx2,fma,f16c")))
#define ARCA_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

namespace arca::runtime::internal {
namespace {

// How far ahead of the current weight the kernels prefetch.
constexpr int64_t kPrefetchBytes = 4096;

// ---- AVX2 ----

ARCA_AVX2 inline float H2F(uint16_t h) { return _cvtsh_ss(h); }

ARCA_AVX2 inline float Hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

ARCA_AVX2 float DotF32Avx2(const float* w, const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
         a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
  float s = Hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += w[i] * x[i];
  return s;
}

ARCA_AVX2 inline __m256 LoadF16x8(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
ARCA_AVX2 inline __m256 LoadBf16x8(const uint8_t* p) {
  __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

ARCA_AVX2 float DotF16Avx2(const uint8_t* w, const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(LoadF16x8(w + 2 * i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(LoadF16x8(w + 2 * i + 16), _mm256_loadu_ps(x + i + 8), a1);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(LoadF16x8(w + 2 * i), _mm256_loadu_ps(x + i), a0);
  float s = Hsum256(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += H2F(GetLE16(w + 2 * i)) * x[i];
  return s;
}

ARCA_AVX2 float DotBf16Avx2(const uint8_t* w, const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(LoadBf16x8(w + 2 * i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(LoadBf16x8(w + 2 * i + 16), _mm256_loadu_ps(x + i + 8), a1);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(LoadBf16x8(w + 2 * i), _mm256_loadu_ps(x + i), a0);
  float s = Hsum256(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += Bf16ToFloat(GetLE16(w + 2 * i)) * x[i];
  return s;
}

// Q8_0: |w| (unsigned) times x with w's sign, so that a stored -128 in w
// cannot overflow; x comes from our quantiser and lies in [-127, 127].
// xq holds n_blocks * 32 int8 values, then n_blocks float scales.
ARCA_AVX2 float DotQ8Avx2(const uint8_t* w, const uint8_t* xq, int64_t n_blocks) {
  const float* xd = reinterpret_cast<const float*>(xq + n_blocks * kQ8BlockElems);
  __m256 acc = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* wb = w + b * kQ8BlockBytes;
    __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 2));
    __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * kQ8BlockElems));
    __m256i p16 = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
    __m256i p32 = _mm256_madd_epi16(p16, ones);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(H2F(GetLE16(wb)) * xd[b]), acc);
  }
  return Hsum256(acc);
}

ARCA_AVX2 void AxpyAvx2(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

ARCA_AVX2 void AxpyF16Avx2(float a, const uint8_t* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, LoadF16x8(x + 2 * i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * H2F(GetLE16(x + 2 * i));
}

// ---- AVX-512 ----

ARCA_AVX512 float DotF32Avx512(const float* w, const float* x, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
         a3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int line = 0; line < 4; ++line) {
      _mm_prefetch(reinterpret_cast<const char*>(w + i + 16 * line) + kPrefetchBytes, _MM_HINT_T0);
    }
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(x + i + 16), a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 32), _mm512_loadu_ps(x + i + 32), a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 48), _mm512_loadu_ps(x + i + 48), a3);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a0);
  if (i < n) {  // masked tail
    __mmask16 m = __mmask16((1u << (n - i)) - 1);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + i), _mm512_maskz_loadu_ps(m, x + i), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

ARCA_AVX512 float DotF16Avx512(const uint8_t* w, const float* x, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(w + 2 * i + kPrefetchBytes), _MM_HINT_T0);
    a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * i))),
                         _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * i + 32))),
                         _mm512_loadu_ps(x + i + 16), a1);
  }
  for (; i + 16 <= n; i += 16) {
    a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * i))),
                         _mm512_loadu_ps(x + i), a0);
  }
  if (i < n) {
    __mmask16 m = __mmask16((1u << (n - i)) - 1);
    __m256i h = _mm256_maskz_loadu_epi16(m, w + 2 * i);
    a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(h), _mm512_maskz_loadu_ps(m, x + i), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

ARCA_AVX512 inline __m512 LoadBf16x16(const uint8_t* p) {
  __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

ARCA_AVX512 float DotBf16Avx512(const uint8_t* w, const float* x, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(w + 2 * i + kPrefetchBytes), _MM_HINT_T0);
    a0 = _mm512_fmadd_ps(LoadBf16x16(w + 2 * i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(LoadBf16x16(w + 2 * i + 32), _mm512_loadu_ps(x + i + 16), a1);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(LoadBf16x16(w + 2 * i), _mm512_loadu_ps(x + i), a0);
  float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  for (; i < n; ++i) s += Bf16ToFloat(GetLE16(w + 2 * i)) * x[i];
  return s;
}

// Q8_0 with VNNI, two blocks (64 values) per step in one 512-bit register:
// vpdpbusd sums four |w| * (x with w's sign) products per int32 lane; lanes
// 0-7 belong to the first block and 8-15 to the second, and are scaled by
// that block's d_w * d_x before accumulating.
ARCA_AVX512 float DotQ8Avx512(const uint8_t* w, const uint8_t* xq, int64_t n_blocks) {
  const float* xd = reinterpret_cast<const float*>(xq + n_blocks * kQ8BlockElems);
  const __m512i lanes = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= n_blocks; b += 2) {
    const uint8_t* w0 = w + b * kQ8BlockBytes;
    const uint8_t* w1 = w0 + kQ8BlockBytes;
    // Weights stream from memory: ask for them well ahead (a hint; past the
    // end of the row it reads the next row, which comes next anyway).
    _mm_prefetch(reinterpret_cast<const char*>(w0 + kPrefetchBytes), _MM_HINT_T0);
    __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + 2))),
                                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w1 + 2)), 1);
    __m512i xv = _mm512_loadu_si512(xq + b * kQ8BlockElems);
    const __mmask64 neg = _mm512_movepi8_mask(wv);  // lanes where w < 0
    __m512i sx = _mm512_mask_sub_epi8(xv, neg, _mm512_setzero_si512(), xv);
    __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(wv), sx);
    // Both blocks' d_w as halves in one register, widened, times d_x.
    __m128i dh = _mm_insert_epi16(_mm_cvtsi32_si128(GetLE16(w0)), GetLE16(w1), 1);
    __m128 d = _mm_mul_ps(_mm_cvtph_ps(dh), _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(xd + b))));
    __m512 dv = _mm512_permutexvar_ps(lanes, _mm512_castps128_ps512(d));
    if (b & 2) {
      acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), dv, acc1);
    } else {
      acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), dv, acc0);
    }
  }
  float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (b < n_blocks) {  // an odd last block, in 256 bits. (Not a scalar loop:
    // GCC 12 vectorises an int8 x int8 sum into vpdpbusd, which is u8 x s8.)
    const uint8_t* wb = w + b * kQ8BlockBytes;
    __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 2));
    __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * kQ8BlockElems));
    __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
    s += H2F(GetLE16(wb)) * xd[b] * Hsum256(_mm256_cvtepi32_ps(p));
  }
  return s;
}

// Weighted sums of rows, 32 columns at a time in registers, rows inner: each
// output is written once instead of once per row.
template <bool kHalf>
ARCA_AVX512 inline void WsumAvx512(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (int64_t r = 0; r < n_rows; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      __m512 v0, v1;
      if constexpr (kHalf) {
        const uint8_t* row = rows + (r * n + i) * 2;
        v0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)));
        v1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 32)));
      } else {
        const float* row = reinterpret_cast<const float*>(rows) + r * n + i;
        v0 = _mm512_loadu_ps(row);
        v1 = _mm512_loadu_ps(row + 16);
      }
      s0 = _mm512_fmadd_ps(ar, v0, s0);
      s1 = _mm512_fmadd_ps(ar, v1, s1);
    }
    _mm512_storeu_ps(out + i, s0);
    _mm512_storeu_ps(out + i + 16, s1);
  }
  for (; i < n; ++i) {  // columns past the last multiple of 32
    float s = 0;
    for (int64_t r = 0; r < n_rows; ++r) {
      s += a[r] * (kHalf ? H2F(GetLE16(rows + (r * n + i) * 2)) : reinterpret_cast<const float*>(rows)[r * n + i]);
    }
    out[i] = s;
  }
}
ARCA_AVX512 void WsumF32Avx512(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  WsumAvx512<false>(a, rows, n_rows, n, out);
}
ARCA_AVX512 void WsumF16Avx512(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  WsumAvx512<true>(a, rows, n_rows, n, out);
}
ARCA_AVX2 void WsumF32Avx2(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = 0.0f;
  for (int64_t r = 0; r < n_rows; ++r) AxpyAvx2(a[r], reinterpret_cast<const float*>(rows) + r * n, out, n);
}
ARCA_AVX2 void WsumF16Avx2(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = 0.0f;
  for (int64_t r = 0; r < n_rows; ++r) AxpyF16Avx2(a[r], rows + r * n * 2, out, n);
}

}  // namespace

const DotKernels kAvx2Kernels = {DotF32Avx2, DotF16Avx2, DotBf16Avx2, DotQ8Avx2, AxpyAvx2, AxpyF16Avx2, WsumF32Avx2, WsumF16Avx2};
const DotKernels kAvx512Kernels = {DotF32Avx512, DotF16Avx512, DotBf16Avx512, DotQ8Avx512, AxpyAvx2, AxpyF16Avx2, WsumF32Avx512, WsumF16Avx512};

}  // namespace arca::runtime::internal

#else  // not x86-64: the portable kernels stand in (never selected anyway)

namespace arca::runtime::internal {
const DotKernels kAvx2Kernels = kPortableKernels;
const DotKernels kAvx512Kernels = kPortableKernels;
}  // namespace arca::runtime::internal

#endif
