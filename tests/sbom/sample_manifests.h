// Manifests that exercise every field `arca sbom` maps, shared by the unit
// tests (client/sbom_test.cc) and the schema test's sample writer
// (tests/sbom/sbom_samples_main.cc): minimal; full (licence file, base models
// by digest and by name, datasets, publisher, upstream source); a compound
// licence expression with an exception; a LicenseRef- licence; no licence
// but lineage; and publisher-supplied text that is hostile to JSON writers
// (quotes, backslashes, control characters, non-ASCII).
#ifndef ARCA_TESTS_SBOM_SAMPLE_MANIFESTS_H_
#define ARCA_TESTS_SBOM_SAMPLE_MANIFESTS_H_

#include <algorithm>
#include <string>
#include <vector>

#include "client/sbom.h"
#include "common/digest.h"
#include "format/manifest.h"

namespace arca::sbom_samples {

struct Sample {
  std::string name;  // a file-name stem, e.g. "full"
  format::Manifest manifest;
  client::SbomContext ctx;
};

// A manifest file whose content digest and index id derive from `path`.
inline format::ManifestFile SampleFile(const std::string& path, uint64_t size) {
  format::ManifestFile f;
  f.path = path;
  f.size = size;
  f.digest = Sha256Of("content of " + path);
  f.index = Sha256Of("index of " + path);
  f.media_type = format::MediaTypeForPath(path);
  return f;
}

inline void SortFiles(format::Manifest* m) {
  std::sort(
      m->files.begin(), m->files.end(),
      [](const format::ManifestFile& a, const format::ManifestFile& b) { return a.path < b.path; });
}

inline format::Manifest MinimalManifest() {
  format::Manifest m;
  m.meta.name = "acme/minimal";
  m.files = {SampleFile("model.gguf", 1 << 20)};
  return m;
}

inline format::Manifest FullManifest() {
  format::Manifest m;
  m.meta.name = "acme/llama-3b-instruct";
  m.meta.version = "v1.2.0";
  m.meta.publisher = "Acme AI Lab";
  m.meta.created = "2026-01-15T09:30:00Z";
  m.meta.license = {"Apache-2.0", "LICENSE"};
  m.meta.provenance.source = "https://huggingface.co/acme/llama-3b-instruct";
  m.meta.provenance.revision = "0123456789abcdef0123456789abcdef01234567";
  m.meta.provenance.base_models = {Sha256Of(std::string("base bundle one")),
                                   Sha256Of(std::string("base bundle two"))};
  m.meta.provenance.base_model_names = {"meta-llama/Llama-3.2-3B"};
  m.meta.provenance.datasets = {"HuggingFaceFW/fineweb-edu", "open-web-math/open-web-math"};
  m.files = {SampleFile("LICENSE", 11357),
             SampleFile("README.md", 4200),
             SampleFile("config.json", 700),
             SampleFile("model-00001-of-00002.safetensors", 5u << 30),
             SampleFile("model-00002-of-00002.safetensors", 1u << 30),
             SampleFile("tokenizer.json", 9000000),
             SampleFile("tokenizer/tokenizer.model", 500000)};
  SortFiles(&m);
  return m;
}

// A registry context for FullManifest: reference, download location, signers.
inline client::SbomContext FullContext() {
  client::SbomContext ctx;
  ctx.reference = "registry.example.org/acme/llama-3b-instruct:v1.2.0";
  ctx.download_location =
      "https://registry.example.org:443/v1/objects/" + FullManifest().BundleDigest().ToString();
  ctx.signer_key_ids = {Sha256Of(std::string("publisher key")).ToString(),
                        Sha256Of(std::string("mirror key")).ToString()};
  return ctx;
}

inline format::Manifest ComplexLicenseManifest() {
  format::Manifest m;
  m.meta.name = "acme/mixed-licence";
  m.meta.version = "2";
  m.meta.license = {"Apache-2.0 AND (MIT OR GPL-2.0-only WITH Classpath-exception-2.0)",
                    "LICENSES.txt"};
  m.files = {SampleFile("LICENSES.txt", 30000), SampleFile("weights.gguf", 3u << 20)};
  SortFiles(&m);
  return m;
}

inline format::Manifest LicenseRefManifest() {
  format::Manifest m;
  m.meta.name = "acme/custom-licence";
  m.meta.publisher = "Acme";
  m.meta.license = {"LicenseRef-acme-model-license-1.0", "LICENSE.md"};
  m.files = {SampleFile("LICENSE.md", 2000), SampleFile("model.gguf", 1 << 24)};
  SortFiles(&m);
  return m;
}

inline format::Manifest NoLicenseManifest() {
  format::Manifest m;
  m.meta.name = "acme/unlicensed";
  m.meta.provenance.base_model_names = {"Qwen/Qwen2.5-0.5B", "mistralai/Mistral-7B-v0.1"};
  m.meta.provenance.datasets = {"private crawl 2025"};
  m.files = {SampleFile("config.json", 300), SampleFile("model.safetensors", 1 << 28)};
  SortFiles(&m);
  return m;
}

// Text a publisher controls, chosen to break a careless JSON writer.
inline const std::string& HostileText() {
  static const std::string kText =
      "Acme \"Labs\" \\ <script>alert(1)</script> \x01\x1b[31m\t\n\x7f"
      " caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\xa6\x99 \xe2\x80\xae";
  return kText;
}

inline format::Manifest HostileManifest() {
  format::Manifest m;
  m.meta.name = "acme/hostile";
  m.meta.version = "1.0 \"beta\"\n";
  m.meta.publisher = HostileText();
  m.meta.created = "2025-12-31T23:59:60Z";
  m.meta.license = {"MIT", ""};
  m.meta.provenance.source = "https://example.org/\"quoted\"?q=\x02";
  m.meta.provenance.revision = "\xe2\x80\x8b";
  m.meta.provenance.base_model_names = {HostileText(), "}],\"@graph\":[{"};
  m.meta.provenance.datasets = {HostileText(), "\",\"bomFormat\":\"evil"};
  m.files = {SampleFile("data/caf\xc3\xa9 \"x\".bin", 10), SampleFile("weights.GGUF", 20)};
  m.files[0].media_type = "Application/X-Weird; charset=\"x\"";
  SortFiles(&m);
  return m;
}

// Every sample, each with the context it is written with.
inline std::vector<Sample> AllSamples() {
  std::vector<Sample> out;
  out.push_back({"minimal", MinimalManifest(), {}});
  out.push_back({"full", FullManifest(), FullContext()});
  client::SbomContext offline;  // as from a pulled directory: no reference
  offline.timestamp = "2026-02-01T00:00:00Z";
  out.push_back({"full-offline", FullManifest(), offline});
  out.push_back({"complex-license", ComplexLicenseManifest(), {}});
  out.push_back({"licenseref", LicenseRefManifest(), {}});
  out.push_back({"no-license", NoLicenseManifest(), {}});
  client::SbomContext hostile;
  hostile.reference = "localhost:5000/acme/hostile:v1";
  hostile.download_location =
      "http://localhost:5000/v1/objects/" + HostileManifest().BundleDigest().ToString();
  out.push_back({"hostile", HostileManifest(), hostile});
  return out;
}

}  // namespace arca::sbom_samples

#endif  // ARCA_TESTS_SBOM_SAMPLE_MANIFESTS_H_
