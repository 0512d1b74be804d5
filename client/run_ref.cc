#include "client/run_ref.h"

#include <cstdlib>

#include "client/pull.h"
#include "client/reference.h"
#include "client/verify_dir.h"

namespace arca::client {

std::string DefaultModelsDir() {
  if (const char* d = std::getenv("ARCA_MODELS_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/arca/models";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.cache/arca/models";
}

Result<VerifiedModel> PrepareVerifiedModel(const StoreOptions& so, const TrustOptions& trust, const std::string& text,
                                           const std::string& model_file, std::ostream& err) {
  ARCA_ASSIGN_OR_RETURN(Reference ref, ParseReference(text, InsecureHttpFromEnv()));
  // One directory per registry and repository: running a newer tag rewrites
  // only the files that changed.
  std::string host = ref.registry.Address();
  for (char& c : host) {
    if (c == ':' || c == '/') c = '_';
  }
  PullOptions po;
  po.ref = text;
  po.out_dir = DefaultModelsDir() + "/" + host + "/" + ref.repository;
  po.trust = trust;
  StoreOptions quiet = so;
  quiet.json = false;
  ARCA_ASSIGN_OR_RETURN(PullReport pulled, PullBundle(quiet, po, err));

  const format::Manifest& m = pulled.trust.manifest;
  std::vector<const format::ManifestFile*> ggufs;
  for (const format::ManifestFile& f : m.files) {
    if (model_file.empty() ? f.media_type == "application/vnd.gguf" : f.path == model_file) ggufs.push_back(&f);
  }
  if (ggufs.empty()) {
    return NotFoundError(model_file.empty() ? ref.ToString() + " has no GGUF file (*.gguf) to run"
                                            : ref.ToString() + " has no file " + model_file);
  }
  if (ggufs.size() > 1) {
    std::string names;
    for (const auto* f : ggufs) names += " " + f->path;
    return InvalidArgumentError(ref.ToString() + " has several GGUF files (" + names.substr(1) +
                                "); choose one with --model-file PATH");
  }
  // The file is checked again, chunk by chunk, right before it is mapped.
  format::Manifest one = m;
  one.files = {*ggufs[0]};
  VerifyDirOptions vo;
  vo.threads = ThreadCount(so);
  ARCA_ASSIGN_OR_RETURN(DirCheck check, VerifyDirectory(po.out_dir, one, DirIndexSource(po.out_dir), vo));
  if (!check.files_ok()) {
    return DataLossError(po.out_dir + "/" + ggufs[0]->path + " does not match the signed manifest (" +
                         check.files[0].detail + "); run `arca pull --verify-existing " + text + " " +
                         po.out_dir + "` to repair it");
  }
  VerifiedModel vm;
  vm.path = po.out_dir + "/" + ggufs[0]->path;
  vm.label = ref.ToString() + " (" + pulled.digest.ToString() + "), " + ggufs[0]->path;
  if (pulled.trust.unsigned_accepted) {
    vm.label += ", UNSIGNED (accepted by --allow-unsigned or the policy); every byte checked against the manifest";
  } else {
    std::string who;
    for (const std::string& s : pulled.trust.signers) who += (who.empty() ? "" : ", ") + s;
    vm.label += ", signed by " + who + " (" + pulled.trust.rule_label + "); every byte verified";
  }
  return vm;
}

}  // namespace arca::client
