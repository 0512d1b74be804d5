// Seed generation for the fuzz targets (see fuzz_seeds.h).
#include "tests/fuzz/fuzz_seeds.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/digest.h"
#include "common/file.h"
#include "format/chunker.h"
#include "format/codec.h"
#include "format/file_index.h"
#include "format/manifest.h"
#include "format/pack.h"

namespace arca::fuzz {

namespace {

using format::Codec;

// xorshift64*: deterministic content without <random>'s per-library variance.
uint64_t Next(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

// Chunk contents of the kinds the codec chooser tells apart.
enum class Content { kRandom, kText, kHalfFloats, kFloats, kZeros };

std::string MakeContent(Content kind, size_t n, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    uint64_t r = Next(s);
    switch (kind) {
      case Content::kRandom: out[i] = char(r); break;
      case Content::kText: out[i] = "the quick brown fox, "[r % 21]; break;
      // Small-magnitude bf16/f32-like values: repetitive exponent bytes,
      // noisy mantissa bytes.
      case Content::kHalfFloats: out[i] = i % 2 ? char(0x3C + r % 3) : char(r); break;
      case Content::kFloats: out[i] = i % 4 == 3 ? char(0x3D + r % 2) : i % 4 == 2 ? char(0x80 | (r & 0x7F)) : char(r); break;
      case Content::kZeros: break;
    }
  }
  return out;
}

constexpr Content kContents[] = {Content::kRandom, Content::kText, Content::kHalfFloats, Content::kFloats,
                                 Content::kZeros};
constexpr Codec kCodecs[] = {Codec::kRaw, Codec::kZstd, Codec::kBytePlanes2, Codec::kBytePlanes4};

Digest DigestOf(std::string_view s) { return Sha256Of(s); }

std::vector<std::string> ManifestSeeds() {
  std::vector<std::string> seeds;
  format::Manifest minimal;
  minimal.meta.name = "a";
  seeds.push_back(minimal.Canonical());

  format::Manifest full;
  full.meta.name = "tinyllamas/stories260k";
  full.meta.version = "1.0";
  // Every escape FORMAT.md §5 lists, a \u00xx control and multi-byte UTF-8.
  full.meta.publisher = "Andrej \"K\" \\ \b\f\n\r\t\x01\x1f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x99";
  full.meta.created = "2023-08-01T00:00:00Z";
  full.meta.license = {"Apache-2.0 OR (MIT WITH LLVM-exception)", "LICENSE"};
  full.meta.provenance.source = "https://example.org/tinyllamas";
  full.meta.provenance.revision = "abc123";
  full.meta.provenance.base_models = {DigestOf("base-1"), DigestOf("base-2")};
  full.meta.provenance.datasets = {"roneneldan/TinyStories", "d\xc3\xa4taset"};
  full.files = {
      {"LICENSE", 1069, DigestOf("mit"), DigestOf("i1"), "application/octet-stream"},
      {"config.json", 412, DigestOf("cfg"), DigestOf("i2"), "application/json"},
      {"stories260K.gguf", 1185376, DigestOf("gguf"), DigestOf("i3"), "application/vnd.gguf"},
      {"tokenizer/tok512.model", 7000, DigestOf("tok"), DigestOf("i4"), "application/vnd.sentencepiece"},
      {"weights/shard-00001.safetensors", 18446744073709551615ull, DigestOf("w"), DigestOf("i5"),
       "application/vnd.safetensors"},
  };
  seeds.push_back(full.Canonical());

  format::Manifest files_only;
  files_only.meta.name = "org.x/model_7b-v2";
  files_only.meta.provenance.datasets = {"x"};
  files_only.files = {{"README.md", 0, DigestOf(""), DigestOf("e"), "text/markdown"},
                      {"a b/\xe6\x97\xa5\xe6\x9c\xac.txt", 5, DigestOf("12345"), DigestOf("f"), "text/plain"}};
  seeds.push_back(files_only.Canonical());
  return seeds;
}

std::vector<std::string> FileIndexSeeds() {
  std::vector<std::string> seeds;
  seeds.push_back(format::FileIndex{}.Encode());
  const std::vector<std::vector<uint32_t>> shapes = {
      {1}, {format::kMaxChunk}, {format::kMinChunk, 70000, format::kMaxChunk, 17}, {5, 5, 5, 5, 5, 5, 5, 5}};
  uint64_t n = 0;
  for (const auto& lens : shapes) {
    format::FileIndex fi;
    for (uint32_t len : lens) {
      fi.chunks.push_back({DigestOf(std::to_string(n++)), len});
      fi.file_size += len;
    }
    seeds.push_back(fi.Encode());
  }
  return seeds;
}

std::vector<std::string> CodecSeeds() {
  std::vector<std::string> seeds;
  const size_t sizes[] = {0, 1, 7, 64, 1000, 4099, 20000};
  uint64_t n = 0;
  for (size_t size : sizes) {
    for (Content kind : kContents) {
      std::string raw = MakeContent(kind, size, ++n);
      for (Codec want : kCodecs) {
        std::string stored;
        Codec got = format::EncodeChunkAs(want, AsBytes(raw), &stored);
        if (got != want && want != Codec::kRaw) continue;  // fell back to raw: already seeded
        seeds.push_back(CodecFuzzInput(uint8_t(got), uint32_t(size), stored));
      }
    }
  }
  // One chunk of the largest size, chosen by the writer's own heuristic.
  std::string big = MakeContent(Content::kHalfFloats, format::kMaxChunk, 99);
  std::string stored;
  Codec c = format::EncodeChunk(AsBytes(big), &stored);
  seeds.push_back(CodecFuzzInput(uint8_t(c), format::kMaxChunk, stored));
  return seeds;
}

// Writes a pack of `raws` (one chunk each, codec chosen per chunk, or forced
// to `force` when given) to a temporary file and returns its bytes.
Result<std::string> BuildPack(const std::vector<std::string>& raws, const Codec* force) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/arca-fuzz-seed-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0) return ErrnoToStatus(errno, "mkstemp " + path);
  ::close(fd);
  struct Unlink {
    const std::string& path;
    ~Unlink() { ::unlink(path.c_str()); }
  } unlink_on_return{path};

  ARCA_ASSIGN_OR_RETURN(format::PackWriter w, format::PackWriter::Create(path));
  for (const std::string& raw : raws) {
    std::string stored;
    Codec c = force ? format::EncodeChunkAs(*force, AsBytes(raw), &stored) : format::EncodeChunk(AsBytes(raw), &stored);
    ARCA_RETURN_IF_ERROR(w.Add(DigestOf(raw), c, uint32_t(raw.size()), AsBytes(stored)));
  }
  ARCA_RETURN_IF_ERROR(w.Finish().status());
  return ReadFile(path, format::kPackMaxSize);
}

Result<std::vector<std::string>> PackSeeds() {
  std::vector<std::string> seeds;
  // Small chunks keep the smoke test fast: every input decodes and hashes
  // each chunk it can reach.
  std::vector<std::vector<std::string>> packs = {
      {},
      {MakeContent(Content::kText, 1, 1)},
      {MakeContent(Content::kRandom, 300, 2), MakeContent(Content::kText, 2000, 3),
       MakeContent(Content::kHalfFloats, 3000, 4), MakeContent(Content::kFloats, 4000, 5)},
      {MakeContent(Content::kZeros, 5000, 6), MakeContent(Content::kFloats, 999, 7)},
  };
  for (const auto& raws : packs) {
    ARCA_ASSIGN_OR_RETURN(std::string bytes, BuildPack(raws, nullptr));
    seeds.push_back(std::move(bytes));
  }
  // One pack per forced codec, so every decoder is reachable from a seed.
  for (Codec c : kCodecs) {
    std::vector<std::string> raws = {MakeContent(Content::kFloats, 1500, 10 + uint8_t(c)),
                                     MakeContent(Content::kText, 333, 20 + uint8_t(c))};
    ARCA_ASSIGN_OR_RETURN(std::string bytes, BuildPack(raws, &c));
    seeds.push_back(std::move(bytes));
  }
  return seeds;
}

}  // namespace

std::string CodecFuzzInput(uint8_t codec, uint32_t raw_len, std::string_view stored) {
  std::string out(1, char(codec));
  AppendLE32(&out, raw_len);
  out.append(stored);
  return out;
}

std::vector<std::string_view> FuzzTargetNames() { return {"manifest", "pack", "file_index", "codec"}; }

Result<std::vector<std::string>> FuzzSeeds(std::string_view name) {
  if (name == "manifest") return ManifestSeeds();
  if (name == "pack") return PackSeeds();
  if (name == "file_index") return FileIndexSeeds();
  if (name == "codec") return CodecSeeds();
  return NotFoundError("no fuzz target named \"" + std::string(name) + "\"");
}

}  // namespace arca::fuzz
