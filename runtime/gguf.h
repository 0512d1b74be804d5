// GGUF v3 reader: parses the header, metadata and tensor directory of a GGUF
// file held in memory (normally a read-only map) and checks every count,
// length, offset and tensor extent against the bytes before using it.
//
// File layout (all integers little-endian; see README.md for the full notes):
//   offset 0   uint32  magic      "GGUF" (0x46554747)
//   offset 4   uint32  version    3 (2 is accepted: same layout)
//   offset 8   uint64  n_tensors
//   offset 16  uint64  n_kv
//   then n_kv metadata pairs:   string key, uint32 value_type, value
//   then n_tensors tensor infos: string name, uint32 n_dims, uint64 ne[n_dims],
//                                uint32 ggml_type, uint64 offset
//   then padding to `general.alignment` (default 32), then the data section;
//   a tensor's bytes are at data_start + offset.
//   string = uint64 length, then that many bytes (no terminator).
//
// Nothing here allocates more than the input's size allows: every count is
// checked against the bytes left before anything is reserved for it.
#ifndef ARCA_RUNTIME_GGUF_H_
#define ARCA_RUNTIME_GGUF_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/file.h"
#include "common/result.h"
#include "runtime/dtype.h"

namespace arca::runtime {

// Metadata value types (uint32 on disk). Fixed by the format.
enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5,
  kFloat32 = 6, kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11,
  kFloat64 = 12,
};

// One metadata value. Scalars are widened into the matching field; strings
// and arrays are views into the parsed bytes (valid while they live).
struct GgufValue {
  GgufType type = GgufType::kUint8;
  uint64_t u = 0;        // unsigned integers and bool
  int64_t i = 0;         // signed integers
  double f = 0;          // float32 / float64
  std::string_view str;  // kString
  // kArray only: element type (never kArray: nested arrays are refused),
  // element count, the raw element bytes for numeric arrays, and one view per
  // element for string arrays.
  GgufType elem_type = GgufType::kUint8;
  uint64_t count = 0;
  ByteView raw;
  std::vector<std::string_view> strings;
};

// One tensor of the directory, already checked: known type, 1..4 dims, row
// length ne[0] a multiple of the type's block, extent inside the data section.
struct GgufTensor {
  std::string_view name;
  DType type = DType::kF32;
  std::vector<uint64_t> ne;  // ne[0] = row length (fastest-varying), ne[1] = rows, ...
  uint64_t offset = 0;       // relative to the data section
  ByteView data;             // exactly the tensor's bytes

  uint64_t NumElements() const;
  uint64_t RowBytes() const;  // bytes of one ne[0]-long row
};

// Limits on what a file may claim; beyond them the file is refused.
struct GgufLimits {
  uint64_t max_tensors = 1 << 16;
  uint64_t max_kv = 1 << 16;
  uint64_t max_string = 1 << 20;  // a key, name or string value, in bytes
  uint64_t max_name = 256;        // keys and tensor names
};

// A parsed GGUF. Views (names, strings, tensor data) point into the bytes
// given to Parse, which must outlive this object. Immutable after Parse, so
// safe to share between threads.
class GgufFile {
 public:
  // Parses and checks `bytes`. Errors are kInvalidArgument (malformed),
  // kUnimplemented (a version or type this reader does not support) or
  // kResourceExhausted (a count beyond `limits`), with a message naming the
  // offending field and its offset.
  static Result<GgufFile> Parse(ByteView bytes, const GgufLimits& limits = {});

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the data section
  const std::map<std::string_view, GgufValue>& metadata() const { return kv_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  // Lookups: null / nullopt when absent.
  const GgufValue* Find(std::string_view key) const;
  const GgufTensor* FindTensor(std::string_view name) const;

  // Typed getters. Absent key -> `fallback`; present with a wrong type or a
  // value that does not fit -> kInvalidArgument naming the key.
  Result<uint64_t> GetUint(std::string_view key, uint64_t fallback) const;
  Result<double> GetFloat(std::string_view key, double fallback) const;
  Result<std::string_view> GetString(std::string_view key, std::string_view fallback) const;
  // Required variants: absent -> kInvalidArgument "missing key".
  Result<uint64_t> RequireUint(std::string_view key) const;
  Result<std::string_view> RequireString(std::string_view key) const;

 private:
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string_view, GgufValue> kv_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string_view, size_t> tensor_index_;
};

// A GGUF file mapped read-only from disk together with its parse.
// Move-only; the map lives as long as this object.
class MappedGguf {
 public:
  static Result<MappedGguf> Open(const std::string& path, const GgufLimits& limits = {});
  const GgufFile& gguf() const { return *gguf_; }
  uint64_t file_size() const { return map_.size(); }

 private:
  MappedFile map_;
  std::optional<GgufFile> gguf_;  // views into map_ (whose address moves never)
};

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_GGUF_H_
