#include "signing/dsse.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <type_traits>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/file.h"
#include "common/testing.h"
#include "signing/keyfile.h"
#include "signing/keys.h"
#include "signing/statement.h"
#include "signing/verify.h"

namespace arca::signing {
namespace {

template <size_t N>
std::array<uint8_t, N> FromHex(std::string_view hex) {
  std::array<uint8_t, N> out{};
  EXPECT_TRUE(HexDecode(hex, out)) << hex;
  return out;
}

constexpr std::string_view kType = "http://example.com/HelloWorld";

TEST(Pae, SpecExampleShape) {
  EXPECT_EQ(Pae(kType, "hello world"), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(Pae("", ""), "DSSEv1 0  0 ");
  // Lengths are bytes, not characters.
  EXPECT_EQ(Pae("t", "\xc3\xa9"), "DSSEv1 1 t 2 \xc3\xa9");
}

TEST(Base64, RoundTripAndStrict) {
  EXPECT_EQ(Base64Encode(AsBytes("")), "");
  EXPECT_EQ(Base64Encode(AsBytes("f")), "Zg==");
  EXPECT_EQ(Base64Encode(AsBytes("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(AsBytes("foo")), "Zm9v");
  EXPECT_EQ(Base64Encode(AsBytes("\xfb\xff")), "+/8=");
  ASSERT_OK(Base64Decode("Zm8="));
  EXPECT_EQ(*Base64Decode("Zm8="), "fo");
  EXPECT_EQ(*Base64Decode(""), "");
  EXPECT_FALSE(Base64Decode("Zm8").ok());     // no padding
  EXPECT_FALSE(Base64Decode("Zm9=").ok());    // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("-_8=").ok());    // url-safe alphabet
  EXPECT_FALSE(Base64Decode("Zm 8=").ok());   // whitespace
  EXPECT_FALSE(Base64Decode("Zm8=Zm8=").ok());  // padding in the middle
}

// RFC 8032 section 7.1, TEST 1.
TEST(Ed25519, Rfc8032Test1) {
  const auto seed = FromHex<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const auto pub = FromHex<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const auto want = FromHex<64>(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
      "b46bd25bf5f0595bbe24655141438e7a100b");
  Result<KeyPair> kp = KeyPairFromSeed(ByteView(seed));
  ASSERT_OK(kp);
  EXPECT_EQ(kp->public_key.bytes, pub);
  const Signature sig = Sign(kp->secret_key, ByteView());
  EXPECT_EQ(sig, want);
  EXPECT_OK(Verify(kp->public_key, ByteView(), ByteView(want)));
  Signature bad = want;
  bad[0] ^= 1;
  EXPECT_EQ(Verify(kp->public_key, ByteView(), ByteView(bad)).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(kp->public_key, AsBytes("x"), ByteView(want)).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(kp->public_key, ByteView(), ByteView(want).first(63)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyId(kp->public_key), Sha256Of(ByteView(pub)));
  EXPECT_EQ(KeyPairFromSeed(ByteView(seed).first(31)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Ed25519, SecretKeyMoveWipesSource) {
  KeyPair kp = GenerateKeyPair();
  SecretKey moved = std::move(kp.secret_key);
  const std::array<uint8_t, SecretKey::kSize> zero{};
  EXPECT_EQ(std::memcmp(kp.secret_key.data(), zero.data(), zero.size()), 0);  // NOLINT: use after move is the point
  EXPECT_NE(std::memcmp(moved.data(), zero.data(), zero.size()), 0);
  static_assert(!std::is_copy_constructible_v<SecretKey>);
  static_assert(!std::is_copy_assignable_v<SecretKey>);
}

class Envelope : public ::testing::Test {
 protected:
  KeyPair kp_ = GenerateKeyPair();
  std::string keyid_ = KeyId(kp_.public_key).Hex();
  TrustedKeys trusted_{{keyid_, kp_.public_key}};
  std::string env_ = SignEnvelope(kType, "hello world", kp_.secret_key, keyid_);

  nlohmann::json Json() const { return nlohmann::json::parse(env_); }
};

TEST_F(Envelope, SignThenVerify) {
  const nlohmann::json j = Json();
  EXPECT_EQ(j["payload"], "aGVsbG8gd29ybGQ=");
  EXPECT_EQ(j["payloadType"], kType);
  ASSERT_EQ(j["signatures"].size(), 1u);
  EXPECT_EQ(j["signatures"][0]["keyid"], keyid_);
  EXPECT_EQ(keyid_.size(), 64u);

  Result<VerifiedEnvelope> v = VerifyEnvelope(env_, kType, trusted_);
  ASSERT_OK(v);
  EXPECT_EQ(v->payload, "hello world");
  EXPECT_EQ(v->payload_type, kType);
  EXPECT_EQ(v->verified_keyids, std::vector<std::string>{keyid_});
}

TEST_F(Envelope, ReportsWhichKeysVerified) {
  KeyPair other = GenerateKeyPair();
  const std::string other_id = KeyId(other.public_key).Hex();
  KeyPair untrusted = GenerateKeyPair();
  nlohmann::json j = Json();
  const nlohmann::json second =
      nlohmann::json::parse(SignEnvelope(kType, "hello world", other.secret_key, other_id));
  const nlohmann::json third = nlohmann::json::parse(
      SignEnvelope(kType, "hello world", untrusted.secret_key, "untrusted"));
  j["signatures"].push_back(third["signatures"][0]);
  j["signatures"].push_back(second["signatures"][0]);
  TrustedKeys both = trusted_;
  both[other_id] = other.public_key;
  Result<VerifiedEnvelope> v = VerifyEnvelope(j.dump(), kType, both);
  ASSERT_OK(v);
  EXPECT_EQ(v->verified_keyids, (std::vector<std::string>{keyid_, other_id}));

  // Only the untrusted signature: fails, saying why.
  j["signatures"] = nlohmann::json::array({third["signatures"][0]});
  Result<VerifiedEnvelope> none = VerifyEnvelope(j.dump(), kType, both);
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(none.status().message().find("untrusted: not a trusted key"), std::string::npos)
      << none.status();

  // A trusted keyid with another key's signature does not count.
  TrustedKeys wrong{{keyid_, other.public_key}};
  Result<VerifiedEnvelope> w = VerifyEnvelope(env_, kType, wrong);
  EXPECT_EQ(w.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(Envelope, TamperedPayloadFails) {
  nlohmann::json j = Json();
  j["payload"] = Base64Encode(AsBytes("hello World"));
  Result<VerifiedEnvelope> v = VerifyEnvelope(j.dump(), kType, trusted_);
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("signature does not verify"), std::string::npos)
      << v.status();
}

TEST_F(Envelope, TamperedPayloadTypeFails) {
  nlohmann::json j = Json();
  j["payloadType"] = "http://example.com/Evil";
  // A caller expecting the original type: rejected on the type.
  Result<VerifiedEnvelope> v = VerifyEnvelope(j.dump(), kType, trusted_);
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("payloadType"), std::string::npos) << v.status();
  // A caller expecting the tampered type: the PAE binds the type, so the
  // signature does not verify.
  v = VerifyEnvelope(j.dump(), "http://example.com/Evil", trusted_);
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("signature does not verify"), std::string::npos)
      << v.status();
}

TEST_F(Envelope, TamperedSignatureFails) {
  nlohmann::json j = Json();
  std::string sig = *Base64Decode(j["signatures"][0]["sig"].get<std::string>());
  sig[10] ^= 0x01;
  j["signatures"][0]["sig"] = Base64Encode(AsBytes(sig));
  Result<VerifiedEnvelope> v = VerifyEnvelope(j.dump(), kType, trusted_);
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("signature does not verify"), std::string::npos)
      << v.status();

  j["signatures"][0]["sig"] = Base64Encode(AsBytes(sig.substr(0, 63)));
  v = VerifyEnvelope(j.dump(), kType, trusted_);
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(v.status().message().find("64 bytes"), std::string::npos) << v.status();
}

TEST_F(Envelope, MalformedIsInvalidArgument) {
  auto expect_invalid = [&](const std::string& text, std::string_view why) {
    Result<VerifiedEnvelope> v = VerifyEnvelope(text, kType, trusted_);
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << text << " -> " << v.status();
    EXPECT_NE(v.status().message().find(why), std::string::npos) << v.status();
  };
  expect_invalid("not json", "not valid JSON");
  expect_invalid("[]", "not a JSON object");
  for (const char* field : {"payload", "payloadType", "signatures"}) {
    nlohmann::json j = Json();
    j.erase(field);
    expect_invalid(j.dump(), std::string("missing \"") + field + "\"");
  }
  {
    nlohmann::json j = Json();
    j["payload"] = 5;
    expect_invalid(j.dump(), "\"payload\" is not a string");
  }
  {
    nlohmann::json j = Json();
    j["payloadType"] = nlohmann::json::array();
    expect_invalid(j.dump(), "\"payloadType\" is not a string");
  }
  {
    nlohmann::json j = Json();
    j["signatures"] = "x";
    expect_invalid(j.dump(), "\"signatures\" is not an array");
  }
  {
    nlohmann::json j = Json();
    j["signatures"] = nlohmann::json::array();
    expect_invalid(j.dump(), "\"signatures\" is empty");
  }
  {
    nlohmann::json j = Json();
    j["extra"] = 1;
    expect_invalid(j.dump(), "unknown field \"extra\"");
  }
  {
    nlohmann::json j = Json();
    j["payload"] = "aGVsbG8gd29ybGQ";  // padding dropped
    expect_invalid(j.dump(), "base64");
  }
  {
    nlohmann::json j = Json();
    j["signatures"][0]["sig"] = "!!!!";
    expect_invalid(j.dump(), "signatures[0] \"sig\"");
  }
  {
    nlohmann::json j = Json();
    j["signatures"][0].erase("keyid");
    expect_invalid(j.dump(), "signatures[0]: missing \"keyid\"");
  }
  {
    nlohmann::json j = Json();
    j["signatures"][0].erase("sig");
    expect_invalid(j.dump(), "signatures[0]: missing \"sig\"");
  }
  {
    nlohmann::json j = Json();
    j["signatures"][0]["keyid"] = std::string(kMaxKeyIdBytes + 1, 'a');
    expect_invalid(j.dump(), "longer than");
  }
  {
    nlohmann::json j = Json();
    j["payloadType"] = std::string(kMaxPayloadTypeBytes + 1, 't');
    expect_invalid(j.dump(), "longer than");
  }
  {
    nlohmann::json j = Json();
    for (size_t i = 0; i < kMaxSignatures; ++i) j["signatures"].push_back(j["signatures"][0]);
    expect_invalid(j.dump(), "more than");
  }
  expect_invalid(std::string(kMaxEnvelopeBytes + 1, ' '), "larger than");
}

// Runs `python` with `script` and the given arguments; returns the exit code
// and fills `output` with its combined stdout and stderr.
int RunPython(const std::string& python, const std::string& script_path,
              const std::string& dir, std::string* output) {
  const std::string cmd = python + " " + script_path + " " + dir + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string SystemPython() {
  // Debian's packages live under the system interpreter; a pyenv or venv
  // python3 earlier on PATH would not see them.
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

// Exit codes of the scripts below: 0 verified, 1 rejected, 77 not available.
constexpr int kPySkip = 77;

// With securesystemslib's own DSSE implementation (securesystemslib.dsse,
// securesystemslib >= 0.27): Envelope.from_dict + Envelope.verify with an
// SSlibKey for our Ed25519 public key.
constexpr const char* kEnvelopeScript = R"py(
import json, sys
try:
    import securesystemslib
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey
except ImportError as e:
    print("securesystemslib.dsse unavailable (securesystemslib %s): %s" % (
        getattr(sys.modules.get("securesystemslib"), "__version__", "not installed"), e))
    sys.exit(77)
d = sys.argv[1]
env = Envelope.from_dict(json.load(open(d + "/envelope.json")))
pub = open(d + "/public.hex").read().strip()
keyid = open(d + "/keyid").read().strip()
key = SSlibKey(keyid, "ed25519", "ed25519", {"public": pub})
ok = env.verify([key], 1)
print("verified by", sorted(ok.keys()), "payloadType", env.payload_type)
sys.exit(0 if keyid in ok and env.payload == b"hello world" else 1)
)py";

// Independent check with securesystemslib 0.26 (Debian bookworm), which has
// no DSSE module: the envelope is parsed with Python's json and base64, the
// PAE is rebuilt in Python from the spec, and the Ed25519 signature is
// checked by securesystemslib's SSlibKey (pynacl underneath).
constexpr const char* kKeyScript = R"py(
import base64, binascii, json, sys
try:
    import nacl, securesystemslib
    from securesystemslib.signer import SSlibKey, Signature
except ImportError as e:
    print("securesystemslib.signer / pynacl unavailable:", e)
    sys.exit(77)
d = sys.argv[1]
env = json.load(open(d + "/envelope.json"))
pub = open(d + "/public.hex").read().strip()
keyid = open(d + "/keyid").read().strip()
body = base64.b64decode(env["payload"], validate=True)
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(body), body)
key = SSlibKey(keyid, "ed25519", "ed25519", {"public": pub})
(s,) = env["signatures"]
assert s["keyid"] == keyid, s["keyid"]
sig = Signature(s["keyid"], binascii.hexlify(base64.b64decode(s["sig"], validate=True)).decode())
try:
    key.verify_signature(sig, pae)
except Exception as e:
    print("rejected:", type(e).__name__, e)
    sys.exit(1)
print("verified with securesystemslib", securesystemslib.__version__, "pynacl", nacl.__version__)
sys.exit(0 if body == b"hello world" else 1)
)py";

class Interop : public Envelope {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "envelope.json", env_);
    WriteFile(dir_ / "public.hex", HexEncode(kp_.public_key.view()));
    WriteFile(dir_ / "keyid", keyid_);
  }

  // Runs `script`; then, if it verified, tampers the payload and expects the
  // same script to reject it.
  void Check(const char* script) {
    WriteFile(dir_ / "check.py", script);
    std::string out;
    int rc = RunPython(SystemPython(), dir_ / "check.py", dir_.path(), &out);
    if (rc == kPySkip) GTEST_SKIP() << "python interop not available: " << out;
    ASSERT_EQ(rc, 0) << out;
    std::printf("  python: %s", out.c_str());

    nlohmann::json j = Json();
    j["payload"] = Base64Encode(AsBytes("hello World"));
    WriteFile(dir_ / "envelope.json", j.dump());
    out.clear();
    rc = RunPython(SystemPython(), dir_ / "check.py", dir_.path(), &out);
    EXPECT_NE(rc, 0) << "python accepted a tampered envelope: " << out;
  }

  testing::TempDir dir_;
};

TEST_F(Interop, SecuresystemslibDsseEnvelopeVerifies) { Check(kEnvelopeScript); }

TEST_F(Interop, SecuresystemslibEd25519KeyVerifiesPae) { Check(kKeyScript); }

// The other direction: securesystemslib makes the key and the signature
// (SSlibSigner over a PAE built in Python from the spec; securesystemslib
// 0.26 has no DSSE module to build the envelope) and Arca verifies the
// envelope. The envelope's keyid is our convention, SHA-256 of the raw
// public key, computed in Python with hashlib.
constexpr const char* kSignScript = R"py(
import base64, hashlib, json, sys
try:
    import nacl, securesystemslib
    from securesystemslib import keys
    from securesystemslib.signer import SSlibSigner
except ImportError as e:
    print("securesystemslib.signer / pynacl unavailable:", e)
    sys.exit(77)
d = sys.argv[1]
ptype = open(d + "/payload_type", "rb").read()
body = open(d + "/payload", "rb").read()
key = keys.generate_ed25519_key()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(body), body)
sig = SSlibSigner(key).sign(pae)
pub = bytes.fromhex(key["keyval"]["public"])
env = {"payload": base64.b64encode(body).decode(), "payloadType": ptype.decode(),
       "signatures": [{"keyid": hashlib.sha256(pub).hexdigest(),
                       "sig": base64.b64encode(bytes.fromhex(sig.signature)).decode()}]}
open(d + "/py_envelope.json", "w").write(json.dumps(env, indent=1))
open(d + "/py_public.hex", "w").write(pub.hex())
print("signed with securesystemslib", securesystemslib.__version__, "pynacl", nacl.__version__)
)py";

// Runs kSignScript over `payload_type` / `payload`; fills the envelope and
// the public key Python made. Returns false after recording a failure.
bool SignInPython(const testing::TempDir& dir, std::string_view payload_type, std::string_view payload,
                  std::string* envelope, PublicKey* pub) {
  WriteFile(dir / "payload_type", std::string(payload_type));
  WriteFile(dir / "payload", std::string(payload));
  WriteFile(dir / "sign.py", kSignScript);
  std::string out;
  const int rc = RunPython(SystemPython(), dir / "sign.py", dir.path(), &out);
  if (rc == kPySkip) {
    ADD_FAILURE() << "sign.py could not import its modules although the caller checked: " << out;
    return false;
  }
  EXPECT_EQ(rc, 0) << out;
  if (rc != 0) return false;
  std::printf("  python: %s", out.c_str());
  Result<std::string> env = ReadFile(dir / "py_envelope.json", 1 << 20);
  Result<std::string> hex = ReadFile(dir / "py_public.hex", 1 << 10);
  EXPECT_OK(env);
  EXPECT_OK(hex);
  if (!env.ok() || !hex.ok()) return false;
  *envelope = *env;
  EXPECT_TRUE(HexDecode(*hex, std::span<uint8_t>(pub->bytes)));
  return true;
}

bool PythonSignerAvailable(std::string* why) {
  const std::string cmd = SystemPython() +
                          " -c 'import nacl; from securesystemslib.signer import SSlibSigner' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) why->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(InteropFromPython, SecuresystemslibSignedEnvelopeVerifiesWithArca) {
  std::string why;
  if (!PythonSignerAvailable(&why)) GTEST_SKIP() << "securesystemslib signer / pynacl not importable: " << why;
  testing::TempDir dir;
  std::string env;
  PublicKey pub;
  ASSERT_TRUE(SignInPython(dir, kType, "hello from python", &env, &pub));
  const std::string keyid = KeyId(pub).Hex();
  EXPECT_EQ(nlohmann::json::parse(env)["signatures"][0]["keyid"], keyid);
  Result<VerifiedEnvelope> v = VerifyEnvelope(env, kType, TrustedKeys{{keyid, pub}});
  ASSERT_OK(v);
  EXPECT_EQ(v->payload, "hello from python");
  EXPECT_EQ(v->verified_keyids, std::vector<std::string>{keyid});

  // Tampering with what Python signed is caught by Arca.
  nlohmann::json j = nlohmann::json::parse(env);
  j["payload"] = Base64Encode(AsBytes("hello from pythoN"));
  EXPECT_EQ(VerifyEnvelope(j.dump(), kType, TrustedKeys{{keyid, pub}}).status().code(),
            StatusCode::kUnauthenticated);
  // A different key under the same keyid does not verify.
  const KeyPair other = GenerateKeyPair();
  EXPECT_EQ(VerifyEnvelope(env, kType, TrustedKeys{{keyid, other.public_key}}).status().code(),
            StatusCode::kUnauthenticated);
}

// The whole chain: a publisher statement for a bundle, signed in Python,
// passes Arca's verification engine under a policy that trusts the key.
TEST(InteropFromPython, SecuresystemslibSignedBundleStatementPassesPolicy) {
  std::string why;
  if (!PythonSignerAvailable(&why)) GTEST_SKIP() << "securesystemslib signer / pynacl not importable: " << why;
  format::Manifest m;
  m.meta.name = "acme/tiny";
  m.meta.license.spdx = "MIT";
  m.files.push_back({"model.gguf", 4, Sha256Of(std::string_view("gguf")), Sha256Of(std::string_view("i")),
                     "application/octet-stream"});
  ASSERT_OK(m.Validate());
  testing::TempDir dir;
  std::string env;
  PublicKey pub;
  ASSERT_TRUE(SignInPython(dir, kInTotoPayloadType, BundleStatement(m, m.BundleDigest()), &env, &pub));
  const nlohmann::json policy_json = {
      {"schema", "arca.policy.v1"},
      {"keys", {{"py", nlohmann::json::parse(ExportPublicKey("py", pub))}}},
      {"rules", nlohmann::json::array({{{"repositories", "acme/*"}, {"keys", {"py"}}}})}};
  Result<Policy> policy = ParsePolicy(policy_json.dump());
  ASSERT_OK(policy);
  Evidence ev{"acme/tiny", m.Canonical(), m.BundleDigest(), {env}};
  Result<VerifyReport> r = VerifyBundle(*policy, ev, {});
  ASSERT_OK(r);
  EXPECT_TRUE(r->ok) << FormatReport(*r);
  EXPECT_EQ(r->signers, std::vector<std::string>{"py"});
}

}  // namespace
}  // namespace arca::signing
