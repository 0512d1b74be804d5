// Log entries: round trips of every type, a golden encoding, and strict
// refusal of every malformed input (truncation at each byte, trailing bytes,
// unknown versions, types and flags, bad strings, random bytes).
#include "signing/log_entry.h"

#include <gtest/gtest.h>

#include <random>

#include "common/testing.h"

namespace arca::signing {
namespace {

Digest D(char c) { return Sha256Of(std::string(1, c)); }

std::vector<LogEntry> Samples() {
  std::vector<LogEntry> v;
  v.push_back(PublishEntry(1700000000, "acme/llama", D('a')));
  v.push_back(PublishEntry(1700000000, "acme/llama", D('a'), {"5f0e", "77aa"}));
  v.push_back(AttestationEntry(1700000001, D('a'), D('e'), "urn:arca:predicate:bundle:v1", {"k1", "k2"}));
  v.push_back(AttestationEntry(1700000001, D('a'), D('f'), "https://slsa.dev/provenance/v1", {}));
  v.push_back(TagEntry(1700000002, "acme/llama", "v1", 1, D('a'), std::nullopt));
  v.push_back(TagEntry(1700000003, "acme/llama", "v1", 2, D('b'), D('a')));
  v.push_back(TagEntry(1700000004, "acme/llama", "v1", 3, std::nullopt, D('b')));
  LogEntry k;
  k.type = LogEntryType::kKey;
  k.key_action = KeyAction::kRevoked;
  k.key_id = D('k');
  k.name = "alice";
  k.reason = "laptop stolen";
  v.push_back(k);
  LogEntry m;
  m.type = LogEntryType::kMirror;
  m.upstream = "registry.example.org/log";
  m.upstream_size = 1234;
  m.upstream_root = D('r');
  m.repository = "qwen/qwen2.5";
  m.bundle = D('q');
  v.push_back(m);
  m.bundle.reset();
  m.repository.clear();
  v.push_back(m);
  return v;
}

TEST(LogEntryTest, EveryTypeRoundTrips) {
  for (const LogEntry& e : Samples()) {
    Result<std::string> bytes = e.Encode();
    ASSERT_OK(bytes);
    Result<LogEntry> back = LogEntry::Decode(*bytes);
    ASSERT_OK(back);
    EXPECT_EQ(*back, e) << DescribeLogEntry(e);
    EXPECT_EQ(*back->Encode(), *bytes);
    EXPECT_FALSE(DescribeLogEntry(e).empty());
    EXPECT_FALSE(LogEntryJson(e).empty());
  }
}

TEST(LogEntryTest, GoldenTagEncoding) {
  // version 1, type 3, time 2^32+1, "a/b", "v1", sequence 2, flags 3, digest, previous.
  Digest now = D('b'), before = D('a');
  std::string want("\x01\x03\x00\x00\x00\x01\x00\x00\x00\x01", 10);
  want += std::string("\x00\x03", 2) + "a/b" + std::string("\x00\x02", 2) + "v1";
  want += std::string("\x00\x00\x00\x00\x00\x00\x00\x02\x03", 9);
  want.append(reinterpret_cast<const char*>(now.bytes.data()), 32);
  want.append(reinterpret_cast<const char*>(before.bytes.data()), 32);
  Result<std::string> got = TagEntry((1ull << 32) + 1, "a/b", "v1", 2, now, before).Encode();
  ASSERT_OK(got);
  EXPECT_EQ(*got, want);
  EXPECT_EQ(DescribeLogEntry(*LogEntry::Decode(want)),
            "tag a/b:v1 #2 -> " + now.ToString() + " (was " + before.ToString() + ")");
}

TEST(LogEntryTest, TruncatedOrExtendedIsRefused) {
  for (const LogEntry& e : Samples()) {
    std::string bytes = *e.Encode();
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(LogEntry::Decode(bytes.substr(0, n)).ok()) << DescribeLogEntry(e) << " cut at " << n;
    }
    EXPECT_FALSE(LogEntry::Decode(bytes + '\0').ok());
  }
}

TEST(LogEntryTest, UnknownVersionTypeFlagsAreRefused) {
  std::string tag = *TagEntry(1, "a/b", "v1", 1, D('a'), std::nullopt).Encode();
  std::string bad = tag;
  bad[0] = 2;
  EXPECT_FALSE(LogEntry::Decode(bad).ok());
  bad = tag;
  bad[1] = 9;
  EXPECT_FALSE(LogEntry::Decode(bad).ok());
  bad = tag;
  bad[10 + 5 + 4 + 8] = 4;  // flags after time, "a/b", "v1", sequence
  EXPECT_FALSE(LogEntry::Decode(bad).ok());
  bad = tag;
  for (int i = 0; i < 8; ++i) bad[10 + 5 + 4 + i] = 0;  // sequence 0
  EXPECT_FALSE(LogEntry::Decode(bad).ok());
}

TEST(LogEntryTest, BadFieldsAreRefusedWhenWriting) {
  EXPECT_FALSE(PublishEntry(1, std::string(kMaxLogString + 1, 'a'), D('a')).Encode().ok());
  EXPECT_FALSE(PublishEntry(1, "a/b\n", D('a')).Encode().ok());
  EXPECT_FALSE(PublishEntry(1, "a/\xff", D('a')).Encode().ok());
  EXPECT_FALSE(TagEntry(1, "a/b", "v1", 0, D('a'), std::nullopt).Encode().ok());
  LogEntry p = PublishEntry(1, "a/b", D('a'));
  p.bundle.reset();
  EXPECT_FALSE(p.Encode().ok());
  EXPECT_FALSE(AttestationEntry(1, D('a'), D('e'), "t", std::vector<std::string>(kMaxLogKeyIds + 1, "k")).Encode().ok());
}

TEST(LogEntryTest, ControlCharactersInStoredBytesAreRefused) {
  std::string bytes = *PublishEntry(1, "a/b", D('a')).Encode();
  bytes[12] = '\x1b';  // the 'a' of "a/b"
  Result<LogEntry> e = LogEntry::Decode(bytes);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("control"), std::string_view::npos) << e.status().ToString();
}

TEST(LogEntryTest, RandomBytesNeverCrashAndAcceptedOnesAreCanonical) {
  std::mt19937_64 rng(7);
  std::vector<std::string> seeds;
  for (const LogEntry& e : Samples()) seeds.push_back(*e.Encode());
  for (int i = 0; i < 20000; ++i) {
    std::string b = seeds[rng() % seeds.size()];
    const int flips = 1 + int(rng() % 3);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = char(rng());
    if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
    Result<LogEntry> e = LogEntry::Decode(b);
    if (e.ok()) {
      Result<std::string> again = e->Encode();
      ASSERT_OK(again);
      EXPECT_EQ(*again, b);
    }
  }
}

}  // namespace
}  // namespace arca::signing
