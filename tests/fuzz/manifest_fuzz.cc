// Fuzz target for Manifest::Parse (FORMAT.md §5). Any input must give a
// Status, never a crash or an exception. An input that parses must be the
// one valid byte form of its manifest: Canonical() gives back the input,
// Validate() passes, every path is a valid bundle path, and parsing the
// canonical bytes again gives the same manifest.
//
// Built with libFuzzer when ARCA_FUZZ=ON (clang), else linked with
// fuzz_driver.cc into a bounded smoke test that ctest runs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/manifest.h"
#include "format/path.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arca::format::Manifest;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  arca::Result<Manifest> m = Manifest::Parse(input);
  if (!m.ok()) return 0;

  const arca::Status valid = m->Validate();
  FUZZ_CHECK(valid.ok(), "parsed manifest fails Validate(): %s", valid.ToString().c_str());
  const std::string canonical = m->Canonical();
  FUZZ_CHECK(canonical == input, "Canonical() differs from the parsed bytes (got %zu bytes, want %zu)",
             canonical.size(), input.size());
  for (const arca::format::ManifestFile& f : m->files) {
    const arca::Status p = arca::format::ValidateBundlePath(f.path);
    FUZZ_CHECK(p.ok(), "parsed manifest has an invalid path: %s", p.ToString().c_str());
  }
  if (!m->meta.license.file.empty()) {
    FUZZ_CHECK(arca::format::ValidateBundlePath(m->meta.license.file).ok(), "licence file is not a valid path");
  }
  arca::Result<Manifest> again = Manifest::Parse(canonical);
  FUZZ_CHECK(again.ok(), "canonical bytes do not parse: %s", again.status().ToString().c_str());
  FUZZ_CHECK(*again == *m, "parse(canonical) gives a different manifest");
  FUZZ_CHECK(m->BundleDigest() == arca::Sha256Of(input), "bundle digest is not the SHA-256 of the bytes");
  return 0;
}
