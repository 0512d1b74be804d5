// Scalar type conversions for GGUF tensor types; see dtype.h.
#include "runtime/dtype.h"

#include <cmath>

namespace arca::runtime {

bool IsKnownDType(uint32_t id) {
  switch (static_cast<DType>(id)) {
    case DType::kF32:
    case DType::kF16:
    case DType::kQ8_0:
    case DType::kBF16:
      return true;
  }
  return false;
}

std::string_view DTypeName(uint32_t id) {
  switch (static_cast<DType>(id)) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kQ8_0: return "Q8_0";
    case DType::kBF16: return "BF16";
  }
  return "unknown";
}

int DTypeBlockElems(DType t) { return t == DType::kQ8_0 ? kQ8BlockElems : 1; }

int DTypeBlockBytes(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kQ8_0: return kQ8BlockBytes;
    case DType::kBF16: return 2;
  }
  return 0;
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) {  // inf or NaN (keep NaN quiet and non-zero)
    return uint16_t(sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
  }
  if (abs >= 0x477ff000) return uint16_t(sign | 0x7c00);  // rounds past 65504
  if (abs < 0x38800000) {
    // Result is subnormal (or zero): value / 2^-24, rounded to nearest even.
    if (abs < 0x33000000) return uint16_t(sign);  // below half of 2^-24
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // so that m >> shift is in units of 2^-24
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1))) ++q;
    return uint16_t(sign | q);
  }
  // Normal: rebias and round the 13 dropped mantissa bits to nearest even.
  uint32_t h = ((abs >> 13) - (112u << 10));
  const uint32_t rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // may carry into exponent: fine
  return uint16_t(sign | h);
}

uint16_t FloatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return uint16_t((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

void QuantizeRowQ8_0(const float* x, int64_t n, uint8_t* out) {
  for (int64_t b = 0; b < n / kQ8BlockElems; ++b) {
    const float* xb = x + b * kQ8BlockElems;
    float amax = 0.0f;
    for (int i = 0; i < kQ8BlockElems; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t* blk = out + b * kQ8BlockBytes;
    const uint16_t dh = FloatToHalf(d);
    blk[0] = uint8_t(dh);
    blk[1] = uint8_t(dh >> 8);
    for (int i = 0; i < kQ8BlockElems; ++i) {
      const float v = std::round(xb[i] * id);
      blk[2 + i] = uint8_t(int8_t(v >= -127.0f && v <= 127.0f ? v : 0.0f));  // NaN (from inf) -> 0
    }
  }
}

void DequantizeRow(DType t, const uint8_t* row, int64_t n, float* out) {
  switch (t) {
    case DType::kF32:
      std::memcpy(out, row, size_t(n) * 4);
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) out[i] = HalfToFloat(uint16_t(row[2 * i] | (row[2 * i + 1] << 8)));
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) out[i] = Bf16ToFloat(uint16_t(row[2 * i] | (row[2 * i + 1] << 8)));
      return;
    case DType::kQ8_0:
      for (int64_t b = 0; b < n / kQ8BlockElems; ++b) {
        const uint8_t* blk = row + b * kQ8BlockBytes;
        const float d = HalfToFloat(uint16_t(blk[0] | (blk[1] << 8)));
        for (int i = 0; i < kQ8BlockElems; ++i) {
          out[b * kQ8BlockElems + i] = d * float(int8_t(blk[2 + i]));
        }
      }
      return;
  }
}

}  // namespace arca::runtime
