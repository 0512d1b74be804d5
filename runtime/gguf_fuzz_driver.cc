// A main for gguf_fuzz.cc when libFuzzer is not used: feeds the target a
// tiny valid model, then a bounded number of mutations of it (bit flips,
// overwritten integers, truncations, spliced bytes) and files named on the
// command line. Deterministic (fixed seed) so a failure reproduces.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/file.h"
#include "runtime/synth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

uint64_t Next(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

void Run(const std::string& input) {
  // A copy in its own allocation, so that AddressSanitizer sees overreads.
  std::vector<uint8_t> buf(input.begin(), input.end());
  LLVMFuzzerTestOneInput(buf.data(), buf.size());
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 3000;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      iterations = std::atoi(arg.c_str() + 13);
      continue;
    }
    arca::Result<std::string> f = arca::ReadFile(arg, 64 << 20);
    if (!f.ok()) {
      std::fprintf(stderr, "%s\n", f.status().ToString().c_str());
      return 1;
    }
    seeds.push_back(*f);
  }
  arca::runtime::SynthOptions o;
  arca::runtime::SynthPreset("tiny", &o);
  for (arca::runtime::DType t : {arca::runtime::DType::kF32, arca::runtime::DType::kQ8_0}) {
    o.type = t;
    arca::Result<arca::runtime::GgufWriter> w = arca::runtime::BuildSyntheticLlama(o);
    if (!w.ok()) {
      std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
      return 1;
    }
    seeds.push_back(w->Serialize());
  }
  uint64_t rng = 0x5eed;
  for (const std::string& s : seeds) Run(s);
  for (int i = 0; i < iterations; ++i) {
    std::string s = seeds[Next(rng) % seeds.size()];
    const int edits = 1 + int(Next(rng) % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = Next(rng) % s.size();
      switch (Next(rng) % 5) {
        case 0:  // flip a bit
          s[at] = char(s[at] ^ (1 << (Next(rng) % 8)));
          break;
        case 1: {  // overwrite 8 bytes with an interesting integer
          static const uint64_t kValues[] = {0, 1, 0xff, 0xffffffff, ~0ull, 1ull << 31, 1ull << 62, 31, 33, 4096};
          uint64_t v = kValues[Next(rng) % 10];
          for (int k = 0; k < 8 && at + size_t(k) < s.size(); ++k) s[at + size_t(k)] = char(v >> (8 * k));
          break;
        }
        case 2:  // truncate
          s.resize(at);
          break;
        case 3:  // random byte
          s[at] = char(Next(rng));
          break;
        case 4: {  // duplicate a chunk
          const size_t len = std::min<size_t>(Next(rng) % 64, s.size() - at);
          s.insert(at, s.substr(at, len));
          break;
        }
      }
    }
    Run(s);
  }
  std::printf("gguf fuzz smoke test: %d inputs, no crash\n", iterations + int(seeds.size()));
  return 0;
}
