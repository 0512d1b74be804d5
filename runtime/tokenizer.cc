// SentencePiece-style BPE tokenizer from GGUF metadata; see tokenizer.h.
#include "runtime/tokenizer.h"

#include <cstdio>
#include <queue>

namespace arca::runtime {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// Length of the UTF-8 sequence that starts with byte `c` (1 for stray bytes).
size_t Utf8Len(uint8_t c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(from, i);
    out.append(s.substr(i, j - i));
    if (j == std::string_view::npos) break;
    out.append(to);
    i = j + from.size();
  }
  return out;
}

Result<bool> GetBool(const GgufFile& g, std::string_view key, bool fallback) {
  const GgufValue* v = g.Find(key);
  if (v == nullptr) return fallback;
  if (v->type != GgufType::kBool) return InvalidArgumentError(std::string(key) + " is not a bool");
  return v->u != 0;
}

// Parses "<0xAB>" into 0xAB; -1 if `s` is not of that form.
int ParseByteToken(std::string_view s) {
  if (s.size() != 6 || s.substr(0, 3) != "<0x" || s[5] != '>') return -1;
  int v = 0;
  for (char ch : s.substr(3, 2)) {
    int d = (ch >= '0' && ch <= '9') ? ch - '0' : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
          : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

Result<Tokenizer> Tokenizer::FromGguf(const GgufFile& g) {
  ARCA_ASSIGN_OR_RETURN(std::string_view model, g.RequireString("tokenizer.ggml.model"));
  if (model != "llama") {
    return UnimplementedError("tokenizer.ggml.model '" + std::string(model) +
                              "' is not supported (only 'llama')");
  }
  const GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
  if (tokens == nullptr || tokens->type != GgufType::kArray || tokens->elem_type != GgufType::kString ||
      tokens->count == 0 || tokens->count > (1u << 24)) {
    return InvalidArgumentError("tokenizer.ggml.tokens must be a non-empty array of strings");
  }
  const uint64_t n = tokens->count;
  Tokenizer t;
  t.tokens_.assign(tokens->strings.begin(), tokens->strings.end());
  t.scores_.assign(n, 0.0f);
  std::vector<int32_t> types(n, int32_t(TokenType::kNormal));
  if (const GgufValue* s = g.Find("tokenizer.ggml.scores")) {
    if (s->type != GgufType::kArray || s->elem_type != GgufType::kFloat32 || s->count != n) {
      return InvalidArgumentError("tokenizer.ggml.scores must be float32[" + std::to_string(n) + "]");
    }
    std::memcpy(t.scores_.data(), s->raw.data(), n * 4);
  }
  if (const GgufValue* s = g.Find("tokenizer.ggml.token_type")) {
    if (s->type != GgufType::kArray || s->elem_type != GgufType::kInt32 || s->count != n) {
      return InvalidArgumentError("tokenizer.ggml.token_type must be int32[" + std::to_string(n) + "]");
    }
    std::memcpy(types.data(), s->raw.data(), n * 4);
  }
  auto get_id = [&](std::string_view key, int32_t fallback) -> Result<int32_t> {
    ARCA_ASSIGN_OR_RETURN(uint64_t id, g.GetUint(key, uint64_t(fallback)));
    if (id >= n) return InvalidArgumentError(std::string(key) + " is out of the vocabulary");
    return int32_t(id);
  };
  ARCA_ASSIGN_OR_RETURN(t.bos_id_, get_id("tokenizer.ggml.bos_token_id", 1));
  ARCA_ASSIGN_OR_RETURN(t.eos_id_, get_id("tokenizer.ggml.eos_token_id", 2));
  ARCA_ASSIGN_OR_RETURN(t.unk_id_, get_id("tokenizer.ggml.unknown_token_id", 0));
  ARCA_ASSIGN_OR_RETURN(t.add_bos_, GetBool(g, "tokenizer.ggml.add_bos_token", true));
  ARCA_ASSIGN_OR_RETURN(t.add_space_prefix_, GetBool(g, "tokenizer.ggml.add_space_prefix", true));

  for (int& b : t.byte_ids_) b = t.unk_id_;
  t.pieces_.resize(n);
  t.index_.reserve(n);
  for (uint64_t id = 0; id < n; ++id) {
    const std::string& text = t.tokens_[id];
    t.index_[text] = int32_t(id);  // on duplicates the last id wins, as in llama.cpp
    switch (TokenType(types[id])) {
      case TokenType::kByte: {
        int b = ParseByteToken(text);
        if (b < 0) return InvalidArgumentError("byte token " + std::to_string(id) + " is not <0xXX>");
        t.byte_ids_[b] = int32_t(id);
        t.pieces_[id] = std::string(1, char(b));
        break;
      }
      case TokenType::kControl:
        break;  // prints as nothing
      default:
        t.pieces_[id] = ReplaceAll(text, kSpace, " ");
    }
  }
  return t;
}

int32_t Tokenizer::Lookup(std::string_view piece) const {
  auto it = index_.find(piece);
  return it == index_.end() ? -1 : it->second;
}

std::vector<int32_t> Tokenizer::Encode(std::string_view raw, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos) out.push_back(bos_id_);
  if (raw.empty()) return out;
  std::string text;
  if (add_space_prefix_) text = " ";
  text += raw;
  text = ReplaceAll(text, " ", kSpace);

  // Symbols form a doubly linked list over byte ranges of `text`.
  struct Symbol {
    size_t start, len;
    int prev, next;
  };
  std::vector<Symbol> sym;
  for (size_t i = 0; i < text.size();) {
    size_t len = std::min(Utf8Len(uint8_t(text[i])), text.size() - i);
    sym.push_back({i, len, int(sym.size()) - 1, int(sym.size()) + 1});
    i += len;
  }
  sym.back().next = -1;

  // Candidate merges, best first: highest score, then leftmost.
  struct Bigram {
    float score;
    int left, right;
    size_t len;  // combined length when queued; stale if either side changed
    bool operator<(const Bigram& o) const {
      return score < o.score || (score == o.score && left > o.left);
    }
  };
  std::priority_queue<Bigram> queue;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t len = sym[left].len + sym[right].len;
    int32_t id = Lookup(std::string_view(text).substr(sym[left].start, len));
    if (id >= 0) queue.push({scores_[id], left, right, len});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(int(i) - 1, int(i));

  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.len || l.next != b.right) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int i = 0; i >= 0; i = sym[i].next) {
    std::string_view s = std::string_view(text).substr(sym[i].start, sym[i].len);
    int32_t id = Lookup(s);
    if (id >= 0) {
      out.push_back(id);
    } else {
      for (char c : s) out.push_back(byte_ids_[uint8_t(c)]);
    }
  }
  return out;
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    const std::string& p = pieces_[size_t(id)];
    if (p.empty()) continue;
    if (first && add_space_prefix_ && p[0] == ' ') {
      out.append(p, 1);
    } else {
      out += p;
    }
    first = false;
  }
  return out;
}

}  // namespace arca::runtime
