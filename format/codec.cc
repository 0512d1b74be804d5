// Codec choice, byte-plane (un)grouping and zstd calls.
#include "format/codec.h"

// For ZSTD_c_literalCompressionMode (experimental in zstd's API, stable in
// every 1.5.x release; Debian bookworm ships 1.5.4).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "format/chunker.h"

namespace arca::format {

namespace {

constexpr uint32_t kRawPlaneBit = 0x80000000u;
constexpr size_t kSampleBytes = 16 * 1024;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

using CCtxPtr = std::unique_ptr<ZSTD_CCtx, CCtxDeleter>;

CCtxPtr MakeCCtx(int level, bool force_literal_compression) {
  CCtxPtr c(ZSTD_createCCtx());
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, level);
  if (force_literal_compression) {
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_literalCompressionMode, ZSTD_ps_enable);
  }
  return c;
}

// Whole chunks (text, metadata): zstd's matches pay.
ZSTD_CCtx* MatchCCtx() {
  thread_local CCtxPtr ctx = MakeCCtx(kZstdLevel, false);
  return ctx.get();
}

// Byte planes of weights: matches are rare and short, and a literal is
// cheaper than a bad match. A very fast (negative) level barely searches for
// matches; forcing Huffman coding of literals, which zstd turns off for
// negative levels by default, keeps the entropy coding. On bf16 exponent
// planes this is both smaller (ratio 2.94 vs 2.64) and 2.7x fewer
// instructions than level 1 (callgrind, 8 MiB of N(0, 0.02) planes).
ZSTD_CCtx* PlaneCCtx() {
  thread_local CCtxPtr ctx = MakeCCtx(kZstdPlaneLevel, true);
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// Order-0 entropy in bits per byte of a histogram with `total` samples.
double Entropy(const uint32_t* hist, uint32_t total) {
  if (total == 0) return 0;
  double bits = 0;
  const double inv = 1.0 / total;
  for (int i = 0; i < 256; ++i) {
    if (hist[i] == 0) continue;
    double p = hist[i] * inv;
    bits -= p * std::log2(p);
  }
  return bits;
}

struct Estimate {
  int width;                 // 1, 2 or 4
  std::array<double, 4> plane_bits;  // entropy of each plane, bits per byte
};

// Histograms of a sample by position mod 4 give all three widths' planes.
Estimate EstimateWidth(ByteView raw) {
  size_t n = std::min(raw.size(), kSampleBytes) & ~size_t(3);
  // Sample from the middle of the chunk: its edges often straddle headers.
  size_t start = ((raw.size() - n) / 2) & ~size_t(3);
  std::array<std::array<uint32_t, 256>, 4> h{};
  const uint8_t* p = raw.data() + start;
  for (size_t i = 0; i < n; i += 4) {
    ++h[0][p[i]];
    ++h[1][p[i + 1]];
    ++h[2][p[i + 2]];
    ++h[3][p[i + 3]];
  }
  uint32_t q = uint32_t(n / 4);
  std::array<uint32_t, 256> h2a, h2b, h1;
  for (int i = 0; i < 256; ++i) {
    h2a[i] = h[0][i] + h[2][i];
    h2b[i] = h[1][i] + h[3][i];
    h1[i] = h2a[i] + h2b[i];
  }
  Estimate e4{4, {Entropy(h[0].data(), q), Entropy(h[1].data(), q), Entropy(h[2].data(), q),
                  Entropy(h[3].data(), q)}};
  Estimate e2{2, {Entropy(h2a.data(), 2 * q), Entropy(h2b.data(), 2 * q), 0, 0}};
  Estimate e1{1, {Entropy(h1.data(), 4 * q), 0, 0, 0}};
  auto cost = [](const Estimate& e) {
    double s = 0;
    for (int i = 0; i < e.width; ++i) s += std::min(e.plane_bits[i], 8.0);
    return s / e.width;
  };
  // Prefer the narrower width unless the wider one is clearly better.
  Estimate best = e1;
  if (cost(e2) < cost(best) - 0.05) best = e2;
  if (cost(e4) < cost(best) - 0.05) best = e4;
  return best;
}

// Appends zstd(src) to *out if it is smaller than src; returns whether it did.
bool AppendZstd(ZSTD_CCtx* cctx, ByteView src, std::string* out) {
  size_t bound = ZSTD_compressBound(src.size());
  size_t old = out->size();
  out->resize(old + bound);
  size_t n = ZSTD_compress2(cctx, out->data() + old, bound, src.data(), src.size());
  if (ZSTD_isError(n) || n >= src.size()) {
    out->resize(old);
    return false;
  }
  out->resize(old + n);
  return true;
}

size_t PlaneLength(size_t raw_len, int width, int plane) {
  return (raw_len + width - 1 - plane) / width;
}

#if defined(__SSE2__)
// Splits 32 bytes into their 16 even and 16 odd bytes.
inline void Deinterleave2(__m128i x0, __m128i x1, __m128i* even, __m128i* odd) {
  const __m128i low = _mm_set1_epi16(0x00FF);
  *even = _mm_packus_epi16(_mm_and_si128(x0, low), _mm_and_si128(x1, low));
  *odd = _mm_packus_epi16(_mm_srli_epi16(x0, 8), _mm_srli_epi16(x1, 8));
}
inline __m128i Load(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline void Store(uint8_t* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
#endif

void SplitPlanes(ByteView raw, int width, uint8_t* planes) {
  const size_t n = raw.size();
  uint8_t* dst[4];
  size_t off = 0;
  for (int p = 0; p < width; ++p) {
    dst[p] = planes + off;
    off += PlaneLength(n, width, p);
  }
  const uint8_t* s = raw.data();
  size_t i = 0;  // input position; always a multiple of width in the loops
  if (width == 2) {
#if defined(__SSE2__)
    for (; i + 32 <= n; i += 32) {
      __m128i e, o;
      Deinterleave2(Load(s + i), Load(s + i + 16), &e, &o);
      Store(dst[0] + i / 2, e);
      Store(dst[1] + i / 2, o);
    }
#endif
    for (; i + 2 <= n; i += 2) {
      dst[0][i / 2] = s[i];
      dst[1][i / 2] = s[i + 1];
    }
  } else {
#if defined(__SSE2__)
    for (; i + 64 <= n; i += 64) {
      __m128i e0, o0, e1, o1, p0, p2, p1, p3;
      Deinterleave2(Load(s + i), Load(s + i + 16), &e0, &o0);       // bytes 0,2 | 1,3 of 8 values
      Deinterleave2(Load(s + i + 32), Load(s + i + 48), &e1, &o1);  // the next 8 values
      Deinterleave2(e0, e1, &p0, &p2);
      Deinterleave2(o0, o1, &p1, &p3);
      Store(dst[0] + i / 4, p0);
      Store(dst[1] + i / 4, p1);
      Store(dst[2] + i / 4, p2);
      Store(dst[3] + i / 4, p3);
    }
#endif
    for (; i + 4 <= n; i += 4) {
      dst[0][i / 4] = s[i];
      dst[1][i / 4] = s[i + 1];
      dst[2][i / 4] = s[i + 2];
      dst[3][i / 4] = s[i + 3];
    }
  }
  for (; i < n; ++i) dst[i % width][i / width] = s[i];
}

// Interleaves `width` planes (src[p] holds plane p) into out[0..n).
void JoinPlanes(const uint8_t* const* src, int width, uint8_t* out, size_t n) {
  size_t i = 0;  // output position
  if (width == 2) {
#if defined(__SSE2__)
    for (; i + 32 <= n; i += 32) {
      __m128i a = Load(src[0] + i / 2), b = Load(src[1] + i / 2);
      Store(out + i, _mm_unpacklo_epi8(a, b));
      Store(out + i + 16, _mm_unpackhi_epi8(a, b));
    }
#endif
    for (; i + 2 <= n; i += 2) {
      out[i] = src[0][i / 2];
      out[i + 1] = src[1][i / 2];
    }
  } else {
#if defined(__SSE2__)
    for (; i + 64 <= n; i += 64) {
      size_t k = i / 4;
      __m128i a = Load(src[0] + k), b = Load(src[1] + k), c = Load(src[2] + k), d = Load(src[3] + k);
      __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
      __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
      Store(out + i, _mm_unpacklo_epi16(ab_lo, cd_lo));
      Store(out + i + 16, _mm_unpackhi_epi16(ab_lo, cd_lo));
      Store(out + i + 32, _mm_unpacklo_epi16(ab_hi, cd_hi));
      Store(out + i + 48, _mm_unpackhi_epi16(ab_hi, cd_hi));
    }
#endif
    for (; i + 4 <= n; i += 4) {
      out[i] = src[0][i / 4];
      out[i + 1] = src[1][i / 4];
      out[i + 2] = src[2][i / 4];
      out[i + 3] = src[3][i / 4];
    }
  }
  for (; i < n; ++i) out[i] = src[i % width][i / width];
}

// Encodes planes of `width`; `try_zstd[p]` says whether plane p is worth a try.
// Returns false (and leaves *stored unspecified) if every plane ended up raw.
bool EncodePlanes(ByteView raw, int width, const bool* try_zstd, std::string* stored) {
  thread_local std::string planes;
  planes.resize(raw.size());
  SplitPlanes(raw, width, reinterpret_cast<uint8_t*>(planes.data()));
  stored->assign(size_t(4 * width), '\0');
  bool any_compressed = false;
  size_t off = 0;
  for (int p = 0; p < width; ++p) {
    size_t len = PlaneLength(raw.size(), width, p);
    ByteView plane(reinterpret_cast<const uint8_t*>(planes.data()) + off, len);
    off += len;
    size_t before = stored->size();
    uint32_t word;
    if (try_zstd[p] && AppendZstd(PlaneCCtx(), plane, stored)) {
      word = uint32_t(stored->size() - before);
      any_compressed = true;
    } else {
      stored->append(reinterpret_cast<const char*>(plane.data()), plane.size());
      word = uint32_t(len) | kRawPlaneBit;
    }
    PutLE32(reinterpret_cast<uint8_t*>(stored->data()) + 4 * p, word);
  }
  return any_compressed;
}

void StoreRaw(ByteView raw, std::string* stored) {
  stored->assign(reinterpret_cast<const char*>(raw.data()), raw.size());
}

}  // namespace

std::string_view CodecName(Codec c) {
  switch (c) {
    case Codec::kRaw: return "raw";
    case Codec::kZstd: return "zstd";
    case Codec::kBytePlanes2: return "bg2";
    case Codec::kBytePlanes4: return "bg4";
  }
  return "unknown";
}

Codec EncodeChunkAs(Codec force, ByteView raw, std::string* stored) {
  bool all[4] = {true, true, true, true};
  switch (force) {
    case Codec::kZstd:
      stored->clear();
      if (AppendZstd(MatchCCtx(), raw, stored)) return Codec::kZstd;
      break;
    case Codec::kBytePlanes2:
    case Codec::kBytePlanes4:
      if (raw.size() >= 4 &&
          EncodePlanes(raw, force == Codec::kBytePlanes2 ? 2 : 4, all, stored)) {
        return force;
      }
      break;
    case Codec::kRaw:
      break;
  }
  StoreRaw(raw, stored);
  return Codec::kRaw;
}

Codec EncodeChunk(ByteView raw, std::string* stored) {
  if (raw.size() < 64) {
    StoreRaw(raw, stored);
    return Codec::kRaw;
  }
  Estimate e = EstimateWidth(raw);
  bool try_zstd[4];
  bool any = false;
  for (int p = 0; p < e.width; ++p) {
    try_zstd[p] = e.plane_bits[p] <= kRawEntropyBits;
    any = any || try_zstd[p];
  }
  if (any) {
    if (e.width == 1) {
      stored->clear();
      if (AppendZstd(MatchCCtx(), raw, stored)) return Codec::kZstd;
    } else if (EncodePlanes(raw, e.width, try_zstd, stored)) {
      return e.width == 2 ? Codec::kBytePlanes2 : Codec::kBytePlanes4;
    }
  }
  StoreRaw(raw, stored);
  return Codec::kRaw;
}

namespace {

// Inflates one zstd frame into exactly `len` bytes at out.
Status InflateExactly(ByteView frame, uint8_t* out, size_t len, std::string_view what) {
  size_t n = ZSTD_decompressDCtx(ThreadDCtx(), out, len, frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    return InvalidArgumentError(std::string(what) + ": zstd: " + ZSTD_getErrorName(n) +
                                " (expected " + std::to_string(len) + " bytes)");
  }
  if (n != len) {
    return InvalidArgumentError(std::string(what) + ": inflates to " + std::to_string(n) +
                                " bytes, expected " + std::to_string(len));
  }
  return Status::Ok();
}

}  // namespace

Status DecodeChunk(uint8_t codec, ByteView stored, uint8_t* out, uint32_t raw_len) {
  if (raw_len > kMaxChunk) {
    return InvalidArgumentError("chunk length " + std::to_string(raw_len) + " exceeds the maximum " +
                                std::to_string(kMaxChunk));
  }
  switch (codec) {
    case uint8_t(Codec::kRaw):
      if (stored.size() != raw_len) {
        return InvalidArgumentError("raw chunk: stored length " + std::to_string(stored.size()) +
                                    " differs from raw length " + std::to_string(raw_len));
      }
      std::memcpy(out, stored.data(), raw_len);
      return Status::Ok();
    case uint8_t(Codec::kZstd):
      return InflateExactly(stored, out, raw_len, "zstd chunk");
    case uint8_t(Codec::kBytePlanes2):
    case uint8_t(Codec::kBytePlanes4): {
      const int width = codec == uint8_t(Codec::kBytePlanes2) ? 2 : 4;
      const size_t header = size_t(4 * width);
      if (stored.size() < header) return InvalidArgumentError("byte-plane chunk shorter than its header");
      thread_local std::string planes;
      planes.resize(raw_len);
      uint8_t* dst = reinterpret_cast<uint8_t*>(planes.data());
      const uint8_t* src_planes[4];  // raw planes are read in place
      size_t in_off = header;
      for (int p = 0; p < width; ++p) {
        uint32_t word = GetLE32(stored.data() + 4 * p);
        size_t len = word & ~kRawPlaneBit;
        size_t want = PlaneLength(raw_len, width, p);
        if (len > stored.size() - in_off) {
          return InvalidArgumentError("byte-plane chunk: plane " + std::to_string(p) +
                                      " runs past the stored bytes");
        }
        ByteView src = stored.subspan(in_off, len);
        if (word & kRawPlaneBit) {
          if (len != want) {
            return InvalidArgumentError("byte-plane chunk: raw plane " + std::to_string(p) +
                                        " has length " + std::to_string(len) + ", expected " +
                                        std::to_string(want));
          }
          src_planes[p] = src.data();
        } else {
          ARCA_RETURN_IF_ERROR(InflateExactly(src, dst, want, "byte-plane chunk plane " + std::to_string(p)));
          src_planes[p] = dst;
        }
        dst += want;
        in_off += len;
      }
      if (in_off != stored.size()) {
        return InvalidArgumentError("byte-plane chunk: " + std::to_string(stored.size() - in_off) +
                                    " trailing bytes after the planes");
      }
      JoinPlanes(src_planes, width, out, raw_len);
      return Status::Ok();
    }
    default:
      return InvalidArgumentError("unknown codec id " + std::to_string(codec));
  }
}

}  // namespace arca::format
