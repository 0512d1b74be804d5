// Tests of the log's Merkle tree: published vectors, a slow reference written
// straight from RFC 6962 §2.1 cross-checking every root and proof of small
// trees and samples of large ones, tampering, and hostile inputs.
#include "signing/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/testing.h"

namespace arca::signing::merkle {
namespace {

Digest D(std::string_view hex) {
  Digest d;
  EXPECT_TRUE(HexDecode(hex, d.bytes)) << hex;
  return d;
}

std::string Unhex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  EXPECT_TRUE(
      HexDecode(hex, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size())));
  return out;
}

Digest FlipBit(Digest d, int bit) {
  d.bytes[bit / 8] ^= uint8_t(1u << (bit % 8));
  return d;
}

// ---------------------------------------------------------------------------
// The reference: RFC 6962 §2.1 transcribed, recursion and all. Slow (every
// call rehashes its whole range) and independent of merkle.cc, hashing
// included, so the two can only agree by both being right.

using Entries = std::span<const std::string>;

// The largest power of two smaller than n (n >= 2): RFC 6962's k.
size_t SplitPoint(size_t n) { return std::bit_floor(n - 1); }

std::string Bytes(const Digest& d) { return std::string(AsChars(d.view())); }

// MTH(D[n]).
Digest RefMth(Entries d) {
  if (d.empty()) return Sha256Of(std::string_view());
  if (d.size() == 1) return Sha256Of(std::string(1, '\x00') + d[0]);
  const size_t k = SplitPoint(d.size());
  return Sha256Of(std::string(1, '\x01') + Bytes(RefMth(d.first(k))) + Bytes(RefMth(d.subspan(k))));
}

std::vector<Digest> Concat(std::vector<Digest> a, const Digest& b) {
  a.push_back(b);
  return a;
}

// PATH(m, D[n]).
std::vector<Digest> RefPath(size_t m, Entries d) {
  if (d.size() == 1) return {};
  const size_t k = SplitPoint(d.size());
  if (m < k) return Concat(RefPath(m, d.first(k)), RefMth(d.subspan(k)));
  return Concat(RefPath(m - k, d.subspan(k)), RefMth(d.first(k)));
}

// SUBPROOF(m, D[n], b).
std::vector<Digest> RefSubproof(size_t m, Entries d, bool b) {
  if (m == d.size()) return b ? std::vector<Digest>{} : std::vector<Digest>{RefMth(d)};
  const size_t k = SplitPoint(d.size());
  if (m <= k) return Concat(RefSubproof(m, d.first(k), b), RefMth(d.subspan(k)));
  return Concat(RefSubproof(m - k, d.subspan(k), false), RefMth(d.first(k)));
}

// PROOF(m, D[n]).
std::vector<Digest> RefProof(size_t m, Entries d) { return RefSubproof(m, d, true); }

// The shape of PATH(m, D[n]): for each hash, whether it is a left or right
// sibling. A verifier's computation depends on (index, size) only through
// this shape, so a proof checks out for another (index, size) exactly when
// the shapes agree. That is why a checkpoint signs size and root together.
std::string PathShape(uint64_t m, uint64_t n) {
  if (n == 1) return "";
  const uint64_t k = std::bit_floor(n - 1);
  return m < k ? PathShape(m, k) + "R" : PathShape(m - k, n - k) + "L";
}

// The shape of SUBPROOF(m, D[n], b); "S" marks the old tree's last subtree,
// sent when it is not the whole old tree.
std::string SubproofShape(uint64_t m, uint64_t n, bool b) {
  if (m == n) return b ? "" : "S";
  const uint64_t k = std::bit_floor(n - 1);
  return m <= k ? SubproofShape(m, k, b) + "R" : SubproofShape(m - k, n - k, false) + "L";
}

// ---------------------------------------------------------------------------

std::string Entry(uint64_t i) { return "entry " + std::to_string(i); }

// A log kept in memory the way the registry will keep it in RocksDB: the
// complete nodes, appended through a CompactRange.
class TestLog {
 public:
  TestLog() = default;
  TestLog(const TestLog&) = delete;  // reader() points into nodes_
  TestLog& operator=(const TestLog&) = delete;

  void Append(std::string entry) {
    ASSERT_OK(range_.Append(HashLeaf(entry), nodes_.writer()));
    entries_.push_back(std::move(entry));
  }
  void Grow(uint64_t size) {
    while (entries_.size() < size) Append(Entry(entries_.size()));
  }

  const std::vector<std::string>& entries() const { return entries_; }
  Entries prefix(uint64_t n) const { return Entries(entries_).first(n); }
  const CompactRange& range() const { return range_; }
  const MemoryNodes& nodes() const { return nodes_; }
  NodeReader reader() const { return nodes_.reader(); }

 private:
  std::vector<std::string> entries_;
  MemoryNodes nodes_;
  CompactRange range_;
};

// The 8 leaves of RFC 6962's test tree as used by transparency-dev/merkle
// (testonly.LeafInputs) and the certificate-transparency tests.
const std::vector<std::string>& RfcLeaves() {
  static const auto* leaves = new std::vector<std::string>{
      Unhex(""),
      Unhex("00"),
      Unhex("10"),
      Unhex("2021"),
      Unhex("3031"),
      Unhex("40414243"),
      Unhex("5051525354555657"),
      Unhex("606162636465666768696a6b6c6d6e6f"),
  };
  return *leaves;
}

// Roots of the trees of sizes 1..8 over RfcLeaves().
const std::vector<Digest>& RfcRoots() {
  static const auto* roots = new std::vector<Digest>{
      D("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
      D("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
      D("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
      D("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
      D("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
      D("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
      D("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
      D("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
  };
  return *roots;
}

// --- Hashing ---------------------------------------------------------------

TEST(MerkleHash, PublishedVectors) {
  // transparency-dev/merkle rfc6962_test.go.
  EXPECT_EQ(EmptyRoot().Hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashLeaf(std::string_view()).Hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(HashLeaf("L123456").Hex(),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
}

TEST(MerkleHash, DomainSeparationAndOrder) {
  const Digest a = HashLeaf("Hello"), b = HashLeaf("World");
  EXPECT_NE(a, b);
  EXPECT_NE(HashChildren(a, b), HashChildren(b, a));
  // An interior node is not the leaf hash of its children's concatenation.
  EXPECT_NE(HashChildren(a, b), HashLeaf(Bytes(a) + Bytes(b)));
  EXPECT_EQ(HashChildren(a, b), Sha256Of(std::string(1, '\x01') + Bytes(a) + Bytes(b)));
}

// --- Published trees and proofs ----------------------------------------------

TEST(MerkleVectors, RootsOfTheEightLeafTree) {
  TestLog log;
  EXPECT_EQ(log.range().Root(), EmptyRoot());
  for (size_t n = 1; n <= 8; ++n) {
    log.Append(RfcLeaves()[n - 1]);
    EXPECT_EQ(log.range().Root(), RfcRoots()[n - 1]) << n;
    EXPECT_EQ(RefMth(log.prefix(n)), RfcRoots()[n - 1]) << n;
  }
  for (size_t n = 1; n <= 8; ++n) {
    Result<Digest> root = Root(n, log.reader());
    ASSERT_OK(root);
    EXPECT_EQ(*root, RfcRoots()[n - 1]) << n;
  }
}

TEST(MerkleVectors, InclusionProofs) {
  struct Case {
    uint64_t index, size;
    std::vector<std::string_view> proof;
  };
  // transparency-dev/merkle proof/verify_test.go and testonly/reference_test.go
  // (their leaf numbers there are 1-based in one file; these are 0-based).
  const std::vector<Case> cases = {
      {0, 1, {}},
      {0, 2, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"}},
      {1, 2, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
  };
  TestLog log;
  for (const std::string& leaf : RfcLeaves()) log.Append(leaf);
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.index) + " in " + std::to_string(c.size));
    std::vector<Digest> want;
    for (std::string_view h : c.proof) want.push_back(D(h));
    Result<std::vector<Digest>> got = InclusionProof(c.index, c.size, log.reader());
    ASSERT_OK(got);
    EXPECT_EQ(*got, want);
    EXPECT_EQ(RefPath(c.index, log.prefix(c.size)), want);
    const Digest leaf = HashLeaf(RfcLeaves()[c.index]);
    EXPECT_OK(VerifyInclusion(leaf, c.index, c.size, want, RfcRoots()[c.size - 1]));
    Result<Digest> root = RootFromInclusionProof(leaf, c.index, c.size, want);
    ASSERT_OK(root);
    EXPECT_EQ(*root, RfcRoots()[c.size - 1]);
  }
}

TEST(MerkleVectors, ConsistencyProofs) {
  struct Case {
    uint64_t size1, size2;
    std::vector<std::string_view> proof;
  };
  // transparency-dev/merkle proof/verify_test.go.
  const std::vector<Case> cases = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {6,
       7,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
  };
  TestLog log;
  for (const std::string& leaf : RfcLeaves()) log.Append(leaf);
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.size1) + " to " + std::to_string(c.size2));
    std::vector<Digest> want;
    for (std::string_view h : c.proof) want.push_back(D(h));
    Result<std::vector<Digest>> got = ConsistencyProof(c.size1, c.size2, log.reader());
    ASSERT_OK(got);
    EXPECT_EQ(*got, want);
    EXPECT_EQ(RefProof(c.size1, log.prefix(c.size2)), want);
    EXPECT_OK(VerifyConsistency(c.size1, c.size2, want, RfcRoots()[c.size1 - 1],
                                RfcRoots()[c.size2 - 1]));
  }
}

// --- Cross-checks against the reference ---------------------------------------

// Checks root, inclusion proof of `index` and consistency proof from `size1`
// in the tree of `size` leaves against the reference, and that they verify.
void CrossCheck(const TestLog& log, uint64_t size, uint64_t index, uint64_t size1) {
  SCOPED_TRACE("size " + std::to_string(size) + " index " + std::to_string(index) + " size1 " +
               std::to_string(size1));
  const Entries d = log.prefix(size);
  const Digest root = RefMth(d);
  int reads = 0;
  const NodeReader counting = [&](int level, uint64_t i) {
    ++reads;
    return log.nodes().Get(level, i);
  };
  const int max_reads = 2 * std::bit_width(size) + 1;  // O(log n)

  Result<std::vector<Digest>> path = InclusionProof(index, size, counting);
  ASSERT_OK(path);
  EXPECT_LE(reads, max_reads);
  EXPECT_EQ(*path, RefPath(index, d));
  EXPECT_EQ(path->size(), size_t(InclusionProofLength(index, size)));
  EXPECT_OK(VerifyInclusion(HashLeaf(d[index]), index, size, *path, root));

  reads = 0;
  Result<std::vector<Digest>> proof = ConsistencyProof(size1, size, counting);
  ASSERT_OK(proof);
  EXPECT_LE(reads, max_reads);
  if (size1 > 0) {
    EXPECT_EQ(*proof, RefProof(size1, d));  // PROOF is defined for 0 < m only
  }
  EXPECT_EQ(proof->size(), size_t(ConsistencyProofLength(size1, size)));
  EXPECT_OK(VerifyConsistency(size1, size, *proof, RefMth(log.prefix(size1)), root));
}

TEST(MerkleReference, EverySizeIndexAndPairUpTo200) {
  constexpr uint64_t kMax = 200;
  TestLog log;
  log.Grow(kMax);
  for (uint64_t size = 1; size <= kMax; ++size) {
    const Entries d = log.prefix(size);
    const Digest root = RefMth(d);
    Result<Digest> got = Root(size, log.reader());
    ASSERT_OK(got);
    ASSERT_EQ(*got, root) << size;
    for (uint64_t index = 0; index < size; ++index) {
      Result<std::vector<Digest>> path = InclusionProof(index, size, log.reader());
      ASSERT_OK(path);
      ASSERT_EQ(*path, RefPath(index, d)) << index << " in " << size;
      ASSERT_OK(VerifyInclusion(HashLeaf(d[index]), index, size, *path, root));
    }
    for (uint64_t size1 = 0; size1 <= size; ++size1) {
      Result<std::vector<Digest>> proof = ConsistencyProof(size1, size, log.reader());
      ASSERT_OK(proof);
      const Digest root1 = RefMth(log.prefix(size1));
      if (size1 > 0) {
        ASSERT_EQ(*proof, RefProof(size1, d)) << size1 << " to " << size;
      }
      ASSERT_OK(VerifyConsistency(size1, size, *proof, root1, root));
    }
  }
}

TEST(MerkleReference, SampledUpTo1024) {
  constexpr uint64_t kMax = 1024;
  TestLog log;
  log.Grow(kMax);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 300; ++i) {
    const uint64_t size = 1 + rng() % kMax;
    CrossCheck(log, size, rng() % size, rng() % (size + 1));
  }
  // Every power of two and its neighbours, where off-by-ones live.
  for (uint64_t p = 1; p <= 512; p *= 2) {
    for (uint64_t size : {p, p + 1, 2 * p - 1}) {
      for (uint64_t index : {uint64_t{0}, size / 2, size - 1}) {
        CrossCheck(log, size, index, std::max<uint64_t>(1, p - 1));
        CrossCheck(log, size, index, p);
      }
    }
  }
}

TEST(MerkleReference, LargeTreeSampled) {
  constexpr uint64_t kSize = (1u << 16) + 3;
  TestLog log;
  log.Grow(kSize);
  for (uint64_t size : {kSize - 3, kSize - 2, kSize}) {
    Result<Digest> root = Root(size, log.reader());
    ASSERT_OK(root);
    EXPECT_EQ(*root, RefMth(log.prefix(size))) << size;
  }
  EXPECT_EQ(log.range().Root(), RefMth(log.entries()));
  std::mt19937_64 rng(2);
  for (int i = 0; i < 12; ++i) {
    const uint64_t size = kSize - rng() % 100;
    CrossCheck(log, size, rng() % size, 1 + rng() % size);
  }
  CrossCheck(log, kSize, kSize - 1, kSize - 1);
  CrossCheck(log, kSize, 0, uint64_t{1} << 16);
}

// --- CompactRange ----------------------------------------------------------------

TEST(MerkleCompactRange, StoresEveryCompleteNodeOnceAndRestores) {
  constexpr uint64_t kMax = 300;
  TestLog log;
  for (uint64_t size = 1; size <= kMax; ++size) {
    log.Append(Entry(size - 1));
    // Exactly the complete nodes exist: size >> level of them per level.
    for (int level = 0; level <= 9; ++level) {
      ASSERT_EQ(log.nodes().count(level), size >> level) << size << " level " << level;
    }
    ASSERT_EQ(log.range().hashes().size(), size_t(std::popcount(size)));
    ASSERT_EQ(log.range().Root(), RefMth(log.prefix(size)));
  }
  for (uint64_t size = 0; size <= kMax; ++size) {
    Result<CompactRange> restored = CompactRange::Restore(size, log.reader());
    ASSERT_OK(restored);
    EXPECT_EQ(restored->size(), size);
    EXPECT_EQ(restored->Root(), RefMth(log.prefix(size)));
    // A restored range carries on exactly like the original.
    CompactRange copy = *restored;
    std::vector<Digest> seen;
    auto sink = [&](int, uint64_t, const Digest& h) {
      seen.push_back(h);
      return Status::Ok();
    };
    if (size < kMax) {
      ASSERT_OK(copy.Append(HashLeaf(log.entries()[size]), sink));
      EXPECT_EQ(copy.Root(), RefMth(log.prefix(size + 1)));
      EXPECT_EQ(seen.size(), size_t(1 + std::countr_one(size)));
    }
  }
}

TEST(MerkleCompactRange, FailedWriteLeavesRangeUnchanged) {
  TestLog log;
  log.Grow(7);  // 0b111: the next leaf completes nodes at levels 1, 2 and 3
  CompactRange range = log.range();
  int calls = 0;
  Status failure = UnavailableError("disk busy");
  Status s = range.Append(HashLeaf(Entry(7)), [&](int level, uint64_t, const Digest&) {
    ++calls;
    return level == 2 ? failure : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(range.size(), 7u);
  EXPECT_EQ(range.Root(), RefMth(log.prefix(7)));
  // The retry goes through and gives the right tree.
  std::vector<std::pair<int, uint64_t>> nodes;
  ASSERT_OK(range.Append(HashLeaf(Entry(7)), [&](int level, uint64_t index, const Digest&) {
    nodes.emplace_back(level, index);
    return Status::Ok();
  }));
  log.Append(Entry(7));
  EXPECT_EQ(range.Root(), RefMth(log.prefix(8)));
  const std::vector<std::pair<int, uint64_t>> want = {{0, 7}, {1, 3}, {2, 1}, {3, 0}};
  EXPECT_EQ(nodes, want);
}

TEST(MerkleMemoryNodes, RefusesGapsAndRewrites) {
  MemoryNodes nodes;
  const Digest a = HashLeaf("a"), b = HashLeaf("b");
  ASSERT_OK(nodes.Put(0, 0, a));
  EXPECT_OK(nodes.Put(0, 0, a));  // idempotent
  EXPECT_EQ(nodes.Put(0, 0, b).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(nodes.Put(0, 2, b).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(nodes.Put(-1, 0, b).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(nodes.Put(64, 0, b).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(nodes.Get(0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(nodes.Get(5, 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(nodes.Get(-3, 0).status().code(), StatusCode::kNotFound);
}

// --- Tampering -------------------------------------------------------------------

TEST(MerkleTamper, InclusionRejectsEverySingleBitChange) {
  constexpr uint64_t kMax = 17;
  TestLog log;
  log.Grow(kMax);
  for (uint64_t size = 1; size <= kMax; ++size) {
    const Digest root = RefMth(log.prefix(size));
    for (uint64_t index = 0; index < size; ++index) {
      SCOPED_TRACE(std::to_string(index) + " in " + std::to_string(size));
      const Digest leaf = HashLeaf(log.entries()[index]);
      const std::vector<Digest> proof = RefPath(index, log.prefix(size));
      ASSERT_OK(VerifyInclusion(leaf, index, size, proof, root));
      for (int bit = 0; bit < 256; ++bit) {
        EXPECT_FALSE(VerifyInclusion(FlipBit(leaf, bit), index, size, proof, root).ok());
        EXPECT_FALSE(VerifyInclusion(leaf, index, size, proof, FlipBit(root, bit)).ok());
        for (size_t i = 0; i < proof.size(); ++i) {
          std::vector<Digest> bad = proof;
          bad[i] = FlipBit(bad[i], bit);
          EXPECT_FALSE(VerifyInclusion(leaf, index, size, bad, root).ok()) << i << " " << bit;
        }
      }
      // A changed index or size is refused, unless it gives the proof the
      // very same shape (then the computation is identical; see PathShape).
      for (int bit = 0; bit < 64; ++bit) {
        const uint64_t i2 = index ^ (uint64_t{1} << bit);
        const uint64_t s2 = size ^ (uint64_t{1} << bit);
        EXPECT_EQ(VerifyInclusion(leaf, i2, size, proof, root).ok(),
                  i2 < size && PathShape(i2, size) == PathShape(index, size))
            << "index " << i2;
        EXPECT_EQ(VerifyInclusion(leaf, index, s2, proof, root).ok(),
                  index < s2 && PathShape(index, s2) == PathShape(index, size))
            << "size " << s2;
      }
    }
  }
}

TEST(MerkleTamper, ConsistencyRejectsEverySingleBitChange) {
  constexpr uint64_t kMax = 17;
  TestLog log;
  log.Grow(kMax);
  for (uint64_t size2 = 1; size2 <= kMax; ++size2) {
    const Digest root2 = RefMth(log.prefix(size2));
    for (uint64_t size1 = 1; size1 < size2; ++size1) {
      SCOPED_TRACE(std::to_string(size1) + " to " + std::to_string(size2));
      const Digest root1 = RefMth(log.prefix(size1));
      const std::vector<Digest> proof = RefProof(size1, log.prefix(size2));
      ASSERT_OK(VerifyConsistency(size1, size2, proof, root1, root2));
      for (int bit = 0; bit < 256; ++bit) {
        EXPECT_FALSE(VerifyConsistency(size1, size2, proof, FlipBit(root1, bit), root2).ok());
        EXPECT_FALSE(VerifyConsistency(size1, size2, proof, root1, FlipBit(root2, bit)).ok());
        for (size_t i = 0; i < proof.size(); ++i) {
          std::vector<Digest> bad = proof;
          bad[i] = FlipBit(bad[i], bit);
          EXPECT_FALSE(VerifyConsistency(size1, size2, bad, root1, root2).ok()) << i << " " << bit;
        }
      }
      const std::string shape = SubproofShape(size1, size2, true);
      for (int bit = 0; bit < 64; ++bit) {
        const uint64_t a = size1 ^ (uint64_t{1} << bit);
        const uint64_t b = size2 ^ (uint64_t{1} << bit);
        EXPECT_EQ(VerifyConsistency(a, size2, proof, root1, root2).ok(),
                  a > 0 && a < size2 && SubproofShape(a, size2, true) == shape)
            << "size1 " << a;
        EXPECT_EQ(VerifyConsistency(size1, b, proof, root1, root2).ok(),
                  size1 < b && SubproofShape(size1, b, true) == shape)
            << "size2 " << b;
      }
      EXPECT_FALSE(VerifyConsistency(size1, size2, proof, root2, root1).ok());
      EXPECT_FALSE(VerifyConsistency(size1, size2, {}, root1, root2).ok());
    }
  }
}

TEST(MerkleTamper, WrongLengthProofsSayGotAndWant) {
  TestLog log;
  log.Grow(13);
  const Digest root = RefMth(log.prefix(13));
  const Digest leaf = HashLeaf(log.entries()[6]);
  const std::vector<Digest> proof = RefPath(6, log.prefix(13));
  std::vector<Digest> longer = proof;
  longer.push_back(root);
  std::vector<Digest> prefixed = proof;
  prefixed.insert(prefixed.begin(), leaf);
  std::vector<Digest> shorter(proof.begin(), proof.end() - 1);
  for (const auto& bad : {longer, prefixed, shorter}) {
    Status s = VerifyInclusion(leaf, 6, 13, bad, root);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find("want " + std::to_string(proof.size())), std::string::npos) << s;
  }
  const std::vector<Digest> cproof = RefProof(5, log.prefix(13));
  const Digest root1 = RefMth(log.prefix(5));
  std::vector<Digest> clonger = cproof;
  clonger.push_back(root);
  std::vector<Digest> cshorter(cproof.begin() + 1, cproof.end());
  for (const auto& bad : {clonger, cshorter}) {
    Status s = VerifyConsistency(5, 13, bad, root1, root);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find("want " + std::to_string(cproof.size())), std::string::npos) << s;
  }
  Status s = VerifyInclusion(leaf, 6, 13, proof, RefMth(log.prefix(12)));
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("want " + RefMth(log.prefix(12)).Hex()), std::string::npos) << s;
}

// --- Hostile and edge inputs -------------------------------------------------------

TEST(MerkleHostile, PreconditionsAreErrorsNotCrashes) {
  TestLog log;
  log.Grow(10);
  const Digest root = RefMth(log.prefix(10));
  const Digest leaf = HashLeaf(log.entries()[0]);
  constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

  EXPECT_EQ(InclusionProof(10, 10, log.reader()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(0, 0, log.reader()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(11, 10, log.reader()).status().code(), StatusCode::kInvalidArgument);
  // Sizes the store does not hold: the reader's kNotFound, passed through.
  EXPECT_EQ(InclusionProof(3, 11, log.reader()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(InclusionProof(kMaxU64 - 1, kMaxU64, log.reader()).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ConsistencyProof(10, kMaxU64, log.reader()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Root(kMaxU64, log.reader()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CompactRange::Restore(11, log.reader()).status().code(), StatusCode::kNotFound);

  EXPECT_EQ(VerifyInclusion(leaf, 0, 0, {}, EmptyRoot()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(leaf, 10, 10, {}, root).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(leaf, kMaxU64, kMaxU64, {}, root).code(), StatusCode::kInvalidArgument);
  // Maximal sizes run the whole loop without overflow and fail cleanly.
  std::vector<Digest> long_proof(InclusionProofLength(kMaxU64 - 1, kMaxU64), root);
  EXPECT_EQ(long_proof.size(), 63u);
  EXPECT_EQ(VerifyInclusion(leaf, kMaxU64 - 1, kMaxU64, long_proof, root).code(),
            StatusCode::kUnauthenticated);
  std::vector<Digest> huge(100000, root);
  EXPECT_EQ(VerifyInclusion(leaf, 1, 10, huge, root).code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(VerifyConsistency(11, 10, {}, root, root).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(5, 10, {}, root, root).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(5, 10, huge, root, root).code(), StatusCode::kInvalidArgument);
  std::vector<Digest> cproof(ConsistencyProofLength(kMaxU64 - 1, kMaxU64), root);
  EXPECT_EQ(VerifyConsistency(kMaxU64 - 1, kMaxU64, cproof, root, root).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(
      VerifyConsistency(
          uint64_t{1} << 63, kMaxU64,
          std::vector<Digest>(ConsistencyProofLength(uint64_t{1} << 63, kMaxU64), root), root, root)
          .code(),
      StatusCode::kUnauthenticated);
}

TEST(MerkleHostile, TrivialConsistency) {
  const Digest a = HashLeaf("a"), b = HashLeaf("b");
  // Equal sizes: nothing to prove, the roots must match.
  EXPECT_OK(VerifyConsistency(4, 4, {}, a, a));
  EXPECT_EQ(VerifyConsistency(4, 4, {}, a, b).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyConsistency(4, 4, std::vector<Digest>{a}, a, a).code(),
            StatusCode::kInvalidArgument);
  // From the empty tree: nothing to prove, but root1 must be the empty root.
  EXPECT_OK(VerifyConsistency(0, 7, {}, EmptyRoot(), b));
  EXPECT_OK(VerifyConsistency(0, 0, {}, EmptyRoot(), EmptyRoot()));
  EXPECT_EQ(VerifyConsistency(0, 0, {}, EmptyRoot(), a).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyConsistency(0, 7, {}, a, b).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(0, 7, std::vector<Digest>{a}, EmptyRoot(), b).code(),
            StatusCode::kInvalidArgument);
  // A one-leaf tree: the leaf hash is the root and the proof is empty.
  EXPECT_OK(VerifyInclusion(a, 0, 1, {}, a));
  EXPECT_EQ(VerifyInclusion(a, 0, 1, {}, b).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyInclusion(a, 0, 1, std::vector<Digest>{a}, a).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arca::signing::merkle
