// GGUF v3 reader; see gguf.h for the layout and README.md for the spec notes.
#include "runtime/gguf.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace arca::runtime {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian uint32
constexpr int kMaxDims = 4;

std::string At(uint64_t off) { return " at offset " + std::to_string(off); }

// Size in bytes of a scalar metadata type; 0 for string and array.
uint64_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: return 1;
    case GgufType::kUint16: case GgufType::kInt16: return 2;
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: return 4;
    case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: return 8;
    case GgufType::kString: case GgufType::kArray: return 0;
  }
  return 0;
}

bool IsKnownType(uint32_t t) { return t <= uint32_t(GgufType::kFloat64); }

// A bounds-checked little-endian reader over the input bytes.
class Cursor {
 public:
  explicit Cursor(ByteView b) : b_(b) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return b_.size() - pos_; }

  Status Need(uint64_t n, std::string_view what) const {
    if (n > left()) {
      return InvalidArgumentError(std::string(what) + ": needs " + std::to_string(n) +
                                  " bytes but the file has " + std::to_string(left()) +
                                  " left" + At(pos_));
    }
    return Status::Ok();
  }
  Result<uint32_t> U32(std::string_view what) {
    ARCA_RETURN_IF_ERROR(Need(4, what));
    uint32_t v = GetLE32(b_.data() + pos_);
    pos_ += 4;
    return v;
  }
  Result<uint64_t> U64(std::string_view what) {
    ARCA_RETURN_IF_ERROR(Need(8, what));
    uint64_t v = GetLE64(b_.data() + pos_);
    pos_ += 8;
    return v;
  }
  Result<ByteView> Take(uint64_t n, std::string_view what) {
    ARCA_RETURN_IF_ERROR(Need(n, what));
    ByteView v = b_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  Result<std::string_view> String(uint64_t max_len, std::string_view what) {
    const uint64_t at = pos_;
    ARCA_ASSIGN_OR_RETURN(uint64_t len, U64(what));
    if (len > max_len) {
      return ResourceExhaustedError(std::string(what) + ": length " + std::to_string(len) +
                                    " exceeds the limit " + std::to_string(max_len) + At(at));
    }
    ARCA_ASSIGN_OR_RETURN(ByteView s, Take(len, what));
    return AsChars(s);
  }

 private:
  ByteView b_;
  uint64_t pos_ = 0;
};

// Reads a scalar of type `t` at the cursor into `v`.
Status ReadScalar(Cursor& c, GgufType t, GgufValue& v, std::string_view what) {
  const uint64_t n = ScalarSize(t);
  ARCA_ASSIGN_OR_RETURN(ByteView b, c.Take(n, what));
  uint64_t bits = 0;
  for (uint64_t k = 0; k < n; ++k) bits |= uint64_t(b[k]) << (8 * k);
  switch (t) {
    case GgufType::kUint8: case GgufType::kUint16: case GgufType::kUint32: case GgufType::kUint64:
      v.u = bits;
      break;
    case GgufType::kBool:
      if (bits > 1) return InvalidArgumentError(std::string(what) + ": bool is not 0 or 1" + At(c.pos() - 1));
      v.u = bits;
      break;
    case GgufType::kInt8: v.i = int8_t(bits); break;
    case GgufType::kInt16: v.i = int16_t(bits); break;
    case GgufType::kInt32: v.i = int32_t(bits); break;
    case GgufType::kInt64: v.i = int64_t(bits); break;
    case GgufType::kFloat32: {
      float f;
      uint32_t b32 = uint32_t(bits);
      std::memcpy(&f, &b32, 4);
      v.f = f;
      break;
    }
    case GgufType::kFloat64: std::memcpy(&v.f, &bits, 8); break;
    case GgufType::kString: case GgufType::kArray: break;
  }
  return Status::Ok();
}

Status ReadValue(Cursor& c, const GgufLimits& lim, std::string_view key, GgufValue& v) {
  const std::string what = "value of '" + std::string(key) + "'";
  const uint64_t at = c.pos();
  ARCA_ASSIGN_OR_RETURN(uint32_t type, c.U32(what + " type"));
  if (!IsKnownType(type)) {
    return InvalidArgumentError(what + ": unknown value type " + std::to_string(type) + At(at));
  }
  v.type = GgufType(type);
  if (v.type == GgufType::kString) {
    ARCA_ASSIGN_OR_RETURN(v.str, c.String(lim.max_string, what));
    return Status::Ok();
  }
  if (v.type != GgufType::kArray) return ReadScalar(c, v.type, v, what);

  const uint64_t elem_at = c.pos();
  ARCA_ASSIGN_OR_RETURN(uint32_t elem, c.U32(what + " element type"));
  if (!IsKnownType(elem)) {
    return InvalidArgumentError(what + ": unknown array element type " + std::to_string(elem) + At(elem_at));
  }
  if (GgufType(elem) == GgufType::kArray) {
    return UnimplementedError(what + ": nested arrays are not supported" + At(elem_at));
  }
  v.elem_type = GgufType(elem);
  const uint64_t count_at = c.pos();
  ARCA_ASSIGN_OR_RETURN(v.count, c.U64(what + " element count"));
  // Every element takes at least this many bytes, so the count is bounded by
  // the bytes left; check before reserving anything.
  const uint64_t min_elem = v.elem_type == GgufType::kString ? 8 : ScalarSize(v.elem_type);
  if (v.count > c.left() / min_elem) {
    return InvalidArgumentError(what + ": array of " + std::to_string(v.count) +
                                " elements cannot fit in the " + std::to_string(c.left()) +
                                " bytes left" + At(count_at));
  }
  if (v.elem_type != GgufType::kString) {
    ARCA_ASSIGN_OR_RETURN(v.raw, c.Take(v.count * min_elem, what));
    if (v.elem_type == GgufType::kBool) {
      for (uint8_t b : v.raw) {
        if (b > 1) return InvalidArgumentError(what + ": bool element is not 0 or 1");
      }
    }
    return Status::Ok();
  }
  v.strings.reserve(v.count);
  for (uint64_t k = 0; k < v.count; ++k) {
    ARCA_ASSIGN_OR_RETURN(std::string_view s, c.String(lim.max_string, what + " element"));
    v.strings.push_back(s);
  }
  return Status::Ok();
}

}  // namespace

uint64_t GgufTensor::NumElements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;  // checked against overflow by Parse
  return n;
}

uint64_t GgufTensor::RowBytes() const {
  return ne[0] / DTypeBlockElems(type) * DTypeBlockBytes(type);
}

Result<GgufFile> GgufFile::Parse(ByteView bytes, const GgufLimits& lim) {
  GgufFile g;
  Cursor c(bytes);
  ARCA_ASSIGN_OR_RETURN(uint32_t magic, c.U32("magic"));
  if (magic != kMagic) return InvalidArgumentError("not a GGUF file: bad magic at offset 0");
  ARCA_ASSIGN_OR_RETURN(g.version_, c.U32("version"));
  if (g.version_ != 3 && g.version_ != 2) {
    return UnimplementedError("GGUF version " + std::to_string(g.version_) +
                              " is not supported (only 2 and 3)");
  }
  ARCA_ASSIGN_OR_RETURN(uint64_t n_tensors, c.U64("tensor count"));
  ARCA_ASSIGN_OR_RETURN(uint64_t n_kv, c.U64("metadata count"));
  if (n_tensors > lim.max_tensors) {
    return ResourceExhaustedError("tensor count " + std::to_string(n_tensors) + " exceeds the limit " +
                                  std::to_string(lim.max_tensors));
  }
  if (n_kv > lim.max_kv) {
    return ResourceExhaustedError("metadata count " + std::to_string(n_kv) + " exceeds the limit " +
                                  std::to_string(lim.max_kv));
  }

  for (uint64_t k = 0; k < n_kv; ++k) {
    const uint64_t at = c.pos();
    ARCA_ASSIGN_OR_RETURN(std::string_view key, c.String(lim.max_name, "metadata key"));
    GgufValue v;
    ARCA_RETURN_IF_ERROR(ReadValue(c, lim, key, v));
    if (!g.kv_.emplace(key, std::move(v)).second) {
      return InvalidArgumentError("duplicate metadata key '" + std::string(key) + "'" + At(at));
    }
  }

  if (const GgufValue* a = g.Find("general.alignment")) {
    if (a->type != GgufType::kUint32 || a->u == 0 || (a->u & (a->u - 1)) != 0) {
      return InvalidArgumentError("general.alignment must be a uint32 power of two");
    }
    g.alignment_ = a->u;
  }

  // Each tensor info takes at least 8 (name) + 4 + 4 + 8 bytes.
  if (n_tensors > c.left() / 24) {
    return InvalidArgumentError("tensor count " + std::to_string(n_tensors) +
                                " cannot fit in the bytes left" + At(c.pos()));
  }
  g.tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    const uint64_t at = c.pos();
    GgufTensor t;
    ARCA_ASSIGN_OR_RETURN(t.name, c.String(lim.max_name, "tensor name"));
    const std::string what = "tensor '" + std::string(t.name) + "'";
    ARCA_ASSIGN_OR_RETURN(uint32_t n_dims, c.U32(what + " n_dims"));
    if (n_dims < 1 || n_dims > kMaxDims) {
      return InvalidArgumentError(what + ": n_dims " + std::to_string(n_dims) + " is not in 1..4" + At(at));
    }
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      ARCA_ASSIGN_OR_RETURN(uint64_t ne, c.U64(what + " dimension"));
      // Keep every product within int64 so that sizes never wrap.
      if (ne == 0 || ne > uint64_t(std::numeric_limits<int64_t>::max()) / n) {
        return InvalidArgumentError(what + ": dimension " + std::to_string(ne) +
                                    " is zero or overflows the element count" + At(at));
      }
      n *= ne;
      t.ne.push_back(ne);
    }
    ARCA_ASSIGN_OR_RETURN(uint32_t type, c.U32(what + " type"));
    if (!IsKnownDType(type)) {
      return UnimplementedError(what + ": tensor type " + std::to_string(type) +
                                " is not supported (F32, F16, BF16, Q8_0 are)");
    }
    t.type = DType(type);
    if (t.ne[0] % DTypeBlockElems(t.type) != 0) {
      return InvalidArgumentError(what + ": row length " + std::to_string(t.ne[0]) +
                                  " is not a multiple of the " + std::string(DTypeName(type)) +
                                  " block size");
    }
    ARCA_ASSIGN_OR_RETURN(t.offset, c.U64(what + " offset"));
    if (t.offset % g.alignment_ != 0) {
      return InvalidArgumentError(what + ": offset " + std::to_string(t.offset) +
                                  " is not a multiple of the alignment " + std::to_string(g.alignment_));
    }
    if (!g.tensor_index_.emplace(t.name, g.tensors_.size()).second) {
      return InvalidArgumentError("duplicate tensor name '" + std::string(t.name) + "'" + At(at));
    }
    g.tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t pad = (g.alignment_ - c.pos() % g.alignment_) % g.alignment_;
  if (g.tensors_.empty()) {
    g.data_offset_ = std::min<uint64_t>(c.pos() + pad, bytes.size());
    return g;
  }
  if (pad > c.left()) return InvalidArgumentError("file ends before the data section" + At(c.pos()));
  g.data_offset_ = c.pos() + pad;
  const uint64_t data_size = bytes.size() - g.data_offset_;

  // Extents: each tensor inside the data section, no two overlapping.
  std::vector<std::pair<uint64_t, uint64_t>> extents;  // [begin, end) per tensor
  extents.reserve(g.tensors_.size());
  for (GgufTensor& t : g.tensors_) {
    const std::string what = "tensor '" + std::string(t.name) + "'";
    if (t.ne[0] > data_size) {  // every element takes at least one byte
      return InvalidArgumentError(what + ": row length exceeds the data section");
    }
    const uint64_t rows = t.NumElements() / t.ne[0];
    const uint64_t row_bytes = t.RowBytes();
    if (row_bytes != 0 && rows > data_size / row_bytes) {
      return InvalidArgumentError(what + ": its size exceeds the data section (" +
                                  std::to_string(data_size) + " bytes)");
    }
    const uint64_t size = rows * row_bytes;
    if (t.offset > data_size || size > data_size - t.offset) {
      return InvalidArgumentError(what + ": bytes [" + std::to_string(t.offset) + ", +" +
                                  std::to_string(size) + ") lie outside the data section of " +
                                  std::to_string(data_size) + " bytes");
    }
    t.data = bytes.subspan(g.data_offset_ + t.offset, size);
    extents.emplace_back(t.offset, t.offset + size);
  }
  std::sort(extents.begin(), extents.end());
  for (size_t k = 1; k < extents.size(); ++k) {
    if (extents[k].first < extents[k - 1].second) {
      return InvalidArgumentError("tensor data overlaps: bytes at data offset " +
                                  std::to_string(extents[k].first) + " belong to two tensors");
    }
  }
  return g;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<uint64_t> GgufFile::GetUint(std::string_view key, uint64_t fallback) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return fallback;
  switch (v->type) {
    case GgufType::kUint8: case GgufType::kUint16: case GgufType::kUint32: case GgufType::kUint64:
      return v->u;
    case GgufType::kInt8: case GgufType::kInt16: case GgufType::kInt32: case GgufType::kInt64:
      if (v->i >= 0) return uint64_t(v->i);
      return InvalidArgumentError("metadata '" + std::string(key) + "' is negative");
    default:
      return InvalidArgumentError("metadata '" + std::string(key) + "' is not an integer");
  }
}

Result<double> GgufFile::GetFloat(std::string_view key, double fallback) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return fallback;
  if (v->type == GgufType::kFloat32 || v->type == GgufType::kFloat64) return v->f;
  return InvalidArgumentError("metadata '" + std::string(key) + "' is not a float");
}

Result<std::string_view> GgufFile::GetString(std::string_view key, std::string_view fallback) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return fallback;
  if (v->type == GgufType::kString) return v->str;
  return InvalidArgumentError("metadata '" + std::string(key) + "' is not a string");
}

Result<uint64_t> GgufFile::RequireUint(std::string_view key) const {
  if (Find(key) == nullptr) return InvalidArgumentError("missing metadata key '" + std::string(key) + "'");
  return GetUint(key, 0);
}

Result<std::string_view> GgufFile::RequireString(std::string_view key) const {
  if (Find(key) == nullptr) return InvalidArgumentError("missing metadata key '" + std::string(key) + "'");
  return GetString(key, "");
}

Result<MappedGguf> MappedGguf::Open(const std::string& path, const GgufLimits& limits) {
  MappedGguf m;
  ARCA_ASSIGN_OR_RETURN(m.map_, MappedFile::Open(path));
  Result<GgufFile> g = GgufFile::Parse(m.map_.bytes(), limits);
  if (!g.ok()) return g.status().WithContext(path);
  m.gguf_.emplace(std::move(g).value());
  return m;
}

}  // namespace arca::runtime
