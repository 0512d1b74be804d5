// GGUF v3 writer: builds a file from metadata and tensors, in the layout that
// gguf.h describes (tensor data contiguous, each tensor aligned to 32 bytes).
// Used by the synthetic-model tool and by tests.
#ifndef ARCA_RUNTIME_GGUF_WRITER_H_
#define ARCA_RUNTIME_GGUF_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "runtime/dtype.h"

namespace arca::runtime {

// Accumulates metadata and tensors, then writes them out. Not thread-safe.
// Keys and tensor names must be unique (the writer does not check: tests use
// it to make bad files too).
class GgufWriter {
 public:
  void AddUint32(std::string_view key, uint32_t v);
  void AddInt32(std::string_view key, int32_t v);
  void AddFloat32(std::string_view key, float v);
  void AddBool(std::string_view key, bool v);
  void AddString(std::string_view key, std::string_view v);
  void AddStringArray(std::string_view key, const std::vector<std::string>& v);
  void AddFloat32Array(std::string_view key, const std::vector<float>& v);
  void AddInt32Array(std::string_view key, const std::vector<int32_t>& v);

  // Adds a tensor. `ne` as in GGUF (ne[0] = row length); `data` must hold
  // exactly the tensor's bytes in type `type`.
  void AddTensor(std::string_view name, std::vector<uint64_t> ne, DType type, std::string data);

  // The whole file as bytes.
  std::string Serialize() const;
  // Writes the file to `path` (streamed; not atomic).
  Status WriteFile(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> ne;
    DType type;
    std::string data;
  };
  std::string Header() const;  // everything before the data section, padded

  std::string kv_;  // encoded metadata pairs
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

// Encodes floats as a tensor payload of type `t` (F32, F16, BF16 or Q8_0;
// for Q8_0 the row length must be a multiple of 32, as must x.size()).
std::string EncodeTensorData(DType t, const std::vector<float>& x);

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_GGUF_WRITER_H_
