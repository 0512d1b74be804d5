// Key files on disk: a keyring directory of Ed25519 secret keys, optionally
// encrypted with a passphrase, and the one-line public key form that
// `arca key export` prints and policies embed (SIGNING.md §1, §2).
//
// A keyring is a directory (created 0700) holding one file per key,
// `<name>.key`, mode 0600, written atomically (temporary file + rename):
//
//   {"schema":"arca.secret-key.v1", "name":"alice", "algorithm":"ed25519",
//    "keyid":"<64 hex>", "public":"<base64, 32 bytes>",
//    "encryption":"none" | "argon2id13+xsalsa20poly1305",
//    "kdf":{"opslimit":N,"memlimit":N,"salt":"<base64, 16 bytes>"},  (encrypted only)
//    "nonce":"<base64, 24 bytes>",                                   (encrypted only)
//    "seed":"<base64: the 32-byte Ed25519 seed, or its 48-byte secretbox>"}
//
// Encryption: key = crypto_pwhash(Argon2id v1.3, passphrase, salt, opslimit,
// memlimit), seed box = crypto_secretbox_easy(seed, nonce, key). Reading
// accepts any opslimit/memlimit in libsodium's range, but memlimit at most
// kMaxKdfMemlimit, so a hostile file cannot make us allocate without bound.
// Passphrases, derived keys and seeds are wiped with sodium_memzero after use.
//
// Thread-safety: free functions, no shared state; concurrent GenerateKey of
// the same name in one directory is resolved by the filesystem (one wins).
#ifndef ARCA_SIGNING_KEYFILE_H_
#define ARCA_SIGNING_KEYFILE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "signing/keys.h"

namespace arca::signing {

inline constexpr std::string_view kSecretKeySchema = "arca.secret-key.v1";
inline constexpr std::string_view kAlgorithmEd25519 = "ed25519";
inline constexpr std::string_view kEncryptionNone = "none";
inline constexpr std::string_view kEncryptionArgon2Secretbox = "argon2id13+xsalsa20poly1305";
inline constexpr std::string_view kSecretKeySuffix = ".key";
inline constexpr uint64_t kMaxKeyFileBytes = 64 << 10;
inline constexpr uint64_t kMaxKdfMemlimit = 1ull << 30;  // 1 GiB
inline constexpr size_t kMaxKeysInDir = 10000;

// Argon2id cost parameters. Defaults are libsodium's MODERATE (about 256 MiB
// and a second of CPU); tests may pass libsodium's MIN values.
struct KdfParams {
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;
};
KdfParams DefaultKdfParams();   // OPSLIMIT_MODERATE / MEMLIMIT_MODERATE
KdfParams FastKdfParams();      // OPSLIMIT_MIN / MEMLIMIT_MIN: tests only

// What can be known about a key without its passphrase.
struct KeyInfo {
  std::string name;
  PublicKey pub;
  Digest keyid;          // KeyId(pub)
  bool encrypted = false;
  std::string path;      // the secret key file
};

// The keyring directory: $ARCA_KEYS_DIR, else $XDG_CONFIG_HOME/arca/keys,
// else $HOME/.config/arca/keys (relative "./.config/arca/keys" if HOME is
// unset).
std::string DefaultKeyDir();

// A key name is 1..64 characters of [A-Za-z0-9._-], not starting with '.'.
// kInvalidArgument naming the rule otherwise.
Status ValidateKeyName(std::string_view name);

// Creates a fresh key pair as `dir`/<name>.key (creating `dir` 0700 if
// missing), encrypted when `passphrase` is set (an empty passphrase is
// kInvalidArgument). Never overwrites: kAlreadyExists if the name is taken.
Result<KeyInfo> GenerateKey(const std::string& dir, const std::string& name,
                            const std::optional<std::string>& passphrase);
Result<KeyInfo> GenerateKey(const std::string& dir, const std::string& name,
                            const std::optional<std::string>& passphrase, const KdfParams& kdf);

// Writes an existing key pair (its seed) as `dir`/<name>.key, as GenerateKey
// does. For imports and tests.
Result<KeyInfo> WriteSecretKey(const std::string& dir, const std::string& name,
                               const KeyPair& key, const std::optional<std::string>& passphrase,
                               const KdfParams& kdf);

// Reads the public part of a secret key file (no passphrase needed). Checks
// the schema strictly, that keyid = SHA-256(public), and refuses a file that
// group or others may read (kPermissionDenied, "chmod 600 FILE").
Result<KeyInfo> ReadKeyInfo(const std::string& path);

// Every key in `dir`, sorted by name. A missing directory is an empty list;
// a malformed key file is an error naming it.
Result<std::vector<KeyInfo>> ListKeys(const std::string& dir);

// The key `name` in `dir`; kNotFound naming the directory and `arca key
// generate` when absent.
Result<KeyInfo> FindKey(const std::string& dir, const std::string& name);

// Asked for the passphrase of an encrypted key. The returned string is wiped
// after use. Return an error (e.g. kCancelled) to abort loading.
using PassphraseFn = std::function<Result<std::string>(const KeyInfo&)>;

// Loads a secret key: `dir_or_path` is either a secret key file (then `name`
// may be empty; if set it must match the file's name) or a keyring directory
// holding <name>.key. Calls `passphrase` only for an encrypted key (a null
// function is then kFailedPrecondition). A wrong passphrase is
// kUnauthenticated "wrong passphrase for key NAME". The loaded pair is
// checked against the file's public key and keyid.
Result<KeyPair> LoadSecretKey(const std::string& dir_or_path, const std::string& name,
                              const PassphraseFn& passphrase);

// The public key as one line of canonical JSON, no trailing newline:
//   {"algorithm":"ed25519","keyid":"<hex>","name":"alice","public":"<base64>"}
std::string ExportPublicKey(const KeyInfo& info);
std::string ExportPublicKey(std::string_view name, const PublicKey& pub);

// Parses the public key form above. Fields: "algorithm" (must be "ed25519")
// and "public" required; "keyid" optional but, when present, must equal
// SHA-256(public) in hex; "name" optional (stored in *name if given). No
// other fields. kInvalidArgument naming the field otherwise.
Result<PublicKey> ParsePublicKeyJson(std::string_view text, std::string* name = nullptr);

}  // namespace arca::signing

#endif  // ARCA_SIGNING_KEYFILE_H_
