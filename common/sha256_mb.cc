// Multi-buffer SHA-256: the lane scheduler, the run-time dispatch, and the
// OpenSSL fallback. The SIMD compression kernels are in sha256_mb_x86.cc.
//
// Each message is cut into at most two segments of 64-byte blocks: its whole
// blocks, read in place, and a 1- or 2-block tail (the last partial block,
// the 0x80 byte, zeros and the 64-bit bit length; FIPS 180-4 section 5.1.1)
// built in the lane's own buffer. A kernel call runs every lane for as many
// blocks as the shortest segment in flight has left; then lanes whose segment
// ended move to their tail, or emit their digest and take the next message.
// Messages go out longest first, so lanes drain together at the end of a
// batch; once the queue is empty, a 16-lane run drops to 8 lanes when 8 or
// fewer are busy, and the last one or two messages are finished by OpenSSL
// from their intermediate hash value.
#include "common/sha256_mb.h"

#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_CTX: resuming from a midstate.
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace arca {

namespace sha256_mb_internal {
// Defined in sha256_mb_x86.cc. Each runs `blocks` SHA-256 compressions in
// every lane: state holds word j of lane i at [j * lanes + i]; lane i reads
// consecutive 64-byte blocks from ptrs[i] if i < busy, else the same block
// from ptrs[i] again (an idle lane, whose state is garbage).
using Kernel = void (*)(uint32_t* state, const uint8_t* const* ptrs, int busy, size_t blocks);
#if defined(__x86_64__)
void Avx512x16(uint32_t* state, const uint8_t* const* ptrs, int busy, size_t blocks);
void Avx512x8(uint32_t* state, const uint8_t* const* ptrs, int busy, size_t blocks);
void Avx2x8(uint32_t* state, const uint8_t* const* ptrs, int busy, size_t blocks);
#endif
}  // namespace sha256_mb_internal

namespace {

using sha256_mb_internal::Kernel;

constexpr uint32_t kInitialHash[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
constexpr size_t kBlock = 64;
constexpr size_t kMaxLanes = 16;
// With the queue empty and at most this many lanes busy, OpenSSL finishes
// the messages: one stream of OpenSSL beats an 8-lane step this empty.
constexpr int kHandOffLanes = 2;

// One message in flight in one lane.
struct Lane {
  size_t job = 0;              // Index into the batch.
  const uint8_t* ptr = nullptr;  // Next block of the current segment.
  size_t blocks = 0;           // Blocks left in the current segment.
  bool in_tail = false;
  size_t tail_blocks = 0;
  alignas(64) uint8_t tail[2 * kBlock];
};

struct Kernels {
  Kernel wide = nullptr;    // 16 lanes, or null.
  Kernel narrow = nullptr;  // 8 lanes.
};

void PutBE32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

// Runs one batch with lane width 16 (kernels.wide) or 8.
class Scheduler {
 public:
  Scheduler(const Kernels& kernels, std::span<const ByteView> inputs, std::span<Digest> out)
      : kernels_(kernels), inputs_(inputs), out_(out), order_(inputs.size()) {
    std::iota(order_.begin(), order_.end(), size_t{0});
    std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
      return inputs_[a].size() > inputs_[b].size();
    });
    width_ = (kernels_.wide != nullptr && inputs.size() > 8) ? 16 : 8;
  }

  void Run() {
    for (int i = 0; i < width_; ++i) {
      if (!Start(i)) break;
    }
    while (busy_ > 0) {
      if (next_ == order_.size()) {
        if (busy_ <= kHandOffLanes) return HandOffToOpenssl();
        if (width_ == 16 && busy_ <= 8) Narrow();
      }
      size_t step = SIZE_MAX;
      for (int i = 0; i < busy_; ++i) step = std::min(step, lanes_[i].blocks);
      const uint8_t* ptrs[kMaxLanes];
      for (int i = 0; i < width_; ++i) ptrs[i] = i < busy_ ? lanes_[i].ptr : kZeroBlock;
      (width_ == 16 ? kernels_.wide : kernels_.narrow)(state_, ptrs, busy_, step);
      for (int i = 0; i < busy_; ++i) {
        lanes_[i].ptr += step * kBlock;
        lanes_[i].blocks -= step;
      }
      // Walk down so that Finish() may move the last busy lane into slot i.
      for (int i = busy_ - 1; i >= 0; --i) {
        Lane& lane = lanes_[i];
        if (lane.blocks > 0) continue;
        if (!lane.in_tail) {
          lane.in_tail = true;
          lane.ptr = lane.tail;
          lane.blocks = lane.tail_blocks;
        } else {
          Finish(i);
        }
      }
    }
  }

 private:
  static constexpr uint8_t kZeroBlock[kBlock] = {};

  uint32_t& Word(int j, int lane) { return state_[j * width_ + lane]; }

  // Puts the next queued message in lane `i` (== busy_). False if none left.
  bool Start(int i) {
    if (next_ == order_.size()) return false;
    Lane& lane = lanes_[i];
    lane.job = order_[next_++];
    ByteView msg = inputs_[lane.job];
    size_t whole = msg.size() / kBlock, rest = msg.size() % kBlock;
    lane.tail_blocks = rest < kBlock - 8 ? 1 : 2;
    std::memset(lane.tail, 0, sizeof lane.tail);
    if (rest > 0) std::memcpy(lane.tail, msg.data() + whole * kBlock, rest);
    lane.tail[rest] = 0x80;
    uint64_t bits = uint64_t(msg.size()) * 8;
    uint8_t* end = lane.tail + lane.tail_blocks * kBlock;
    PutBE32(end - 8, uint32_t(bits >> 32));
    PutBE32(end - 4, uint32_t(bits));
    lane.in_tail = whole == 0;
    lane.ptr = whole == 0 ? lane.tail : msg.data();
    lane.blocks = whole == 0 ? lane.tail_blocks : whole;
    for (int j = 0; j < 8; ++j) Word(j, i) = kInitialHash[j];
    ++busy_;
    return true;
  }

  // Emits lane i's digest and refills it, or retires it into the last slot.
  void Finish(int i) {
    Digest& d = out_[lanes_[i].job];
    for (int j = 0; j < 8; ++j) PutBE32(&d.bytes[4 * j], Word(j, i));
    --busy_;
    if (i != busy_) MoveLane(busy_, i);
    Start(busy_);
  }

  // Copies lane `from` (state included) into slot `to`.
  void MoveLane(int from, int to) {
    Lane& dst = lanes_[to];
    const Lane& src = lanes_[from];
    dst.job = src.job;
    dst.in_tail = src.in_tail;
    dst.blocks = src.blocks;
    dst.tail_blocks = src.tail_blocks;
    std::memcpy(dst.tail, src.tail, sizeof dst.tail);
    dst.ptr = src.in_tail ? dst.tail + (src.ptr - src.tail) : src.ptr;
    for (int j = 0; j < 8; ++j) Word(j, to) = Word(j, from);
  }

  // From 16 lanes to 8: busy lanes already sit in slots [0, 8).
  void Narrow() {
    uint32_t words[8][kMaxLanes];
    for (int j = 0; j < 8; ++j) {
      for (int i = 0; i < busy_; ++i) words[j][i] = Word(j, i);
    }
    width_ = 8;
    for (int j = 0; j < 8; ++j) {
      for (int i = 0; i < busy_; ++i) Word(j, i) = words[j][i];
    }
  }

  // Finishes every busy lane with OpenSSL, resuming from its midstate.
  void HandOffToOpenssl() {
    for (int i = 0; i < busy_; ++i) {
      const Lane& lane = lanes_[i];
      ByteView msg = inputs_[lane.job];
      SHA256_CTX ctx;
      SHA256_Init(&ctx);
      for (int j = 0; j < 8; ++j) ctx.h[j] = Word(j, i);
      if (lane.in_tail) {
        // Only padding blocks are left: compress them as raw data.
        for (size_t b = 0; b < lane.blocks; ++b) SHA256_Transform(&ctx, lane.ptr + b * kBlock);
        Digest& d = out_[lane.job];
        for (int j = 0; j < 8; ++j) PutBE32(&d.bytes[4 * j], ctx.h[j]);
        continue;
      }
      size_t done = lane.ptr - msg.data();
      uint64_t bits = uint64_t(done) * 8;
      ctx.Nl = uint32_t(bits);
      ctx.Nh = uint32_t(bits >> 32);
      SHA256_Update(&ctx, lane.ptr, msg.size() - done);
      SHA256_Final(out_[lane.job].bytes.data(), &ctx);
    }
    busy_ = 0;
  }

  const Kernels& kernels_;
  std::span<const ByteView> inputs_;
  std::span<Digest> out_;
  std::vector<size_t> order_;  // Job indices, longest message first.
  size_t next_ = 0;            // Next entry of order_ to start.
  int width_ = 8;
  int busy_ = 0;  // Busy lanes occupy slots [0, busy_).
  Lane lanes_[kMaxLanes];
  alignas(64) uint32_t state_[8 * kMaxLanes];  // Word j of lane i: [j * width_ + i].
};

void OpensslBatch(std::span<const ByteView> inputs, std::span<Digest> out) {
  for (size_t i = 0; i < inputs.size(); ++i) out[i] = Sha256Of(inputs[i]);
}

Kernels KernelsFor(Sha256Impl impl) {
  Kernels k;
#if defined(__x86_64__)
  if (impl == Sha256Impl::kAvx512x16) {
    k.wide = sha256_mb_internal::Avx512x16;
    k.narrow = sha256_mb_internal::Avx512x8;
  } else if (impl == Sha256Impl::kAvx2x8) {
    k.narrow = sha256_mb_internal::Avx2x8;
  }
#else
  (void)impl;
#endif
  return k;
}

Sha256Impl BestSupported() {
  if (Sha256ImplSupported(Sha256Impl::kAvx512x16)) return Sha256Impl::kAvx512x16;
  if (Sha256ImplSupported(Sha256Impl::kAvx2x8)) return Sha256Impl::kAvx2x8;
  return Sha256Impl::kOpenssl;
}

Sha256Impl ChooseImpl() {
  Sha256Impl best = BestSupported();
  const char* env = std::getenv("ARCA_SHA256_IMPL");
  if (env == nullptr || *env == '\0') return best;
  std::string_view want = env;
  Sha256Impl forced;
  if (want == "openssl") {
    forced = Sha256Impl::kOpenssl;
  } else if (want == "avx2") {
    forced = Sha256Impl::kAvx2x8;
  } else if (want == "avx512") {
    forced = Sha256Impl::kAvx512x16;
  } else {
    std::fprintf(stderr, "warning: ARCA_SHA256_IMPL=%s is not openssl, avx2 or avx512; ignored\n",
                 env);
    return best;
  }
  if (!Sha256ImplSupported(forced)) {
    std::fprintf(stderr, "warning: ARCA_SHA256_IMPL=%s: this CPU cannot run it; ignored\n", env);
    return best;
  }
  return forced;
}

Sha256Impl ActiveImpl() {
  static const Sha256Impl impl = ChooseImpl();
  return impl;
}

}  // namespace

std::string_view Sha256ImplName(Sha256Impl impl) {
  switch (impl) {
    case Sha256Impl::kAvx512x16:
      return "avx512x16";
    case Sha256Impl::kAvx2x8:
      return "avx2x8";
    case Sha256Impl::kOpenssl:
      break;
  }
  return "openssl";
}

bool Sha256ImplSupported(Sha256Impl impl) {
#if defined(__x86_64__)
  switch (impl) {
    case Sha256Impl::kAvx512x16:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512bw");
    case Sha256Impl::kAvx2x8:
      return __builtin_cpu_supports("avx2");
    case Sha256Impl::kOpenssl:
      return true;
  }
  return false;
#else
  return impl == Sha256Impl::kOpenssl;
#endif
}

void Sha256BatchWith(Sha256Impl impl, std::span<const ByteView> inputs, std::span<Digest> out) {
  if (inputs.size() != out.size() || !Sha256ImplSupported(impl)) {
    std::fprintf(stderr, "fatal: Sha256Batch: %zu inputs, %zu outputs, implementation %s\n",
                 inputs.size(), out.size(), std::string(Sha256ImplName(impl)).c_str());
    std::abort();
  }
  if (impl == Sha256Impl::kOpenssl || inputs.size() <= 1) return OpensslBatch(inputs, out);
  Kernels kernels = KernelsFor(impl);
  Scheduler(kernels, inputs, out).Run();
}

void Sha256Batch(std::span<const ByteView> inputs, std::span<Digest> out) {
  Sha256BatchWith(ActiveImpl(), inputs, out);
}

std::string_view Sha256BatchImplementation() { return Sha256ImplName(ActiveImpl()); }

}  // namespace arca
