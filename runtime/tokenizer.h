// The SentencePiece-style BPE tokenizer that a GGUF embeds when
// `tokenizer.ggml.model` is "llama": a vocabulary of pieces with scores,
// merged greedily by score, with byte fallback for text no piece covers.
//
// Encoding: spaces become U+2581 ("▁"), one "▁" is put in front of the text,
// the text is split into UTF-8 characters, then the adjacent pair whose
// concatenation is a vocabulary piece with the highest score is merged
// (leftmost on ties) until no pair merges. A remaining symbol that is not a
// piece is emitted as its bytes, each as the piece "<0xXX>".
#ifndef ARCA_RUNTIME_TOKENIZER_H_
#define ARCA_RUNTIME_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "runtime/gguf.h"

namespace arca::runtime {

// Token types of `tokenizer.ggml.token_type` (int32 per token).
enum class TokenType : int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4,
  kUnused = 5, kByte = 6,
};

// Immutable after construction; safe to share between threads. Owns copies
// of the vocabulary, so it does not depend on the GGUF bytes.
class Tokenizer {
 public:
  // Reads tokenizer.ggml.{model,tokens,scores,token_type,bos_token_id,
  // eos_token_id,unknown_token_id,add_bos_token,add_space_prefix}. Scores and
  // types default to 0 and kNormal when absent. kInvalidArgument on a model
  // other than "llama", mismatched array lengths, or ids out of range.
  static Result<Tokenizer> FromGguf(const GgufFile& gguf);

  // Text to token ids; a BOS id first when `add_bos`.
  std::vector<int32_t> Encode(std::string_view text, bool add_bos) const;
  // The bytes a token stands for when printed: "▁" becomes a space, a byte
  // token becomes its byte, control tokens (BOS, EOS) print as nothing.
  // `id` must be in [0, vocab_size()).
  const std::string& Piece(int32_t id) const { return pieces_[size_t(id)]; }
  // Concatenated pieces, minus the space the encoder put in front of the text.
  std::string Decode(const std::vector<int32_t>& ids) const;

  int32_t vocab_size() const { return int32_t(tokens_.size()); }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  bool add_bos() const { return add_bos_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  int32_t Lookup(std::string_view piece) const;  // -1 if absent

  std::vector<std::string> tokens_;  // raw vocabulary pieces ("▁the", "<0x0A>")
  std::vector<float> scores_;
  std::vector<std::string> pieces_;  // printable form of each token
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> index_;
  int32_t byte_ids_[256];            // id of "<0xXX>" per byte, or unk
  int32_t bos_id_ = 1, eos_id_ = 2, unk_id_ = 0;
  bool add_bos_ = true;
  bool add_space_prefix_ = true;
};

}  // namespace arca::runtime

#endif  // ARCA_RUNTIME_TOKENIZER_H_
