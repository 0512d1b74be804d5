// Tests of the registry's transparency log. First the TransparencyLog alone:
// every root, inclusion proof and consistency proof it serves is checked
// against a slow RFC 6962 reference computed here from the entries the test
// expects (not from what the log stored), and against the signed
// checkpoint; tag numbering, lookups and reopening. Then the HTTP endpoints
// of docs/API.md "The transparency log" on a real server, checked the way a
// client checks them (decode the entry, verify its proof against a signed
// checkpoint), hostile query parameters, and ReconcileLog at start.
#include "registry/log.h"

#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/testing.h"
#include "registry/internal/attestation.h"
#include "registry/test_server.h"
#include "signing/dsse.h"
#include "signing/keys.h"
#include "signing/log_entry.h"
#include "signing/merkle.h"
#include "signing/note.h"

namespace arca::registry {
namespace {

namespace merkle = signing::merkle;
using ::arca::testing::TempDir;
using signing::LogEntry;

// ---------------------------------------------------------------------------
// The reference: RFC 6962 §2.1 with plain SHA-256, independent of merkle.cc.

Digest RefLeaf(std::string_view entry) { return Sha256Of(std::string(1, '\x00') + std::string(entry)); }

// MTH over leaf hashes, recursion and all.
Digest RefRoot(std::span<const Digest> leaves) {
  if (leaves.empty()) return Sha256Of(std::string_view());
  if (leaves.size() == 1) return leaves[0];
  const size_t k = std::bit_floor(leaves.size() - 1);
  std::string node(1, '\x01');
  node += AsChars(RefRoot(leaves.first(k)).view());
  node += AsChars(RefRoot(leaves.subspan(k)).view());
  return Sha256Of(node);
}

// What a log should hold after the appends a test made: the bytes of every
// entry, with the tag sequence numbers the log is expected to assign.
class ExpectedLog {
 public:
  void Add(std::span<const LogEntry> entries) {
    for (LogEntry e : entries) {
      if (e.type == signing::LogEntryType::kTag) e.sequence = ++sequences_[e.repository + ":" + e.tag];
      Result<std::string> bytes = e.Encode();
      ASSERT_OK(bytes);
      bytes_.push_back(*bytes);
      leaves_.push_back(RefLeaf(*bytes));
    }
  }
  uint64_t size() const { return bytes_.size(); }
  const std::string& bytes(uint64_t i) const { return bytes_[i]; }
  const Digest& leaf(uint64_t i) const { return leaves_[i]; }
  Digest Root(uint64_t size) const { return RefRoot(std::span<const Digest>(leaves_).first(size)); }

 private:
  std::vector<std::string> bytes_;
  std::vector<Digest> leaves_;
  std::map<std::string, uint64_t> sequences_;
};

// The i-th entry of the test logs: publishes, tag moves over a few tags and
// attestations, in turn; all distinct.
LogEntry SampleEntry(uint64_t i) {
  const std::string repository = "acme/model-" + std::to_string(i % 7);
  const Digest bundle = Sha256Of("bundle " + std::to_string(i));
  switch (i % 3) {
    case 0:
      return signing::PublishEntry(1000 + i, repository, bundle, {"key-" + std::to_string(i % 2)});
    case 1:
      return signing::TagEntry(1000 + i, repository, "v" + std::to_string(i % 5), 0, bundle, std::nullopt);
    default:
      return signing::AttestationEntry(1000 + i, bundle, Sha256Of("envelope " + std::to_string(i)),
                                       "https://arca.dev/approval/v1", {"key-0"});
  }
}

std::vector<LogEntry> SampleEntries(uint64_t first, uint64_t n) {
  std::vector<LogEntry> out;
  for (uint64_t i = first; i < first + n; ++i) out.push_back(SampleEntry(i));
  return out;
}

std::unique_ptr<TransparencyLog> OpenLog(const std::string& dir, const std::string& origin = "test.example/log") {
  Result<std::unique_ptr<TransparencyLog>> log = TransparencyLog::Open(dir, origin);
  EXPECT_OK(log);
  return log.ok() ? std::move(*log) : nullptr;
}

// The log's current checkpoint, opened with its own verifier key.
signing::SignedCheckpoint OpenedCheckpoint(const TransparencyLog& log) {
  Result<signing::NoteVerifier> v = signing::ParseVerifierKey(log.verifier_key());
  EXPECT_OK(v);
  if (!v.ok()) return {};
  Result<signing::SignedCheckpoint> cp = signing::OpenCheckpoint(log.checkpoint(), *v);
  EXPECT_OK(cp);
  return cp.ok() ? *cp : signing::SignedCheckpoint{};
}

// Checks size, every entry, the root and the checkpoint of `log` against
// `want`.
void ExpectMatches(const TransparencyLog& log, const ExpectedLog& want) {
  ASSERT_EQ(log.size(), want.size());
  const Digest root = want.Root(want.size());
  Result<Digest> got = log.Root(want.size());
  ASSERT_OK(got);
  EXPECT_EQ(*got, root);
  signing::SignedCheckpoint cp = OpenedCheckpoint(log);
  EXPECT_EQ(cp.checkpoint.origin, log.origin());
  EXPECT_EQ(cp.checkpoint.size, want.size());
  EXPECT_EQ(cp.checkpoint.root_hash, root);
  EXPECT_TRUE(cp.checkpoint.extensions.empty());  // LOG.md §6
  for (uint64_t start = 0; start < want.size(); start += 100) {
    Result<std::vector<std::string>> page = log.Entries(start, start + 100);
    ASSERT_OK(page);
    ASSERT_EQ(page->size(), std::min<uint64_t>(100, want.size() - start));
    for (size_t i = 0; i < page->size(); ++i) ASSERT_EQ((*page)[i], want.bytes(start + i)) << start + i;
  }
}

void ExpectInclusion(const TransparencyLog& log, const ExpectedLog& want, uint64_t index, uint64_t size,
                     const Digest& root) {
  Result<std::vector<Digest>> proof = log.InclusionProof(index, size);
  ASSERT_OK(proof);
  const Status ok = merkle::VerifyInclusion(want.leaf(index), index, size, *proof, root);
  EXPECT_TRUE(ok.ok()) << index << " in " << size << ": " << ok.ToString();
}

void ExpectConsistency(const TransparencyLog& log, const ExpectedLog& want, uint64_t size1, uint64_t size2) {
  Result<std::vector<Digest>> proof = log.ConsistencyProof(size1, size2);
  ASSERT_OK(proof);
  const Status ok = merkle::VerifyConsistency(size1, size2, *proof, want.Root(size1), want.Root(size2));
  EXPECT_TRUE(ok.ok()) << size1 << " -> " << size2 << ": " << ok.ToString();
}

TEST(TransparencyLogTest, EmptyLogSignsTheEmptyTree) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  EXPECT_EQ(log->size(), 0u);
  EXPECT_EQ(log->origin(), "test.example/log");
  signing::SignedCheckpoint cp = OpenedCheckpoint(*log);
  EXPECT_EQ(cp.checkpoint.size, 0u);
  EXPECT_EQ(cp.checkpoint.root_hash, merkle::EmptyRoot());
  EXPECT_EQ(log->Entry(0).status().code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(log->Entries(0, 10).ok());
  EXPECT_FALSE(log->InclusionProof(0, 1).ok());
}

TEST(TransparencyLogTest, AppendsMatchTheReferenceTree) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  ExpectedLog want;
  // One at a time, each append signing the tree it makes (at times after the
  // empty tree's checkpoint, signed at Open).
  const uint64_t t0 = uint64_t(::time(nullptr)) + 1000;
  for (uint64_t i = 0; i < 70; ++i) {
    std::vector<LogEntry> one = SampleEntries(i, 1);
    Result<uint64_t> first = log->Append(one, t0 + i);
    ASSERT_OK(first);
    EXPECT_EQ(*first, i);
    want.Add(one);
    ASSERT_EQ(log->size(), i + 1);
    signing::SignedCheckpoint cp = OpenedCheckpoint(*log);
    EXPECT_EQ(cp.checkpoint.size, i + 1);
    EXPECT_EQ(cp.checkpoint.root_hash, want.Root(i + 1));
    EXPECT_EQ(cp.timestamp, t0 + i);
  }
  ASSERT_NO_FATAL_FAILURE(ExpectMatches(*log, want));
  // Every leaf of every tree up to 70.
  for (uint64_t n = 1; n <= 70; ++n) {
    const Digest root = want.Root(n);
    for (uint64_t i = 0; i < n; ++i) ASSERT_NO_FATAL_FAILURE(ExpectInclusion(*log, want, i, n, root));
  }
  // Then in batches, across several perfect-subtree boundaries.
  for (uint64_t n : {1, 5, 58, 200, 3, 1000, 1}) {
    std::vector<LogEntry> batch = SampleEntries(want.size(), n);
    Result<uint64_t> first = log->Append(batch, t0 + 100);
    ASSERT_OK(first);
    EXPECT_EQ(*first, want.size());
    want.Add(batch);
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(*log, want));
  }
  // Samples beyond: random leaves of random trees, and consistency between
  // every pair of small trees and random pairs of large ones.
  std::mt19937_64 rng(7);
  for (int k = 0; k < 300; ++k) {
    const uint64_t n = 71 + rng() % (want.size() - 70), i = rng() % n;
    ASSERT_NO_FATAL_FAILURE(ExpectInclusion(*log, want, i, n, want.Root(n)));
  }
  for (uint64_t m = 1; m <= 40; ++m) {
    for (uint64_t n = m; n <= 40; ++n) ASSERT_NO_FATAL_FAILURE(ExpectConsistency(*log, want, m, n));
  }
  for (int k = 0; k < 100; ++k) {
    uint64_t m = 1 + rng() % want.size(), n = 1 + rng() % want.size();
    ASSERT_NO_FATAL_FAILURE(ExpectConsistency(*log, want, std::min(m, n), std::max(m, n)));
  }
  // A proof is for one leaf only.
  const uint64_t n = want.size();
  Result<std::vector<Digest>> proof = log->InclusionProof(3, n);
  ASSERT_OK(proof);
  EXPECT_EQ(merkle::VerifyInclusion(want.leaf(4), 3, n, *proof, want.Root(n)).code(), StatusCode::kUnauthenticated);
  // Lookups by leaf hash, and refusals past the end.
  for (uint64_t i : {uint64_t{0}, uint64_t{69}, n - 1}) {
    EXPECT_EQ(*log->IndexOfLeaf(want.leaf(i)), i);
    EXPECT_EQ(*log->LeafHash(i), want.leaf(i));
  }
  EXPECT_EQ(log->IndexOfLeaf(Sha256Of(std::string_view("no leaf"))).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(log->InclusionProof(n, n).ok());
  EXPECT_FALSE(log->InclusionProof(0, n + 1).ok());
  EXPECT_FALSE(log->ConsistencyProof(1, n + 1).ok());
  EXPECT_FALSE(log->ConsistencyProof(3, 2).ok());
  EXPECT_FALSE(log->Root(n + 1).ok());
  EXPECT_EQ(log->Entries(n - 2, n + 50)->size(), 2u);  // end clipped
  EXPECT_EQ(log->Entries(n, n + 1).status().code(), StatusCode::kOutOfRange);
}

TEST(TransparencyLogTest, TagsAreNumberedPerTag) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  const Digest a = Sha256Of(std::string_view("a")), b = Sha256Of(std::string_view("b"));
  auto tag = [](const std::string& t, uint64_t seq, std::optional<Digest> d, std::optional<Digest> prev) {
    return signing::TagEntry(1, "acme/llama", t, seq, d, prev);
  };
  std::vector<LogEntry> entries = {signing::PublishEntry(1, "acme/llama", a), tag("v1", 0, a, std::nullopt),
                                   tag("v2", 0, a, std::nullopt)};
  ASSERT_OK(log->Append(entries, 1));
  // Two moves of one tag in one batch get consecutive numbers.
  entries = {signing::PublishEntry(2, "acme/llama", b), tag("v1", 0, b, a), tag("v1", 0, std::nullopt, b)};
  ASSERT_OK(log->Append(entries, 2));
  // An explicit number is checked: the next one is taken, any other refused,
  // and a refused batch appends nothing.
  ASSERT_OK(log->Append(std::vector<LogEntry>{tag("v1", 4, a, std::nullopt)}, 3));
  const uint64_t size = log->size();
  for (uint64_t wrong : {uint64_t{4}, uint64_t{6}, uint64_t{1}}) {
    Result<uint64_t> r = log->Append(std::vector<LogEntry>{tag("v2", 0, b, a), tag("v1", wrong, b, a)}, 4);
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << wrong;
  }
  EXPECT_EQ(log->size(), size);
  EXPECT_EQ(OpenedCheckpoint(*log).checkpoint.size, size);

  const std::vector<std::pair<std::string, uint64_t>> want = {{"v1", 1}, {"v2", 1}, {"v1", 2}, {"v1", 3}, {"v1", 4}};
  std::vector<std::pair<std::string, uint64_t>> got;
  Result<std::vector<std::string>> stored = log->Entries(0, size);
  ASSERT_OK(stored);
  for (const std::string& bytes : *stored) {
    Result<LogEntry> e = LogEntry::Decode(bytes);
    ASSERT_OK(e);
    if (e->type == signing::LogEntryType::kTag) got.emplace_back(e->tag, e->sequence);
  }
  EXPECT_EQ(got, want);
  std::optional<TagHead> v1 = log->Tag("acme/llama", "v1"), v2 = log->Tag("acme/llama", "v2");
  ASSERT_TRUE(v1 && v2);
  EXPECT_EQ(v1->sequence, 4u);
  EXPECT_EQ(v1->index, 6u);
  EXPECT_EQ(v2->sequence, 1u);
  EXPECT_EQ(v2->index, 2u);
  EXPECT_FALSE(log->Tag("acme/llama", "v3"));
  EXPECT_FALSE(log->Tag("acme/llam", "a:v1"));

  // A bundle's publish index is its first publish entry.
  EXPECT_EQ(log->PublishIndex(a), 0u);
  EXPECT_EQ(log->PublishIndex(b), 3u);
  ASSERT_OK(log->Append(std::vector<LogEntry>{signing::PublishEntry(9, "acme/llama", a)}, 9));
  EXPECT_EQ(log->PublishIndex(a), 0u);
  EXPECT_FALSE(log->PublishIndex(Sha256Of(std::string_view("c"))));
  // The same bytes twice: the leaf hash names the first.
  const LogEntry again = signing::PublishEntry(9, "acme/llama", a);
  ASSERT_OK(log->Append(std::vector<LogEntry>{again}, 9));
  EXPECT_EQ(*log->IndexOfLeaf(merkle::HashLeaf(*again.Encode())), size);
}

TEST(TransparencyLogTest, RefusesWhatCannotBeLogged) {
  TempDir dir;
  EXPECT_EQ(TransparencyLog::Open(dir.path(), "has space").status().code(), StatusCode::kInvalidArgument);
  auto log = OpenLog(dir / "ok");
  ASSERT_TRUE(log);
  ASSERT_OK(log->Append(SampleEntries(0, 3), 1));
  std::vector<LogEntry> bad = SampleEntries(3, 3);
  bad[1].repository = "acme/\x01";
  EXPECT_EQ(log->Append(bad, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log->size(), 3u);
  EXPECT_EQ(OpenedCheckpoint(*log).checkpoint.size, 3u);
}

// LOG.md §7: a checkpoint's time never goes back, even if the clock does.
TEST(TransparencyLogTest, CheckpointTimesNeverGoBack) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  const uint64_t t = uint64_t(::time(nullptr)) + 2000;
  ASSERT_OK(log->Append(SampleEntries(0, 1), t));
  EXPECT_EQ(OpenedCheckpoint(*log).timestamp, t);
  ASSERT_OK(log->Append(SampleEntries(1, 1), t - 1000));
  EXPECT_EQ(OpenedCheckpoint(*log).timestamp, t);
  log.reset();
  log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  ASSERT_OK(log->Append(SampleEntries(2, 1), t - 500));
  EXPECT_EQ(OpenedCheckpoint(*log).timestamp, t);
  ASSERT_OK(log->Append(SampleEntries(3, 1), t + 1));
  EXPECT_EQ(OpenedCheckpoint(*log).timestamp, t + 1);
}

// An idle log's checkpoint is re-signed (same tree, later time) once it is
// older than the refresh age, and kept across a reopen.
TEST(TransparencyLogTest, IdleCheckpointsAreRefreshed) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  const uint64_t t = uint64_t(::time(nullptr)) + 1000;
  ASSERT_OK(log->Append(SampleEntries(0, 3), t));
  const signing::SignedCheckpoint before = OpenedCheckpoint(*log);
  Result<std::string> same = log->FreshCheckpoint(t + 60, 60);
  ASSERT_OK(same);
  EXPECT_EQ(*same, log->checkpoint());
  EXPECT_EQ(OpenedCheckpoint(*log).timestamp, t);
  ASSERT_OK(log->FreshCheckpoint(t + 61, 60));
  const signing::SignedCheckpoint after = OpenedCheckpoint(*log);
  EXPECT_EQ(after.timestamp, t + 61);
  EXPECT_EQ(after.checkpoint, before.checkpoint);
  log.reset();
  log = OpenLog(dir.path());
  ASSERT_TRUE(log);
  EXPECT_EQ(OpenedCheckpoint(*log).timestamp, t + 61);
}

TEST(TransparencyLogTest, ReopenKeepsTheLogAndItsKey) {
  TempDir dir;
  ExpectedLog want;
  std::string origin, vkey, checkpoint;
  {
    auto log = OpenLog(dir.path());
    ASSERT_TRUE(log);
    std::vector<LogEntry> entries = SampleEntries(0, 77);
    ASSERT_OK(log->Append(entries, 100));
    want.Add(entries);
    origin = log->origin();
    vkey = log->verifier_key();
    checkpoint = log->checkpoint();
  }
  auto log = OpenLog(dir.path(), "another.example/log");  // an existing log keeps its origin
  ASSERT_TRUE(log);
  EXPECT_EQ(log->origin(), origin);
  EXPECT_EQ(log->verifier_key(), vkey);
  EXPECT_EQ(log->checkpoint(), checkpoint);
  ASSERT_NO_FATAL_FAILURE(ExpectMatches(*log, want));
  EXPECT_EQ(log->Tag("acme/model-1", "v1")->sequence, 1u);

  // Appends continue the same tree, tag numbers included, and what the new
  // checkpoint signs is consistent with what the old one signed.
  std::vector<LogEntry> more = SampleEntries(77, 60);
  ASSERT_OK(log->Append(more, 200));
  want.Add(more);
  ASSERT_NO_FATAL_FAILURE(ExpectMatches(*log, want));
  Result<signing::NoteVerifier> v = signing::ParseVerifierKey(vkey);
  ASSERT_OK(v);
  Result<signing::SignedCheckpoint> before = signing::OpenCheckpoint(checkpoint, *v);
  Result<signing::SignedCheckpoint> after = signing::OpenCheckpoint(log->checkpoint(), *v);
  ASSERT_OK(before);
  ASSERT_OK(after);
  Result<std::vector<Digest>> proof = log->ConsistencyProof(before->checkpoint.size, after->checkpoint.size);
  ASSERT_OK(proof);
  EXPECT_OK(merkle::VerifyConsistency(before->checkpoint.size, after->checkpoint.size, *proof,
                                      before->checkpoint.root_hash, after->checkpoint.root_hash));
  EXPECT_EQ(log->Tag("acme/model-1", "v1")->sequence, 2u);  // entries 1 and 106 (1 mod 105)

  // Another data directory is another log, with a key and origin of its own.
  TempDir other;
  auto second = OpenLog(other.path(), "");
  ASSERT_TRUE(second);
  EXPECT_NE(second->verifier_key(), vkey);
  EXPECT_EQ(second->origin().rfind("arca-registry-", 0), 0u);
  Result<signing::NoteVerifier> v2 = signing::ParseVerifierKey(second->verifier_key());
  ASSERT_OK(v2);
  EXPECT_NE(v2->key.bytes, v->key.bytes);
  EXPECT_FALSE(signing::OpenCheckpoint(log->checkpoint(), *v2).ok());
}

// ---------------------------------------------------------------------------
// Through the HTTP server.

using testing::json;

class LogRoutesTest : public testing::RegistryTest {
 protected:
  // GET `path` with the pull token; the JSON body of a 200 (null otherwise,
  // after failing the test).
  json GetOk(const std::string& path) {
    auto r = cli_->Get(path, Bearer(pull_));
    EXPECT_TRUE(r && r->status == 200) << path << ": " << (r ? r->body : httplib::to_string(r.error()));
    if (!r || r->status != 200) return json();
    return json::parse(r->body, nullptr, false);
  }

  // The server's checkpoint, opened as a client does, with the verifier key
  // it trusts (what `arca-registry log-key` prints).
  signing::Checkpoint FetchCheckpoint() {
    auto r = cli_->Get("/v1/log/checkpoint", Bearer(pull_));
    EXPECT_TRUE(r && r->status == 200);
    if (!r || r->status != 200) return {};
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; charset=utf-8");
    Result<signing::NoteVerifier> v = signing::ParseVerifierKey(server_->log().verifier_key());
    EXPECT_OK(v);
    Result<signing::SignedCheckpoint> cp = v.ok() ? signing::OpenCheckpoint(r->body, *v)
                                                  : Result<signing::SignedCheckpoint>(v.status());
    EXPECT_OK(cp);
    return cp.ok() ? cp->checkpoint : signing::Checkpoint{};
  }

  static std::vector<Digest> Hashes(const json& list) {
    std::vector<Digest> out;
    for (const json& h : list) {
      Result<Digest> d = Digest::Parse("sha256:" + h.get<std::string>());
      EXPECT_OK(d);
      if (d.ok()) out.push_back(*d);
    }
    return out;
  }

  static std::string Unbase64(const json& b64) {
    Result<std::string> bytes = signing::Base64Decode(b64.get<std::string>());
    EXPECT_OK(bytes);
    return bytes.ok() ? *bytes : std::string();
  }

  // The entry a lookup endpoint returns, checked as a client checks it: its
  // leaf is at "index" in the tree of the current signed checkpoint, proven
  // both by index and by hash.
  LogEntry FetchVerified(const std::string& path) {
    const json reply = GetOk(path);
    if (!reply.is_object()) return {};
    const std::string bytes = Unbase64(reply["entry"]);
    Result<LogEntry> e = LogEntry::Decode(bytes);
    EXPECT_OK(e);
    const uint64_t index = reply["index"];
    const signing::Checkpoint cp = FetchCheckpoint();
    const Digest leaf = merkle::HashLeaf(bytes);
    const std::string size = "&size=" + std::to_string(cp.size);
    json p = GetOk("/v1/log/proof/inclusion?index=" + std::to_string(index) + size);
    EXPECT_EQ(p["leaf_hash"], leaf.Hex());
    EXPECT_EQ(p["size"], cp.size);
    EXPECT_OK(merkle::VerifyInclusion(leaf, index, cp.size, Hashes(p["proof"]), cp.root_hash));
    json q = GetOk("/v1/log/proof/inclusion?hash=" + leaf.Hex() + size);
    EXPECT_EQ(q["index"], index);
    EXPECT_EQ(q["proof"], p["proof"]);
    return e.ok() ? *e : LogEntry{};
  }

  // Every entry, fetched in pages of `page`, and checked to make the tree the
  // signed checkpoint `cp` states.
  std::vector<LogEntry> FetchAll(const signing::Checkpoint& cp, uint64_t page = 3) {
    std::vector<LogEntry> out;
    merkle::CompactRange range;
    while (range.size() < cp.size) {
      const uint64_t start = range.size();
      json r = GetOk("/v1/log/entries?start=" + std::to_string(start) + "&end=" + std::to_string(start + page));
      if (!r.is_object() || r["entries"].empty()) break;
      EXPECT_EQ(r["start"], start);
      for (const json& b64 : r["entries"]) {
        const std::string bytes = Unbase64(b64);
        EXPECT_OK(range.Append(merkle::HashLeaf(bytes), [](int, uint64_t, const Digest&) { return Status::Ok(); }));
        Result<LogEntry> e = LogEntry::Decode(bytes);
        EXPECT_OK(e);
        out.push_back(e.ok() ? *e : LogEntry{});
      }
    }
    EXPECT_EQ(range.size(), cp.size);
    EXPECT_EQ(range.Root(), cp.root_hash);
    return out;
  }

  void ExpectConsistent(const signing::Checkpoint& old_cp, const signing::Checkpoint& new_cp) {
    json r = GetOk("/v1/log/proof/consistency?from=" + std::to_string(old_cp.size) +
                   "&to=" + std::to_string(new_cp.size));
    EXPECT_OK(merkle::VerifyConsistency(old_cp.size, new_cp.size, Hashes(r["proof"]), old_cp.root_hash,
                                        new_cp.root_hash));
  }

  httplib::Result SetTag(const std::string& ref, const Digest& d) {
    return cli_->Put("/v1/tags/" + ref, Bearer(push_), json{{"digest", d.ToString()}}.dump(), "application/json");
  }

  // A signed in-toto statement about `bundle`, as attestation_routes_test.cc makes.
  std::string Attestation(const Digest& bundle, const std::string& predicate_type = "https://arca.dev/approval/v1",
                          const std::string& keyid = "") {
    const std::string statement =
        json{{"_type", internal::kStatementV1Type},
             {"subject", {{{"name", "bundle"}, {"digest", {{"sha256", bundle.Hex()}}}}}},
             {"predicateType", predicate_type},
             {"predicate", {{"approved", true}}}}
            .dump();
    return signing::SignEnvelope(internal::kInTotoPayloadType, statement, key_.secret_key,
                                 keyid.empty() ? KeyIdHex() : keyid);
  }
  std::string KeyIdHex() const { return signing::KeyId(key_.public_key).Hex(); }

  signing::KeyPair key_ = signing::GenerateKeyPair();
};

TEST_F(LogRoutesTest, EventsAreLoggedAndProvable) {
  StartServer();
  signing::Checkpoint empty = FetchCheckpoint();
  EXPECT_EQ(empty.size, 0u);
  EXPECT_EQ(empty.root_hash, merkle::EmptyRoot());
  EXPECT_EQ(empty.origin, server_->log().origin());

  store::AddResult a = AddBundle("acme/llama", 1);
  ASSERT_NO_FATAL_FAILURE(PushBundle(a));
  EXPECT_EQ(FetchCheckpoint().size, 0u);  // stored, not yet published
  ASSERT_EQ(SetTag("acme/llama:v1", a.bundle)->status, 200);
  const signing::Checkpoint one = FetchCheckpoint();
  EXPECT_EQ(one.size, 2u);

  LogEntry publish = FetchVerified("/v1/log/bundles/" + a.bundle.ToString());
  EXPECT_EQ(publish.type, signing::LogEntryType::kPublish);
  EXPECT_EQ(publish.bundle, a.bundle);
  EXPECT_EQ(publish.repository, "acme/llama");
  LogEntry tag = FetchVerified("/v1/log/tags/acme/llama:v1");
  EXPECT_EQ(tag.type, signing::LogEntryType::kTag);
  EXPECT_EQ(tag.repository, "acme/llama");
  EXPECT_EQ(tag.tag, "v1");
  EXPECT_EQ(tag.sequence, 1u);
  EXPECT_EQ(tag.digest, a.bundle);
  EXPECT_EQ(tag.previous, std::nullopt);
  EXPECT_EQ(GetOk("/v1/log/tags/acme/llama:v1")["sequence"], 1);

  // Moving the tag publishes the new bundle and numbers the move.
  store::AddResult b = AddBundle("acme/llama", 2);
  ASSERT_NO_FATAL_FAILURE(PushBundle(b));
  ASSERT_EQ(SetTag("acme/llama:v1", b.bundle)->status, 200);
  tag = FetchVerified("/v1/log/tags/acme/llama:v1");
  EXPECT_EQ(tag.sequence, 2u);
  EXPECT_EQ(tag.digest, b.bundle);
  EXPECT_EQ(tag.previous, a.bundle);
  EXPECT_EQ(FetchVerified("/v1/log/bundles/" + b.bundle.ToString()).bundle, b.bundle);
  const signing::Checkpoint two = FetchCheckpoint();
  EXPECT_EQ(two.size, 4u);
  ExpectConsistent(one, two);
  // Setting it to where it points logs nothing.
  ASSERT_EQ(SetTag("acme/llama:v1", b.bundle)->status, 200);
  EXPECT_EQ(FetchCheckpoint(), two);

  // Deleting logs a tag entry without a digest.
  auto del = cli_->Delete("/v1/tags/acme/llama:v1", Bearer(admin_));
  ASSERT_EQ(del->status, 200) << del->body;
  tag = FetchVerified("/v1/log/tags/acme/llama:v1");
  EXPECT_EQ(tag.sequence, 3u);
  EXPECT_EQ(tag.digest, std::nullopt);
  EXPECT_EQ(tag.previous, b.bundle);
  // Set again: numbering goes on; the bundle is not published twice.
  ASSERT_EQ(SetTag("acme/llama:v1", a.bundle)->status, 200);
  tag = FetchVerified("/v1/log/tags/acme/llama:v1");
  EXPECT_EQ(tag.sequence, 4u);
  EXPECT_EQ(tag.previous, std::nullopt);
  EXPECT_EQ(GetOk("/v1/log/bundles/" + a.bundle.ToString())["index"], 0);

  // An attestation is logged when attached; one attached before the bundle's
  // first tag also names its key in the publish entry.
  const std::string envelope = Attestation(a.bundle);
  ASSERT_EQ(cli_->Put("/v1/attestations/" + a.bundle.ToString(), Bearer(push_), envelope, "application/json")->status,
            201);
  store::AddResult c = AddBundle("acme/qwen", 3);
  ASSERT_NO_FATAL_FAILURE(PushBundle(c));
  ASSERT_EQ(cli_->Put("/v1/attestations/" + c.bundle.ToString(), Bearer(push_), Attestation(c.bundle),
                      "application/json")->status,
            201);
  ASSERT_EQ(SetTag("acme/qwen:latest", c.bundle)->status, 200);
  publish = FetchVerified("/v1/log/bundles/" + c.bundle.ToString());
  EXPECT_EQ(publish.repository, "acme/qwen");
  EXPECT_EQ(publish.key_ids, std::vector<std::string>{KeyIdHex()});

  // The whole log, as an auditor reads it.
  const signing::Checkpoint last = FetchCheckpoint();
  ExpectConsistent(two, last);
  std::vector<LogEntry> all = FetchAll(last);
  ASSERT_EQ(all.size(), 10u);
  const std::vector<signing::LogEntryType> types = {
      signing::LogEntryType::kPublish, signing::LogEntryType::kTag, signing::LogEntryType::kPublish,
      signing::LogEntryType::kTag,     signing::LogEntryType::kTag, signing::LogEntryType::kTag,
      signing::LogEntryType::kAttestation, signing::LogEntryType::kAttestation,
      signing::LogEntryType::kPublish, signing::LogEntryType::kTag};
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].type, types[i]) << i;
  EXPECT_EQ(all[6].bundle, a.bundle);
  EXPECT_EQ(all[6].envelope, Sha256Of(envelope));
  EXPECT_EQ(all[6].predicate_type, "https://arca.dev/approval/v1");
  EXPECT_EQ(all[6].key_ids, std::vector<std::string>{KeyIdHex()});
  EXPECT_EQ(all[7].bundle, c.bundle);
}

TEST_F(LogRoutesTest, HostileQueriesAreRefused) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  ASSERT_NO_FATAL_FAILURE(PushBundle(a));
  ASSERT_EQ(SetTag("acme/llama:v1", a.bundle)->status, 200);
  // More entries than one page (written directly: the HTTP path is the same).
  ASSERT_OK(server_->log().Append(SampleEntries(0, 1200), 1));
  const uint64_t size = FetchCheckpoint().size;
  ASSERT_EQ(size, 1202u);
  const std::string n = std::to_string(size), hash = merkle::HashLeaf(*server_->log().Entry(5)).Hex();
  const std::string huge = "18446744073709551616";  // 2^64
  struct Case {
    std::string path;
    int status;
  };
  const std::vector<Case> cases = {
      {"/v1/log/entries?start=abc", 400},
      {"/v1/log/entries?start=-1", 400},
      {"/v1/log/entries?start=+1", 400},
      {"/v1/log/entries?start=1.5", 400},
      {"/v1/log/entries?start=", 400},
      {"/v1/log/entries?start=" + huge, 400},
      {"/v1/log/entries?start=" + n, 400},
      {"/v1/log/entries?start=18446744073709551615", 400},
      {"/v1/log/entries?start=5&end=5", 400},
      {"/v1/log/entries?start=5&end=4", 400},
      {"/v1/log/entries?start=0&end=0x10", 400},
      {"/v1/log/proof/inclusion", 400},
      {"/v1/log/proof/inclusion?index=0", 400},
      {"/v1/log/proof/inclusion?size=" + n, 400},
      {"/v1/log/proof/inclusion?index=0&size=0", 400},
      {"/v1/log/proof/inclusion?index=x&size=" + n, 400},
      {"/v1/log/proof/inclusion?index=0&size=x", 400},
      {"/v1/log/proof/inclusion?index=0&size=" + huge, 400},
      {"/v1/log/proof/inclusion?index=0&size=" + std::to_string(size + 1), 400},
      {"/v1/log/proof/inclusion?index=" + n + "&size=" + n, 400},
      {"/v1/log/proof/inclusion?index=10&size=10", 400},
      {"/v1/log/proof/inclusion?index=18446744073709551615&size=" + n, 400},
      {"/v1/log/proof/inclusion?hash=zz&size=" + n, 400},
      {"/v1/log/proof/inclusion?hash=" + hash.substr(1) + "&size=" + n, 400},
      {"/v1/log/proof/inclusion?hash=" + hash + "00&size=" + n, 400},
      {"/v1/log/proof/inclusion?hash=" + std::string(64, 'A') + "&size=" + n, 400},
      {"/v1/log/proof/inclusion?hash=" + std::string(64, 'a') + "&size=" + n, 404},
      {"/v1/log/proof/inclusion?hash=" + hash + "&size=5", 400},  // leaf 5 is not in the tree of 5
      {"/v1/log/proof/inclusion?hash=" + hash, 400},
      {"/v1/log/proof/consistency", 400},
      {"/v1/log/proof/consistency?from=1", 400},
      {"/v1/log/proof/consistency?to=2", 400},
      {"/v1/log/proof/consistency?from=0&to=2", 400},
      {"/v1/log/proof/consistency?from=3&to=2", 400},
      {"/v1/log/proof/consistency?from=1&to=" + std::to_string(size + 1), 400},
      {"/v1/log/proof/consistency?from=1&to=" + huge, 400},
      {"/v1/log/proof/consistency?from=a&to=2", 400},
      {"/v1/log/bundles/sha256:xyz", 400},
      {"/v1/log/bundles/" + a.bundle.Hex(), 400},
      {"/v1/log/bundles/" + Sha256Of(std::string_view("never")).ToString(), 404},
      {"/v1/log/tags/acme/llama", 400},
      {"/v1/log/tags/llama:v1", 400},
      {"/v1/log/tags/acme/llama:.v1", 400},
      {"/v1/log/tags/acme/llama:v2", 404},
      {"/v1/log/tags/acme/llama:v1/extra", 400},
  };
  for (const Case& c : cases) {
    auto r = cli_->Get(c.path, Bearer(pull_));
    ASSERT_TRUE(r) << c.path << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, c.status) << c.path << ": " << r->body;
    EXPECT_EQ(ErrorCode(r), c.status == 404 ? "not_found" : "bad_request") << c.path;
  }
  // Asking for more than a page gets a page (docs/API.md: at most 1000).
  for (const std::string& q : {"start=0&end=" + n, std::string("start=0&end=18446744073709551615"),
                               std::string("start=100")}) {
    json r = GetOk("/v1/log/entries?" + q);
    EXPECT_EQ(r["entries"].size(), 1000u) << q;
  }
  EXPECT_EQ(GetOk("/v1/log/entries?start=1200&end=99999")["entries"].size(), 2u);
  EXPECT_EQ(GetOk("/v1/log/proof/consistency?from=" + n + "&to=" + n)["proof"], json::array());
  // Reads need pull, like every read.
  for (const std::string path : {"/v1/log/checkpoint", "/v1/log/entries?start=0", "/v1/log/tags/acme/llama:v1"}) {
    auto r = cli_->Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
  }
  ExpectAlive();
}

TEST_F(LogRoutesTest, StartLogsTagsTheLogMissed) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  store::AddResult b = AddBundle("acme/llama", 2);
  ASSERT_NO_FATAL_FAILURE(PushBundle(a));
  ASSERT_NO_FATAL_FAILURE(PushBundle(b));
  ASSERT_EQ(SetTag("acme/llama:v1", a.bundle)->status, 200);
  const signing::Checkpoint before = FetchCheckpoint();
  ASSERT_EQ(before.size, 2u);
  StopServer();

  // Tags set in the store but never logged, as after a crash between the two.
  {
    Result<std::unique_ptr<store::Store>> st = store::Store::Open(tmp_ / "data/store");
    ASSERT_OK(st);
    ASSERT_OK((*st)->SetRef("acme/llama:v1", b.bundle));
    ASSERT_OK((*st)->SetRef("acme/llama:v2", a.bundle));
    ASSERT_OK((*st)->SetRef("acme/llama:v3", b.bundle));
  }
  StartServer();
  const signing::Checkpoint after = FetchCheckpoint();
  EXPECT_EQ(after.size, 6u);  // publish b (once), tag v1, tag v2, tag v3
  ExpectConsistent(before, after);
  LogEntry v1 = FetchVerified("/v1/log/tags/acme/llama:v1");
  EXPECT_EQ(v1.sequence, 2u);
  EXPECT_EQ(v1.digest, b.bundle);
  EXPECT_EQ(v1.previous, a.bundle);
  LogEntry v2 = FetchVerified("/v1/log/tags/acme/llama:v2");
  EXPECT_EQ(v2.sequence, 1u);
  EXPECT_EQ(v2.digest, a.bundle);
  EXPECT_EQ(FetchVerified("/v1/log/tags/acme/llama:v3").digest, b.bundle);
  EXPECT_EQ(FetchVerified("/v1/log/bundles/" + b.bundle.ToString()).bundle, b.bundle);
  int publishes = 0;
  for (const LogEntry& e : FetchAll(after)) publishes += e.type == signing::LogEntryType::kPublish;
  EXPECT_EQ(publishes, 2);

  // Once caught up, a restart appends nothing.
  StopServer();
  StartServer();
  EXPECT_EQ(FetchCheckpoint().size, after.size);

  // A tag deleted in the store but not in the log gets its deletion logged.
  StopServer();
  {
    Result<std::unique_ptr<store::Store>> st = store::Store::Open(tmp_ / "data/store");
    ASSERT_OK(st);
    ASSERT_OK((*st)->DeleteRef("acme/llama:v3"));
  }
  StartServer();
  const signing::Checkpoint deleted = FetchCheckpoint();
  EXPECT_EQ(deleted.size, after.size + 1);
  ExpectConsistent(after, deleted);
  LogEntry v3 = FetchVerified("/v1/log/tags/acme/llama:v3");
  EXPECT_EQ(v3.sequence, 2u);
  EXPECT_FALSE(v3.digest.has_value());
  EXPECT_EQ(v3.previous, b.bundle);
  StopServer();
  StartServer();
  EXPECT_EQ(FetchCheckpoint().size, deleted.size);
}

// What a pusher names in an attestation is copied into log entries; strings
// the log cannot hold (signing/log_entry.h: printable UTF-8, at most
// kMaxLogString bytes) are left out of the publish entry, and never keep a
// tag from being set.
TEST_F(LogRoutesTest, UnloggableKeyIdsDoNotBlockATag) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  ASSERT_NO_FATAL_FAILURE(PushBundle(a));
  // Stored as the attestation endpoint stores what it accepts.
  ASSERT_OK(server_->store().PutAttestation(a.bundle, Attestation(a.bundle, "x", "key\x01id")));
  ASSERT_OK(server_->store().PutAttestation(a.bundle, Attestation(a.bundle)));
  auto r = SetTag("acme/llama:v1", a.bundle);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(FetchVerified("/v1/log/bundles/" + a.bundle.ToString()).key_ids, std::vector<std::string>{KeyIdHex()});
  EXPECT_EQ(FetchVerified("/v1/log/tags/acme/llama:v1").digest, a.bundle);
}

// The same through PUT /v1/attestations: an envelope the endpoint accepts
// must be logged (without what a log entry cannot hold), never answered 500.
TEST_F(LogRoutesTest, UnloggableAttestationsAreNotA500) {
  StartServer();
  store::AddResult a = AddBundle("acme/llama", 1);
  ASSERT_NO_FATAL_FAILURE(PushBundle(a));
  std::string long_utf8(signing::kMaxLogString - 1, 'x');
  long_utf8 += "\u00e9";  // a two-byte character across the limit
  for (const std::string& envelope : {Attestation(a.bundle, "x", "key\x01id"), Attestation(a.bundle, "a\nb"),
                                      Attestation(a.bundle, long_utf8)}) {
    const uint64_t size = FetchCheckpoint().size;
    auto r = cli_->Put("/v1/attestations/" + a.bundle.ToString(), Bearer(push_), envelope, "application/json");
    ASSERT_TRUE(r);
    EXPECT_NE(r->status, 500) << r->body;
    if (r->status == 201) {
      EXPECT_EQ(FetchCheckpoint().size, size + 1);
    }
  }
}

}  // namespace
}  // namespace arca::registry
