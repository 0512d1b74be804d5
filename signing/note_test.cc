// Tests of signed notes and checkpoints: the golden note of Go's
// golang.org/x/mod/sumdb/note documentation (interop, byte for byte), verifier
// keys published by transparency-dev, round trips, tampering and hostile notes.
#include "signing/note.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/testing.h"
#include "signing/dsse.h"
#include "signing/keys.h"

namespace arca::signing {
namespace {

// From the package documentation of golang.org/x/mod/sumdb/note.
constexpr std::string_view kPeterSigner =  // "PRIVATE+KEY+<name>+<id>+" then this:
    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr std::string_view kPeterVkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kPeterText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr std::string_view kPeterLine =
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
constexpr std::string_view kEnochLine =
    "\xe2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

std::string PeterNote() { return std::string(kPeterText) + "\n" + std::string(kPeterLine); }

NoteVerifier PeterVerifier() {
  Result<NoteVerifier> v = ParseVerifierKey(kPeterVkey);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : NoteVerifier{};
}

KeyPair KeyFromSeedByte(uint8_t b) {
  std::array<uint8_t, 32> seed;
  seed.fill(b);
  return std::move(*KeyPairFromSeed(seed));
}

NoteVerifier VerifierOf(std::string name, NoteSignatureType type, const KeyPair& kp) {
  return NoteVerifier{std::move(name), type, kp.public_key};
}

// --- Interop with Go's sumdb/note --------------------------------------------

TEST(NoteGolden, PeterNeumannNoteOpens) {
  const NoteVerifier v = PeterVerifier();
  EXPECT_EQ(v.name, "PeterNeumann");
  EXPECT_EQ(v.type, NoteSignatureType::kEd25519);
  EXPECT_EQ(v.key_id(), 0xc74f20a3u);
  Result<Note> note = OpenNote(PeterNote(), {&v, 1});
  ASSERT_OK(note);
  EXPECT_EQ(note->text, kPeterText);
  ASSERT_EQ(note->verified.size(), 1u);
  EXPECT_EQ(note->verified[0].name, "PeterNeumann");
  EXPECT_EQ(note->verified[0].key_id, 0xc74f20a3u);
  EXPECT_EQ(note->verified[0].signature.size(), 64u);
  EXPECT_FALSE(note->verified[0].timestamp.has_value());
  EXPECT_TRUE(note->unverified.empty());
}

TEST(NoteGolden, SigningReproducesGoByteForByte) {
  // The Go signer key encodes 0x01 || the 32-byte Ed25519 seed.
  Result<std::string> raw = Base64Decode(kPeterSigner);
  ASSERT_OK(raw);
  ASSERT_EQ(raw->size(), 33u);
  ASSERT_EQ((*raw)[0], '\x01');
  Result<KeyPair> kp = KeyPairFromSeed(AsBytes(std::string_view(*raw).substr(1)));
  ASSERT_OK(kp);
  const NoteVerifier v = PeterVerifier();
  EXPECT_EQ(kp->public_key, v.key);
  Result<std::string> vkey = FormatVerifierKey(VerifierOf("PeterNeumann", v.type, *kp));
  ASSERT_OK(vkey);
  EXPECT_EQ(*vkey, kPeterVkey);
  Result<std::string> note = SignNote(kPeterText, "PeterNeumann", *kp);
  ASSERT_OK(note);
  EXPECT_EQ(*note, PeterNote());  // Ed25519 is deterministic
}

TEST(NoteGolden, DoublySignedNoteIgnoresTheUnknownKey) {
  const NoteVerifier v = PeterVerifier();
  const std::string both = PeterNote() + std::string(kEnochLine);
  Result<Note> note = OpenNote(both, {&v, 1});
  ASSERT_OK(note);
  ASSERT_EQ(note->verified.size(), 1u);
  ASSERT_EQ(note->unverified.size(), 1u);
  EXPECT_EQ(note->unverified[0].name, "EnochRoot");
  // With no known key at all the note is refused.
  Result<Note> none = OpenNote(both, {});
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(none.status().message().find("PeterNeumann+c74f20a3"), std::string::npos);
}

// --- Verifier keys --------------------------------------------------------------

TEST(NoteVerifierKey, PublishedKeysParse) {
  // transparency-dev/formats note tests: a signed-note Ed25519 key whose base64
  // contains '+', and a native cosignature/v1 key (type 0x04).
  for (std::string_view vkey :
       {std::string_view("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"),
        std::string_view("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"),
        kPeterVkey}) {
    Result<NoteVerifier> v = ParseVerifierKey(vkey);
    ASSERT_OK(v);
    Result<std::string> back = FormatVerifierKey(*v);
    ASSERT_OK(back);
    EXPECT_EQ(*back, vkey);
  }
  EXPECT_EQ(ParseVerifierKey("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
                ->type,
            NoteSignatureType::kCosignatureV1);
}

TEST(NoteVerifierKey, KeyIdIsTheSpecHash) {
  const KeyPair kp = KeyFromSeedByte(7);
  for (NoteSignatureType type : {NoteSignatureType::kEd25519, NoteSignatureType::kCosignatureV1}) {
    const NoteVerifier v = VerifierOf("arca.example/log", type, kp);
    const Digest d = Sha256Of(std::string("arca.example/log\n") + char(type) +
                              std::string(AsChars(kp.public_key.view())));
    const uint32_t want = uint32_t(d.bytes[0]) << 24 | uint32_t(d.bytes[1]) << 16 |
                          uint32_t(d.bytes[2]) << 8 | uint32_t(d.bytes[3]);
    EXPECT_EQ(v.key_id(), want);
  }
  EXPECT_NE(VerifierOf("a", NoteSignatureType::kEd25519, kp).key_id(),
            VerifierOf("a", NoteSignatureType::kCosignatureV1, kp).key_id());
}

TEST(NoteVerifierKey, MalformedKeysAreRefused) {
  const std::string key64 = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  struct Case {
    std::string vkey;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {"", StatusCode::kInvalidArgument},
      {"bananas.sigstore.dev+12344556", StatusCode::kInvalidArgument},
      {"rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!", StatusCode::kInvalidArgument},
      {"rekor.sigstore.dev+12345678+AwEB", StatusCode::kUnimplemented},  // type 3
      {"PeterNeumann+00000000+" + key64, StatusCode::kInvalidArgument},  // wrong id
      {"PeterNeumann+c74f20a+" + key64, StatusCode::kInvalidArgument},   // 7 digits
      {"PeterNeumann+c74f20a3x+" + key64, StatusCode::kInvalidArgument},
      {"PeterNeumann+NOT_A_NUMBER+" + key64, StatusCode::kInvalidArgument},
      {"Peter Neumann+c74f20a3+" + key64, StatusCode::kInvalidArgument},  // space
      {"+c74f20a3+" + key64, StatusCode::kInvalidArgument},               // empty name
      {"PeterNeumann+c74f20a3+", StatusCode::kInvalidArgument},           // no key
      {"PeterNeumann+c74f20a3+ARpc", StatusCode::kInvalidArgument},       // short key
      {"PeterNeumann+c74f20a3+" + key64 + "AAAA", StatusCode::kInvalidArgument},
      {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
       StatusCode::kInvalidArgument},  // non-canonical base64
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseVerifierKey(c.vkey).status().code(), c.code) << c.vkey;
  }
}

TEST(NoteVerifierKey, NameRules) {
  EXPECT_TRUE(IsValidKeyName("example.com/log42"));
  EXPECT_TRUE(IsValidKeyName("quasimodo.example/salvatore"));
  EXPECT_TRUE(IsValidKeyName("d\xc3\xa9j\xc3\xa0-vu"));  // UTF-8 letters
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName("a+b"));
  EXPECT_FALSE(IsValidKeyName("a b"));
  EXPECT_FALSE(IsValidKeyName("a\tb"));
  EXPECT_FALSE(IsValidKeyName("a\xc2\xa0z"));      // U+00A0 no-break space
  EXPECT_FALSE(IsValidKeyName("a\xe3\x80\x80z"));  // U+3000 ideographic space
  EXPECT_FALSE(IsValidKeyName("a\xe2\x80\xa8z"));  // U+2028 line separator
  EXPECT_FALSE(IsValidKeyName("a\x01z"));
  EXPECT_FALSE(IsValidKeyName("a\xffz"));      // not UTF-8
  EXPECT_FALSE(IsValidKeyName("a\xc0\xafz"));  // overlong '/'
}

// --- Round trips and tampering ---------------------------------------------------

TEST(NoteSign, RoundTripWithUnknownAndRepeatedLines) {
  const KeyPair alice = KeyFromSeedByte(1), bob = KeyFromSeedByte(2);
  const std::string text = "arca\nnotes may hold\n\nblank lines\n";
  Result<std::string> signed_by_alice = SignNote(text, "alice.example", alice);
  ASSERT_OK(signed_by_alice);
  Result<std::string> signed_by_bob = SignNote(text, "bob.example", bob);
  ASSERT_OK(signed_by_bob);
  const std::string bob_line = signed_by_bob->substr(text.size() + 1);
  const std::string both = *signed_by_alice + bob_line + bob_line;
  const NoteVerifier va = VerifierOf("alice.example", NoteSignatureType::kEd25519, alice);
  const NoteVerifier vb = VerifierOf("bob.example", NoteSignatureType::kEd25519, bob);

  Result<Note> only_alice = OpenNote(both, {&va, 1});
  ASSERT_OK(only_alice);
  EXPECT_EQ(only_alice->text, text);
  EXPECT_EQ(only_alice->verified.size(), 1u);
  EXPECT_EQ(only_alice->unverified.size(), 2u);

  const std::vector<NoteVerifier> known = {va, vb};
  Result<Note> all = OpenNote(both, known);
  ASSERT_OK(all);
  EXPECT_EQ(all->verified.size(), 2u);  // bob's repeated line counted once
  EXPECT_TRUE(all->unverified.empty());

  // Same name, other key: a different key id, so an unknown key.
  const NoteVerifier impostor = VerifierOf("alice.example", NoteSignatureType::kEd25519, bob);
  EXPECT_EQ(OpenNote(*signed_by_alice, {&impostor, 1}).status().code(),
            StatusCode::kUnauthenticated);
}

TEST(NoteSign, CosignatureCarriesItsTimestamp) {
  const KeyPair key = KeyFromSeedByte(3);
  const std::string text = "hello\n";
  Result<std::string> note = CosignNote(text, "w.example", key, 1727964367);
  ASSERT_OK(note);
  const NoteVerifier v = VerifierOf("w.example", NoteSignatureType::kCosignatureV1, key);
  Result<Note> opened = OpenNote(*note, {&v, 1});
  ASSERT_OK(opened);
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].timestamp, 1727964367u);

  // The signature is over the tlog-cosignature message, rebuilt here by hand.
  const std::string& sig = opened->verified[0].signature;
  ASSERT_EQ(sig.size(), 72u);
  EXPECT_EQ(sig.substr(0, 8), std::string("\x00\x00\x00\x00\x66\xfe\xa4\xcf", 8));
  EXPECT_OK(Verify(key.public_key, AsBytes("cosignature/v1\ntime 1727964367\nhello\n"),
                   AsBytes(std::string_view(sig).substr(8))));

  // The layout matches transparency-dev/formats: a published cosignature
  // (note_cosigv1_test.go) read as an unknown line gives its key id and time.
  const std::string foreign =
      *note +
      "\xe2\x80\x94 other.example ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/"
      "iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==\n";
  Result<Note> mixed = OpenNote(foreign, {&v, 1});
  ASSERT_OK(mixed);
  ASSERT_EQ(mixed->unverified.size(), 1u);
  EXPECT_EQ(mixed->unverified[0].key_id, 0x646846b9u);
  ASSERT_EQ(mixed->unverified[0].signature.size(), 72u);
  EXPECT_EQ(mixed->unverified[0].signature.substr(0, 8), sig.substr(0, 8));  // 1727964367

  // A type 0x01 verifier of the same key does not match (other key id).
  const NoteVerifier plain = VerifierOf("w.example", NoteSignatureType::kEd25519, key);
  EXPECT_EQ(OpenNote(*note, {&plain, 1}).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(CosignNote(text, "w.example", key, uint64_t{1} << 63).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(NoteSign, EveryTamperedByteIsRefused) {
  const KeyPair key = KeyFromSeedByte(4);
  const NoteVerifier v = VerifierOf("t.example", NoteSignatureType::kCosignatureV1, key);
  Result<std::string> note = CosignNote("origin\n42\nsome root\n", "t.example", key, 99);
  ASSERT_OK(note);
  ASSERT_OK(OpenNote(*note, {&v, 1}));
  for (size_t i = 0; i < note->size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x20}}) {
      std::string bad = *note;
      bad[i] = char(uint8_t(bad[i]) ^ mask);
      EXPECT_FALSE(OpenNote(bad, {&v, 1}).ok()) << "byte " << i << " mask " << int(mask);
    }
  }
}

TEST(NoteSign, BadSignatureByAKnownKeyRefusesTheNote) {
  const KeyPair a = KeyFromSeedByte(5), b = KeyFromSeedByte(6);
  const NoteVerifier va = VerifierOf("a", NoteSignatureType::kEd25519, a);
  const NoteVerifier vb = VerifierOf("b", NoteSignatureType::kEd25519, b);
  Result<std::string> good = SignNote("text\n", "a", a);
  ASSERT_OK(good);
  // b's line over other text: valid base64 and key id, wrong signature.
  Result<std::string> other = SignNote("other\n", "b", b);
  ASSERT_OK(other);
  const std::string forged = *good + other->substr(std::string("other\n\n").size());
  const std::vector<NoteVerifier> both = {va, vb};
  Result<Note> opened = OpenNote(forged, both);
  EXPECT_EQ(opened.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(opened.status().message().find("signature by b+"), std::string::npos)
      << opened.status();
  // Unknown to the verifier, the same line is just ignored.
  EXPECT_OK(OpenNote(forged, {&va, 1}));
}

TEST(NoteSign, RefusesBadInput) {
  const KeyPair key = KeyFromSeedByte(8);
  EXPECT_EQ(SignNote("no newline", "k", key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("", "k", key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("tab\there\n", "k", key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("ok\n", "bad name", key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("ok\n", "bad+name", key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote(std::string(kMaxNoteBytes, 'x') + "\n", "k", key).status().code(),
            StatusCode::kInvalidArgument);
}

// --- Hostile notes -----------------------------------------------------------------

TEST(NoteHostile, MalformedNotesAreInvalidArgument) {
  const NoteVerifier v = PeterVerifier();
  const std::string sig64 =
      "x08go/ZJkuBS9UG/"
      "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
  const std::string text(kPeterText);
  const std::vector<std::string> bad = {
      "",
      text,                                                 // no signatures
      text + "\n",                                          // blank line, nothing after
      text + "\n\xe2\x80\x94 PeterNeumann " + sig64,        // no final newline
      text + "\n- PeterNeumann " + sig64 + "\n",            // hyphen, not em dash
      text + "\n\xe2\x80\x94PeterNeumann " + sig64 + "\n",  // no space after dash
      text + "\n\xe2\x80\x94 PeterNeumann" + sig64 + "\n",  // no space before sig
      text + "\n\xe2\x80\x94 Peter+Neumann " + sig64 + "\n",
      text + "\n\xe2\x80\x94  " + sig64 + "\n",         // empty name
      text + "\n\xe2\x80\x94 PeterNeumann \n",          // empty signature
      text + "\n\xe2\x80\x94 PeterNeumann AAAAAA==\n",  // 4 bytes: key id only
      text + "\n\xe2\x80\x94 PeterNeumann " + sig64 + " \n",
      text + "\n\xe2\x80\x94 PeterNeumann " + sig64 + "\n\n",
      text + "\n" + std::string(kPeterLine) + "trailing\n",
      "a\rb\n\n" + std::string(kPeterLine),
      std::string("a\0b\n\n", 5) + std::string(kPeterLine),
      "a\xc0\xaf\n\n" + std::string(kPeterLine),          // overlong
      "a\xed\xa0\x80\n\n" + std::string(kPeterLine),      // surrogate
      "a\xf4\x90\x80\x80\n\n" + std::string(kPeterLine),  // past U+10FFFF
      "a\xe2\x80\n\n" + std::string(kPeterLine),          // truncated
      text + "\n" + std::string(kPeterLine.substr(0, kPeterLine.size() - 1)),
  };
  for (const std::string& note : bad) {
    Result<Note> r = OpenNote(note, {&v, 1});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << note << " -> " << r.status();
  }
}

TEST(NoteHostile, SizeAndSignatureCountAreBounded) {
  const NoteVerifier v = PeterVerifier();
  std::string many = PeterNote();
  for (size_t i = 1; i < kMaxNoteSignatures; ++i) many += kEnochLine;
  ASSERT_OK(OpenNote(many, {&v, 1}));  // exactly the limit
  many += kEnochLine;
  Result<Note> r = OpenNote(many, {&v, 1});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("100"), std::string::npos);

  std::string big(kMaxNoteBytes, 'x');
  big += "\n\n";
  big += kPeterLine;
  EXPECT_EQ(OpenNote(big, {&v, 1}).status().code(), StatusCode::kInvalidArgument);
}

TEST(NoteHostile, AmbiguousKnownKeysAreAConfigurationError) {
  // Two keys with one name and one 32-bit key id: a birthday search finds a
  // pair in about 2^16 tries (the id is a hint, not a security property).
  NoteVerifier v1{"x", NoteSignatureType::kEd25519, {}}, v2 = v1;
  std::unordered_map<uint32_t, PublicKey> seen;
  for (uint64_t i = 0;; ++i) {
    ASSERT_LT(i, 2000000u);
    PublicKey k;
    const std::string bytes = testing::RandomBytes(PublicKey::kSize, i);
    std::memcpy(k.bytes.data(), bytes.data(), PublicKey::kSize);
    v2.key = k;
    auto [it, inserted] = seen.emplace(v2.key_id(), k);
    if (!inserted && it->second != k) {
      v1.key = it->second;
      break;
    }
  }
  ASSERT_EQ(v1.key_id(), v2.key_id());
  const std::vector<NoteVerifier> ambiguous = {v1, v2};
  Result<Note> r = OpenNote(PeterNote(), ambiguous);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("two keys named"), std::string::npos) << r.status();
  // The same key listed twice is fine.
  const KeyPair a = KeyFromSeedByte(9);
  Result<std::string> note = SignNote("t\n", "x", a);
  ASSERT_OK(note);
  const NoteVerifier va = VerifierOf("x", NoteSignatureType::kEd25519, a);
  const std::vector<NoteVerifier> twice = {va, va};
  EXPECT_OK(OpenNote(*note, twice));
}

// --- Checkpoints -------------------------------------------------------------------

// The example of c2sp.org/tlog-checkpoint.
constexpr std::string_view kSpecCheckpoint =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

TEST(Checkpoint, SpecExampleRoundTrips) {
  Result<Checkpoint> cp = ParseCheckpoint(kSpecCheckpoint);
  ASSERT_OK(cp);
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(cp->root_hash.Hex(),
            "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62");
  EXPECT_TRUE(cp->extensions.empty());
  Result<std::string> text = FormatCheckpoint(*cp);
  ASSERT_OK(text);
  EXPECT_EQ(*text, kSpecCheckpoint);

  Checkpoint with_ext = *cp;
  with_ext.extensions = {"ext one", "\xc3\xa9t\xc3\xa9"};
  Result<std::string> t2 = FormatCheckpoint(with_ext);
  ASSERT_OK(t2);
  EXPECT_EQ(*t2, std::string(kSpecCheckpoint) + "ext one\n\xc3\xa9t\xc3\xa9\n");
  Result<Checkpoint> back = ParseCheckpoint(*t2);
  ASSERT_OK(back);
  EXPECT_EQ(*back, with_ext);
}

TEST(Checkpoint, StrictParsing) {
  const std::string root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
  auto body = [&](std::string size) { return "o\n" + size + "\n" + root + "\n"; };
  EXPECT_OK(ParseCheckpoint(body("0")));
  Result<Checkpoint> max = ParseCheckpoint(body("18446744073709551615"));
  ASSERT_OK(max);
  EXPECT_EQ(max->size, UINT64_MAX);
  const std::vector<std::string> bad = {
      "",
      body("007"),
      body("00"),
      body("+5"),
      body("-1"),
      body(" 5"),
      body("5 "),
      body("0x10"),
      body(""),
      body("18446744073709551616"),  // 2^64
      body("99999999999999999999"),
      body("184467440737095516150"),
      "o\n5\n" + root,           // no final newline
      "o\n5\n",                  // two lines
      "\n5\n" + root + "\n",     // empty origin
      "o\n5\n" + root + "\n\n",  // empty extension line
      "o\n5\n" + root + "\next\n\n",
      "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",  // 31 bytes
      "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",  // non-canonical
      "o\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",  // url alphabet
      "o\n5\n" + root + "\ntab\there\n",
      "o\r\n5\n" + root + "\n",
  };
  for (const std::string& text : bad) {
    EXPECT_EQ(ParseCheckpoint(text).status().code(), StatusCode::kInvalidArgument) << text;
  }
  Checkpoint cp;
  cp.origin = "o";
  cp.extensions = {""};
  EXPECT_FALSE(FormatCheckpoint(cp).ok());
  cp.extensions = {"a\nb"};
  EXPECT_FALSE(FormatCheckpoint(cp).ok());
  cp.extensions = {};
  cp.origin = "";
  EXPECT_FALSE(FormatCheckpoint(cp).ok());
  cp.origin = "two\nlines";
  EXPECT_FALSE(FormatCheckpoint(cp).ok());
}

TEST(Checkpoint, SignedByTheLogWithItsTime) {
  const KeyPair log_key = KeyFromSeedByte(10);
  Checkpoint cp;
  cp.origin = "arca.example/log";
  cp.size = 12345;
  cp.root_hash = Sha256Of(std::string_view("some root"));
  Result<std::string> note = SignCheckpoint(cp, log_key, 1700000000);
  ASSERT_OK(note);
  const NoteVerifier log =
      VerifierOf("arca.example/log", NoteSignatureType::kCosignatureV1, log_key);
  // What a client configures is the verifier key text.
  Result<std::string> vkey = FormatVerifierKey(log);
  ASSERT_OK(vkey);
  Result<NoteVerifier> configured = ParseVerifierKey(*vkey);
  ASSERT_OK(configured);

  Result<SignedCheckpoint> opened = OpenCheckpoint(*note, *configured);
  ASSERT_OK(opened);
  EXPECT_EQ(opened->checkpoint, cp);
  EXPECT_EQ(opened->timestamp, 1700000000u);
  EXPECT_EQ(opened->note.text, *FormatCheckpoint(cp));

  // A witness's cosignature appended later is carried along, unverified.
  const KeyPair witness = KeyFromSeedByte(11);
  Result<std::string> cosigned =
      CosignNote(opened->note.text, "witness.example", witness, 1700000005);
  ASSERT_OK(cosigned);
  const std::string with_witness = *note + cosigned->substr(opened->note.text.size() + 1);
  Result<SignedCheckpoint> again = OpenCheckpoint(with_witness, log);
  ASSERT_OK(again);
  EXPECT_EQ(again->timestamp, 1700000000u);
  EXPECT_EQ(again->note.unverified.size(), 1u);

  // The log's key under another name, or a plain Ed25519 verifier, is refused.
  const NoteVerifier other_name =
      VerifierOf("arca.example/other", NoteSignatureType::kCosignatureV1, log_key);
  EXPECT_EQ(OpenCheckpoint(*note, other_name).status().code(), StatusCode::kUnauthenticated);
  const NoteVerifier plain = VerifierOf("arca.example/log", NoteSignatureType::kEd25519, log_key);
  EXPECT_EQ(OpenCheckpoint(*note, plain).status().code(), StatusCode::kInvalidArgument);

  // A note by the right key whose origin is not the key's name is refused.
  Checkpoint renamed = cp;
  renamed.origin = "arca.example/elsewhere";
  Result<std::string> text = FormatCheckpoint(renamed);
  ASSERT_OK(text);
  Result<std::string> misnamed = CosignNote(*text, "arca.example/log", log_key, 1);
  ASSERT_OK(misnamed);
  EXPECT_EQ(OpenCheckpoint(*misnamed, log).status().code(), StatusCode::kUnauthenticated);

  // A tampered size or root is refused.
  std::string tampered = *note;
  tampered.replace(tampered.find("12345"), 5, "12346");
  EXPECT_EQ(OpenCheckpoint(tampered, log).status().code(), StatusCode::kUnauthenticated);

  // An origin that cannot be a key name cannot be signed by the log.
  Checkpoint spaced = cp;
  spaced.origin = "arca example";
  EXPECT_EQ(SignCheckpoint(spaced, log_key, 1).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::signing
