// Passphrases for encrypted secret keys, from the least to the most
// interactive source: $ARCA_KEY_PASSPHRASE (scripts, CI), a file named by
// --passphrase-file (its first line), or a prompt on the terminal with echo
// off. Nothing is read from a pipe on stdin, so a passphrase never ends up
// mixed with data.
#ifndef ARCA_CLIENT_PASSPHRASE_H_
#define ARCA_CLIENT_PASSPHRASE_H_

#include <optional>
#include <string>

#include "common/result.h"

namespace arca::client {

struct PassphraseSource {
  std::string file;  // --passphrase-file
};

// The passphrase to unlock key `name`: from the environment, the file, or a
// prompt on /dev/tty. kFailedPrecondition (saying how to provide one) when
// there is no source at all.
Result<std::string> PassphraseForKey(const PassphraseSource& src, const std::string& name);

// The passphrase for a new key: from the environment or the file; else, on a
// terminal, asked twice (an empty answer means "store the key unencrypted");
// else none (std::nullopt: unencrypted).
Result<std::optional<std::string>> PassphraseForNewKey(const PassphraseSource& src, const std::string& name);

// Overwrites the string's bytes before it is freed.
void WipeString(std::string& s);

}  // namespace arca::client

#endif  // ARCA_CLIENT_PASSPHRASE_H_
