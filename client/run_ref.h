// `arca run REF`: the client's half. Pulls the bundle through the normal,
// policy-enforcing pull into the per-repository model directory, picks its
// GGUF file, re-checks that file's every chunk against the signed manifest
// (the directory may have changed since it was written), and only then hands
// the path to the runtime, which maps it.
#ifndef ARCA_CLIENT_RUN_REF_H_
#define ARCA_CLIENT_RUN_REF_H_

#include <ostream>
#include <string>

#include "client/store_commands.h"
#include "client/trust.h"

namespace arca::client {

struct VerifiedModel {
  std::string path;   // the verified GGUF file
  std::string label;  // "acme/llama:v1 (sha256:...), model.gguf, signed by alice (policy rule 'acme/*')"
};

// $ARCA_MODELS_DIR, else $XDG_CACHE_HOME/arca/models, else ~/.cache/arca/models.
std::string DefaultModelsDir();

// `model_file` picks the file when the bundle has several GGUF files.
Result<VerifiedModel> PrepareVerifiedModel(const StoreOptions& so, const TrustOptions& trust, const std::string& ref,
                                           const std::string& model_file, std::ostream& err);

}  // namespace arca::client

#endif  // ARCA_CLIENT_RUN_REF_H_
