// The `arca` commands about keys, signatures and trust: key generate / list /
// export, sign, attestations, verify (a reference or a pulled directory) and
// lineage. Each prints its result on `out` (or one JSON object with --json),
// problems on `err`, and returns the exit code: 0 ok, 1 failure (or a policy
// not satisfied), 2 bad usage.
#ifndef ARCA_CLIENT_TRUST_COMMANDS_H_
#define ARCA_CLIENT_TRUST_COMMANDS_H_

#include <ostream>
#include <string>

#include "client/store_commands.h"
#include "client/trust.h"

namespace arca::client {

int KeyGenerateCommand(const StoreOptions& so, const KeyOptions& ko, const std::string& name, std::ostream& out,
                       std::ostream& err);
int KeyListCommand(const StoreOptions& so, const KeyOptions& ko, std::ostream& out, std::ostream& err);
int KeyExportCommand(const KeyOptions& ko, const std::string& name, std::ostream& out, std::ostream& err);

// `arca key announce|revoke KEY REGISTRY`: records a key event in the
// registry's transparency log (needs an admin token for every namespace).
struct KeyLogOptions {
  std::string key;       // a keyring name, a .key file, or (revoke only) a 64-hex key id
  std::string registry;  // HOST[:PORT]
  std::string reason;
  bool revoke = false;
};
int KeyLogCommand(const StoreOptions& so, const KeyOptions& ko, const KeyLogOptions& o, std::ostream& out,
                  std::ostream& err);

struct SignOptions {
  std::string ref;
  std::string key;
  KeyOptions keys;
  std::string predicate_type;  // empty: the publisher's bundle statement
  std::string predicate_file;  // with predicate_type: a JSON object
};
int SignCommand(const StoreOptions& so, const SignOptions& o, std::ostream& out, std::ostream& err);

int AttestationsCommand(const StoreOptions& so, const TrustOptions& trust, const std::string& ref,
                        std::ostream& out, std::ostream& err);

// TARGET is a pulled directory (checked offline: policy, then every byte) or
// a reference (the registry's manifest and attestations under the policy).
int VerifyCommand(const StoreOptions& so, const TrustOptions& trust, const std::string& target,
                  std::ostream& out, std::ostream& err);

int LineageCommand(const StoreOptions& so, const TrustOptions& trust, const std::string& ref, std::ostream& out,
                   std::ostream& err);

}  // namespace arca::client

#endif  // ARCA_CLIENT_TRUST_COMMANDS_H_
