// The mirror's state files (state.h).
#include "mirror/state.h"

#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "client/log_check.h"
#include "common/file.h"

namespace arca::mirror {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxStateBytes = 256ull << 20;

std::string UpstreamPath(const std::string& data_dir, const std::string& name) {
  return MirrorStateDir(data_dir) + "/upstreams/" + name + ".json";
}

// The log state directory of `origin`, as client/log_check.cc lays it out.
std::string OriginDir(const std::string& data_dir, const std::string& origin) {
  return client::LogStatePathUnder(MirrorStateDir(data_dir), origin);
}

Json ModelJson(const ModelState& m) {
  return {{"status", m.status},         {"digest", m.digest},   {"pending", m.pending}, {"sequence", m.sequence},
          {"last_change", m.last_change}, {"code", m.code},       {"message", m.message},
          {"error_time", m.error_time}, {"attempts", m.attempts}};
}

template <typename T>
void Get(const Json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) *out = it->get<T>();
}

}  // namespace

std::string MirrorStateDir(const std::string& data_dir) { return data_dir + "/mirror"; }

std::string UpstreamStateJson(const UpstreamState& s, int indent) {
  Json models = Json::object();
  for (const auto& [name, m] : s.models) models[name] = ModelJson(m);
  Json j = {{"name", s.name},
            {"url", s.url},
            {"origin", s.origin},
            {"state", s.state},
            {"code", s.code},
            {"message", s.message},
            {"checkpoint_size", s.checkpoint_size},
            {"checkpoint_time", s.checkpoint_time},
            {"last_start", s.last_start},
            {"last_end", s.last_end},
            {"next_pass", s.next_pass},
            {"retries", s.retries},
            {"recorded_size", s.recorded_size},
            {"recorded_root", s.recorded_root},
            {"bytes_fetched", s.bytes_fetched},
            {"chunks_fetched", s.chunks_fetched},
            {"models", std::move(models)}};
  return j.dump(indent);
}

Result<UpstreamState> LoadUpstreamState(const std::string& data_dir, const std::string& name) {
  UpstreamState s;
  s.name = name;
  const std::string path = UpstreamPath(data_dir, name);
  Result<std::string> text = ReadFile(path, kMaxStateBytes);
  if (text.status().code() == StatusCode::kNotFound) return s;
  if (!text.ok()) return text.status();
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError(path + " is damaged; remove it to start afresh");
  try {
    Get(j, "url", &s.url);
    Get(j, "origin", &s.origin);
    Get(j, "state", &s.state);
    Get(j, "code", &s.code);
    Get(j, "message", &s.message);
    Get(j, "checkpoint_size", &s.checkpoint_size);
    Get(j, "checkpoint_time", &s.checkpoint_time);
    Get(j, "last_start", &s.last_start);
    Get(j, "last_end", &s.last_end);
    Get(j, "next_pass", &s.next_pass);
    Get(j, "retries", &s.retries);
    Get(j, "recorded_size", &s.recorded_size);
    Get(j, "recorded_root", &s.recorded_root);
    Get(j, "bytes_fetched", &s.bytes_fetched);
    Get(j, "chunks_fetched", &s.chunks_fetched);
    if (auto it = j.find("models"); it != j.end() && it->is_object()) {
      for (const auto& [ref, mj] : it->items()) {
        ModelState m;
        Get(mj, "status", &m.status);
        Get(mj, "digest", &m.digest);
        Get(mj, "pending", &m.pending);
        Get(mj, "sequence", &m.sequence);
        Get(mj, "last_change", &m.last_change);
        Get(mj, "code", &m.code);
        Get(mj, "message", &m.message);
        Get(mj, "error_time", &m.error_time);
        Get(mj, "attempts", &m.attempts);
        s.models[ref] = std::move(m);
      }
    }
  } catch (const Json::exception& e) {
    return DataLossError(path + " is damaged (" + e.what() + "); remove it to start afresh");
  }
  return s;
}

Status SaveUpstreamState(const std::string& data_dir, const UpstreamState& state) {
  const std::string path = UpstreamPath(data_dir, state.name);
  ARCA_RETURN_IF_ERROR(MakeDirs(MirrorStateDir(data_dir) + "/upstreams"));
  return WriteFileAtomic(path, UpstreamStateJson(state, 1) + "\n");
}

Status KeepEvidence(const std::string& data_dir, const std::string& origin, const std::string& note,
                    const std::string& why) {
  const std::string dir = OriginDir(data_dir, origin) + "/evidence";
  ARCA_RETURN_IF_ERROR(MakeDirs(dir));
  const std::string stem = dir + "/" + std::to_string(uint64_t(::time(nullptr)));
  ARCA_RETURN_IF_ERROR(WriteFileAtomic(stem + ".checkpoint", note));
  return WriteFileAtomic(stem + ".txt", why + "\n");
}

Status ForgetCheckpoint(const std::string& data_dir, const std::string& origin) {
  const std::string dir = OriginDir(data_dir, origin);
  std::error_code ec;
  std::filesystem::rename(dir + "/checkpoint", dir + "/checkpoint.forgotten-" + std::to_string(::time(nullptr)), ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return InternalError("cannot move " + dir + "/checkpoint aside: " + ec.message());
  }
  std::filesystem::rename(dir + "/tags.json", dir + "/tags.json.forgotten-" + std::to_string(::time(nullptr)), ec);
  return Status::Ok();
}

}  // namespace arca::mirror
