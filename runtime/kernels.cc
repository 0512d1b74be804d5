// Kernel dispatch, the portable kernels and the threaded matrix product; see
// kernels.h. The x86 variants are in kernels_x86.cc.
#include "runtime/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "common/bytes.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace arca::runtime {
namespace internal {
namespace {

float DotF32(const float* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += w[i] * x[i];
  return s;
}
float DotF16(const uint8_t* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += HalfToFloat(uint16_t(w[2 * i] | (w[2 * i + 1] << 8))) * x[i];
  return s;
}
float DotBf16(const uint8_t* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += Bf16ToFloat(uint16_t(w[2 * i] | (w[2 * i + 1] << 8))) * x[i];
  return s;
}
float DotQ8(const uint8_t* w, const uint8_t* xq, int64_t n_blocks) {
  const int8_t* xv = reinterpret_cast<const int8_t*>(xq);
  const float* xd = reinterpret_cast<const float*>(xq + n_blocks * kQ8BlockElems);
  float s = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* wb = w + b * kQ8BlockBytes;
    int32_t isum = 0;
    for (int i = 0; i < kQ8BlockElems; ++i) isum += int32_t(int8_t(wb[2 + i])) * xv[b * kQ8BlockElems + i];
    s += HalfToFloat(GetLE16(wb)) * xd[b] * float(isum);
  }
  return s;
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void AxpyF16(float a, const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * HalfToFloat(GetLE16(x + 2 * i));
}

void WsumF32(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  std::fill(out, out + n, 0.0f);
  for (int64_t r = 0; r < n_rows; ++r) Axpy(a[r], reinterpret_cast<const float*>(rows) + r * n, out, n);
}
void WsumF16(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  std::fill(out, out + n, 0.0f);
  for (int64_t r = 0; r < n_rows; ++r) AxpyF16(a[r], rows + r * n * 2, out, n);
}

}  // namespace

const DotKernels kPortableKernels = {DotF32, DotF16, DotBf16, DotQ8, Axpy, AxpyF16, WsumF32, WsumF16};

}  // namespace internal

namespace {

#if defined(__x86_64__)
// One feature bit of CPUID (register ECX), asked directly: clang's
// __builtin_cpu_supports does not know "f16c" or "avx512vnni" in every
// version.
bool CpuidEcxBit(unsigned leaf, int bit) {
  unsigned a, b, c, d;
  return __get_cpuid_count(leaf, 0, &a, &b, &c, &d) && ((c >> bit) & 1) != 0;
}
bool HasF16c() { return CpuidEcxBit(1, 29); }
bool HasAvx512Vnni() { return CpuidEcxBit(7, 11); }
#endif

bool Supported(Isa isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kPortable: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && HasF16c();
    case Isa::kAvx512:
      return Supported(Isa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && HasAvx512Vnni();
  }
  return false;
#else
  return isa == Isa::kPortable;
#endif
}

Isa InitialIsa() {
  Isa isa = DetectIsa();
  if (const char* env = std::getenv("ARCA_RUNTIME_ISA")) {
    Isa wanted;
    if (ParseIsa(env, &wanted) && Supported(wanted)) isa = wanted;
  }
  return isa;
}

Isa& IsaSlot() {
  static Isa isa = InitialIsa();
  return isa;
}

const internal::DotKernels& Kernels() {
  switch (IsaSlot()) {
    case Isa::kAvx512: return internal::kAvx512Kernels;
    case Isa::kAvx2: return internal::kAvx2Kernels;
    case Isa::kPortable: break;
  }
  return internal::kPortableKernels;
}

inline float Dot(const internal::DotKernels& k, DType t, const uint8_t* w, const float* x,
                 const uint8_t* xq, int64_t n) {
  switch (t) {
    case DType::kF32: return k.f32(reinterpret_cast<const float*>(w), x, n);
    case DType::kF16: return k.f16(w, x, n);
    case DType::kBF16: return k.bf16(w, x, n);
    case DType::kQ8_0: return k.q8(w, xq, n / kQ8BlockElems);
  }
  return 0;
}

}  // namespace

Isa DetectIsa() {
  if (Supported(Isa::kAvx512)) return Isa::kAvx512;
  if (Supported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kPortable;
}

Isa CurrentIsa() { return IsaSlot(); }

bool SetIsa(Isa isa) {
  if (!Supported(isa)) return false;
  IsaSlot() = isa;
  return true;
}

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return "portable";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

bool ParseIsa(std::string_view name, Isa* isa) {
  for (Isa i : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    if (name == IsaName(i)) {
      *isa = i;
      return true;
    }
  }
  return false;
}

void Axpy(float a, const float* x, float* y, int64_t n) { Kernels().axpy(a, x, y, n); }
void AxpyF16(float a, const uint8_t* x, float* y, int64_t n) { Kernels().axpy_f16(a, x, y, n); }

void DotRows(DType t, const uint8_t* rows, int64_t n_rows, const float* x, int64_t n, float* out) {
  const internal::DotKernels& k = Kernels();
  if (t == DType::kF16) {
    for (int64_t r = 0; r < n_rows; ++r) out[r] = k.f16(rows + r * n * 2, x, n);
  } else {
    for (int64_t r = 0; r < n_rows; ++r) out[r] = k.f32(reinterpret_cast<const float*>(rows) + r * n, x, n);
  }
}

void WeightedSum(DType t, const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out) {
  if (t == DType::kF16) {
    Kernels().wsum_f16(a, rows, n_rows, n, out);
  } else {
    Kernels().wsum_f32(a, rows, n_rows, n, out);
  }
}

float DotRow(DType type, const uint8_t* w, const float* x, int64_t n) {
  std::vector<uint8_t> xq;
  if (type == DType::kQ8_0) {
    xq.resize(size_t(QuantizedSize(n)));
    QuantizeActivations(x, n, xq.data());
  }
  return Dot(Kernels(), type, w, x, xq.data(), n);
}

int64_t QuantizedSize(int64_t n) { return n + n / kQ8BlockElems * int64_t(sizeof(float)); }

void QuantizeActivations(const float* x, int64_t n, uint8_t* out) {
  int8_t* q = reinterpret_cast<int8_t*>(out);
  float* d = reinterpret_cast<float*>(out + n);
  for (int64_t b = 0; b < n / kQ8BlockElems; ++b) {
    const float* xb = x + b * kQ8BlockElems;
    float amax = 0.0f;
    for (int i = 0; i < kQ8BlockElems; ++i) amax = std::max(amax, std::fabs(xb[i]));
    const float scale = amax / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    for (int i = 0; i < kQ8BlockElems; ++i) {
      const float v = std::nearbyint(xb[i] * inv);
      q[b * kQ8BlockElems + i] = int8_t(v >= -127.0f && v <= 127.0f ? v : 0.0f);  // NaN (from inf) -> 0
    }
    d[b] = HalfToFloat(FloatToHalf(scale));  // the stored precision of a Q8_0 scale
  }
}

void MatMul(const MatMulJob* jobs, int n_jobs, const float* x, int64_t n_tok, ThreadPool& pool,
            std::vector<uint8_t>& scratch) {
  if (n_jobs == 0 || n_tok == 0) return;
  const int64_t cols = jobs[0].w->cols;
  int64_t total_rows = 0;
  bool any_q8 = false;
  for (int j = 0; j < n_jobs; ++j) {
    total_rows += jobs[j].w->rows;
    any_q8 = any_q8 || jobs[j].w->type == DType::kQ8_0;
  }
  // Quantise the activations once for all Q8_0 rows.
  const int64_t xq_row = QuantizedSize(cols);
  if (any_q8) {
    scratch.resize(size_t(n_tok * xq_row));
    for (int64_t t = 0; t < n_tok; ++t) QuantizeActivations(x + t * cols, cols, scratch.data() + t * xq_row);
  }
  const uint8_t* xq = scratch.data();
  const internal::DotKernels& k = Kernels();

  // Rows are handed out in tiles; within a tile every token reuses the rows
  // while they are in cache, so a long prompt reads each weight once per tile.
  constexpr int64_t kTile = 16;
  // Waking the other threads costs microseconds: small products run inline.
  constexpr int64_t kMinParallelWork = int64_t(1) << 16;  // multiply-adds
  const std::function<void(int64_t, int64_t, int)> rows = [&](int64_t begin, int64_t end, int) {
    int64_t base = 0;
    for (int j = 0; j < n_jobs; ++j) {
      const Matrix& w = *jobs[j].w;
      const int64_t lo = std::max(begin, base) - base;
      const int64_t hi = std::min(end, base + w.rows) - base;
      base += w.rows;
      for (int64_t r0 = lo; r0 < hi; r0 += kTile) {
        const int64_t r1 = std::min(hi, r0 + kTile);
        for (int64_t t = 0; t < n_tok; ++t) {
          const float* xt = x + t * cols;
          const uint8_t* xqt = any_q8 ? xq + t * xq_row : nullptr;
          float* out = jobs[j].out + t * w.rows;
          for (int64_t r = r0; r < r1; ++r) out[r] = Dot(k, w.type, w.data + r * w.row_bytes, xt, xqt, cols);
        }
      }
    }
  };
  if (total_rows * cols * n_tok < kMinParallelWork) {
    rows(0, total_rows, 0);
  } else {
    pool.ParallelFor(total_rows, rows, kTile);
  }
}

}  // namespace arca::runtime
