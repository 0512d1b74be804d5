// arca-bench-runtime: prompt and generation speed of the runtime on
// synthetic Llama models (stories15M and stories110M shapes) in F32, F16 and
// Q8_0, on 1 and 2 threads, next to the memory bandwidth measured in the
// same run. Generation reads every weight once per token, so its ceiling is
// bandwidth / (weight bytes per token); the table shows how close it gets.
//
// Each cell is the median of --runs runs. Models are written once to
// --dir (reused when present).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <time.h>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "runtime/gguf.h"
#include "runtime/kernels.h"
#include "runtime/llama.h"
#include "runtime/sampler.h"
#include "runtime/synth.h"

namespace arca::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU time of the whole process (all threads), in seconds.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#if defined(__x86_64__)
// Streaming read of [p, p + n) floats: four independent accumulators so the
// loads, not the adds, are the limit.
__attribute__((target("avx2"))) float ReadAll(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    // The same software prefetch distance as the kernels (4 KiB ahead), so
    // that the bound is what a tuned reader gets, not a plain loop.
    _mm_prefetch(reinterpret_cast<const char*>(p + i) + 4096, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p + i) + 4096 + 64, _MM_HINT_T0);
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#else
float ReadAll(const float* p, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}
#endif

// Read bandwidth in bytes/s over a buffer far larger than the caches, with
// `threads` threads each reading its share; the median of `runs` passes.
double MeasureBandwidth(const std::vector<float>& buf, int threads, int runs) {
  std::vector<double> rates;
  volatile float sink = 0;
  for (int r = 0; r < runs; ++r) {
    std::vector<float> sums(static_cast<size_t>(threads));
    const Clock::time_point t0 = Clock::now();
    std::vector<std::thread> ts;
    const size_t share = buf.size() / size_t(threads) / 32 * 32;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] { sums[size_t(t)] = ReadAll(buf.data() + size_t(t) * share, share); });
    }
    for (std::thread& t : ts) t.join();
    rates.push_back(double(share * size_t(threads) * 4) / Since(t0));
    sink = sink + sums[0];
  }
  return Median(rates);
}

struct Row {
  std::string model, type;
  double weight_mib = 0;
  int threads = 0;
  double prompt_tps = 0, gen_tps = 0, bound_tps = 0, bound_kv_tps = 0;
  double cpu_share = 0;  // CPU time / (wall time * threads) while generating; < 1 if the CPU was shared
};

}  // namespace
}  // namespace arca::runtime

int main(int argc, char** argv) {
  using namespace arca::runtime;  // NOLINT: a benchmark main
  std::string dir = "/tmp/arca-bench-runtime";
  std::vector<std::string> models = {"stories15M", "stories110M"};
  std::vector<std::string> types = {"f32", "f16", "q8_0"};
  std::vector<int> thread_counts = {1, 2};
  int runs = 3, prompt_len = 512, gen_len = 128;
  CLI::App app{"Runtime speed on synthetic Llama models, next to the measured memory bandwidth."};
  app.add_option("--dir", dir, "where the synthetic models are kept")->capture_default_str();
  app.add_option("--models", models, "presets: stories15M stories110M")->capture_default_str();
  app.add_option("--types", types, "f32 f16 bf16 q8_0")->capture_default_str();
  app.add_option("--threads", thread_counts, "thread counts")->capture_default_str();
  app.add_option("--runs", runs, "runs per cell (median)")->capture_default_str();
  app.add_option("--prompt", prompt_len, "prompt tokens")->capture_default_str();
  app.add_option("--gen", gen_len, "generated tokens")->capture_default_str();
  std::string kv = "f32";
  app.add_option("--kv", kv, "KV cache type: f32 | f16")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(dir);

  std::fprintf(stderr, "kernels: %s\n", std::string(IsaName(CurrentIsa())).c_str());
  // 1 GiB, far beyond the last-level cache; touched once so pages exist.
  std::vector<float> buf(size_t(1) << 28, 1.0f);
  std::vector<double> bandwidth;  // by thread count
  for (int t : thread_counts) {
    bandwidth.push_back(MeasureBandwidth(buf, t, 5));
    std::fprintf(stderr, "read bandwidth, %d thread(s): %.2f GB/s\n", t, bandwidth.back() / 1e9);
  }
  buf = {};

  std::vector<Row> rows;
  for (const std::string& model : models) {
    for (const std::string& type : types) {
      SynthOptions o;
      if (!SynthPreset(model, &o)) {
        std::fprintf(stderr, "unknown model %s\n", model.c_str());
        return 2;
      }
      o.type = type == "f16" ? DType::kF16 : type == "bf16" ? DType::kBF16 : type == "q8_0" ? DType::kQ8_0 : DType::kF32;
      const std::string path = dir + "/" + model + "-" + type + ".gguf";
      if (!std::filesystem::exists(path)) {
        std::fprintf(stderr, "writing %s\n", path.c_str());
        arca::Result<GgufWriter> w = BuildSyntheticLlama(o);
        arca::Status s = w.ok() ? w->WriteFile(path) : w.status();
        if (!s.ok()) {
          std::fprintf(stderr, "%s\n", s.ToString().c_str());
          return 1;
        }
      }
      arca::Result<MappedGguf> file = MappedGguf::Open(path);
      arca::Result<LlamaModel> m = file.ok() ? LlamaModel::Load(file->gguf()) : arca::Result<LlamaModel>(file.status());
      if (!m.ok()) {
        std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
        return 1;
      }
      const uint64_t bytes = m->WeightBytesPerToken();
      // A fixed pseudo-random prompt of ordinary (non-special) tokens.
      std::vector<int32_t> prompt;
      for (int i = 0; i < prompt_len; ++i) prompt.push_back(int32_t(3 + (i * 7919) % (m->config().vocab_size - 3)));
      for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
        const int threads = thread_counts[ti];
        ThreadPool pool(threads);
        std::vector<double> prompt_tps, gen_tps, cpu_share;
        {  // warm-up: fault in the mapped weights and start the threads
          LlamaSession warm(*m, 16, pool);
          for (int i = 0; i < 4; ++i) {
            if (!warm.Forward(std::span<const int32_t>(prompt.data() + i, 1)).ok()) return 1;
          }
        }
        for (int r = 0; r < runs; ++r) {
          LlamaSession session(*m, prompt_len + gen_len, pool, kv == "f16" ? DType::kF16 : DType::kF32);
          Clock::time_point t0 = Clock::now();
          arca::Result<std::span<const float>> logits = session.Forward(prompt);
          const double tp = Since(t0);
          t0 = Clock::now();
          const double cpu0 = CpuSeconds();
          for (int i = 0; i < gen_len && logits.ok(); ++i) {
            const int32_t one[] = {Sampler::Argmax(*logits)};
            logits = session.Forward(one);
          }
          const double tg = Since(t0);
          cpu_share.push_back((CpuSeconds() - cpu0) / (tg * threads));
          if (!logits.ok()) {
            std::fprintf(stderr, "%s\n", logits.status().ToString().c_str());
            return 1;
          }
          prompt_tps.push_back(prompt_len / tp);
          gen_tps.push_back(gen_len / tg);
        }
        // The KV cache read per generated token, at the mean position.
        const LlamaConfig& c = m->config();
        const double kv_bytes = 2.0 * double(c.n_layers * c.kv_dim()) * (kv == "f16" ? 2 : 4) *
                                (prompt_len + gen_len / 2.0);
        Row row{model, type, double(bytes) / (1 << 20), threads, Median(prompt_tps), Median(gen_tps),
                bandwidth[ti] / double(bytes), bandwidth[ti] / (double(bytes) + kv_bytes), Median(cpu_share)};
        std::fprintf(stderr, "%s %s %d thread(s): prompt %.1f tok/s, generation %.1f tok/s (%.0f%% of bound)\n",
                     model.c_str(), type.c_str(), threads, row.prompt_tps, row.gen_tps,
                     100 * row.gen_tps / row.bound_tps);
        rows.push_back(row);
      }
    }
  }

  std::printf("Read bandwidth (1 GiB streaming read):");
  for (size_t ti = 0; ti < thread_counts.size(); ++ti) {
    std::printf(" %d thread(s) %.2f GB/s%s", thread_counts[ti], bandwidth[ti] / 1e9,
                ti + 1 < thread_counts.size() ? "," : "\n");
  }
  std::printf("Kernels: %s; KV cache %s; prompt %d tokens, generation %d tokens; median of %d runs.\n\n",
              std::string(IsaName(CurrentIsa())).c_str(), kv.c_str(), prompt_len, gen_len, runs);
  std::printf("| model | type | weights read per token (MiB) | threads | prompt tok/s | generation tok/s | "
              "weights bound tok/s | generation / weights bound | generation / (weights + KV) bound | CPU share |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    std::printf("| %s | %s | %.1f | %d | %.1f | %.1f | %.1f | %.0f%% | %.0f%% | %.2f |\n", r.model.c_str(),
                r.type.c_str(), r.weight_mib, r.threads, r.prompt_tps, r.gen_tps, r.bound_tps,
                100 * r.gen_tps / r.bound_tps, 100 * r.gen_tps / r.bound_kv_tps, r.cpu_share);
  }
  return 0;
}
