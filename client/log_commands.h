// The `arca` commands about a registry's transparency log: `audit` (fetch
// every entry, recompute the tree, check it against the signed checkpoint and
// against what this client saw before, print the history) and `proof` (write
// a self-contained proof file that `arca verify DIR --proof` checks offline).
// Exit codes as the other commands: 0 ok, 1 failure, 2 bad usage.
#ifndef ARCA_CLIENT_LOG_COMMANDS_H_
#define ARCA_CLIENT_LOG_COMMANDS_H_

#include <ostream>
#include <string>

#include "client/store_commands.h"
#include "client/trust.h"

namespace arca::client {

struct AuditOptions {
  std::string registry;         // HOST[:PORT]
  std::string log_key;          // a note verifier key; empty: the policy's "logs" keys
  std::string from_checkpoint;  // a signed checkpoint file the log must extend
  std::string ns;               // --namespace: only entries about this namespace
  std::string model;            // --model: only entries about this repository
};
int AuditCommand(const StoreOptions& so, const TrustOptions& trust, const AuditOptions& o, std::ostream& out,
                 std::ostream& err);

struct ProofOptions {
  std::string ref;
  std::string output;   // -o; empty: standard output
  std::string log_key;  // as for audit
};
int ProofCommand(const StoreOptions& so, const TrustOptions& trust, const ProofOptions& o, std::ostream& out,
                 std::ostream& err);

// The log keys to check with: `log_key` when set, else the policy's.
// FAILED_PRECONDITION saying how to get one when there are none.
Result<signing::LogPolicy> LogKeysFor(const TrustOptions& trust, const std::string& log_key);

}  // namespace arca::client

#endif  // ARCA_CLIENT_LOG_COMMANDS_H_
