// Log entries: the canonical byte layout of log_entry.h, both directions.
#include "signing/log_entry.h"

#include <algorithm>

#include "format/path.h"
#include "signing/internal/json.h"

namespace arca::signing {
namespace {

using internal::Json;

// Builds the bytes field by field; remembers the first rule broken.
class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(char(v)); }
  void U64(uint64_t v) {
    for (int i = 7; i >= 0; --i) out_.push_back(char((v >> (8 * i)) & 0xff));
  }
  void Dig(const Digest& d) { out_.append(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size()); }
  void Str(std::string_view what, std::string_view s) {
    if (s.size() > kMaxLogString) return Fail(std::string(what) + " is longer than " + std::to_string(kMaxLogString) + " bytes");
    if (!format::IsValidUtf8(s)) return Fail(std::string(what) + " is not valid UTF-8");
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7f) return Fail(std::string(what) + " holds a control character");
    }
    out_.push_back(char(s.size() >> 8));
    out_.push_back(char(s.size() & 0xff));
    out_.append(s);
  }
  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  Result<std::string> Finish() && {
    if (!error_.empty()) return InvalidArgumentError("log entry: " + error_);
    return std::move(out_);
  }

 private:
  std::string out_;
  std::string error_;
};

// Reads fields in order; every read is bounds-checked against the input.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  Status U8(uint8_t* v) {
    ARCA_RETURN_IF_ERROR(Need(1, "a byte"));
    *v = uint8_t(in_[pos_++]);
    return Status::Ok();
  }
  Status U64(uint64_t* v) {
    ARCA_RETURN_IF_ERROR(Need(8, "an integer"));
    *v = 0;
    for (int i = 0; i < 8; ++i) *v = (*v << 8) | uint8_t(in_[pos_++]);
    return Status::Ok();
  }
  Status Dig(Digest* d) {
    ARCA_RETURN_IF_ERROR(Need(32, "a digest"));
    *d = Digest::FromBytes(reinterpret_cast<const uint8_t*>(in_.data() + pos_));
    pos_ += 32;
    return Status::Ok();
  }
  Status Str(std::string_view what, std::string* s) {
    ARCA_RETURN_IF_ERROR(Need(2, what));
    const size_t n = (size_t(uint8_t(in_[pos_])) << 8) | uint8_t(in_[pos_ + 1]);
    pos_ += 2;
    if (n > kMaxLogString) return Bad(std::string(what) + " is longer than " + std::to_string(kMaxLogString) + " bytes");
    ARCA_RETURN_IF_ERROR(Need(n, what));
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    if (!format::IsValidUtf8(*s)) return Bad(std::string(what) + " is not valid UTF-8");
    for (unsigned char c : *s) {
      if (c < 0x20 || c == 0x7f) return Bad(std::string(what) + " holds a control character");
    }
    return Status::Ok();
  }
  Status End() const {
    if (pos_ != in_.size()) return Bad(std::to_string(in_.size() - pos_) + " bytes after the last field");
    return Status::Ok();
  }
  static Status Bad(std::string why) { return InvalidArgumentError("log entry: " + why); }

 private:
  Status Need(size_t n, std::string_view what) const {
    if (in_.size() - pos_ < n) return Bad("truncated in " + std::string(what));
    return Status::Ok();
  }
  std::string_view in_;
  size_t pos_ = 0;
};

void WriteKeyIds(Writer& w, const std::vector<std::string>& key_ids) {
  if (key_ids.size() > kMaxLogKeyIds) w.Fail("more than " + std::to_string(kMaxLogKeyIds) + " key ids");
  w.U8(uint8_t(std::min(key_ids.size(), kMaxLogKeyIds)));
  for (size_t i = 0; i < key_ids.size() && i < kMaxLogKeyIds; ++i) w.Str("key id", key_ids[i]);
}

Status ReadKeyIds(Reader& r, std::vector<std::string>* key_ids) {
  uint8_t n = 0;
  ARCA_RETURN_IF_ERROR(r.U8(&n));
  if (n > kMaxLogKeyIds) return Reader::Bad("more than " + std::to_string(kMaxLogKeyIds) + " key ids");
  key_ids->resize(n);
  for (std::string& k : *key_ids) ARCA_RETURN_IF_ERROR(r.Str("key id", &k));
  return Status::Ok();
}

}  // namespace

Result<std::string> LogEntry::Encode() const {
  Writer w;
  w.U8(kLogEntryVersion);
  w.U8(uint8_t(type));
  w.U64(time);
  switch (type) {
    case LogEntryType::kPublish:
      w.Str("repository", repository);
      if (!bundle) w.Fail("a publish entry needs the bundle digest");
      w.Dig(bundle.value_or(Digest()));
      WriteKeyIds(w, key_ids);
      break;
    case LogEntryType::kAttestation:
      if (!bundle) w.Fail("an attestation entry needs the bundle digest");
      w.Dig(bundle.value_or(Digest()));
      w.Dig(envelope);
      w.Str("predicate type", predicate_type);
      WriteKeyIds(w, key_ids);
      break;
    case LogEntryType::kTag:
      w.Str("repository", repository);
      w.Str("tag", tag);
      if (sequence == 0) w.Fail("tag sequence numbers start at 1");
      w.U64(sequence);
      w.U8(uint8_t((digest ? 1 : 0) | (previous ? 2 : 0)));
      if (digest) w.Dig(*digest);
      if (previous) w.Dig(*previous);
      break;
    case LogEntryType::kKey:
      if (key_action != KeyAction::kAdded && key_action != KeyAction::kRevoked) w.Fail("unknown key action");
      w.U8(uint8_t(key_action));
      w.Dig(key_id);
      w.Str("key name", name);
      w.Str("reason", reason);
      break;
    case LogEntryType::kMirror:
      w.Str("upstream", upstream);
      w.U64(upstream_size);
      w.Dig(upstream_root);
      w.Str("repository", repository);
      w.U8(bundle ? 1 : 0);
      if (bundle) w.Dig(*bundle);
      break;
    default:
      w.Fail("unknown entry type " + std::to_string(int(type)));
  }
  return std::move(w).Finish();
}

Result<LogEntry> LogEntry::Decode(std::string_view bytes) {
  if (bytes.size() > kMaxLogEntryBytes) return Reader::Bad("larger than " + std::to_string(kMaxLogEntryBytes) + " bytes");
  Reader r(bytes);
  LogEntry e;
  uint8_t version = 0, type = 0, flags = 0;
  ARCA_RETURN_IF_ERROR(r.U8(&version));
  if (version != kLogEntryVersion) return Reader::Bad("unknown version " + std::to_string(version));
  ARCA_RETURN_IF_ERROR(r.U8(&type));
  ARCA_RETURN_IF_ERROR(r.U64(&e.time));
  e.type = LogEntryType(type);
  switch (e.type) {
    case LogEntryType::kPublish: {
      Digest d;
      ARCA_RETURN_IF_ERROR(r.Str("repository", &e.repository));
      ARCA_RETURN_IF_ERROR(r.Dig(&d));
      e.bundle = d;
      ARCA_RETURN_IF_ERROR(ReadKeyIds(r, &e.key_ids));
      break;
    }
    case LogEntryType::kAttestation: {
      Digest d;
      ARCA_RETURN_IF_ERROR(r.Dig(&d));
      e.bundle = d;
      ARCA_RETURN_IF_ERROR(r.Dig(&e.envelope));
      ARCA_RETURN_IF_ERROR(r.Str("predicate type", &e.predicate_type));
      ARCA_RETURN_IF_ERROR(ReadKeyIds(r, &e.key_ids));
      break;
    }
    case LogEntryType::kTag: {
      ARCA_RETURN_IF_ERROR(r.Str("repository", &e.repository));
      ARCA_RETURN_IF_ERROR(r.Str("tag", &e.tag));
      ARCA_RETURN_IF_ERROR(r.U64(&e.sequence));
      if (e.sequence == 0) return Reader::Bad("tag sequence 0 (they start at 1)");
      ARCA_RETURN_IF_ERROR(r.U8(&flags));
      if (flags & ~3u) return Reader::Bad("unknown tag flags " + std::to_string(flags));
      Digest d;
      if (flags & 1) {
        ARCA_RETURN_IF_ERROR(r.Dig(&d));
        e.digest = d;
      }
      if (flags & 2) {
        ARCA_RETURN_IF_ERROR(r.Dig(&d));
        e.previous = d;
      }
      break;
    }
    case LogEntryType::kKey: {
      uint8_t action = 0;
      ARCA_RETURN_IF_ERROR(r.U8(&action));
      if (action != 1 && action != 2) return Reader::Bad("unknown key action " + std::to_string(action));
      e.key_action = KeyAction(action);
      ARCA_RETURN_IF_ERROR(r.Dig(&e.key_id));
      ARCA_RETURN_IF_ERROR(r.Str("key name", &e.name));
      ARCA_RETURN_IF_ERROR(r.Str("reason", &e.reason));
      break;
    }
    case LogEntryType::kMirror: {
      ARCA_RETURN_IF_ERROR(r.Str("upstream", &e.upstream));
      ARCA_RETURN_IF_ERROR(r.U64(&e.upstream_size));
      ARCA_RETURN_IF_ERROR(r.Dig(&e.upstream_root));
      ARCA_RETURN_IF_ERROR(r.Str("repository", &e.repository));
      ARCA_RETURN_IF_ERROR(r.U8(&flags));
      if (flags & ~1u) return Reader::Bad("unknown mirror flags " + std::to_string(flags));
      if (flags & 1) {
        Digest d;
        ARCA_RETURN_IF_ERROR(r.Dig(&d));
        e.bundle = d;
      }
      break;
    }
    default:
      return Reader::Bad("unknown entry type " + std::to_string(type));
  }
  ARCA_RETURN_IF_ERROR(r.End());
  return e;
}

LogEntry PublishEntry(uint64_t time, std::string repository, const Digest& bundle,
                      std::vector<std::string> key_ids) {
  LogEntry e;
  e.type = LogEntryType::kPublish;
  e.time = time;
  e.repository = std::move(repository);
  e.bundle = bundle;
  e.key_ids = std::move(key_ids);
  return e;
}

LogEntry AttestationEntry(uint64_t time, const Digest& bundle, const Digest& envelope, std::string predicate_type,
                          std::vector<std::string> key_ids) {
  LogEntry e;
  e.type = LogEntryType::kAttestation;
  e.time = time;
  e.bundle = bundle;
  e.envelope = envelope;
  e.predicate_type = std::move(predicate_type);
  e.key_ids = std::move(key_ids);
  return e;
}

LogEntry TagEntry(uint64_t time, std::string repository, std::string tag, uint64_t sequence,
                  std::optional<Digest> digest, std::optional<Digest> previous) {
  LogEntry e;
  e.type = LogEntryType::kTag;
  e.time = time;
  e.repository = std::move(repository);
  e.tag = std::move(tag);
  e.sequence = sequence;
  e.digest = digest;
  e.previous = previous;
  return e;
}

std::string_view LogEntryTypeName(LogEntryType t) {
  switch (t) {
    case LogEntryType::kPublish: return "publish";
    case LogEntryType::kAttestation: return "attestation";
    case LogEntryType::kTag: return "tag";
    case LogEntryType::kKey: return "key";
    case LogEntryType::kMirror: return "mirror";
  }
  return "unknown";
}

std::string DescribeLogEntry(const LogEntry& e) {
  const std::string b = e.bundle ? e.bundle->ToString() : "-";
  switch (e.type) {
    case LogEntryType::kPublish: {
      std::string keys;
      for (const std::string& k : e.key_ids) keys += (keys.empty() ? "" : ", ") + k;
      return "publish " + e.repository + " " + b + (keys.empty() ? "" : " keys " + keys);
    }
    case LogEntryType::kAttestation: {
      std::string keys;
      for (const std::string& k : e.key_ids) keys += (keys.empty() ? "" : ", ") + k;
      return "attestation " + e.envelope.ToString() + " on " + b + " type " + e.predicate_type +
             (keys.empty() ? "" : " keys " + keys);
    }
    case LogEntryType::kTag:
      return "tag " + e.repository + ":" + e.tag + " #" + std::to_string(e.sequence) + " -> " +
             (e.digest ? e.digest->ToString() : "(deleted)") +
             (e.previous ? " (was " + e.previous->ToString() + ")" : " (new)");
    case LogEntryType::kKey:
      return std::string(e.key_action == KeyAction::kRevoked ? "key revoked " : "key added ") + e.key_id.ToString() +
             " " + e.name + (e.reason.empty() ? "" : " (" + e.reason + ")");
    case LogEntryType::kMirror:
      return "mirror sync from " + e.upstream + " at size " + std::to_string(e.upstream_size) + " root " +
             e.upstream_root.ToString() + (e.repository.empty() ? "" : " " + e.repository) +
             (e.bundle ? " " + b : "");
  }
  return "unknown entry";
}

std::string LogEntryJson(const LogEntry& e) {
  Json j = {{"type", LogEntryTypeName(e.type)}, {"time", e.time}};
  switch (e.type) {
    case LogEntryType::kPublish:
      j["repository"] = e.repository;
      j["bundle"] = e.bundle ? e.bundle->ToString() : "";
      j["key_ids"] = e.key_ids;
      break;
    case LogEntryType::kAttestation:
      j["bundle"] = e.bundle ? e.bundle->ToString() : "";
      j["envelope"] = e.envelope.ToString();
      j["predicate_type"] = e.predicate_type;
      j["key_ids"] = e.key_ids;
      break;
    case LogEntryType::kTag:
      j["repository"] = e.repository;
      j["tag"] = e.tag;
      j["sequence"] = e.sequence;
      j["digest"] = e.digest ? Json(e.digest->ToString()) : Json(nullptr);
      j["previous"] = e.previous ? Json(e.previous->ToString()) : Json(nullptr);
      break;
    case LogEntryType::kKey:
      j["action"] = e.key_action == KeyAction::kRevoked ? "revoked" : "added";
      j["key_id"] = e.key_id.ToString();
      j["name"] = e.name;
      j["reason"] = e.reason;
      break;
    case LogEntryType::kMirror:
      j["upstream"] = e.upstream;
      j["upstream_size"] = e.upstream_size;
      j["upstream_root"] = e.upstream_root.ToString();
      j["repository"] = e.repository;
      j["bundle"] = e.bundle ? Json(e.bundle->ToString()) : Json(nullptr);
      break;
  }
  return j.dump();
}

}  // namespace arca::signing
