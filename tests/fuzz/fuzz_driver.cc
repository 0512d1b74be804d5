// A main for the fuzz targets in this folder when libFuzzer is not used:
// runs LLVMFuzzerTestOneInput over the target's seeds (fuzz_seeds.h) and
// files named on the command line, then over a bounded number of
// deterministic mutations of them. A crash or a failed FUZZ_CHECK aborts the
// process, so ctest reports it; the failing input is written to
// $ARCA_FUZZ_CRASH_DIR (default: the working directory) first.
//
//   manifest_fuzz --seeds=manifest [--iterations=N] [FILE...]
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/file.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

uint64_t Next(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

// The input being run, for the abort handler. Not thread-safe: one input at
// a time.
const std::string* g_current = nullptr;

// On abort (FUZZ_CHECK) or a sanitizer's abort, saves the input so that the
// failure can be replayed: `<target> --seeds=... crash-input` or libFuzzer.
void SaveCurrentInput(int sig) {
  if (g_current != nullptr) {
    const char* dir = std::getenv("ARCA_FUZZ_CRASH_DIR");
    std::string path = std::string(dir && *dir ? dir : ".") + "/fuzz-crash-input";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(g_current->data(), 1, g_current->size(), f);
      std::fclose(f);
      std::fprintf(stderr, "fuzz driver: input (%zu bytes) saved to %s\n", g_current->size(), path.c_str());
    }
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void Run(const std::string& input) {
  g_current = &input;
  // A copy in its own allocation, so that AddressSanitizer sees overreads.
  std::vector<uint8_t> buf(input.begin(), input.end());
  LLVMFuzzerTestOneInput(buf.data(), buf.size());
  g_current = nullptr;
}

// Values that sit on the edges of length and count checks.
constexpr uint64_t kInteresting[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 8192, 131071, 131072,
                                     131073, 0x7fffffff, 0x80000000, 0xffffffff, 1ull << 32, ~0ull};

// Applies one random edit to *s. `seeds` supplies bytes for splices.
void Mutate(uint64_t& rng, const std::vector<std::string>& seeds, std::string* s) {
  if (s->empty()) {
    s->push_back(char(Next(rng)));
    return;
  }
  const size_t at = Next(rng) % s->size();
  switch (Next(rng) % 8) {
    case 0:  // flip a bit
      (*s)[at] = char((*s)[at] ^ (1 << (Next(rng) % 8)));
      break;
    case 1:  // set a byte
      (*s)[at] = char(Next(rng));
      break;
    case 2:  // truncate
      s->resize(at);
      break;
    case 3: {  // insert random bytes, or a copy of nearby bytes
      const size_t len = 1 + Next(rng) % 64;
      if (Next(rng) % 2) {
        s->insert(at, s->substr(at, len));
      } else {
        std::string r(len, '\0');
        for (char& c : r) c = char(Next(rng));
        s->insert(at, r);
      }
      break;
    }
    case 4: {  // erase a range
      s->erase(at, 1 + Next(rng) % 64);
      break;
    }
    case 5: {  // overwrite with an interesting integer, 1/2/4/8 bytes LE
      const uint64_t v = kInteresting[Next(rng) % std::size(kInteresting)];
      const size_t width = size_t(1) << (Next(rng) % 4);
      for (size_t k = 0; k < width && at + k < s->size(); ++k) (*s)[at + k] = char(v >> (8 * k));
      break;
    }
    case 6: {  // nudge a u32 length field: +-1, +-4, +-56 (a pack entry)...
      static constexpr int64_t kDeltas[] = {1, -1, 2, -2, 4, -4, 16, -16, 36, -36, 56, -56, 4096, -4096};
      const size_t pos = at & ~size_t(3);
      if (pos + 4 > s->size()) break;
      uint32_t v = 0;
      for (int k = 3; k >= 0; --k) v = (v << 8) | uint8_t((*s)[pos + size_t(k)]);
      v = uint32_t(int64_t(v) + kDeltas[Next(rng) % std::size(kDeltas)]);
      for (size_t k = 0; k < 4; ++k) (*s)[pos + k] = char(v >> (8 * k));
      break;
    }
    case 7: {  // splice in a run of bytes from another seed
      const std::string& other = seeds[Next(rng) % seeds.size()];
      if (other.empty()) break;
      const size_t from = Next(rng) % other.size();
      const size_t len = std::min<size_t>(1 + Next(rng) % 256, other.size() - from);
      if (Next(rng) % 2) {
        s->replace(at, std::min(len, s->size() - at), other, from, len);
      } else {
        s->insert(at, other, from, len);
      }
      break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 20000;
  std::string target;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      iterations = std::atoi(arg.c_str() + 13);
    } else if (arg.rfind("--seeds=", 0) == 0) {
      target = arg.substr(8);
    } else {
      files.push_back(arg);
    }
  }
  if (target.empty()) {
    std::fprintf(stderr, "usage: %s --seeds=NAME [--iterations=N] [FILE...]\n", argv[0]);
    return 2;
  }
  arca::Result<std::vector<std::string>> generated = arca::fuzz::FuzzSeeds(target);
  if (!generated.ok()) {
    std::fprintf(stderr, "%s\n", generated.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> seeds = std::move(*generated);
  for (const std::string& path : files) {
    arca::Result<std::string> f = arca::ReadFile(path, 64 << 20);
    if (!f.ok()) {
      std::fprintf(stderr, "%s\n", f.status().ToString().c_str());
      return 1;
    }
    seeds.push_back(std::move(*f));
  }
  std::signal(SIGABRT, SaveCurrentInput);
  std::signal(SIGSEGV, SaveCurrentInput);

  for (const std::string& s : seeds) Run(s);
  uint64_t rng = 0x5eed;
  for (int i = 0; i < iterations; ++i) {
    std::string s = seeds[Next(rng) % seeds.size()];
    const int edits = 1 + int(Next(rng) % 4);
    for (int e = 0; e < edits; ++e) Mutate(rng, seeds, &s);
    Run(s);
  }
  std::printf("%s fuzz smoke test: %zu seeds, %d mutated inputs, no failure\n", target.c_str(), seeds.size(),
              iterations);
  return 0;
}
