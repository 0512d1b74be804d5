// GGUF v3 writer; see gguf_writer.h.
#include "runtime/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <memory>

#include "common/bytes.h"
#include "runtime/gguf.h"

namespace arca::runtime {
namespace {

constexpr uint64_t kAlign = 32;

void PutString(std::string* out, std::string_view s) {
  AppendLE64(out, s.size());
  out->append(s);
}
void PutKeyType(std::string* out, std::string_view key, GgufType t) {
  PutString(out, key);
  AppendLE32(out, uint32_t(t));
}
uint64_t Padded(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

}  // namespace

void GgufWriter::AddUint32(std::string_view key, uint32_t v) {
  PutKeyType(&kv_, key, GgufType::kUint32);
  AppendLE32(&kv_, v);
  ++n_kv_;
}
void GgufWriter::AddInt32(std::string_view key, int32_t v) {
  PutKeyType(&kv_, key, GgufType::kInt32);
  AppendLE32(&kv_, uint32_t(v));
  ++n_kv_;
}
void GgufWriter::AddFloat32(std::string_view key, float v) {
  PutKeyType(&kv_, key, GgufType::kFloat32);
  uint32_t b;
  std::memcpy(&b, &v, 4);
  AppendLE32(&kv_, b);
  ++n_kv_;
}
void GgufWriter::AddBool(std::string_view key, bool v) {
  PutKeyType(&kv_, key, GgufType::kBool);
  kv_.push_back(v ? 1 : 0);
  ++n_kv_;
}
void GgufWriter::AddString(std::string_view key, std::string_view v) {
  PutKeyType(&kv_, key, GgufType::kString);
  PutString(&kv_, v);
  ++n_kv_;
}
void GgufWriter::AddStringArray(std::string_view key, const std::vector<std::string>& v) {
  PutKeyType(&kv_, key, GgufType::kArray);
  AppendLE32(&kv_, uint32_t(GgufType::kString));
  AppendLE64(&kv_, v.size());
  for (const std::string& s : v) PutString(&kv_, s);
  ++n_kv_;
}
void GgufWriter::AddFloat32Array(std::string_view key, const std::vector<float>& v) {
  PutKeyType(&kv_, key, GgufType::kArray);
  AppendLE32(&kv_, uint32_t(GgufType::kFloat32));
  AppendLE64(&kv_, v.size());
  for (float f : v) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    AppendLE32(&kv_, b);
  }
  ++n_kv_;
}
void GgufWriter::AddInt32Array(std::string_view key, const std::vector<int32_t>& v) {
  PutKeyType(&kv_, key, GgufType::kArray);
  AppendLE32(&kv_, uint32_t(GgufType::kInt32));
  AppendLE64(&kv_, v.size());
  for (int32_t x : v) AppendLE32(&kv_, uint32_t(x));
  ++n_kv_;
}

void GgufWriter::AddTensor(std::string_view name, std::vector<uint64_t> ne, DType type, std::string data) {
  tensors_.push_back(Tensor{std::string(name), std::move(ne), type, std::move(data)});
}

std::string GgufWriter::Header() const {
  std::string h;
  AppendLE32(&h, 0x46554747);  // "GGUF"
  AppendLE32(&h, 3);
  AppendLE64(&h, tensors_.size());
  AppendLE64(&h, n_kv_);
  h += kv_;
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    PutString(&h, t.name);
    AppendLE32(&h, uint32_t(t.ne.size()));
    for (uint64_t d : t.ne) AppendLE64(&h, d);
    AppendLE32(&h, uint32_t(t.type));
    AppendLE64(&h, offset);
    offset += Padded(t.data.size());
  }
  h.resize(Padded(h.size()), '\0');
  return h;
}

std::string GgufWriter::Serialize() const {
  std::string out = Header();
  for (const Tensor& t : tensors_) {
    out += t.data;
    out.resize(Padded(out.size()), '\0');
  }
  return out;
}

Status GgufWriter::WriteFile(const std::string& path) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return ErrnoToStatus(errno, "open " + path);
  auto put = [&](std::string_view s) { return std::fwrite(s.data(), 1, s.size(), f.get()) == s.size(); };
  bool ok = put(Header());
  static const char kZeros[kAlign] = {};
  for (const Tensor& t : tensors_) {
    ok = ok && put(t.data) && put(std::string_view(kZeros, Padded(t.data.size()) - t.data.size()));
  }
  if (!ok) return ErrnoToStatus(errno, "write " + path);
  if (std::fclose(f.release()) != 0) return ErrnoToStatus(errno, "close " + path);
  return Status::Ok();
}

std::string EncodeTensorData(DType t, const std::vector<float>& x) {
  std::string out;
  switch (t) {
    case DType::kF32:
      out.resize(x.size() * 4);
      std::memcpy(out.data(), x.data(), out.size());
      break;
    case DType::kF16:
    case DType::kBF16:
      out.resize(x.size() * 2);
      for (size_t i = 0; i < x.size(); ++i) {
        PutLE16(reinterpret_cast<uint8_t*>(&out[2 * i]), t == DType::kF16 ? FloatToHalf(x[i]) : FloatToBf16(x[i]));
      }
      break;
    case DType::kQ8_0:
      out.resize(x.size() / kQ8BlockElems * kQ8BlockBytes);
      QuantizeRowQ8_0(x.data(), int64_t(x.size()), reinterpret_cast<uint8_t*>(out.data()));
      break;
  }
  return out;
}

}  // namespace arca::runtime
