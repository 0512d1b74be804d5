// Merkle tree hashing, compact ranges, proof construction from complete
// nodes, and the RFC 9162 verifiers. See merkle.h and LOG.md §1-§3.
#include "signing/merkle.h"

#include <bit>
#include <cstring>
#include <limits>
#include <string>

namespace arca::signing::merkle {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

std::string Num(uint64_t v) { return std::to_string(v); }

// Folds the hashes of adjacent subtrees, left to right, into the hash of
// their union: RFC 9162 splits a range at the largest power of two below its
// size, so the left part is always the largest perfect subtree and the fold
// runs from the right: H(a, H(b, H(c, d))).
Digest FoldRight(std::span<const Digest> parts) {
  Digest h = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) h = HashChildren(parts[i], h);
  return h;
}

// The hash of leaves [begin, begin + count), count > 0, where begin is a
// multiple of the largest power of two in count: one complete node per set
// bit of count, largest first, folded. At most 64 reads.
Result<Digest> RangeHash(uint64_t begin, uint64_t count, const NodeReader& reader) {
  std::vector<Digest> parts;
  parts.reserve(std::popcount(count));
  for (int level = std::bit_width(count) - 1; level >= 0; --level) {
    if (((count >> level) & 1) == 0) continue;
    ARCA_ASSIGN_OR_RETURN(Digest h, reader(level, begin >> level));
    parts.push_back(h);
    begin += uint64_t{1} << level;
  }
  return FoldRight(parts);
}

// The hash of node (level, index) in the tree of `size` leaves, where the
// node starts below size: read if complete, else folded from the complete
// nodes of its truncated range (only on the tree's right edge).
Result<Digest> NodeHash(int level, uint64_t index, uint64_t size, const NodeReader& reader) {
  const uint64_t begin = index << level;
  const uint64_t count = size - begin;
  if ((count >> level) != 0) return reader(level, index);
  return RangeHash(begin, count, reader);
}

// Appends to `proof` the sibling hashes on the way from node
// (from_level, leaf >> from_level) up to the root of the tree of `size`
// leaves, bottom up. A sibling that starts at or past size does not exist:
// the node is carried up unchanged (RFC 9162 collapses it). These are the
// hashes of RFC 9162's PATH, truncated siblings folded on the fly.
Status AppendPath(uint64_t leaf, int from_level, uint64_t size, const NodeReader& reader,
                  std::vector<Digest>* proof) {
  const int top = std::bit_width(size - 1);  // levels below the root
  for (int level = from_level; level < top; ++level) {
    const uint64_t sibling = (leaf >> level) ^ 1;
    if ((sibling << level) >= size) continue;
    ARCA_ASSIGN_OR_RETURN(Digest h, NodeHash(level, sibling, size, reader));
    proof->push_back(h);
  }
  return Status::Ok();
}

}  // namespace

Digest EmptyRoot() { return Sha256Of(ByteView()); }

Digest HashLeaf(ByteView entry) {
  Sha256 h;
  h.Update(ByteView(&kLeafPrefix, 1));
  h.Update(entry);
  return h.Finish();
}

Digest HashChildren(const Digest& left, const Digest& right) {
  uint8_t buf[1 + 2 * Digest::kSize];
  buf[0] = kNodePrefix;
  std::memcpy(buf + 1, left.bytes.data(), Digest::kSize);
  std::memcpy(buf + 1 + Digest::kSize, right.bytes.data(), Digest::kSize);
  return Sha256Of(ByteView(buf, sizeof buf));
}

// --- CompactRange ---

Result<CompactRange> CompactRange::Restore(uint64_t size, const NodeReader& reader) {
  CompactRange range;
  uint64_t begin = 0;
  for (int level = std::bit_width(size) - 1; level >= 0; --level) {
    if (((size >> level) & 1) == 0) continue;
    ARCA_ASSIGN_OR_RETURN(Digest h, reader(level, begin >> level));
    range.hashes_.push_back(h);
    begin += uint64_t{1} << level;
  }
  range.size_ = size;
  return range;
}

Status CompactRange::Append(const Digest& leaf_hash, const NodeWriter& on_node) {
  if (size_ == std::numeric_limits<uint64_t>::max()) {
    return ResourceExhaustedError("Merkle tree is full at " + Num(size_) + " leaves");
  }
  // Each set low bit of size_ is a perfect subtree that the new leaf's
  // subtree of the same level completes into its parent.
  struct NewNode {
    int level;
    uint64_t index;
    Digest hash;
  };
  std::vector<NewNode> created;
  created.push_back({0, size_, leaf_hash});
  Digest h = leaf_hash;
  int level = 0;
  for (; ((size_ >> level) & 1) != 0; ++level) {
    h = HashChildren(hashes_[hashes_.size() - 1 - level], h);
    created.push_back({level + 1, size_ >> (level + 1), h});
  }
  for (const NewNode& n : created) ARCA_RETURN_IF_ERROR(on_node(n.level, n.index, n.hash));
  hashes_.resize(hashes_.size() - level);
  hashes_.push_back(h);
  ++size_;
  return Status::Ok();
}

Digest CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  return FoldRight(hashes_);
}

// --- Proofs from stored nodes ---

Result<Digest> Root(uint64_t size, const NodeReader& reader) {
  if (size == 0) return EmptyRoot();
  return RangeHash(0, size, reader);
}

Result<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size,
                                           const NodeReader& reader) {
  if (index >= size) {
    return InvalidArgumentError("inclusion proof: leaf index " + Num(index) +
                                " is not below tree size " + Num(size));
  }
  std::vector<Digest> proof;
  ARCA_RETURN_IF_ERROR(AppendPath(index, 0, size, reader, &proof));
  return proof;
}

Result<std::vector<Digest>> ConsistencyProof(uint64_t size1, uint64_t size2,
                                             const NodeReader& reader) {
  if (size1 > size2) {
    return InvalidArgumentError("consistency proof: size1 " + Num(size1) +
                                " is greater than size2 " + Num(size2));
  }
  std::vector<Digest> proof;
  if (size1 == 0 || size1 == size2) return proof;
  // The last perfect subtree of the old tree, node (shift, last), is
  // complete in both trees. The proof is its hash (unless it is the whole old
  // tree, whose root the verifier has) followed by its path in the new tree.
  const int shift = std::countr_zero(size1);
  const uint64_t last = (size1 - 1) >> shift;
  if (!std::has_single_bit(size1)) {
    ARCA_ASSIGN_OR_RETURN(Digest h, reader(shift, last));
    proof.push_back(h);
  }
  ARCA_RETURN_IF_ERROR(AppendPath(size1 - 1, shift, size2, reader, &proof));
  return proof;
}

// Below the level where the paths to `index` and to size - 1 meet, every
// sibling exists ("inner"); above it the path runs along the right edge and
// has a sibling, on the left, only where index has a 1 bit ("border").
int InclusionProofLength(uint64_t index, uint64_t size) {
  const int inner = std::bit_width(index ^ (size - 1));
  return inner + (inner < 64 ? std::popcount(index >> inner) : 0);
}

// The path of leaf size1 - 1 in the new tree, less its levels below the last
// perfect subtree of the old tree, plus that subtree's hash unless it is the
// old root itself.
int ConsistencyProofLength(uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 == size2) return 0;
  const int shift = std::countr_zero(size1);
  const int seed = std::has_single_bit(size1) ? 0 : 1;
  return seed + InclusionProofLength(size1 - 1, size2) - shift;
}

// --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2, same names) ---

Result<Digest> RootFromInclusionProof(const Digest& leaf_hash, uint64_t index, uint64_t size,
                                      std::span<const Digest> proof) {
  if (index >= size) {
    return InvalidArgumentError("inclusion proof: leaf index " + Num(index) +
                                " is not below tree size " + Num(size));
  }
  if (const int want = InclusionProofLength(index, size); proof.size() != size_t(want)) {
    return InvalidArgumentError("inclusion proof for leaf " + Num(index) + " in tree size " +
                                Num(size) + " has " + Num(proof.size()) + " hashes, want " +
                                Num(want));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Digest r = leaf_hash;
  for (const Digest& p : proof) {
    if (sn == 0) return InternalError("inclusion proof: path ends before the proof");
    if ((fn & 1) != 0 || fn == sn) {
      r = HashChildren(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return InternalError("inclusion proof: proof ends before the path");
  return r;
}

Status VerifyInclusion(const Digest& leaf_hash, uint64_t index, uint64_t size,
                       std::span<const Digest> proof, const Digest& root) {
  ARCA_ASSIGN_OR_RETURN(Digest calculated, RootFromInclusionProof(leaf_hash, index, size, proof));
  if (calculated != root) {
    return UnauthenticatedError("inclusion proof for leaf " + Num(index) + " in tree size " +
                                Num(size) + " leads to root " + calculated.Hex() + ", want " +
                                root.Hex());
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Digest> proof,
                         const Digest& root1, const Digest& root2) {
  if (size1 > size2) {
    return InvalidArgumentError("consistency proof: size1 " + Num(size1) +
                                " is greater than size2 " + Num(size2));
  }
  const std::string sizes = " from size " + Num(size1) + " to " + Num(size2);
  if (const int want = ConsistencyProofLength(size1, size2); proof.size() != size_t(want)) {
    return InvalidArgumentError("consistency proof" + sizes + " has " + Num(proof.size()) +
                                " hashes, want " + Num(want));
  }
  if (size1 == 0 && root1 != EmptyRoot()) {
    return InvalidArgumentError("root of the empty tree is " + root1.Hex() + ", want " +
                                EmptyRoot().Hex());
  }
  if (size1 == size2) {
    if (root1 != root2) {
      return UnauthenticatedError("trees of the same size " + Num(size1) + " have roots " +
                                  root1.Hex() + " and " + root2.Hex());
    }
    return Status::Ok();
  }
  if (size1 == 0) return Status::Ok();  // the empty tree is a prefix of every tree

  // Steps 2-5: when size1 is a power of two the first path element is root1.
  const bool root1_first = std::has_single_bit(size1);
  auto element = [&](size_t i) -> const Digest& {
    return root1_first ? (i == 0 ? root1 : proof[i - 1]) : proof[i];
  };
  const size_t path_size = proof.size() + (root1_first ? 1 : 0);
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Digest fr = element(0);
  Digest sr = element(0);
  // Step 6.
  for (size_t i = 1; i < path_size; ++i) {
    const Digest& c = element(i);
    if (sn == 0) return InternalError("consistency proof: path ends before the proof");
    if ((fn & 1) != 0 || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) return InternalError("consistency proof: proof ends before the path");
  if (fr != root1) {
    return UnauthenticatedError("consistency proof" + sizes + " leads to old root " + fr.Hex() +
                                ", want " + root1.Hex());
  }
  if (sr != root2) {
    return UnauthenticatedError("consistency proof" + sizes + " leads to new root " + sr.Hex() +
                                ", want " + root2.Hex());
  }
  return Status::Ok();
}

// --- MemoryNodes ---

Status MemoryNodes::Put(int level, uint64_t index, const Digest& hash) {
  if (level < 0 || level > kMaxLevel) {
    return InvalidArgumentError("node level " + std::to_string(level) + " is out of range");
  }
  if (levels_.size() <= size_t(level)) levels_.resize(level + 1);
  std::vector<Digest>& nodes = levels_[level];
  if (index > nodes.size()) {
    return FailedPreconditionError("node (" + std::to_string(level) + ", " + Num(index) +
                                   ") leaves a gap after " + Num(nodes.size()) + " nodes");
  }
  if (index == nodes.size()) {
    nodes.push_back(hash);
  } else if (nodes[index] != hash) {
    return FailedPreconditionError("node (" + std::to_string(level) + ", " + Num(index) +
                                   ") is already " + nodes[index].Hex() + ", not " + hash.Hex());
  }
  return Status::Ok();
}

Result<Digest> MemoryNodes::Get(int level, uint64_t index) const {
  if (level < 0 || size_t(level) >= levels_.size() || index >= levels_[level].size()) {
    return NotFoundError("no Merkle node (" + std::to_string(level) + ", " + Num(index) + ")");
  }
  return levels_[level][index];
}

uint64_t MemoryNodes::count(int level) const {
  if (level < 0 || size_t(level) >= levels_.size()) return 0;
  return levels_[level].size();
}

NodeReader MemoryNodes::reader() const {
  return [this](int level, uint64_t index) { return Get(level, index); };
}

NodeWriter MemoryNodes::writer() {
  return [this](int level, uint64_t index, const Digest& hash) { return Put(level, index, hash); };
}

}  // namespace arca::signing::merkle
