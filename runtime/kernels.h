// Matrix-vector kernels of the forward pass: a row-major weight matrix of a
// GGUF type (F32, F16, BF16, Q8_0) times one or more float vectors.
//
// Three instruction-set variants exist: portable C++, AVX2 (+FMA, F16C) and
// AVX-512 (F, BW, VL, VNNI). The best one the CPU supports is chosen at run
// time; ARCA_RUNTIME_ISA=portable|avx2|avx512 in the environment, or
// SetIsa(), overrides the choice. All variants compute the same sums in a
// different order, so results agree to float rounding (tests check that the
// generated tokens are the same).
//
// For Q8_0 weights the activations are first quantised per 32 values (as
// llama.cpp does: scale max|x|/127 rounded to half precision, int8 values),
// and each block product is an exact integer dot product times both scales.
#ifndef ARCA_RUNTIME_KERNELS_H_
#define ARCA_RUNTIME_KERNELS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/dtype.h"
#include "runtime/thread_pool.h"

namespace arca::runtime {

enum class Isa { kPortable, kAvx2, kAvx512 };

// The best variant this CPU runs (ignores the environment).
Isa DetectIsa();
// The variant in use: ARCA_RUNTIME_ISA if set and supported, else DetectIsa(),
// unless SetIsa() was called. SetIsa(kAvx512) on a CPU without it is refused
// (returns false); not thread-safe against running kernels.
Isa CurrentIsa();
bool SetIsa(Isa isa);
std::string_view IsaName(Isa isa);
bool ParseIsa(std::string_view name, Isa* isa);

// A weight matrix: `rows` rows of `cols` elements of `type`, each row
// `row_bytes` long, back to back at `data` (borrowed; must outlive use).
struct Matrix {
  DType type = DType::kF32;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
};

// One product of a batch: out[t * w.rows + r] = dot(row r of w, x[t]).
struct MatMulJob {
  const Matrix* w;
  float* out;
};

// Runs every job over the same activations x ([n_tok][cols], cols equal for
// all jobs), splitting the rows of all jobs across the pool. `scratch` holds
// quantised activations between calls (reused, grown as needed).
void MatMul(const MatMulJob* jobs, int n_jobs, const float* x, int64_t n_tok, ThreadPool& pool,
            std::vector<uint8_t>& scratch);

// One dot product with the current variant: row `w` of `n` elements of
// `type` against x (quantised first for Q8_0, as MatMul does).
float DotRow(DType type, const uint8_t* w, const float* x, int64_t n);

// Activations quantised for Q8_0 rows: n int8 values, then n/32 float
// scales (each a half-precision value widened), so that the kernels load
// 32 or 64 contiguous values at a time. `out` has QuantizedSize(n) bytes.
int64_t QuantizedSize(int64_t n);
void QuantizeActivations(const float* x, int64_t n, uint8_t* out);

// Attention's two loops over cached positions, with the current variant.
// `rows` holds n_rows rows of n values of type t (F32 or F16), back to back.
// DotRows: out[r] = dot(row r, x). WeightedSum: out[i] = sum_r a[r] * row r[i].
void DotRows(DType t, const uint8_t* rows, int64_t n_rows, const float* x, int64_t n, float* out);
void WeightedSum(DType t, const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out);

// y[i] += a * x[i] for i < n, with the current variant (attention's sums);
// x is float32 or, for AxpyF16, IEEE half.
void Axpy(float a, const float* x, float* y, int64_t n);
void AxpyF16(float a, const uint8_t* x, float* y, int64_t n);

namespace internal {
// Per-variant kernels (portable in kernels.cc, x86 ones in kernels_x86.cc).
struct DotKernels {
  float (*f32)(const float* w, const float* x, int64_t n);
  float (*f16)(const uint8_t* w, const float* x, int64_t n);
  float (*bf16)(const uint8_t* w, const float* x, int64_t n);
  // xq: QuantizeActivations output for n_blocks * 32 values.
  float (*q8)(const uint8_t* w, const uint8_t* xq, int64_t n_blocks);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  void (*axpy_f16)(float a, const uint8_t* x, float* y, int64_t n);
  // out[i] = sum_r a[r] * row r[i]; rows of n floats (f32) or halves (f16).
  void (*wsum_f32)(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out);
  void (*wsum_f16)(const float* a, const uint8_t* rows, int64_t n_rows, int64_t n, float* out);
};
extern const DotKernels kPortableKernels;
extern const DotKernels kAvx2Kernels;
extern const DotKernels kAvx512Kernels;
}  // namespace internal

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_KERNELS_H_
