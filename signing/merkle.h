// The Merkle tree of Arca's transparency log: RFC 6962 / RFC 9162 hashing,
// a compact range for appending, and inclusion and consistency proofs built
// from stored nodes, with their verifiers. The normative text is LOG.md.
//
// Hashing (RFC 9162 §2.1.1), with SHA-256:
//
//   empty tree     SHA-256("")
//   leaf           SHA-256(0x00 || entry)
//   interior node  SHA-256(0x01 || left || right)
//
// Node addressing. The log stores only complete nodes: node (level, index)
// is the root of the perfect subtree over leaves
// [index * 2^level, (index + 1) * 2^level); level 0 holds the leaf hashes.
// A complete node never changes once all its leaves exist, so a store can
// write it once and keep it. The hash of a tree of any size, and of every
// incomplete subtree on its right edge, is folded from O(log n) complete
// nodes when needed (RFC 9162's MTH of a range that is not a power of two).
//
// Everything here is pure computation over hashes the caller supplies. The
// node store is reached only through a NodeReader callback, so the same code
// serves the registry (RocksDB) and tests and tools (MemoryNodes). Functions
// are thread-safe if the reader is; a CompactRange is a plain value and not
// thread-safe.
#ifndef ARCA_SIGNING_MERKLE_H_
#define ARCA_SIGNING_MERKLE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"
#include "common/status.h"

namespace arca::signing::merkle {

// Levels run from 0 (leaves) to 63: a tree holds fewer than 2^64 leaves.
inline constexpr int kMaxLevel = 63;

// SHA-256 of the empty string: the root of the tree of size 0.
Digest EmptyRoot();
// SHA-256(0x00 || entry): the hash of leaf `entry`.
Digest HashLeaf(ByteView entry);
inline Digest HashLeaf(std::string_view entry) { return HashLeaf(AsBytes(entry)); }
// SHA-256(0x01 || left || right): the hash of an interior node.
Digest HashChildren(const Digest& left, const Digest& right);

// Returns the hash of complete node (level, index). The callers here ask only
// for nodes that are complete in the tree size they were given; a reader
// answers kNotFound for a node it does not hold, or any other error of its
// store, which the caller returns unchanged.
using NodeReader = std::function<Result<Digest>(int level, uint64_t index)>;

// Receives a node that has just become complete, to persist it. A non-OK
// status stops the operation that called it.
using NodeWriter = std::function<Status(int level, uint64_t index, const Digest& hash)>;

// The right edge of a tree being appended to: the roots of the perfect
// subtrees that make up leaves [0, size), one per set bit of size, largest
// (leftmost) first. O(log n) memory; a plain copyable value.
class CompactRange {
 public:
  // The empty tree.
  CompactRange() = default;

  // The range of the tree of `size` leaves, read from its complete nodes
  // (popcount(size) reads). Errors are the reader's.
  static Result<CompactRange> Restore(uint64_t size, const NodeReader& reader);

  // Appends one leaf hash (HashLeaf(entry)). Calls `on_node` for the new leaf
  // (level 0) and then for each node the leaf completes, bottom up; the
  // caller persists them. If `on_node` fails, its status is returned and the
  // range is unchanged (nodes already handed over are correct for this
  // position, so writing them again on a retry is harmless).
  // kResourceExhausted if the tree already holds 2^64 - 1 leaves.
  Status Append(const Digest& leaf_hash, const NodeWriter& on_node);

  uint64_t size() const { return size_; }

  // The root of the tree of size() leaves (EmptyRoot() when empty).
  Digest Root() const;

  // The perfect subtree roots, largest first (for tests and diagnostics).
  std::span<const Digest> hashes() const { return hashes_; }

 private:
  uint64_t size_ = 0;
  std::vector<Digest> hashes_;
};

// The root of the tree of `size` leaves, from at most 64 complete nodes.
Result<Digest> Root(uint64_t size, const NodeReader& reader);

// RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the sibling hashes from the leaf
// up to the root. kInvalidArgument unless index < size; other errors are the
// reader's. O(log n) node reads.
Result<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& reader);

// RFC 9162 §2.1.4.1 PROOF(size1, D[0:size2]). Empty when size1 == size2 or
// size1 == 0 (nothing to prove; see VerifyConsistency). kInvalidArgument if
// size1 > size2; other errors are the reader's. O(log n) node reads.
Result<std::vector<Digest>> ConsistencyProof(uint64_t size1, uint64_t size2,
                                             const NodeReader& reader);

// The number of hashes in a valid inclusion proof for `index` in a tree of
// `size` leaves (requires index < size).
int InclusionProofLength(uint64_t index, uint64_t size);
// The number of hashes in a valid consistency proof (requires size1 <= size2).
int ConsistencyProofLength(uint64_t size1, uint64_t size2);

// RFC 9162 §2.1.3.2 steps 1-4: the root that `proof` leads to from
// `leaf_hash` at `index` in a tree of `size` leaves. kInvalidArgument if
// index >= size or the proof has the wrong number of hashes (the message
// gives got and want). The result means nothing until compared with a
// trusted root: use VerifyInclusion.
Result<Digest> RootFromInclusionProof(const Digest& leaf_hash, uint64_t index, uint64_t size,
                                      std::span<const Digest> proof);

// Checks that `proof` shows leaf `leaf_hash` at `index` in the tree of `size`
// leaves whose root is `root`. kInvalidArgument for the preconditions of
// RootFromInclusionProof, kUnauthenticated if the computed root differs from
// `root` (message: calculated and wanted roots).
//
// The proof binds the root to the pair (index, size) only through the shape
// of the path: the caller must take size and root from the same signed
// checkpoint, never from separate sources.
Status VerifyInclusion(const Digest& leaf_hash, uint64_t index, uint64_t size,
                       std::span<const Digest> proof, const Digest& root);

// RFC 9162 §2.1.4.2: checks that the tree of size2 leaves with root2 extends
// the tree of size1 leaves with root1. Preconditions, each kInvalidArgument:
// size1 <= size2; size1 == size2 needs an empty proof and root1 == root2
// (kUnauthenticated if the roots differ); size1 == 0 needs an empty proof and
// root1 == EmptyRoot(); otherwise the proof has exactly
// ConsistencyProofLength hashes. kUnauthenticated if either recomputed root
// differs (message says which, calculated and wanted).
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Digest> proof,
                         const Digest& root1, const Digest& root2);

// An in-memory node store, dense per level: the reader and writer that tests
// and tools use. Not thread-safe. The callbacks from reader() and writer()
// refer to this object, which must outlive them.
class MemoryNodes {
 public:
  // Stores node (level, index). Nodes of a level arrive in order: index may
  // be at most the count already held (kFailedPrecondition for a gap).
  // Storing a node again is OK if the hash is the same and
  // kFailedPrecondition if it differs (a complete node never changes).
  Status Put(int level, uint64_t index, const Digest& hash);

  // kNotFound if the node is not held.
  Result<Digest> Get(int level, uint64_t index) const;

  // The number of nodes held at `level`.
  uint64_t count(int level) const;

  NodeReader reader() const;
  NodeWriter writer();

 private:
  std::vector<std::vector<Digest>> levels_;
};

}  // namespace arca::signing::merkle

#endif  // ARCA_SIGNING_MERKLE_H_
