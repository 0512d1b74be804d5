#include "signing/keyfile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/testing.h"
#include "signing/dsse.h"

namespace arca::signing {
namespace {

using testing::TempDir;

std::string ReadText(const std::string& path) { return *ReadFile(path, 1 << 20); }

void WriteText(const std::string& path, const std::string& text, int mode = 0600) {
  ASSERT_OK(WriteFileAtomic(path, text, mode));
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

PassphraseFn Fixed(const std::string& p) {
  return [p](const KeyInfo&) -> Result<std::string> { return p; };
}

int Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return int(st.st_mode & 0777);
}

TEST(KeyFile, GenerateUnencryptedRoundTrip) {
  TempDir tmp;
  const std::string dir = tmp / "conf/keys";
  Result<KeyInfo> info = GenerateKey(dir, "alice", std::nullopt);
  ASSERT_OK(info);
  EXPECT_EQ(info->name, "alice");
  EXPECT_FALSE(info->encrypted);
  EXPECT_EQ(info->keyid, KeyId(info->pub));
  EXPECT_EQ(info->path, dir + "/alice.key");
  EXPECT_EQ(Mode(dir), 0700);
  EXPECT_EQ(Mode(info->path), 0600);

  const nlohmann::json j = nlohmann::json::parse(ReadText(info->path));
  EXPECT_EQ(j["schema"], "arca.secret-key.v1");
  EXPECT_EQ(j["encryption"], "none");
  EXPECT_EQ(j["keyid"], info->keyid.Hex());
  EXPECT_FALSE(j.contains("kdf"));

  Result<KeyPair> kp = LoadSecretKey(dir, "alice", nullptr);
  ASSERT_OK(kp);
  EXPECT_EQ(kp->public_key, info->pub);
  // The loaded key signs what the public key verifies.
  const Signature sig = Sign(kp->secret_key, AsBytes("m"));
  EXPECT_OK(Verify(info->pub, AsBytes("m"), ByteView(sig)));
  // By path too.
  ASSERT_OK(LoadSecretKey(info->path, "", nullptr));
  EXPECT_EQ(LoadSecretKey(info->path, "bob", nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyFile, EncryptedRoundTripAndWrongPassphrase) {
  TempDir tmp;
  Result<KeyInfo> info = GenerateKey(tmp.path(), "bob", std::string("correct horse"), FastKdfParams());
  ASSERT_OK(info);
  EXPECT_TRUE(info->encrypted);
  const std::string text = ReadText(info->path);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["encryption"], "argon2id13+xsalsa20poly1305");
  EXPECT_EQ(j["kdf"]["opslimit"], FastKdfParams().opslimit);
  EXPECT_EQ(Base64Decode(j["seed"].get<std::string>())->size(), 48u);  // seed + MAC
  EXPECT_EQ(Base64Decode(j["nonce"].get<std::string>())->size(), 24u);

  int asked = 0;
  Result<KeyPair> kp = LoadSecretKey(tmp.path(), "bob", [&](const KeyInfo& k) -> Result<std::string> {
    ++asked;
    EXPECT_EQ(k.name, "bob");
    return std::string("correct horse");
  });
  ASSERT_OK(kp);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(kp->public_key, info->pub);

  Result<KeyPair> wrong = LoadSecretKey(tmp.path(), "bob", Fixed("battery staple"));
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(wrong.status().message().find("wrong passphrase for key bob"), std::string::npos) << wrong.status();

  EXPECT_EQ(LoadSecretKey(tmp.path(), "bob", nullptr).status().code(), StatusCode::kFailedPrecondition);
  Result<KeyPair> cancelled = LoadSecretKey(tmp.path(), "bob", [](const KeyInfo&) -> Result<std::string> {
    return CancelledError("no terminal");
  });
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);

  // A flipped bit in the ciphertext is indistinguishable from a wrong passphrase.
  nlohmann::json bad = j;
  std::string box = *Base64Decode(j["seed"].get<std::string>());
  box[3] ^= 1;
  bad["seed"] = Base64Encode(AsBytes(box));
  WriteText(info->path, bad.dump());
  EXPECT_EQ(LoadSecretKey(tmp.path(), "bob", Fixed("correct horse")).status().code(),
            StatusCode::kUnauthenticated);
}

TEST(KeyFile, DefaultKdfIsModerate) {
  EXPECT_GE(DefaultKdfParams().memlimit, 256ull << 20);
  EXPECT_LE(DefaultKdfParams().memlimit, kMaxKdfMemlimit);
}

TEST(KeyFile, GroupReadableRefused) {
  TempDir tmp;
  Result<KeyInfo> info = GenerateKey(tmp.path(), "carol", std::nullopt);
  ASSERT_OK(info);
  ASSERT_EQ(::chmod(info->path.c_str(), 0644), 0);
  Result<KeyPair> kp = LoadSecretKey(tmp.path(), "carol", nullptr);
  EXPECT_EQ(kp.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(kp.status().message().find("chmod 600 " + info->path), std::string::npos) << kp.status();
  EXPECT_EQ(ListKeys(tmp.path()).status().code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(::chmod(info->path.c_str(), 0640), 0);
  EXPECT_EQ(FindKey(tmp.path(), "carol").status().code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(::chmod(info->path.c_str(), 0400), 0);
  EXPECT_OK(LoadSecretKey(tmp.path(), "carol", nullptr));
}

TEST(KeyFile, RefusesOverwriteAndBadNames) {
  TempDir tmp;
  Result<KeyInfo> first = GenerateKey(tmp.path(), "dave", std::nullopt);
  ASSERT_OK(first);
  const std::string before = ReadText(first->path);
  Result<KeyInfo> again = GenerateKey(tmp.path(), "dave", std::nullopt);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("dave"), std::string::npos);
  EXPECT_EQ(ReadText(first->path), before);

  for (const char* name : {"", ".hidden", "a/b", "../x", "sp ace", "é"}) {
    EXPECT_EQ(GenerateKey(tmp.path(), name, std::nullopt).status().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(GenerateKey(tmp.path(), std::string(65, 'a'), std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_OK(GenerateKey(tmp.path(), std::string(64, 'a'), std::nullopt));
  EXPECT_EQ(GenerateKey(tmp.path(), "e", std::string()).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyFile, ListAndFind) {
  TempDir tmp;
  EXPECT_TRUE(ListKeys(tmp / "missing")->empty());
  ASSERT_OK(GenerateKey(tmp.path(), "zed", std::nullopt));
  ASSERT_OK(GenerateKey(tmp.path(), "amy", std::string("pw"), FastKdfParams()));
  WriteText(tmp / "notes.txt", "not a key");
  Result<std::vector<KeyInfo>> keys = ListKeys(tmp.path());
  ASSERT_OK(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].name, "amy");
  EXPECT_TRUE((*keys)[0].encrypted);
  EXPECT_EQ((*keys)[1].name, "zed");
  Result<KeyInfo> zed = FindKey(tmp.path(), "zed");
  ASSERT_OK(zed);
  EXPECT_EQ(zed->keyid, (*keys)[1].keyid);
  Result<KeyInfo> none = FindKey(tmp.path(), "nobody");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("arca key generate nobody"), std::string::npos) << none.status();
  EXPECT_EQ(LoadSecretKey(tmp.path(), "nobody", nullptr).status().code(), StatusCode::kNotFound);

  // A key file renamed to another name is reported, not silently listed.
  ASSERT_EQ(::rename((tmp / "zed.key").c_str(), (tmp / "zoe.key").c_str()), 0);
  Result<std::vector<KeyInfo>> renamed = ListKeys(tmp.path());
  EXPECT_EQ(renamed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(renamed.status().message().find("zoe.key"), std::string::npos) << renamed.status();
}

TEST(KeyFile, HostileKeyFiles) {
  TempDir tmp;
  Result<KeyInfo> info = GenerateKey(tmp.path(), "eve", std::string("pw"), FastKdfParams());
  ASSERT_OK(info);
  const nlohmann::json good = nlohmann::json::parse(ReadText(info->path));
  auto expect = [&](nlohmann::json j, StatusCode code, std::string_view why) {
    WriteText(info->path, j.dump());
    Result<KeyPair> kp = LoadSecretKey(tmp.path(), "eve", Fixed("pw"));
    EXPECT_EQ(kp.status().code(), code) << j.dump() << " -> " << kp.status();
    EXPECT_NE(kp.status().message().find(why), std::string::npos) << kp.status();
    EXPECT_NE(kp.status().message().find(info->path), std::string::npos) << kp.status();
  };
  {
    nlohmann::json j = good;
    j["kdf"]["memlimit"] = uint64_t(4) << 30;  // would allocate 4 GiB
    expect(j, StatusCode::kInvalidArgument, "memlimit");
  }
  {
    nlohmann::json j = good;
    j["kdf"]["opslimit"] = uint64_t(1) << 31;
    expect(j, StatusCode::kInvalidArgument, "opslimit");
  }
  {
    nlohmann::json j = good;
    j["kdf"]["memlimit"] = -1;
    expect(j, StatusCode::kInvalidArgument, "memlimit");
  }
  {
    nlohmann::json j = good;
    j["extra"] = 1;
    expect(j, StatusCode::kInvalidArgument, "unknown field \"extra\"");
  }
  {
    nlohmann::json j = good;
    j["schema"] = "arca.secret-key.v9";
    expect(j, StatusCode::kInvalidArgument, "schema");
  }
  {
    nlohmann::json j = good;
    j["encryption"] = "rot13";
    expect(j, StatusCode::kInvalidArgument, "encryption");
  }
  {
    nlohmann::json j = good;
    j["keyid"] = std::string(64, '0');
    expect(j, StatusCode::kInvalidArgument, "keyid");
  }
  {
    nlohmann::json j = good;
    j["nonce"] = Base64Encode(AsBytes("short"));
    expect(j, StatusCode::kInvalidArgument, "nonce");
  }
  {
    nlohmann::json j = good;
    j.erase("kdf");
    expect(j, StatusCode::kInvalidArgument, "kdf");
  }
  {
    // Another key's public half: the decrypted seed does not match it.
    nlohmann::json j = good;
    KeyPair other = GenerateKeyPair();
    j["public"] = Base64Encode(other.public_key.view());
    j["keyid"] = KeyId(other.public_key).Hex();
    expect(j, StatusCode::kDataLoss, "does not match");
  }
  WriteText(info->path, "{\"schema\":");
  EXPECT_EQ(LoadSecretKey(tmp.path(), "eve", Fixed("pw")).status().code(), StatusCode::kInvalidArgument);
  WriteText(info->path, std::string(kMaxKeyFileBytes + 1, ' '));
  EXPECT_EQ(LoadSecretKey(tmp.path(), "eve", Fixed("pw")).status().code(), StatusCode::kInvalidArgument);
  // A symlink is not followed.
  ASSERT_OK(GenerateKey(tmp.path(), "real", std::nullopt));
  ASSERT_EQ(::symlink((tmp / "real.key").c_str(), (tmp / "link.key").c_str()), 0);
  EXPECT_EQ(LoadSecretKey(tmp / "link.key", "", nullptr).status().code(), StatusCode::kPermissionDenied);
}

TEST(PublicKeyJson, ExportParseRoundTrip) {
  KeyPair kp = GenerateKeyPair();
  KeyInfo info{"alice", kp.public_key, KeyId(kp.public_key), false, "/x"};
  const std::string line = ExportPublicKey(info);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line, "{\"algorithm\":\"ed25519\",\"keyid\":\"" + info.keyid.Hex() + "\",\"name\":\"alice\",\"public\":\"" +
                      Base64Encode(kp.public_key.view()) + "\"}");
  std::string name;
  Result<PublicKey> pub = ParsePublicKeyJson(line, &name);
  ASSERT_OK(pub);
  EXPECT_EQ(*pub, kp.public_key);
  EXPECT_EQ(name, "alice");
  // keyid and name are optional.
  ASSERT_OK(ParsePublicKeyJson("{\"algorithm\":\"ed25519\",\"public\":\"" + Base64Encode(kp.public_key.view()) + "\"}"));
}

TEST(PublicKeyJson, HostileInput) {
  KeyPair kp = GenerateKeyPair();
  const nlohmann::json good = nlohmann::json::parse(ExportPublicKey("a", kp.public_key));
  auto expect = [](const std::string& text, std::string_view why) {
    Result<PublicKey> p = ParsePublicKeyJson(text);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(p.status().message().find(why), std::string::npos) << p.status();
  };
  expect("", "not valid JSON");
  expect("[1]", "not a JSON object");
  {
    nlohmann::json j = good;
    j["keyid"] = KeyId(GenerateKeyPair().public_key).Hex();
    expect(j.dump(), "\"keyid\"");
  }
  {
    nlohmann::json j = good;
    j["algorithm"] = "rsa";
    expect(j.dump(), "only \"ed25519\"");
  }
  {
    nlohmann::json j = good;
    j["public"] = Base64Encode(AsBytes(std::string(31, 'x')));
    expect(j.dump(), "32 bytes");
  }
  {
    nlohmann::json j = good;
    j["public"] = 7;
    expect(j.dump(), "not a string");
  }
  {
    nlohmann::json j = good;
    j["comment"] = "hi";
    expect(j.dump(), "unknown field \"comment\"");
  }
  {
    nlohmann::json j = good;
    j.erase("public");
    expect(j.dump(), "missing \"public\"");
  }
  expect(std::string(kMaxKeyFileBytes + 1, ' '), "larger than");
}

TEST(DefaultPaths, KeyDirHonoursEnvironment) {
  const char* saved_keys = std::getenv("ARCA_KEYS_DIR");
  const char* saved_xdg = std::getenv("XDG_CONFIG_HOME");
  const std::string keys = saved_keys ? saved_keys : "", xdg = saved_xdg ? saved_xdg : "";
  ::setenv("ARCA_KEYS_DIR", "/k", 1);
  EXPECT_EQ(DefaultKeyDir(), "/k");
  ::unsetenv("ARCA_KEYS_DIR");
  ::setenv("XDG_CONFIG_HOME", "/x", 1);
  EXPECT_EQ(DefaultKeyDir(), "/x/arca/keys");
  ::unsetenv("XDG_CONFIG_HOME");
  EXPECT_NE(DefaultKeyDir().find("/.config/arca/keys"), std::string::npos);
  if (saved_keys) ::setenv("ARCA_KEYS_DIR", keys.c_str(), 1);
  if (saved_xdg) ::setenv("XDG_CONFIG_HOME", xdg.c_str(), 1);
}

}  // namespace
}  // namespace arca::signing
