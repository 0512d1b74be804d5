// Key files: the keyring directory, secret key encryption and the public key
// form (keyfile.h, SIGNING.md §1-2).
#include "signing/keyfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/file.h"
#include "signing/dsse.h"
#include "signing/internal/json.h"

namespace arca::signing {

using internal::Json;

namespace {

constexpr size_t kSaltSize = crypto_pwhash_SALTBYTES;
constexpr size_t kNonceSize = crypto_secretbox_NONCEBYTES;
constexpr size_t kBoxKeySize = crypto_secretbox_KEYBYTES;
constexpr size_t kBoxSize = SecretKey::kSeedSize + crypto_secretbox_MACBYTES;
// Argon2id passes: libsodium allows up to 2^32-1, which a hostile file could
// use to keep us busy for days; SENSITIVE is 4.
constexpr uint64_t kMaxKdfOpslimit = 64;

void EnsureSodium() {
  static const bool ok = [] {
    if (sodium_init() < 0) {
      std::fprintf(stderr, "sodium_init failed\n");
      std::abort();
    }
    return true;
  }();
  (void)ok;
}

// Zeroes a string's bytes before it is released.
struct Wiper {
  std::string* s;
  ~Wiper() {
    if (s != nullptr && !s->empty()) sodium_memzero(s->data(), s->size());
  }
};

template <size_t N>
struct WipedArray {
  std::array<uint8_t, N> bytes{};
  ~WipedArray() { sodium_memzero(bytes.data(), bytes.size()); }
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string KeyPath(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name) + std::string(kSecretKeySuffix);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Creates `dir` (and parents) with the last component 0700.
Status MakeKeyDir(const std::string& dir) {
  std::filesystem::path p(dir);
  if (p.has_parent_path() && !p.parent_path().empty()) {
    ARCA_RETURN_IF_ERROR(MakeDirs(p.parent_path().string()));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, "create key directory " + dir);
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat " + dir);
  if (!S_ISDIR(st.st_mode)) return FailedPreconditionError(dir + " exists and is not a directory");
  return Status::Ok();
}

// Writes `data` to `path` with mode 0600, atomically and never over an
// existing file: a temporary file is linked to the final name, which fails
// with EEXIST if the name is taken.
Status WriteNewFile0600(const std::string& path, std::string_view data) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "create " + tmp);
  UniqueFd owned(fd);
  Status s;
  if (::fchmod(fd, 0600) != 0) s = ErrnoToStatus(errno, "chmod 600 " + tmp);
  if (s.ok()) s = WriteAll(fd, AsBytes(data), tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
  owned.Reset();
  if (s.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    s = errno == EEXIST ? AlreadyExistsError(path + " already exists; not overwriting a key")
                        : ErrnoToStatus(errno, "link " + tmp + " to " + path);
  }
  ::unlink(tmp.c_str());
  if (!s.ok()) return s;
  return FsyncDir(std::filesystem::path(path).parent_path().string());
}

Status CheckKdfParams(uint64_t ops, uint64_t mem, std::string_view where) {
  if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > std::min<uint64_t>(crypto_pwhash_OPSLIMIT_MAX, kMaxKdfOpslimit)) {
    return InvalidArgumentError(std::string(where) + ": \"kdf\".\"opslimit\" " + std::to_string(ops) +
                                " is outside " + std::to_string(crypto_pwhash_OPSLIMIT_MIN) + ".." +
                                std::to_string(kMaxKdfOpslimit));
  }
  const uint64_t max_mem = std::min<uint64_t>(crypto_pwhash_MEMLIMIT_MAX, kMaxKdfMemlimit);
  if (mem < crypto_pwhash_MEMLIMIT_MIN || mem > max_mem) {
    return InvalidArgumentError(std::string(where) + ": \"kdf\".\"memlimit\" " + std::to_string(mem) +
                                " is outside " + std::to_string(crypto_pwhash_MEMLIMIT_MIN) + ".." +
                                std::to_string(max_mem) + " bytes");
  }
  return Status::Ok();
}

// Derives the secretbox key from a passphrase.
Status DeriveKey(std::string_view passphrase, const uint8_t* salt, const KdfParams& kdf,
                 uint8_t* key, std::string_view what) {
  EnsureSodium();
  if (crypto_pwhash(key, kBoxKeySize, passphrase.data(), passphrase.size(), salt, kdf.opslimit,
                    size_t(kdf.memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhaustedError(std::string(what) + ": Argon2id needs " +
                                  std::to_string(kdf.memlimit) + " bytes of memory and could not get them");
  }
  return Status::Ok();
}

struct ParsedKeyFile {
  KeyInfo info;
  KdfParams kdf;
  std::array<uint8_t, kSaltSize> salt{};
  std::array<uint8_t, kNonceSize> nonce{};
  std::string seed;  // decoded: the seed, or its secretbox; wiped by the owner
};

Status DecodeFixed(const std::string& b64, uint8_t* out, size_t size, std::string_view field,
                   std::string_view where) {
  Result<std::string> raw = Base64Decode(b64);
  if (!raw.ok()) return raw.status().WithContext(std::string(where) + ": \"" + std::string(field) + "\"");
  if (raw->size() != size) {
    return InvalidArgumentError(std::string(where) + ": \"" + std::string(field) + "\" must be " +
                                std::to_string(size) + " bytes, got " + std::to_string(raw->size()));
  }
  std::memcpy(out, raw->data(), size);
  sodium_memzero(raw->data(), raw->size());
  return Status::Ok();
}

// Reads and strictly parses a secret key file, refusing one that group or
// others can read.
Result<ParsedKeyFile> ReadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError("no key file " + path);
    if (errno == ELOOP) return PermissionDeniedError(path + " is a symlink; key files must be regular files");
    return ErrnoToStatus(errno, "open key file " + path);
  }
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", unsigned(st.st_mode & 0777));
    return PermissionDeniedError("secret key file " + path + " has mode " + mode +
                                 ": others may read it; run `chmod 600 " + path +
                                 "` (and consider the key compromised if others did)");
  }
  if (uint64_t(st.st_size) > kMaxKeyFileBytes) {
    return InvalidArgumentError("key file " + path + " is " + std::to_string(st.st_size) +
                                " bytes, over the limit of " + std::to_string(kMaxKeyFileBytes));
  }
  std::string text(size_t(st.st_size), '\0');
  Wiper wipe_text{&text};
  ARCA_RETURN_IF_ERROR(PreadAll(fd, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size()), 0, path));

  const std::string where = "key file " + path;
  ARCA_ASSIGN_OR_RETURN(Json j, internal::ParseObject(text, where));
  ARCA_RETURN_IF_ERROR(internal::OnlyFields(
      j, {"schema", "name", "algorithm", "keyid", "public", "encryption", "kdf", "nonce", "seed"}, where));
  ParsedKeyFile out;
  out.info.path = path;
  ARCA_ASSIGN_OR_RETURN(std::string schema, internal::RequiredString(j, "schema", 64, where));
  if (schema != kSecretKeySchema) {
    return InvalidArgumentError(where + ": \"schema\" is \"" + internal::Printable(schema) + "\", expected \"" +
                                std::string(kSecretKeySchema) + "\"");
  }
  ARCA_ASSIGN_OR_RETURN(out.info.name, internal::RequiredString(j, "name", 64, where));
  ARCA_RETURN_IF_ERROR(ValidateKeyName(out.info.name).WithContext(where));
  ARCA_ASSIGN_OR_RETURN(std::string algorithm, internal::RequiredString(j, "algorithm", 64, where));
  if (algorithm != kAlgorithmEd25519) {
    return InvalidArgumentError(where + ": \"algorithm\" \"" + internal::Printable(algorithm) +
                                "\" is not supported (only ed25519)");
  }
  ARCA_ASSIGN_OR_RETURN(std::string public_b64, internal::RequiredString(j, "public", 256, where));
  ARCA_ASSIGN_OR_RETURN(out.info.pub, internal::DecodePublicKey(public_b64, where));
  out.info.keyid = KeyId(out.info.pub);
  ARCA_ASSIGN_OR_RETURN(std::string keyid, internal::RequiredString(j, "keyid", 256, where));
  if (keyid != out.info.keyid.Hex()) {
    return InvalidArgumentError(where + ": \"keyid\" is not the SHA-256 of \"public\"; the file was altered");
  }
  ARCA_ASSIGN_OR_RETURN(std::string encryption, internal::RequiredString(j, "encryption", 64, where));
  ARCA_ASSIGN_OR_RETURN(std::string seed_b64, internal::RequiredString(j, "seed", 256, where));
  Wiper wipe_seed_b64{&seed_b64};
  if (encryption == kEncryptionNone) {
    if (j.contains("kdf") || j.contains("nonce")) {
      return InvalidArgumentError(where + ": \"kdf\" and \"nonce\" are only allowed when encrypted");
    }
    out.seed.resize(SecretKey::kSeedSize);
    ARCA_RETURN_IF_ERROR(DecodeFixed(seed_b64, reinterpret_cast<uint8_t*>(out.seed.data()),
                                     SecretKey::kSeedSize, "seed", where));
  } else if (encryption == kEncryptionArgon2Secretbox) {
    out.info.encrypted = true;
    auto kdf = j.find("kdf");
    if (kdf == j.end()) return InvalidArgumentError(where + ": missing \"kdf\" for an encrypted key");
    if (!kdf->is_object()) return InvalidArgumentError(where + ": \"kdf\" is not an object");
    const std::string kdf_where = where + ": \"kdf\"";
    ARCA_RETURN_IF_ERROR(internal::OnlyFields(*kdf, {"opslimit", "memlimit", "salt"}, kdf_where));
    ARCA_ASSIGN_OR_RETURN(out.kdf.opslimit, internal::RequiredUint(*kdf, "opslimit", kdf_where));
    ARCA_ASSIGN_OR_RETURN(out.kdf.memlimit, internal::RequiredUint(*kdf, "memlimit", kdf_where));
    ARCA_RETURN_IF_ERROR(CheckKdfParams(out.kdf.opslimit, out.kdf.memlimit, where));
    ARCA_ASSIGN_OR_RETURN(std::string salt, internal::RequiredString(*kdf, "salt", 64, kdf_where));
    ARCA_RETURN_IF_ERROR(DecodeFixed(salt, out.salt.data(), kSaltSize, "salt", kdf_where));
    ARCA_ASSIGN_OR_RETURN(std::string nonce, internal::RequiredString(j, "nonce", 64, where));
    ARCA_RETURN_IF_ERROR(DecodeFixed(nonce, out.nonce.data(), kNonceSize, "nonce", where));
    out.seed.resize(kBoxSize);
    ARCA_RETURN_IF_ERROR(DecodeFixed(seed_b64, reinterpret_cast<uint8_t*>(out.seed.data()), kBoxSize,
                                     "seed", where));
  } else {
    return InvalidArgumentError(where + ": \"encryption\" \"" + internal::Printable(encryption) +
                                "\" is not one of \"none\", \"" +
                                std::string(kEncryptionArgon2Secretbox) + "\"");
  }
  return out;
}

}  // namespace

KdfParams DefaultKdfParams() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}
KdfParams FastKdfParams() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

std::string DefaultKeyDir() {
  if (std::string d = Env("ARCA_KEYS_DIR"); !d.empty()) return d;
  if (std::string x = Env("XDG_CONFIG_HOME"); !x.empty()) return x + "/arca/keys";
  std::string home = Env("HOME");
  return (home.empty() ? std::string(".") : home) + "/.config/arca/keys";
}

Status ValidateKeyName(std::string_view name) {
  const auto ok_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  };
  if (name.empty() || name.size() > 64 || name[0] == '.' ||
      !std::all_of(name.begin(), name.end(), ok_char)) {
    return InvalidArgumentError("key name \"" + internal::Printable(name) +
                                "\" is not 1 to 64 characters of A-Z a-z 0-9 . _ - (not starting with '.')");
  }
  return Status::Ok();
}

Result<KeyInfo> WriteSecretKey(const std::string& dir, const std::string& name, const KeyPair& key,
                               const std::optional<std::string>& passphrase, const KdfParams& kdf) {
  ARCA_RETURN_IF_ERROR(ValidateKeyName(name));
  if (passphrase && passphrase->empty()) {
    return InvalidArgumentError("an empty passphrase is no protection; give one, or none for an unencrypted key");
  }
  const std::string path = KeyPath(dir, name);
  ARCA_RETURN_IF_ERROR(MakeKeyDir(dir));
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return AlreadyExistsError("key " + name + " already exists (" + path +
                              "); choose another name or remove the file first");
  }

  KeyInfo info;
  info.name = name;
  info.pub = key.public_key;
  info.keyid = KeyId(key.public_key);
  info.encrypted = passphrase.has_value();
  info.path = path;

  Json j = {{"schema", kSecretKeySchema},
            {"name", name},
            {"algorithm", kAlgorithmEd25519},
            {"keyid", info.keyid.Hex()},
            {"public", Base64Encode(key.public_key.view())}};
  const uint8_t* seed = key.secret_key.data();  // libsodium's form starts with the seed
  if (!passphrase) {
    j["encryption"] = kEncryptionNone;
    j["seed"] = Base64Encode(ByteView(seed, SecretKey::kSeedSize));
  } else {
    ARCA_RETURN_IF_ERROR(CheckKdfParams(kdf.opslimit, kdf.memlimit, "key " + name));
    EnsureSodium();
    std::array<uint8_t, kSaltSize> salt;
    std::array<uint8_t, kNonceSize> nonce;
    randombytes_buf(salt.data(), salt.size());
    randombytes_buf(nonce.data(), nonce.size());
    WipedArray<kBoxKeySize> box_key;
    ARCA_RETURN_IF_ERROR(DeriveKey(*passphrase, salt.data(), kdf, box_key.bytes.data(), "key " + name));
    std::array<uint8_t, kBoxSize> box;
    crypto_secretbox_easy(box.data(), seed, SecretKey::kSeedSize, nonce.data(), box_key.bytes.data());
    j["encryption"] = kEncryptionArgon2Secretbox;
    j["kdf"] = {{"opslimit", kdf.opslimit}, {"memlimit", kdf.memlimit},
                {"salt", Base64Encode(ByteView(salt))}};
    j["nonce"] = Base64Encode(ByteView(nonce));
    j["seed"] = Base64Encode(ByteView(box));
  }
  std::string text = j.dump() + "\n";
  Wiper wipe_text{&text};
  if (!passphrase) {
    // The JSON value holds the plain seed too; wipe it before it is freed.
    std::string& s = j["seed"].get_ref<std::string&>();
    sodium_memzero(s.data(), s.size());
  }
  ARCA_RETURN_IF_ERROR(WriteNewFile0600(path, text));
  return info;
}

Result<KeyInfo> GenerateKey(const std::string& dir, const std::string& name,
                            const std::optional<std::string>& passphrase, const KdfParams& kdf) {
  ARCA_RETURN_IF_ERROR(ValidateKeyName(name));
  KeyPair key = GenerateKeyPair();
  return WriteSecretKey(dir, name, key, passphrase, kdf);
}

Result<KeyInfo> GenerateKey(const std::string& dir, const std::string& name,
                            const std::optional<std::string>& passphrase) {
  return GenerateKey(dir, name, passphrase, DefaultKdfParams());
}

Result<KeyInfo> ReadKeyInfo(const std::string& path) {
  ARCA_ASSIGN_OR_RETURN(ParsedKeyFile parsed, ReadKeyFile(path));
  sodium_memzero(parsed.seed.data(), parsed.seed.size());
  return std::move(parsed.info);
}

Result<std::vector<KeyInfo>> ListKeys(const std::string& dir) {
  std::vector<KeyInfo> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return ErrnoToStatus(errno, "open key directory " + dir);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view file = e->d_name;
    if (file.empty() || file[0] == '.' || !EndsWith(file, kSecretKeySuffix)) continue;
    if (names.size() >= kMaxKeysInDir) {
      ::closedir(d);
      return ResourceExhaustedError("key directory " + dir + " holds more than " +
                                    std::to_string(kMaxKeysInDir) + " keys");
    }
    names.emplace_back(file.substr(0, file.size() - kSecretKeySuffix.size()));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = KeyPath(dir, name);
    ARCA_ASSIGN_OR_RETURN(KeyInfo info, ReadKeyInfo(path));
    if (info.name != name) {
      return InvalidArgumentError("key file " + path + " names key \"" + info.name +
                                  "\"; a key file must be called <name>.key");
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<KeyInfo> FindKey(const std::string& dir, const std::string& name) {
  ARCA_RETURN_IF_ERROR(ValidateKeyName(name));
  const std::string path = KeyPath(dir, name);
  Result<KeyInfo> info = ReadKeyInfo(path);
  if (info.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no key \"" + name + "\" in " + dir + "; create one with `arca key generate " +
                         name + "` or list them with `arca key list`");
  }
  if (info.ok() && info->name != name) {
    return InvalidArgumentError("key file " + path + " names key \"" + info->name +
                                "\"; a key file must be called <name>.key");
  }
  return info;
}

Result<KeyPair> LoadSecretKey(const std::string& dir_or_path, const std::string& name,
                              const PassphraseFn& passphrase) {
  std::string path;
  struct stat st;
  if (::stat(dir_or_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    ARCA_RETURN_IF_ERROR(ValidateKeyName(name));
    path = KeyPath(dir_or_path, name);
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
      return NotFoundError("no key \"" + name + "\" in " + dir_or_path +
                           "; create one with `arca key generate " + name + "`");
    }
  } else {
    path = dir_or_path;
  }
  ARCA_ASSIGN_OR_RETURN(ParsedKeyFile parsed, ReadKeyFile(path));
  Wiper wipe_seed{&parsed.seed};
  if (!name.empty() && parsed.info.name != name) {
    return InvalidArgumentError("key file " + path + " holds key \"" + parsed.info.name +
                                "\", not \"" + name + "\"");
  }
  WipedArray<SecretKey::kSeedSize> seed;
  if (!parsed.info.encrypted) {
    std::memcpy(seed.bytes.data(), parsed.seed.data(), seed.bytes.size());
  } else {
    if (!passphrase) {
      return FailedPreconditionError("key " + parsed.info.name + " is encrypted and no passphrase can be asked for");
    }
    Result<std::string> pass = passphrase(parsed.info);
    if (!pass.ok()) return pass.status().WithContext("passphrase for key " + parsed.info.name);
    std::string pass_text = std::move(pass).value();
    Wiper wipe_pass{&pass_text};
    WipedArray<kBoxKeySize> box_key;
    ARCA_RETURN_IF_ERROR(DeriveKey(pass_text, parsed.salt.data(), parsed.kdf, box_key.bytes.data(),
                                   "key file " + path));
    if (crypto_secretbox_open_easy(seed.bytes.data(),
                                   reinterpret_cast<const uint8_t*>(parsed.seed.data()),
                                   parsed.seed.size(), parsed.nonce.data(), box_key.bytes.data()) != 0) {
      return UnauthenticatedError("wrong passphrase for key " + parsed.info.name + " (" + path + ")");
    }
  }
  ARCA_ASSIGN_OR_RETURN(KeyPair pair, KeyPairFromSeed(ByteView(seed.bytes)));
  if (pair.public_key != parsed.info.pub) {
    return DataLossError("key file " + path + ": the seed does not match \"public\"; the file is corrupt");
  }
  return pair;
}

std::string ExportPublicKey(std::string_view name, const PublicKey& pub) {
  const Json j = {{"algorithm", kAlgorithmEd25519},
                  {"keyid", KeyId(pub).Hex()},
                  {"name", std::string(name)},
                  {"public", Base64Encode(pub.view())}};
  // A name from KeyInfo is ASCII; an arbitrary one must not make dump throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ExportPublicKey(const KeyInfo& info) { return ExportPublicKey(info.name, info.pub); }

Result<PublicKey> ParsePublicKeyJson(std::string_view text, std::string* name) {
  if (text.size() > kMaxKeyFileBytes) {
    return InvalidArgumentError("public key is larger than " + std::to_string(kMaxKeyFileBytes) + " bytes");
  }
  ARCA_ASSIGN_OR_RETURN(Json j, internal::ParseObject(text, "public key"));
  return internal::PublicKeyFromJson(j, "public key", name);
}

}  // namespace arca::signing
