// The `arca store` commands over store::Store.
#include "client/store_commands.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unordered_set>

#include "client/progress.h"
#include "format/file_index.h"
#include "store/store.h"

namespace arca::client {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

int Fail(std::ostream& err, const Status& s, std::string_view hint = "") { return ReportFailure(err, s, hint); }

int Threads(const StoreOptions& so) { return ThreadCount(so); }

// Turns a directory name into a valid bundle name, e.g. "Llama-3.2 1B" ->
// "local/llama-3.2-1b".
std::string NameFromDir(const std::string& dir) {
  std::string base = fs::path(dir).lexically_normal().filename().string();
  if (base.empty() || base == ".") base = fs::absolute(dir).lexically_normal().filename().string();
  std::string out;
  for (char c : base) {
    char l = char(std::tolower(uint8_t(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok) out += l;
    else if (!out.empty() && out.back() != '-') out += (l == '.' || l == '_') ? l : '-';
  }
  while (!out.empty() && !std::isalnum(uint8_t(out.back()))) out.pop_back();
  return "local/" + out;
}

Result<Digest> Resolve(const store::Store& st, const std::string& what) {
  if (what.rfind("sha256:", 0) == 0) return Digest::Parse(what);
  return st.GetRef(what);
}

}  // namespace

std::string HumanBytes(uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, kUnits[u]);
  return buf;
}

int ReportFailure(std::ostream& err, const Status& s, std::string_view hint) {
  err << "arca: error: " << s.message() << "\n";
  if (!hint.empty()) err << "hint: " << hint << "\n";
  return 1;
}

int ThreadCount(const StoreOptions& so) {
  if (so.threads > 0) return so.threads;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

Result<std::unique_ptr<store::Store>> OpenStore(const StoreOptions& so) {
  std::string dir = so.store_dir.empty() ? DefaultStoreDir() : so.store_dir;
  return store::Store::Open(dir);
}

std::string DefaultStoreDir() {
  if (const char* s = std::getenv("ARCA_STORE"); s && *s) return s;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/arca/store";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/arca/store";
  return ".arca-store";
}

int StoreAdd(const StoreOptions& so, AddOptions ao, std::ostream& out, std::ostream& err) {
  if (ao.meta.name.empty()) ao.meta.name = NameFromDir(ao.dir);
  if (Status s = format::ValidateBundleName(ao.meta.name); !s.ok()) {
    return Fail(err, s, "pass --name org/model");
  }
  for (const std::string& b : ao.base_models) {
    Result<Digest> d = Digest::Parse(b);
    if (!d.ok()) return Fail(err, d.status().WithContext("--base-model " + b));
    ao.meta.provenance.base_models.push_back(*d);
  }
  if (ao.ref.empty()) ao.ref = ao.meta.name + ":latest";
  auto st = OpenStore(so);
  if (!st.ok()) return Fail(err, st.status());
  auto t0 = std::chrono::steady_clock::now();
  Result<store::AddResult> r = [&] {
    Progress progress("adding", !so.json, err);
    return (*st)->AddDirectory(ao.dir, ao.meta, ao.ref, Threads(so),
                               [&](uint64_t done, uint64_t total) { progress.Update(done, total); });
  }();
  if (!r.ok()) return Fail(err, r.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Stored size of the whole bundle: every distinct chunk's stored length.
  uint64_t stored = 0;
  std::unordered_set<Digest, DigestHash> seen;
  for (const std::string& idx : r->built.file_indexes) {
    auto fi = format::FileIndex::Parse(AsBytes(idx));
    if (!fi.ok()) return Fail(err, fi.status());
    for (const auto& c : fi->chunks) {
      if (!seen.insert(c.digest).second) continue;
      auto loc = (*st)->FindChunk(c.digest);
      if (!loc.ok()) return Fail(err, loc.status());
      stored += loc->entry.stored_len;
    }
  }
  const format::BuildStats& s = r->built.stats;
  if (so.json) {
    out << Json{{"bundle", r->bundle.ToString()},
                {"ref", ao.ref},
                {"name", ao.meta.name},
                {"files", s.files},
                {"raw_bytes", s.raw_bytes},
                {"stored_bytes", stored},
                {"new_raw_bytes", s.new_raw_bytes},
                {"new_stored_bytes", s.new_stored_bytes},
                {"chunks", s.chunks},
                {"unique_chunks", s.unique_chunks},
                {"new_chunks", s.new_chunks},
                {"new_packs", r->new_packs},
                {"seconds", secs}}
               .dump()
        << "\n";
    return 0;
  }
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.0f MB/s", secs > 0 ? s.raw_bytes / secs / 1e6 : 0.0);
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f", stored ? double(s.raw_bytes) / double(stored) : 0.0);
  out << "bundle   " << r->bundle.ToString() << "\n"
      << "ref      " << ao.ref << "\n"
      << "files    " << s.files << "\n"
      << "raw      " << HumanBytes(s.raw_bytes) << " (" << s.raw_bytes << " bytes) in " << s.chunks << " chunks, "
      << s.unique_chunks << " distinct\n"
      << "stored   " << HumanBytes(stored) << " (" << stored << " bytes), ratio " << ratio << "\n"
      << "new      " << HumanBytes(s.new_stored_bytes) << " stored for " << HumanBytes(s.new_raw_bytes) << " raw in "
      << s.new_chunks << " new chunks, " << r->new_packs << " new packs\n"
      << "codecs   raw " << s.codec_chunks[0] << ", zstd " << s.codec_chunks[1] << ", bg2 " << s.codec_chunks[2]
      << ", bg4 " << s.codec_chunks[3] << " (new chunks)\n"
      << "time     " << secs << " s, " << rate << "\n";
  return 0;
}

int StoreCheckout(const StoreOptions& so, const std::string& what, const std::string& out_dir,
                  std::ostream& out, std::ostream& err) {
  auto st = OpenStore(so);
  if (!st.ok()) return Fail(err, st.status());
  Result<Digest> d = Resolve(**st, what);
  if (!d.ok()) return Fail(err, d.status(), "name a bundle digest (sha256:...) or a ref (see `arca store ls`)");
  Status s = (*st)->Checkout(*d, out_dir, Threads(so));
  if (!s.ok()) return Fail(err, s);
  if (so.json) {
    out << Json{{"bundle", d->ToString()}, {"dir", out_dir}}.dump() << "\n";
  } else {
    out << "checked out " << d->ToString() << " into " << out_dir << " (every chunk and file verified)\n";
  }
  return 0;
}

int StoreFsck(const StoreOptions& so, std::ostream& out, std::ostream& err) {
  auto st = OpenStore(so);
  if (!st.ok()) return Fail(err, st.status());
  store::FsckReport r = (*st)->Fsck();
  if (so.json) {
    out << Json{{"ok", r.ok()},
                {"packs", r.packs},
                {"chunks", r.chunks},
                {"objects", r.objects},
                {"refs", r.refs},
                {"bytes_checked", r.bytes_checked},
                {"problems", r.problems},
                {"orphans", r.orphans}}
               .dump()
        << "\n";
  } else {
    out << "checked " << r.packs << " packs, " << r.chunks << " chunks, " << r.objects << " objects, " << r.refs
        << " refs (" << HumanBytes(r.bytes_checked) << ")\n";
    for (const auto& o : r.orphans) out << "orphan pack (unreferenced; `arca store gc` removes it): " << o << "\n";
    for (const auto& p : r.problems) err << "corrupt: " << p << "\n";
    out << (r.ok() ? "store is consistent\n" : std::to_string(r.problems.size()) + " problems found\n");
  }
  return r.ok() ? 0 : 1;
}

int StoreGc(const StoreOptions& so, std::ostream& out, std::ostream& err) {
  auto st = OpenStore(so);
  if (!st.ok()) return Fail(err, st.status());
  Result<store::GcReport> r = (*st)->Gc();
  if (!r.ok()) return Fail(err, r.status(), "run `arca store fsck` to find the damage");
  if (so.json) {
    out << Json{{"objects_removed", r->objects_removed},
                {"chunks_removed", r->chunks_removed},
                {"packs_removed", r->packs_removed},
                {"bytes_freed", r->bytes_freed},
                {"packs_kept_partial", r->packs_kept_partial}}
               .dump()
        << "\n";
  } else {
    out << "removed " << r->objects_removed << " objects, " << r->chunks_removed << " chunk records, "
        << r->packs_removed << " packs (" << HumanBytes(r->bytes_freed) << " freed); " << r->packs_kept_partial
        << " packs kept with some live chunks\n";
  }
  return 0;
}

int StoreList(const StoreOptions& so, std::ostream& out, std::ostream& err) {
  auto st = OpenStore(so);
  if (!st.ok()) return Fail(err, st.status());
  auto refs = (*st)->ListRefs();
  if (so.json) {
    Json arr = Json::array();
    for (const auto& [name, d] : refs) arr.push_back(Json{{"ref", name}, {"bundle", d.ToString()}});
    out << Json{{"refs", arr}}.dump() << "\n";
    return 0;
  }
  if (refs.empty()) out << "no refs (add a model directory with `arca store add DIR`)\n";
  for (const auto& [name, d] : refs) out << d.ToString() << "  " << name << "\n";
  return 0;
}

int StoreInspect(const StoreOptions& so, const std::string& what, std::ostream& out, std::ostream& err) {
  auto st = OpenStore(so);
  if (!st.ok()) return Fail(err, st.status());
  Result<Digest> d = Resolve(**st, what);
  if (!d.ok()) return Fail(err, d.status());
  Result<std::string> bytes = (*st)->GetObject(*d, store::ObjectKind::kManifest);
  if (!bytes.ok()) return Fail(err, bytes.status());
  Result<format::Manifest> m = format::Manifest::Parse(*bytes);
  if (!m.ok()) return Fail(err, m.status());
  if (so.json) {
    out << *bytes << "\n";
    return 0;
  }
  out << "bundle    " << d->ToString() << "\n"
      << "name      " << m->meta.name << "\n";
  if (!m->meta.license.spdx.empty()) out << "license   " << m->meta.license.spdx << " (" << m->meta.license.file << ")\n";
  if (!m->meta.provenance.source.empty()) out << "source    " << m->meta.provenance.source << " " << m->meta.provenance.revision << "\n";
  for (const auto& b : m->meta.provenance.base_models) out << "base      " << b.ToString() << "\n";
  uint64_t total = 0;
  for (const auto& f : m->files) total += f.size;
  out << "files     " << m->files.size() << ", " << HumanBytes(total) << "\n";
  for (const auto& f : m->files) out << "  " << f.digest.ToString().substr(0, 19) << "  " << f.size << "  " << f.path << "\n";
  return 0;
}

}  // namespace arca::client
