// arca-sbom-samples OUT_DIR: writes the SPDX and CycloneDX documents of every
// sample manifest (tests/sbom/sample_manifests.h) into OUT_DIR as
// NAME.spdx.json and NAME.cdx.json (removing those of an earlier run), for
// tests/sbom/validate_sbom.py to check against the official schemas. Exit 0 when all were written.
#include <filesystem>
#include <iostream>

#include "client/sbom.h"
#include "common/file.h"
#include "tests/sbom/sample_manifests.h"

int main(int argc, char** argv) {
  using namespace arca;
  if (argc != 2) {
    std::cerr << "usage: arca-sbom-samples OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  if (Status s = MakeDirs(dir); !s.ok()) {
    std::cerr << "arca-sbom-samples: " << s.ToString() << "\n";
    return 1;
  }
  // Documents of an earlier run go first, so that none is checked stale.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".spdx.json") || name.ends_with(".cdx.json"))
      std::filesystem::remove(e.path(), ec);
  }
  int written = 0;
  for (const sbom_samples::Sample& sample : sbom_samples::AllSamples()) {
    const Digest bundle = sample.manifest.BundleDigest();
    for (const bool spdx : {true, false}) {
      Result<std::string> doc =
          spdx ? client::SpdxDocument(sample.manifest, bundle, sample.ctx)
               : client::CycloneDxDocument(sample.manifest, bundle, sample.ctx);
      const std::string path = dir + "/" + sample.name + (spdx ? ".spdx.json" : ".cdx.json");
      Status s = doc.ok() ? WriteFileAtomic(path, *doc) : doc.status();
      if (!s.ok()) {
        std::cerr << "arca-sbom-samples: " << path << ": " << s.ToString() << "\n";
        return 1;
      }
      ++written;
    }
  }
  std::cout << "wrote " << written << " documents to " << dir << "\n";
  return 0;
}
