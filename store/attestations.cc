// Store: attestations, the envelopes attached to a bundle. Each is an object
// of kind 'A' (its bytes verbatim, named by their SHA-256) plus one index
// record per subject ('a' subject envelope, empty value), so that listing a
// subject's attestations is a prefix scan. The object and its index record
// are written in one batch; gc drops both once the subject is gone.
#include <rocksdb/write_batch.h>

#include <memory>

#include "store/internal/keys.h"
#include "store/internal/store_impl.h"
#include "store/store.h"

namespace arca::store {

using internal::AttestationKey;
using internal::DigestKey;

namespace {

// Calls fn(envelope digest) for each index record of `subject`, in key order,
// until fn returns false. DATA_LOSS on a malformed key.
template <typename F>
Status ForEachAttestation(rocksdb::DB* db, const Digest& subject, F fn) {
  const std::string prefix = DigestKey(internal::kAttestationPrefix, subject);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != internal::kAttestationKeySize) {
      return DataLossError("attestation index record of " + subject.ToString() + " is malformed");
    }
    if (!fn(Digest::FromBytes(reinterpret_cast<const uint8_t*>(it->key().data()) + 33))) break;
  }
  return Store::Impl::FromRocks(it->status(), "list attestations");
}

}  // namespace

Result<bool> Store::PutAttestation(const Digest& subject, std::string_view envelope) {
  if (envelope.empty()) return InvalidArgumentError("attestation for " + subject.ToString() + " is empty");
  if (envelope.size() > kMaxAttestationBytes) {
    return ResourceExhaustedError("attestation of " + std::to_string(envelope.size()) + " bytes is over the limit of " +
                                  std::to_string(kMaxAttestationBytes));
  }
  const Digest d = Sha256Of(envelope);
  std::lock_guard<std::mutex> lock(impl_->attestation_mu);
  Result<ObjectKind> subject_kind = GetObjectKind(subject);
  if (subject_kind.status().code() == StatusCode::kNotFound ||
      (subject_kind.ok() && *subject_kind != ObjectKind::kManifest)) {
    return FailedPreconditionError("bundle " + subject.ToString() +
                                   " is not in the store; push it before attaching attestations to it");
  }
  ARCA_RETURN_IF_ERROR(subject_kind.status());

  std::string ignored;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), AttestationKey(subject, d), &ignored);
  if (s.ok()) return false;
  if (!s.IsNotFound()) return Impl::FromRocks(s, "read attestation index");

  size_t count = 0;
  ARCA_RETURN_IF_ERROR(ForEachAttestation(impl_->db.get(), subject, [&](const Digest&) {
    ++count;
    return true;
  }));
  if (count >= kMaxAttestationsPerSubject) {
    return ResourceExhaustedError("bundle " + subject.ToString() + " already has " + std::to_string(count) +
                                  " attestations, the most one bundle may have");
  }

  rocksdb::WriteBatch batch;
  Result<ObjectKind> kind = GetObjectKind(d);
  if (kind.ok() && *kind != ObjectKind::kAttestation) {
    return InvalidArgumentError("object " + d.ToString() + " is held as another kind");
  }
  if (!kind.ok() && kind.status().code() != StatusCode::kNotFound) return kind.status();
  if (!kind.ok()) {
    batch.Put(DigestKey(internal::kObjectPrefix, d),
              std::string(1, char(ObjectKind::kAttestation)) + std::string(envelope));
  }
  batch.Put(AttestationKey(subject, d), rocksdb::Slice());
  ARCA_RETURN_IF_ERROR(Impl::FromRocks(impl_->db->Write(impl_->SyncWrite(), &batch), "write attestation"));
  return true;
}

Result<std::vector<Digest>> Store::ListAttestations(const Digest& subject) const {
  std::vector<Digest> out;
  ARCA_RETURN_IF_ERROR(ForEachAttestation(impl_->db.get(), subject, [&](const Digest& d) {
    out.push_back(d);
    // The index never holds more; stop rather than trust a damaged one.
    return out.size() < kMaxAttestationsPerSubject;
  }));
  return out;
}

}  // namespace arca::store
