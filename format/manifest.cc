// Manifest validation, canonical serialisation and strict parsing.
//
// Canonical form is produced by nlohmann::json's compact dump: its objects
// are std::map (keys sorted by bytes), it prints no white space, and it
// escapes exactly the characters FORMAT.md §5 lists, with lower-case hex.
#include "format/manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "format/path.h"

namespace arca::format {

using Json = nlohmann::json;

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status CheckString(std::string_view what, std::string_view s) {
  if (s.size() > kMaxStringBytes) {
    return ResourceExhaustedError(std::string(what) + " is longer than " + std::to_string(kMaxStringBytes) + " bytes");
  }
  if (!IsValidUtf8(s)) return InvalidArgumentError(std::string(what) + " is not valid UTF-8");
  if (s.find('\0') != std::string_view::npos) return InvalidArgumentError(std::string(what) + " contains a NUL byte");
  return Status::Ok();
}

bool IsCreatedTimestamp(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SSZ
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != kShape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? !std::isdigit(uint8_t(s[i])) : s[i] != kShape[i]) return false;
  }
  auto num = [&](size_t pos, size_t len) { return std::stoi(std::string(s.substr(pos, len))); };
  int month = num(5, 2), day = num(8, 2), hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

// Light syntax check of an SPDX licence expression: idstrings, AND/OR/WITH,
// parentheses, '+'. Full validation against the licence list is the
// policy's job.
Status CheckSpdx(std::string_view expr) {
  if (expr.empty()) return InvalidArgumentError("license.spdx is empty");
  int depth = 0;
  bool expect_operand = true;
  size_t i = 0;
  while (i < expr.size()) {
    char c = expr[i];
    if (c == ' ') { ++i; continue; }
    if (c == '(') {
      if (!expect_operand) return InvalidArgumentError("license.spdx: unexpected '('");
      ++depth; ++i; continue;
    }
    if (c == ')') {
      if (expect_operand || depth == 0) return InvalidArgumentError("license.spdx: unexpected ')'");
      --depth; ++i; continue;
    }
    size_t j = i;
    while (j < expr.size() && (std::isalnum(uint8_t(expr[j])) || expr[j] == '-' || expr[j] == '.' ||
                               expr[j] == '+' || expr[j] == ':')) {
      ++j;
    }
    if (j == i) return InvalidArgumentError("license.spdx: unexpected character '" + std::string(1, c) + "'");
    std::string_view word = expr.substr(i, j - i);
    bool op = word == "AND" || word == "OR" || word == "WITH";
    if (op == expect_operand) {
      return InvalidArgumentError("license.spdx: unexpected '" + std::string(word) + "'");
    }
    expect_operand = op;
    i = j;
  }
  if (expect_operand || depth != 0) return InvalidArgumentError("license.spdx: incomplete expression");
  return Status::Ok();
}

}  // namespace

std::string MediaTypeForPath(std::string_view path) {
  if (EndsWith(path, ".gguf")) return "application/vnd.gguf";
  if (EndsWith(path, ".safetensors")) return "application/vnd.safetensors";
  if (EndsWith(path, ".json")) return "application/json";
  if (EndsWith(path, ".md")) return "text/markdown";
  if (EndsWith(path, ".txt")) return "text/plain";
  if (EndsWith(path, ".model")) return "application/vnd.sentencepiece";
  return "application/octet-stream";
}

Status ValidateBundleName(std::string_view name) {
  if (name.empty() || name.size() > 255) return InvalidArgumentError("bundle name must be 1 to 255 bytes");
  bool start = true;  // at the start of a component or after a separator
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) { start = false; continue; }
    bool sep = c == '/' || c == '.' || c == '_' || c == '-';
    if (!sep || start) {
      return InvalidArgumentError("invalid bundle name \"" + std::string(name) +
                                  "\": use lower-case letters and digits, components joined by "
                                  "single '.', '_' or '-', namespaces by '/' (e.g. \"org/model-7b\")");
    }
    start = true;
  }
  if (start) return InvalidArgumentError("invalid bundle name \"" + std::string(name) + "\": ends with a separator");
  return Status::Ok();
}

Status Manifest::Validate() const {
  ARCA_RETURN_IF_ERROR(ValidateBundleName(meta.name));
  ARCA_RETURN_IF_ERROR(CheckString("version", meta.version));
  ARCA_RETURN_IF_ERROR(CheckString("publisher", meta.publisher));
  if (!meta.created.empty() && !IsCreatedTimestamp(meta.created)) {
    return InvalidArgumentError("created must look like 2026-11-22T10:00:00Z (UTC), got \"" + meta.created + "\"");
  }
  if (!meta.license.spdx.empty()) ARCA_RETURN_IF_ERROR(CheckSpdx(meta.license.spdx));
  if (meta.license.spdx.size() > kMaxStringBytes) return ResourceExhaustedError("license.spdx is too long");
  if (!meta.license.file.empty() && meta.license.spdx.empty()) {
    return InvalidArgumentError("license.file is set but license.spdx is not");
  }
  ARCA_RETURN_IF_ERROR(CheckString("provenance.source", meta.provenance.source));
  ARCA_RETURN_IF_ERROR(CheckString("provenance.revision", meta.provenance.revision));
  if (meta.provenance.base_models.size() > kMaxListEntries || meta.provenance.datasets.size() > kMaxListEntries ||
      meta.provenance.base_model_names.size() > kMaxListEntries) {
    return ResourceExhaustedError("provenance lists are limited to 1000 entries");
  }
  for (const auto& d : meta.provenance.datasets) ARCA_RETURN_IF_ERROR(CheckString("provenance.datasets[]", d));
  for (const auto& n : meta.provenance.base_model_names) {
    ARCA_RETURN_IF_ERROR(CheckString("provenance.base_model_names[]", n));
    // An empty entry would have no canonical meaning; the reader refuses it.
    if (n.empty()) return InvalidArgumentError("provenance.base_model_names has an empty entry");
  }
  if (files.size() > kMaxManifestFiles) return ResourceExhaustedError("a bundle has at most 100000 files");
  for (size_t i = 0; i < files.size(); ++i) {
    const ManifestFile& f = files[i];
    ARCA_RETURN_IF_ERROR(ValidateBundlePath(f.path));
    ARCA_RETURN_IF_ERROR(CheckString("media_type", f.media_type));
    if (f.media_type.empty()) return InvalidArgumentError("file \"" + f.path + "\" has no media_type");
    if (i > 0) {
      const std::string& prev = files[i - 1].path;
      if (prev >= f.path) return InvalidArgumentError("files are not sorted by path, or \"" + f.path + "\" repeats");
    }
  }
  // No file may also be a directory of another: "a" and "a/b". With paths
  // sorted bytewise, "a/..." sorts after "a" but possibly after "a.txt" too,
  // so check every prefix against the set.
  for (size_t i = 0; i < files.size(); ++i) {
    std::string_view p = files[i].path;
    for (size_t slash = p.find('/'); slash != std::string_view::npos; slash = p.find('/', slash + 1)) {
      std::string_view dir = p.substr(0, slash);
      auto it = std::lower_bound(files.begin(), files.end(), dir,
                                 [](const ManifestFile& f, std::string_view v) { return f.path < v; });
      if (it != files.end() && it->path == dir) {
        return InvalidArgumentError("\"" + std::string(dir) + "\" is both a file and a directory");
      }
    }
  }
  if (!meta.license.file.empty()) {
    auto it = std::lower_bound(files.begin(), files.end(), meta.license.file,
                               [](const ManifestFile& f, const std::string& v) { return f.path < v; });
    if (it == files.end() || it->path != meta.license.file) {
      return InvalidArgumentError("license file \"" + meta.license.file + "\" is not one of the bundle's files");
    }
  }
  return Status::Ok();
}

std::string Manifest::Canonical() const {
  Json j = Json::object();
  j["schema"] = kManifestSchema;
  j["name"] = meta.name;
  if (!meta.version.empty()) j["version"] = meta.version;
  if (!meta.publisher.empty()) j["publisher"] = meta.publisher;
  if (!meta.created.empty()) j["created"] = meta.created;
  if (!meta.license.spdx.empty()) {
    Json l = {{"spdx", meta.license.spdx}};
    if (!meta.license.file.empty()) l["file"] = meta.license.file;
    j["license"] = l;
  }
  const Provenance& p = meta.provenance;
  Json prov = Json::object();
  if (!p.source.empty()) prov["source"] = p.source;
  if (!p.revision.empty()) prov["revision"] = p.revision;
  if (!p.base_models.empty()) {
    Json arr = Json::array();
    for (const Digest& d : p.base_models) arr.push_back(d.ToString());
    prov["base_models"] = arr;
  }
  if (!p.base_model_names.empty()) prov["base_model_names"] = p.base_model_names;
  if (!p.datasets.empty()) prov["datasets"] = p.datasets;
  if (!prov.empty()) j["provenance"] = prov;
  Json arr = Json::array();
  for (const ManifestFile& f : files) {
    arr.push_back(Json{{"path", f.path},
                       {"size", f.size},
                       {"digest", f.digest.ToString()},
                       {"index", f.index.ToString()},
                       {"media_type", f.media_type}});
  }
  j["files"] = arr;
  return j.dump(-1, ' ', false, Json::error_handler_t::strict);
}

namespace {

// Typed access with clear messages; every member is checked for type.
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  Status Object(const Json& j, std::initializer_list<std::string_view> allowed) const {
    if (!j.is_object()) return Bad("must be an object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
        return Bad("has unknown member \"" + it.key() + "\"");
      }
    }
    return Status::Ok();
  }
  Status String(const Json& j, const char* key, bool required, std::string* out) const {
    auto it = j.find(key);
    if (it == j.end()) return required ? Bad(std::string("lacks \"") + key + "\"") : Status::Ok();
    if (!it->is_string()) return Bad(std::string("\"") + key + "\" must be a string");
    *out = it->get<std::string>();
    if (out->empty()) return Bad(std::string("\"") + key + "\" is empty (omit it instead)");
    return Status::Ok();
  }
  Status DigestField(const Json& j, const char* key, Digest* out) const {
    std::string s;
    ARCA_RETURN_IF_ERROR(String(j, key, true, &s));
    Result<Digest> d = Digest::Parse(s);
    if (!d.ok()) return Bad(std::string("\"") + key + "\": " + std::string(d.status().message()));
    *out = *d;
    return Status::Ok();
  }
  Status Array(const Json& j, const char* key, size_t limit, const Json** out) const {
    auto it = j.find(key);
    *out = nullptr;
    if (it == j.end()) return Status::Ok();
    if (!it->is_array()) return Bad(std::string("\"") + key + "\" must be an array");
    if (it->size() > limit) return ResourceExhaustedError(where_ + ": \"" + key + "\" has too many entries");
    if (it->empty()) return Bad(std::string("\"") + key + "\" is empty (omit it instead)");
    *out = &*it;
    return Status::Ok();
  }
  Status Bad(const std::string& what) const { return InvalidArgumentError("manifest: " + where_ + " " + what); }

 private:
  std::string where_;
};

}  // namespace

Result<Manifest> Manifest::Parse(std::string_view bytes) {
  if (bytes.size() > kMaxManifestBytes) return ResourceExhaustedError("manifest is larger than 16 MiB");
  Json j = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("manifest is not valid JSON");
  Reader top("top level");
  ARCA_RETURN_IF_ERROR(top.Object(j, {"schema", "name", "version", "publisher", "created", "license",
                                      "provenance", "files"}));
  std::string schema;
  ARCA_RETURN_IF_ERROR(top.String(j, "schema", true, &schema));
  if (schema != kManifestSchema) {
    return UnimplementedError("manifest schema \"" + schema + "\" is not supported (this build reads " +
                              std::string(kManifestSchema) + ")");
  }
  Manifest m;
  ARCA_RETURN_IF_ERROR(top.String(j, "name", true, &m.meta.name));
  ARCA_RETURN_IF_ERROR(top.String(j, "version", false, &m.meta.version));
  ARCA_RETURN_IF_ERROR(top.String(j, "publisher", false, &m.meta.publisher));
  ARCA_RETURN_IF_ERROR(top.String(j, "created", false, &m.meta.created));
  if (auto it = j.find("license"); it != j.end()) {
    Reader r("license");
    ARCA_RETURN_IF_ERROR(r.Object(*it, {"spdx", "file"}));
    ARCA_RETURN_IF_ERROR(r.String(*it, "spdx", true, &m.meta.license.spdx));
    ARCA_RETURN_IF_ERROR(r.String(*it, "file", false, &m.meta.license.file));
  }
  if (auto it = j.find("provenance"); it != j.end()) {
    Reader r("provenance");
    ARCA_RETURN_IF_ERROR(r.Object(*it, {"source", "revision", "base_models", "base_model_names", "datasets"}));
    Provenance& p = m.meta.provenance;
    ARCA_RETURN_IF_ERROR(r.String(*it, "source", false, &p.source));
    ARCA_RETURN_IF_ERROR(r.String(*it, "revision", false, &p.revision));
    const Json* arr;
    ARCA_RETURN_IF_ERROR(r.Array(*it, "base_models", kMaxListEntries, &arr));
    if (arr) {
      for (const Json& e : *arr) {
        if (!e.is_string()) return r.Bad("\"base_models\" entries must be strings");
        Result<Digest> d = Digest::Parse(e.get<std::string>());
        if (!d.ok()) return r.Bad("\"base_models\": " + std::string(d.status().message()));
        p.base_models.push_back(*d);
      }
    }
    ARCA_RETURN_IF_ERROR(r.Array(*it, "base_model_names", kMaxListEntries, &arr));
    if (arr) {
      for (const Json& e : *arr) {
        if (!e.is_string()) return r.Bad("\"base_model_names\" entries must be strings");
        p.base_model_names.push_back(e.get<std::string>());
      }
    }
    ARCA_RETURN_IF_ERROR(r.Array(*it, "datasets", kMaxListEntries, &arr));
    if (arr) {
      for (const Json& e : *arr) {
        if (!e.is_string()) return r.Bad("\"datasets\" entries must be strings");
        p.datasets.push_back(e.get<std::string>());
      }
    }
    if (p == Provenance{}) return r.Bad("is empty (omit it instead)");
  }
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return top.Bad("must have a \"files\" array");
  if (files->size() > kMaxManifestFiles) return ResourceExhaustedError("a bundle has at most 100000 files");
  m.files.reserve(files->size());
  for (size_t i = 0; i < files->size(); ++i) {
    const Json& f = (*files)[i];
    Reader r("files[" + std::to_string(i) + "]");
    ARCA_RETURN_IF_ERROR(r.Object(f, {"path", "size", "digest", "index", "media_type"}));
    ManifestFile mf;
    ARCA_RETURN_IF_ERROR(r.String(f, "path", true, &mf.path));
    ARCA_RETURN_IF_ERROR(r.String(f, "media_type", true, &mf.media_type));
    ARCA_RETURN_IF_ERROR(r.DigestField(f, "digest", &mf.digest));
    ARCA_RETURN_IF_ERROR(r.DigestField(f, "index", &mf.index));
    auto size = f.find("size");
    if (size == f.end() || !size->is_number_unsigned()) return r.Bad("\"size\" must be a non-negative integer");
    mf.size = size->get<uint64_t>();
    m.files.push_back(std::move(mf));
  }
  ARCA_RETURN_IF_ERROR(m.Validate());
  if (m.Canonical() != bytes) {
    return InvalidArgumentError("manifest is not in canonical form (sorted keys, no white space, minimal escapes)");
  }
  return m;
}

}  // namespace arca::format
