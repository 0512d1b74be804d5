// Tensor element types of GGUF files (the ggml type ids) and the scalar
// conversions between them: IEEE half (F16), bfloat16 (BF16) and the Q8_0
// block format.
//
// Only the types the runtime can compute with are named here; the reader
// refuses any other type id with a clear error.
#ifndef ARCA_RUNTIME_DTYPE_H_
#define ARCA_RUNTIME_DTYPE_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace arca::runtime {

// ggml type ids as stored in a GGUF tensor info (uint32). Values are fixed by
// the format; do not renumber.
enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ8_0 = 8,
  kBF16 = 30,
};

// Q8_0 block, 34 bytes, little-endian, no padding:
//   offset 0  uint16  d      scale as IEEE half; value[i] = d * qs[i]
//   offset 2  int8[32] qs    quantised values
// A row of n elements (n a multiple of 32) is n/32 consecutive blocks.
inline constexpr int kQ8BlockElems = 32;
inline constexpr int kQ8BlockBytes = 34;

// True iff `id` is one of the DType values above.
bool IsKnownDType(uint32_t id);
// "F32", "F16", "Q8_0", "BF16"; "type<id>" for anything else.
std::string_view DTypeName(uint32_t id);
// Elements per block (1 for float types, 32 for Q8_0). `t` must be known.
int DTypeBlockElems(DType t);
// Bytes per block (4, 2, 34, 2). `t` must be known.
int DTypeBlockBytes(DType t);

// Exact conversion of an IEEE half to float (every half is a float).
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf or NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // normal: rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half: shift the mantissa up until its leading 1 is implicit.
    int e = 113;
    while ((mant & 0x400) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (uint32_t(e) << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Float to IEEE half, rounding to nearest even; overflow gives infinity.
uint16_t FloatToHalf(float f);

inline float Bf16ToFloat(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
// Float to bfloat16, rounding to nearest even (NaN stays NaN).
uint16_t FloatToBf16(float f);

// Quantises n floats (n a multiple of 32) to Q8_0 blocks at `out`
// (n / 32 * 34 bytes), the way ggml does: d = max|x| / 127, q = round(x / d).
void QuantizeRowQ8_0(const float* x, int64_t n, uint8_t* out);

// Expands `n` elements of a row of type `t` starting at element 0 into floats.
void DequantizeRow(DType t, const uint8_t* row, int64_t n, float* out);

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_DTYPE_H_
