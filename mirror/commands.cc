// The mirror's commands and schedule (commands.h).
#include "mirror/commands.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/log_check.h"
#include "mirror/countersign.h"
#include "mirror/state.h"
#include "registry/commands.h"
#include "signing/keyfile.h"

namespace arca::mirror {
namespace {

using Json = nlohmann::json;

int Failed(std::ostream& err, const Status& s) {
  err << "arca-registry: " << s.message() << "\n";
  return 1;
}

// Seconds until the next pass of `up` after a pass that ended in `state`
// with `retries` unreachable passes in a row.
uint64_t NextDelay(const UpstreamConfig& up, const std::string& state, uint32_t retries, std::mt19937_64& rng) {
  double delay = double(up.interval_seconds);
  if (state == "unreachable" && retries > 0) {
    const double backoff = double(up.retry.initial_seconds) * double(1ull << std::min<uint32_t>(retries - 1, 30));
    delay = std::min(delay, std::min(backoff, double(up.retry.max_seconds)));
  }
  std::uniform_real_distribution<double> jitter(0.9, 1.1);
  return std::max<uint64_t>(1, uint64_t(delay * jitter(rng)));
}

// The buckets of each upstream, by name.
struct Buckets {
  std::unique_ptr<TokenBucket> total;
  std::map<std::string, std::unique_ptr<TokenBucket>> per_upstream;
  explicit Buckets(const MirrorConfig& c) : total(std::make_unique<TokenBucket>(c.bandwidth_bytes_per_second)) {
    for (const UpstreamConfig& u : c.upstreams) {
      per_upstream[u.name] = std::make_unique<TokenBucket>(u.bandwidth_bytes_per_second);
    }
  }
};

std::string PassLine(const UpstreamConfig& up, const PassResult& r) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: %s; %llu models: %llu updated, %llu unchanged, %llu skipped, %llu failed; fetched %.1f MB in "
                "%llu chunks (%llu already held) in %.2f s",
                up.name.c_str(), r.state.c_str(), (unsigned long long)r.models, (unsigned long long)r.updated,
                (unsigned long long)r.unchanged, (unsigned long long)r.skipped, (unsigned long long)r.failed,
                double(r.bytes_fetched) / 1e6, (unsigned long long)r.chunks_fetched,
                (unsigned long long)r.chunks_held, r.seconds);
  return line;
}

Json PassJson(const UpstreamConfig& up, const PassResult& r) {
  return {{"upstream", up.name},       {"state", r.state},         {"models", r.models},
          {"updated", r.updated},      {"unchanged", r.unchanged}, {"skipped", r.skipped},
          {"failed", r.failed},        {"bytes_fetched", r.bytes_fetched},
          {"chunks_fetched", r.chunks_fetched}, {"chunks_held", r.chunks_held}, {"seconds", r.seconds}};
}

void RunUpstream(MirrorContext& ctx, const UpstreamConfig& up, TokenBucket* bucket, const std::atomic<bool>& stopping,
                 std::ostream& log) {
  std::mt19937_64 rng(std::random_device{}());
  while (!stopping) {
    Result<PassResult> r = SyncUpstream(ctx, up, bucket, log);
    std::string state = r.ok() ? r->state : "unreachable";
    if (r.ok()) {
      log << "arca-registry: mirror " << PassLine(up, *r) << std::endl;
    } else {
      log << "arca-registry: mirror " << up.name << ": pass failed: " << r.status().message() << std::endl;
    }
    Result<UpstreamState> st = LoadUpstreamState(ctx.server->data_dir(), up.name);
    const uint64_t delay = NextDelay(up, state, st.ok() ? st->retries : 1, rng);
    if (st.ok()) {
      st->next_pass = uint64_t(::time(nullptr)) + delay;
      SaveUpstreamState(ctx.server->data_dir(), *st).IgnoreError();
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(delay);
    while (!stopping && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

}  // namespace

void RunSchedule(MirrorContext& ctx, const std::atomic<bool>& stopping, std::ostream& log) {
  Buckets buckets(*ctx.config);
  ctx.total = buckets.total.get();
  std::vector<std::thread> threads;
  for (const UpstreamConfig& up : ctx.config->upstreams) {
    TokenBucket* b = buckets.per_upstream[up.name].get();
    threads.emplace_back([&ctx, &up, b, &stopping, &log] { RunUpstream(ctx, up, b, stopping, log); });
  }
  for (std::thread& t : threads) t.join();
}

int MirrorServeCommand(const std::string& config_path, const std::string& listen, registry::ServerOptions options,
                       std::ostream& out, std::ostream& err) {
  Result<MirrorConfig> config = LoadMirrorConfig(config_path);
  if (!config.ok()) return Failed(err, config.status());
  const MirrorConfig* c = &*config;
  return registry::ServeCommand(c->data, listen, options, out, err,
                                [c, &err](registry::Server& server, const std::atomic<bool>& stopping) {
                                  Result<MirrorContext> ctx = OpenMirror(&server, c);
                                  if (!ctx.ok()) {
                                    err << "arca-registry: mirror: " << ctx.status().message() << std::endl;
                                    return;
                                  }
                                  RunSchedule(*ctx, stopping, err);
                                });
}

int MirrorSyncCommand(const std::string& config_path, bool once, const std::string& upstream, bool json,
                      std::ostream& out, std::ostream& err) {
  Result<MirrorConfig> config = LoadMirrorConfig(config_path);
  if (!config.ok()) return Failed(err, config.status());
  if (!upstream.empty() && !config->Upstream(upstream)) {
    return Failed(err, NotFoundError("the config " + config_path + " has no upstream called " + upstream));
  }
  // Signals are taken by one thread (as serve does), so that the schedule
  // ends between passes.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (!once) pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Result<std::unique_ptr<registry::Server>> server = OpenMirrorData(*config);
  if (!server.ok()) return Failed(err, server.status());
  Result<MirrorContext> ctx = OpenMirror(server->get(), &*config);
  if (!ctx.ok()) return Failed(err, ctx.status());

  if (!once) {
    std::atomic<bool> stopping{false};
    std::thread waiter([&stopping, stop_signals] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      stopping = true;
    });
    RunSchedule(*ctx, stopping, err);
    waiter.join();
    return 0;
  }
  Buckets buckets(*config);
  ctx->total = buckets.total.get();
  bool all_ok = true;
  Json results = Json::array();
  for (const UpstreamConfig& up : config->upstreams) {
    if (!upstream.empty() && up.name != upstream) continue;
    Result<PassResult> r = SyncUpstream(*ctx, up, buckets.per_upstream[up.name].get(), err);
    if (!r.ok()) return Failed(err, r.status().WithContext("upstream " + up.name));
    all_ok = all_ok && r->state == "ok" && r->failed == 0;
    if (json) {
      results.push_back(PassJson(up, *r));
    } else {
      out << PassLine(up, *r) << "\n";
    }
  }
  if (json) out << Json{{"upstreams", results}, {"ok", all_ok}}.dump() << "\n";
  return all_ok ? 0 : 1;
}

int MirrorStatusCommand(const std::string& config_path, const std::string& upstream, bool json, std::ostream& out,
                        std::ostream& err) {
  Result<MirrorConfig> config = LoadMirrorConfig(config_path);
  if (!config.ok()) return Failed(err, config.status());
  bool bad = false;
  Json all = Json::array();
  for (const UpstreamConfig& up : config->upstreams) {
    if (!upstream.empty() && up.name != upstream) continue;
    Result<UpstreamState> s = LoadUpstreamState(config->data, up.name);
    if (!s.ok()) return Failed(err, s.status());
    if (s->url.empty()) s->url = up.url;
    if (s->origin.empty()) s->origin = up.origin;
    bad = bad || s->state == "halted";
    for (const auto& [ref, m] : s->models) bad = bad || m.status == "failed";
    if (json) {
      all.push_back(Json::parse(UpstreamStateJson(*s)));
      continue;
    }
    out << "upstream " << up.name << " " << s->url << " (log " << s->origin << ")\n"
        << "  state       " << s->state << (s->code.empty() ? "" : " (" + s->code + ": " + s->message + ")") << "\n"
        << "  checkpoint  " << s->checkpoint_size << " entries"
        << (s->checkpoint_time ? ", signed " + client::FormatUtc(s->checkpoint_time) : "") << "\n"
        << "  last pass   " << (s->last_end ? client::FormatUtc(s->last_end) : "never")
        << (s->next_pass ? ", next " + client::FormatUtc(s->next_pass) : "") << "\n";
    for (const auto& [ref, m] : s->models) {
      out << "  " << ref << "  " << m.status << "  " << (m.digest.empty() ? "-" : m.digest) << "  #" << m.sequence;
      if (!m.code.empty()) out << "  " << m.code << ": " << m.message;
      else if (!m.message.empty()) out << "  " << m.message;
      out << "\n";
    }
  }
  if (json) out << Json{{"upstreams", all}, {"ok", !bad}}.dump() << "\n";
  return bad ? 1 : 0;
}

int MirrorResetCommand(const std::string& config_path, const std::string& upstream, std::ostream& out,
                       std::ostream& err) {
  Result<MirrorConfig> config = LoadMirrorConfig(config_path);
  if (!config.ok()) return Failed(err, config.status());
  const UpstreamConfig* up = config->Upstream(upstream);
  if (!up) return Failed(err, NotFoundError("the config " + config_path + " has no upstream called " + upstream));
  Status forgot = ForgetCheckpoint(config->data, up->origin);
  if (!forgot.ok()) return Failed(err, forgot);
  Result<UpstreamState> s = LoadUpstreamState(config->data, up->name);
  if (!s.ok()) return Failed(err, s.status());
  s->state = "never";
  s->code.clear();
  s->message.clear();
  Status saved = SaveUpstreamState(config->data, *s);
  if (!saved.ok()) return Failed(err, saved);
  out << "upstream " << up->name << ": the seen checkpoint of log " << up->origin
      << " is forgotten (evidence kept); the next pass trusts the upstream's log anew\n";
  return 0;
}

int MirrorKeyCommand(const std::string& config_path, std::ostream& out, std::ostream& err) {
  Result<MirrorConfig> config = LoadMirrorConfig(config_path);
  if (!config.ok()) return Failed(err, config.status());
  Result<signing::KeyPair> key = LoadOrCreateMirrorKey(config->key);
  if (!key.ok()) return Failed(err, key.status());
  out << signing::ExportPublicKey("mirror", key->public_key) << "\n";
  return 0;
}

}  // namespace arca::mirror
