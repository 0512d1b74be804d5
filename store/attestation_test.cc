// Attestations in the store: attaching, listing, bounds, gc and fsck.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "common/file.h"
#include "common/testing.h"
#include "store/internal/keys.h"
#include "store/store.h"

namespace arca::store {
namespace {

namespace fs = std::filesystem;

class AttestationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = Store::Open(tmp_ / "store");
    ASSERT_OK(st);
    store_ = std::move(*st);
  }

  // A small bundle named `name`, bound to `ref` unless it is empty.
  AddResult AddBundle(uint64_t seed, const std::string& ref) {
    std::string dir = tmp_ / ("in-" + std::to_string(seed));
    fs::create_directories(dir);
    EXPECT_OK(WriteFileAtomic(dir + "/model.bin", testing::RandomBytes(200 << 10, seed)));
    format::Metadata meta;
    meta.name = "test/model";
    auto added = store_->AddDirectory(dir, meta, ref, 1);
    EXPECT_OK(added);
    return *added;
  }

  // Stands in for an envelope: the store keeps bytes verbatim and does not
  // look inside (the registry checks the structure).
  static std::string Envelope(int n) {
    return R"({"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k)" +
           std::to_string(n) + R"(","sig":"AA=="}]})";
  }

  // Closes the store and opens its RocksDB directly, to damage it.
  std::unique_ptr<rocksdb::DB> OpenRawDb() {
    store_.reset();
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::Options(), tmp_ / "store/db", &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<rocksdb::DB>(db);
  }

  void Reopen() {
    auto st = Store::Open(tmp_ / "store");
    ASSERT_OK(st);
    store_ = std::move(*st);
  }

  bool HasProblem(const FsckReport& r, const std::string& part) {
    for (const std::string& p : r.problems) {
      if (p.find(part) != std::string::npos) return true;
    }
    return false;
  }

  testing::TempDir tmp_;
  std::unique_ptr<Store> store_;
};

TEST_F(AttestationTest, PutListAndRead) {
  AddResult a = AddBundle(1, "test/model:a");
  AddResult b = AddBundle(2, "test/model:b");
  const std::string e1 = Envelope(1), e2 = Envelope(2), e3 = Envelope(3);

  auto empty = store_->ListAttestations(a.bundle);
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());

  auto put = store_->PutAttestation(a.bundle, e1);
  ASSERT_OK(put);
  EXPECT_TRUE(*put);
  put = store_->PutAttestation(a.bundle, e1);  // again: held, not new
  ASSERT_OK(put);
  EXPECT_FALSE(*put);
  ASSERT_OK(store_->PutAttestation(a.bundle, e2));
  // One envelope may name several subjects.
  put = store_->PutAttestation(b.bundle, e2);
  ASSERT_OK(put);
  EXPECT_TRUE(*put);
  ASSERT_OK(store_->PutAttestation(b.bundle, e3));

  auto list = store_->ListAttestations(a.bundle);
  ASSERT_OK(list);
  std::vector<Digest> want = {Sha256Of(e1), Sha256Of(e2)};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*list, want);
  list = store_->ListAttestations(b.bundle);
  ASSERT_OK(list);
  EXPECT_EQ(list->size(), 2u);

  auto bytes = store_->GetObject(Sha256Of(e1), ObjectKind::kAttestation);
  ASSERT_OK(bytes);
  EXPECT_EQ(*bytes, e1);
  EXPECT_EQ(store_->GetObject(Sha256Of(e1), ObjectKind::kManifest).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*store_->GetObjectKind(Sha256Of(e3)), ObjectKind::kAttestation);

  FsckReport r = store_->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
  EXPECT_EQ(r.attestations, 4u);
}

TEST_F(AttestationTest, RefusesWhatItCannotHold) {
  AddResult a = AddBundle(1, "");
  // Subject not held, or not a manifest.
  Status s = store_->PutAttestation(Sha256Of(std::string_view("no such bundle")), Envelope(1)).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("not in the store"), std::string_view::npos) << s;
  s = store_->PutAttestation(a.built.manifest.files[0].index, Envelope(1)).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  // Empty and oversized envelopes.
  EXPECT_EQ(store_->PutAttestation(a.bundle, "").status().code(), StatusCode::kInvalidArgument);
  std::string big(kMaxAttestationBytes + 1, 'x');
  s = store_->PutAttestation(a.bundle, big).status();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s;
  EXPECT_OK(store_->PutAttestation(a.bundle, big.substr(1)));  // exactly the limit
  // An envelope whose bytes are another kind of held object.
  s = store_->PutAttestation(a.bundle, a.built.manifest_bytes).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  auto list = store_->ListAttestations(a.bundle);
  ASSERT_OK(list);
  EXPECT_EQ(list->size(), 1u);
  FsckReport r = store_->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
}

TEST_F(AttestationTest, AtMostSoManyPerSubject) {
  AddResult a = AddBundle(1, "test/model:a");
  AddResult b = AddBundle(2, "test/model:b");
  for (size_t i = 0; i < kMaxAttestationsPerSubject; ++i) ASSERT_OK(store_->PutAttestation(a.bundle, Envelope(int(i))));
  Status s = store_->PutAttestation(a.bundle, Envelope(-1)).status();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s;
  EXPECT_NE(s.message().find(a.bundle.ToString()), std::string_view::npos) << s;
  // Re-sending one that is held is still fine, and other bundles are not affected.
  auto again = store_->PutAttestation(a.bundle, Envelope(7));
  ASSERT_OK(again);
  EXPECT_FALSE(*again);
  EXPECT_OK(store_->PutAttestation(b.bundle, Envelope(-1)));
  auto list = store_->ListAttestations(a.bundle);
  ASSERT_OK(list);
  EXPECT_EQ(list->size(), kMaxAttestationsPerSubject);
  EXPECT_EQ(std::find(list->begin(), list->end(), Sha256Of(Envelope(-1))), list->end());
}

TEST_F(AttestationTest, GcKeepsThoseOfLiveBundlesOnly) {
  AddResult live = AddBundle(1, "test/model:live");
  AddResult dead = AddBundle(2, "test/model:dead");
  const std::string only_live = Envelope(1), shared = Envelope(2), only_dead = Envelope(3);
  ASSERT_OK(store_->PutAttestation(live.bundle, only_live));
  ASSERT_OK(store_->PutAttestation(live.bundle, shared));
  ASSERT_OK(store_->PutAttestation(dead.bundle, shared));
  ASSERT_OK(store_->PutAttestation(dead.bundle, only_dead));
  ASSERT_OK(store_->DeleteRef("test/model:dead"));

  auto gc = store_->Gc();
  ASSERT_OK(gc);
  EXPECT_FALSE(store_->HasObject(dead.bundle));
  EXPECT_FALSE(store_->HasObject(Sha256Of(only_dead)));
  EXPECT_TRUE(store_->HasObject(Sha256Of(shared)));
  EXPECT_TRUE(store_->HasObject(Sha256Of(only_live)));
  auto list = store_->ListAttestations(live.bundle);
  ASSERT_OK(list);
  EXPECT_EQ(list->size(), 2u);
  list = store_->ListAttestations(dead.bundle);
  ASSERT_OK(list);
  EXPECT_TRUE(list->empty());
  FsckReport r = store_->Fsck();
  EXPECT_TRUE(r.ok()) << r.problems.front();
  EXPECT_EQ(r.attestations, 2u);
  // A second gc finds nothing more.
  gc = store_->Gc();
  ASSERT_OK(gc);
  EXPECT_EQ(gc->objects_removed, 0u);
}

TEST_F(AttestationTest, FsckFindsDamage) {
  AddResult a = AddBundle(1, "test/model:a");
  const std::string e1 = Envelope(1), e2 = Envelope(2);
  ASSERT_OK(store_->PutAttestation(a.bundle, e1));
  ASSERT_OK(store_->PutAttestation(a.bundle, e2));
  const Digest d1 = Sha256Of(e1), d2 = Sha256Of(e2);
  const Digest ghost = Sha256Of(std::string_view("never stored"));
  const Digest gone = Sha256Of(std::string_view("no such bundle"));
  {
    std::unique_ptr<rocksdb::DB> db = OpenRawDb();
    rocksdb::WriteOptions w;
    // e1's bytes changed in place.
    std::string damaged = std::string(1, char(ObjectKind::kAttestation)) + e1;
    damaged[10] ^= 1;
    ASSERT_TRUE(db->Put(w, internal::DigestKey(internal::kObjectPrefix, d1), damaged).ok());
    // An index record for an object that does not exist, one for a missing
    // subject, and e2 no longer indexed anywhere.
    ASSERT_TRUE(db->Put(w, internal::AttestationKey(a.bundle, ghost), "").ok());
    ASSERT_TRUE(db->Put(w, internal::AttestationKey(gone, d1), "").ok());
    ASSERT_TRUE(db->Delete(w, internal::AttestationKey(a.bundle, d2)).ok());
  }
  Reopen();
  FsckReport r = store_->Fsck();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(HasProblem(r, "object " + d1.ToString() + " is corrupt")) << ::testing::PrintToString(r.problems);
  EXPECT_TRUE(HasProblem(r, "attestation " + ghost.ToString() + " of bundle " + a.bundle.ToString() +
                                " is indexed but its object is missing"))
      << ::testing::PrintToString(r.problems);
  EXPECT_TRUE(HasProblem(r, "its subject bundle " + gone.ToString() + " is missing"))
      << ::testing::PrintToString(r.problems);
  EXPECT_TRUE(HasProblem(r, "attestation " + d2.ToString() + " is attached to no bundle"))
      << ::testing::PrintToString(r.problems);
  // Reading the damaged envelope fails rather than return other bytes.
  EXPECT_EQ(store_->GetObject(d1, ObjectKind::kAttestation).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace arca::store
