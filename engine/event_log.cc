#include "engine/event_log.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "caseledger/v1/stored_event.pb.h"
#include "engine/ids.h"
#include "engine/internal/aead.h"
#include "engine/internal/keys.h"
#include "engine/internal/rocksdb_status.h"
#include "engine/internal/status_macros.h"
#include "engine/internal/stored_event_codec.h"
#include "engine/key_store.h"
#include "engine/sha256.h"
#include "engine/validation.h"
#include "google/protobuf/descriptor.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace caseledger::engine {

using internal::CaseIndexKey;
using internal::CaseIndexPrefix;
using internal::DecodeU64;
using internal::EncodeU64;
using internal::EventIdValue;
using internal::EventKey;
using internal::FromRocksDb;
using internal::HeadValue;

namespace {

constexpr char kVersionConflictPayload[] =
    "type.caseledger.dev/caseledger.v1.VersionConflict";

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

// Keeps the first storage error: a background error RocksDB reports (a
// failed flush, compaction or WAL write), so that Health() shows it at once
// rather than at the next append, or a failed commit of the append path.
// The first one is passed to the health listener, if any. Thread-safe;
// RocksDB calls it with its own DB mutex held, so it takes no lock but its
// own and calls the listener after releasing it.
class StorageErrorListener : public rocksdb::EventListener {
 public:
  using HealthListener = std::function<void(const absl::Status&)>;

  void OnBackgroundError(rocksdb::BackgroundErrorReason /*reason*/,
                         rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    Report(FromRocksDb(*error, "storage"));
  }

  // Keeps `error` (not OK) if it is the first; the first goes to the
  // listener.
  void Report(const absl::Status& error) {
    HealthListener notify;
    {
      absl::MutexLock lock(&mu_);
      if (!first_.ok()) return;
      first_ = error;
      notify = listener_;
    }
    if (notify) notify(error);
  }

  // Replaces the listener; calls it at once if an error is already kept.
  void SetListener(HealthListener listener) {
    absl::Status kept;
    {
      absl::MutexLock lock(&mu_);
      listener_ = listener;
      kept = first_;
    }
    if (listener && !kept.ok()) listener(kept);
  }

  absl::Status first() const {
    absl::MutexLock lock(&mu_);
    return first_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Status first_ ABSL_GUARDED_BY(mu_);
  HealthListener listener_ ABSL_GUARDED_BY(mu_);
};

const std::string& ZeroHash() {
  static const std::string* zero = new std::string(kSha256Bytes, '\0');
  return *zero;
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  int64_t seconds = nanos / 1000000000;
  int64_t rem = nanos % 1000000000;
  if (rem < 0) {
    rem += 1000000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rem));
  return ts;
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

absl::Status VersionConflict(const std::string& case_id,
                             const ExpectedVersion& expected,
                             uint64_t current) {
  absl::Status status = absl::AbortedError(
      absl::StrCat("wrong expected version for case ", case_id, ": expected ",
                   expected.ToString(), ", case is at version ", current));
  status.SetPayload(kVersionConflictPayload, absl::Cord(absl::StrCat(current)));
  return status;
}

constexpr char kCaseErasedType[] = "CaseErased";
constexpr size_t kMaxErasureText = 1000;

// The associated data that binds an encrypted payload to its event: the
// fields that identify the event (engine/STORAGE_FORMAT.md).
std::string PayloadAad(absl::string_view case_id, absl::string_view event_id,
                       absl::string_view event_type, uint32_t schema_version,
                       absl::string_view key_id) {
  const std::string nul(1, '\0');
  return absl::StrCat("caseledger-payload-1", nul, case_id, nul, event_id, nul,
                      event_type, nul, schema_version, nul, key_id);
}

// The idempotency digest of an encrypted case: HMAC-SHA-256 under the data
// key, so that it reveals nothing once the key is destroyed.
std::string KeyedDigest(absl::string_view key, absl::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out,
       &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

namespace internal {

// Checks one stored value of the events column family (hash, position) and
// decodes its StoredEvent into `stored`. Returns the hash.
absl::StatusOr<std::string> DecodeChecked(uint64_t position,
                                          absl::string_view value,
                                          v1::StoredEvent& stored) {
  if (value.size() < kSha256Bytes) {
    return absl::DataLossError(
        absl::StrCat("event at position ", position, " is truncated"));
  }
  const absl::string_view hash = value.substr(0, kSha256Bytes);
  const absl::string_view bytes = value.substr(kSha256Bytes);
  if (Sha256(bytes) != hash) {
    return absl::DataLossError(
        absl::StrCat("event at position ", position, " fails its hash check"));
  }
  if (!stored.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      stored.envelope().global_position() != position) {
    return absl::DataLossError(
        absl::StrCat("event at position ", position, " cannot be decoded"));
  }
  return std::string(hash);
}

absl::StatusOr<v1::Event> DecodeStored(uint64_t position,
                                       absl::string_view value) {
  v1::StoredEvent stored;
  ASSIGN_OR_RETURN(std::string hash, DecodeChecked(position, value, stored));
  v1::Event event;
  if (stored.payload_encoding() != v1::PAYLOAD_ENCODING_PLAIN ||
      !event.mutable_payload()->ParseFromString(stored.payload())) {
    return absl::DataLossError(absl::StrCat("payload of event at position ",
                                            position, " cannot be decoded"));
  }
  *event.mutable_envelope() = std::move(*stored.mutable_envelope());
  event.set_hash(std::move(hash));
  return event;
}

}  // namespace internal

namespace {

using internal::DecodeChecked;

// The case id part of a case_index key (everything up to the 0x00).
class CaseIdPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "caseledger.CaseIdPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const char* end =
        static_cast<const char*>(memchr(key.data(), '\0', key.size()));
    return rocksdb::Slice(key.data(),
                          end == nullptr ? key.size() : end - key.data());
  }
  bool InDomain(const rocksdb::Slice& key) const override { return true; }
};

// One queued append, validated and normalised by the caller's thread. A
// synchronous caller waits on `cv` for `finished`; an asynchronous one gets
// `done` called.
struct PendingAppend {
  AppendRequest request;
  // SHA-256 of each normalised client event (HMAC-SHA-256 under the data key
  // when encrypted), for idempotent retries.
  std::vector<std::string> digests;
  // When encrypted: the data key's id and each event's sealed payload.
  std::string key_id;
  std::vector<std::string> sealed;
  // The engine's own CaseErased record (allowed to an erased case), or one
  // carried over by an import.
  bool erasure = false;
  // Set for an event of a case erased in the ledger it was imported from:
  // its event type. It has no payload and is stored as such
  // (PAYLOAD_ENCODING_ERASED), also into an erased case.
  std::string erased_type;
  AppendCallback done;  // empty for a synchronous caller
  size_t bytes = 0;     // serialized size of the events
  bool finished = false;
  absl::StatusOr<AppendResult> result;
  absl::CondVar cv;
  // Set for an EventLog::Import (then `request` is empty): committed in a
  // group of its own.
  struct ImportBatch* import = nullptr;
};

// An EventLog::Import in the queue: each event is a one-event append of its
// own (normalised like any append), expected at the version before the one
// it carries, stamped with its own recorded_at.
struct ImportPart {
  std::unique_ptr<PendingAppend> append;
  uint64_t version = 0;   // the stream version the event carries
  uint64_t position = 0;  // the global position it carries (0: none)
  absl::Time recorded_at;
};
struct ImportBatch {
  std::vector<ImportPart> parts;
  ImportResult result;
};

// `status` for the import's event `i`: the field path starts with events[i].
absl::Status AtImportIndex(const absl::Status& status, size_t i) {
  if (status.ok()) return status;
  const std::string index = absl::StrCat("events[", i, "]");
  std::string message(status.message());
  if (absl::StartsWith(message, "events[0]")) {
    message = absl::StrCat(index, message.substr(9));
  } else if (absl::StartsWith(message, "envelope.")) {
    message = absl::StrCat(index, ".", message);
  } else {
    message = absl::StrCat(index, ": ", message);
  }
  absl::Status out(status.code(), message);
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) {
    out.SetPayload(url, p);
  });
  return out;
}

}  // namespace

bool ExpectedVersion::IsMetBy(uint64_t current_version) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kNoStream:
      return current_version == 0;
    case Kind::kStreamExists:
      return current_version > 0;
    case Kind::kExact:
      return current_version == version_;
  }
  return false;
}

std::string ExpectedVersion::ToString() const {
  switch (kind_) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kStreamExists:
      return "stream exists";
    case Kind::kExact:
      return absl::StrCat(version_);
  }
  return "?";
}

std::optional<uint64_t> CurrentVersionOf(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAborted) return std::nullopt;
  absl::optional<absl::Cord> payload =
      status.GetPayload(kVersionConflictPayload);
  uint64_t version = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &version)) {
    return std::nullopt;
  }
  return version;
}

std::string EventTypeOf(const v1::EventPayload& payload) {
  const google::protobuf::OneofDescriptor* oneof =
      v1::EventPayload::descriptor()->FindOneofByName("kind");
  const google::protobuf::FieldDescriptor* field =
      payload.GetReflection()->GetOneofFieldDescriptor(payload, oneof);
  return field == nullptr ? std::string() : field->message_type()->name();
}

class EventLog::Impl {
 public:
  Impl(const EventLogOptions& options,
       std::shared_ptr<StorageErrorListener> storage_errors,
       std::unique_ptr<rocksdb::DB> db,
       std::vector<rocksdb::ColumnFamilyHandle*> handles,
       std::unique_ptr<KeyStore> keys)
      : options_(options),
        storage_errors_(std::move(storage_errors)),
        keys_(std::move(keys)),
        db_(std::move(db)),
        handles_(std::move(handles)) {
    default_cf_ = handles_[0];
    events_cf_ = handles_[1];
    case_index_cf_ = handles_[2];
    case_heads_cf_ = handles_[3];
    event_ids_cf_ = handles_[4];
    term_index_cf_ = handles_[5];
  }

  ~Impl() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    {
      absl::MutexLock lock(&mu_);
      engine_cv_.Signal();
    }
    if (engine_thread_.joinable()) engine_thread_.join();
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle);
    }
    db_->Close();
  }

  // Reads the log's end and starts the writer thread.
  absl::Status Start() {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
    it->SeekToLast();
    RETURN_IF_ERROR(FromRocksDb(it->status(), "open"));
    uint64_t last = 0;
    if (it->Valid()) {
      if (it->key().size() != 8) {
        return absl::DataLossError("open: malformed event key");
      }
      last = DecodeU64(View(it->key()));
      ASSIGN_OR_RETURN(v1::Event event, DecodeStored(last, View(it->value()),
                                                     /*payload=*/false));
      last_recorded_at_ = FromProto(event.envelope().recorded_at());
    }
    {
      absl::MutexLock lock(&mu_);
      last_position_ = last;
    }
    engine_thread_ = std::thread([this] {
      // Named for profilers and `top -H`; at most 15 characters.
      pthread_setname_np(pthread_self(), "cl-engine");
      EngineLoop();
    });
    return absl::OkStatus();
  }

  // Validates and normalises `request` into `pending`, and encrypts its
  // payloads (caller's thread, so encryption runs in parallel). The engine's
  // own erasure record is not validated (clients may not send one) and is
  // stored in plain, so it outlives the key.
  absl::Status Normalise(AppendRequest request, PendingAppend& pending) const {
    if (!pending.erased_type.empty()) {
      // An envelope without its payload (imported; one event).
      if (!IsValidCaseId(request.case_id) || request.events.size() != 1) {
        return absl::InvalidArgumentError("case_id: malformed");
      }
      RETURN_IF_ERROR(ValidateEnvelope(request.events[0], "events[0]"));
      RETURN_IF_ERROR(ValidateKnownFields(request.events[0], "events[0]"));
      if (request.events[0].has_payload()) {
        return absl::InvalidArgumentError(
            "events[0].payload: an erased event has none");
      }
    } else if (!pending.erasure) {
      ValidationLimits limits;
      limits.max_event_bytes = options_.max_event_bytes;
      limits.max_events_per_append = options_.max_events_per_append;
      RETURN_IF_ERROR(ValidateAppendRequest(request, limits));
    }
    std::optional<DataKey> key;
    if (keys_ != nullptr && !pending.erasure && pending.erased_type.empty()) {
      ASSIGN_OR_RETURN(key, keys_->GetOrCreate(request.case_id));
      pending.key_id = key->id;
      pending.sealed.reserve(request.events.size());
    }
    pending.digests.reserve(request.events.size());
    for (v1::Event& event : request.events) {
      v1::EventEnvelope* env = event.mutable_envelope();
      env->set_case_id(request.case_id);
      if (env->schema_version() == 0) env->set_schema_version(1);
      std::string bytes = event.SerializeAsString();
      pending.bytes += bytes.size();
      if (!key) {
        pending.digests.push_back(Sha256(bytes));
        continue;
      }
      pending.digests.push_back(KeyedDigest(key->key, bytes));
      ASSIGN_OR_RETURN(
          std::string sealed,
          internal::Seal(key->key, event.payload().SerializeAsString(),
                         PayloadAad(request.case_id, env->event_id(),
                                    EventTypeOf(event.payload()),
                                    env->schema_version(), key->id)));
      pending.sealed.push_back(std::move(sealed));
    }
    pending.request = std::move(request);
    return absl::OkStatus();
  }

  // Why a new append cannot be queued now, or OK.
  absl::Status Refusal(size_t bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stopping_) {
      return absl::UnavailableError("append: the log is shutting down");
    }
    if (!CurrentHealth().ok()) {
      return absl::UnavailableError(
          "append: the log refuses writes after a storage error; restart "
          "after fixing the storage");
    }
    if (writers_.size() >= options_.max_pending_appends ||
        (!writers_.empty() &&
         pending_bytes_ + bytes > options_.max_pending_bytes)) {
      return absl::ResourceExhaustedError(
          "append: too many appends pending; retry later");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<AppendResult> Append(AppendRequest request,
                                      bool erasure = false) {
    PendingAppend pending;
    pending.erasure = erasure;
    RETURN_IF_ERROR(Normalise(std::move(request), pending));
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(Refusal(pending.bytes));
    writers_.push_back(&pending);
    pending_bytes_ += pending.bytes;
    while (!pending.finished && writers_.front() != &pending) {
      pending.cv.Wait(&mu_);
    }
    // Another thread's group committed this append, or this thread leads.
    if (!pending.finished) LeadGroup();
    return std::move(pending.result);
  }

  void AppendAsync(AppendRequest request, AppendCallback done) {
    auto pending = std::make_unique<PendingAppend>();
    if (absl::Status s = Normalise(std::move(request), *pending); !s.ok()) {
      done(s);
      return;
    }
    pending->done = std::move(done);
    absl::Status refused;
    {
      absl::MutexLock lock(&mu_);
      refused = Refusal(pending->bytes);
      if (refused.ok()) {
        pending_bytes_ += pending->bytes;
        writers_.push_back(pending.release());
        if (writers_.size() == 1) engine_cv_.Signal();
        return;
      }
    }
    pending->done(refused);
  }

  absl::StatusOr<ImportResult> Import(const ImportRequest& request) {
    const size_t n = request.events.size();
    if (n == 0) return absl::InvalidArgumentError("events: required");
    if (n > options_.max_group_events) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events: more than ", options_.max_group_events, " in one import"));
    }
    // Not after the clock: an imported recorded_at becomes the log's floor,
    // and one in the future would pin every later append to it.
    const absl::Time latest = options_.clock->Now();
    ImportBatch batch;
    batch.parts.resize(n);
    std::vector<v1::ErasureLedgerEntry> erasures;
    PendingAppend leader;
    leader.import = &batch;
    for (size_t i = 0; i < n; ++i) {
      const v1::Event& in = request.events[i];
      const v1::EventEnvelope& env = in.envelope();
      const auto field = [i](absl::string_view name, absl::string_view what) {
        return absl::InvalidArgumentError(
            absl::StrCat("events[", i, "].envelope.", name, ": ", what));
      };
      if (env.stream_version() == 0) return field("stream_version", "required");
      if (!env.has_recorded_at()) return field("recorded_at", "required");
      const google::protobuf::Timestamp& ts = env.recorded_at();
      if (ts.seconds() < 0 || ts.nanos() < 0 || ts.nanos() > 999999999 ||
          FromProto(ts) > latest) {
        return field("recorded_at", "out of range (or in the future)");
      }
      const bool erased_event = in.payload_erased();
      const bool erasure_record = in.payload().has_case_erased();
      if (erased_event) {
        // Erased in the source ledger: the envelope alone is carried over.
        if (!IsKnownEventType(env.event_type()) ||
            env.event_type() == kCaseErasedType) {
          return field("event_type",
                       "required for an erased event (a known type)");
        }
      } else if (!env.event_type().empty() &&
                 env.event_type() != EventTypeOf(in.payload())) {
        return field("event_type", "does not match the payload");
      }
      if (erasure_record) {
        RETURN_IF_ERROR(CheckImportedErasure(in, i));
        v1::ErasureLedgerEntry& entry = erasures.emplace_back();
        entry.set_case_id(env.case_id());
        entry.set_erased_by(env.actor().user_id());
        entry.set_reason(in.payload().case_erased().reason());
        entry.set_legal_basis(in.payload().case_erased().legal_basis());
        *entry.mutable_erased_at() = in.payload().case_erased().erased_at();
      }
      ImportPart& part = batch.parts[i];
      part.version = env.stream_version();
      part.position = env.global_position();
      part.recorded_at = FromProto(ts);
      AppendRequest append;
      append.case_id = env.case_id();
      append.expected = ExpectedVersion::Exact(part.version - 1);
      v1::Event& event = append.events.emplace_back();
      *event.mutable_envelope() = env;
      if (!erased_event) *event.mutable_payload() = in.payload();
      // The fields this log assigns itself.
      v1::EventEnvelope* e = event.mutable_envelope();
      e->clear_stream_version();
      e->clear_global_position();
      e->clear_event_type();
      e->clear_recorded_at();
      e->clear_prev_hash();
      part.append = std::make_unique<PendingAppend>();
      if (erased_event) part.append->erased_type = env.event_type();
      part.append->erasure = erasure_record;
      RETURN_IF_ERROR(
          AtImportIndex(Normalise(std::move(append), *part.append), i));
      leader.bytes += part.append->bytes;
    }
    // An imported erasure is recorded in this log's erasure ledger (its key
    // destroyed, if it had one) before its record is stored, as Erase() does:
    // if the import then fails, the case is erased all the same and the next
    // Open re-appends a record.
    bool shredded = false;
    if (!erasures.empty()) {
      absl::MutexLock erase_lock(&erase_mu_);
      for (v1::ErasureLedgerEntry& entry : erasures) {
        ASSIGN_OR_RETURN(auto erased, keys_->Erase(std::move(entry)));
        shredded = shredded || !erased.second;
      }
    }
    {
      absl::MutexLock lock(&mu_);
      RETURN_IF_ERROR(Refusal(leader.bytes));
      writers_.push_back(&leader);
      pending_bytes_ += leader.bytes;
      while (!leader.finished && writers_.front() != &leader) {
        leader.cv.Wait(&mu_);
      }
      if (!leader.finished) LeadGroup();
    }
    RETURN_IF_ERROR(leader.result.status());
    batch.result.last_position = leader.result->last_position;
    // A destroyed key's bytes leave the disk.
    if (shredded) RETURN_IF_ERROR(keys_->Compact());
    return batch.result;
  }

  // Checks a CaseErased record carried over by an import (events[i]): this
  // log must be able to erase (a key store), and the record must say who,
  // when and why.
  absl::Status CheckImportedErasure(const v1::Event& in, size_t i) const {
    const std::string f = absl::StrCat("events[", i, "]");
    if (keys_ == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          f, ": a CaseErased record needs a log with a key store"));
    }
    const v1::CaseErased& erased = in.payload().case_erased();
    for (const auto& [value, name] :
         {std::pair<const std::string&, const char*>(erased.reason(), "reason"),
          std::pair<const std::string&, const char*>(erased.legal_basis(),
                                                     "legal_basis")}) {
      if (value.empty() || value.size() > kMaxErasureText) {
        return absl::InvalidArgumentError(
            absl::StrCat(f, ".payload.case_erased.", name,
                         ": required, at "
                         "most ",
                         kMaxErasureText, " bytes"));
      }
    }
    if (!erased.has_erased_at()) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".payload.case_erased.erased_at: required"));
    }
    v1::Event envelope_only;
    *envelope_only.mutable_envelope() = in.envelope();
    v1::EventEnvelope* e = envelope_only.mutable_envelope();
    e->clear_stream_version();
    e->clear_global_position();
    e->clear_event_type();
    e->clear_recorded_at();
    e->clear_prev_hash();
    if (e->actor().role().empty()) e->mutable_actor()->set_role("-");
    return ValidateEnvelope(envelope_only, f);
  }

  absl::StatusOr<ReadPage> ReadTerm(const ReadTermRequest& request) const {
    const uint64_t last = LastPosition();
    const uint32_t max_count = PageSize(request.max_count);
    const uint64_t from = std::max<uint64_t>(request.from_position, 1);
    ReadPage page;
    page.next = from;
    if (request.term.empty() || request.term.size() > kMaxIndexTermBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("term: 1..", kMaxIndexTermBytes, " bytes"));
    }
    if (from > last) {
      page.end = true;
      return page;
    }
    rocksdb::ReadOptions ro;
    const std::string upper = internal::TermIndexKey(request.term, last + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, term_index_cf_));
    bool full = false;
    for (it->Seek(internal::TermIndexKey(request.term, from)); it->Valid();
         it->Next()) {
      const absl::string_view key = View(it->key());
      const uint64_t position = DecodeU64(key.substr(key.size() - 8));
      ASSIGN_OR_RETURN(v1::Event event, ReadEvent(position));
      page.next = position + 1;
      page.events.push_back(std::move(event));
      if (page.events.size() >= max_count) {
        full = true;
        break;
      }
    }
    RETURN_IF_ERROR(FromRocksDb(it->status(), "read term index"));
    if (!full) {
      page.next = std::max(page.next, last + 1);
      page.end = true;
    }
    return page;
  }

  absl::StatusOr<v1::Event> ReadEvent(uint64_t position) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_cf_,
                                 EventKey(position), &value);
    if (s.IsNotFound()) {
      return absl::NotFoundError(
          absl::StrCat("no event at position ", position));
    }
    RETURN_IF_ERROR(FromRocksDb(s, "read event"));
    return DecodeStored(position, value);
  }

  // Decodes and checks one stored value of the events column family; with
  // `payload`, also decodes (decrypting and authenticating) the payload, or
  // marks it erased.
  absl::StatusOr<v1::Event> DecodeStored(uint64_t position,
                                         absl::string_view value,
                                         bool payload = true) const {
    v1::StoredEvent stored;
    ASSIGN_OR_RETURN(std::string hash, DecodeChecked(position, value, stored));
    v1::Event event;
    event.set_hash(std::move(hash));
    if (payload) {
      RETURN_IF_ERROR(DecodePayload(position, stored, event));
    }
    *event.mutable_envelope() = std::move(*stored.mutable_envelope());
    return event;
  }

  absl::Status DecodePayload(uint64_t position, const v1::StoredEvent& stored,
                             v1::Event& event) const {
    const v1::EventEnvelope& env = stored.envelope();
    const auto undecodable = [&] {
      return absl::DataLossError(absl::StrCat("payload of event at position ",
                                              position, " cannot be decoded"));
    };
    // Every event of an erased case but its erasure record reads as erased,
    // whatever its encoding; so does one imported erased.
    if (stored.payload_encoding() == v1::PAYLOAD_ENCODING_ERASED ||
        (keys_ != nullptr && env.event_type() != kCaseErasedType &&
         keys_->IsErased(env.case_id()))) {
      event.set_payload_erased(true);
      return absl::OkStatus();
    }
    switch (stored.payload_encoding()) {
      case v1::PAYLOAD_ENCODING_PLAIN:
        if (!event.mutable_payload()->ParseFromString(stored.payload())) {
          return undecodable();
        }
        return absl::OkStatus();
      case v1::PAYLOAD_ENCODING_AES256_GCM:
        break;
      default:
        return undecodable();
    }
    if (keys_ == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("payload of event at position ", position,
                       " is encrypted and the log has no key store"));
    }
    ASSIGN_OR_RETURN(std::optional<DataKey> key, keys_->Find(env.case_id()));
    if (!key) {
      if (keys_->IsErased(env.case_id())) {
        event.set_payload_erased(true);
        return absl::OkStatus();
      }
      return absl::DataLossError(absl::StrCat(
          "the data key of the event at position ", position, " is missing"));
    }
    if (key->id != stored.key_id()) {
      return absl::DataLossError(
          absl::StrCat("payload of event at position ", position,
                       " is encrypted under an unknown key"));
    }
    absl::StatusOr<std::string> plain = internal::Open(
        key->key, stored.payload(),
        PayloadAad(env.case_id(), env.event_id(), env.event_type(),
                   env.schema_version(), stored.key_id()));
    if (!plain.ok()) {
      return absl::DataLossError(absl::StrCat(
          "payload of event at position ", position, " fails authentication"));
    }
    if (!event.mutable_payload()->ParseFromString(*plain)) return undecodable();
    return absl::OkStatus();
  }

  absl::StatusOr<CaseHead> GetCaseHead(const std::string& case_id) const {
    return HeadAt(case_id, rocksdb::ReadOptions());
  }

  absl::StatusOr<CaseHead> HeadAt(const std::string& case_id,
                                  const rocksdb::ReadOptions& ro) const {
    std::string value;
    rocksdb::Status s = db_->Get(ro, case_heads_cf_, case_id, &value);
    CaseHead head;
    if (s.IsNotFound()) return head;
    RETURN_IF_ERROR(FromRocksDb(s, "read case head"));
    std::optional<HeadValue> decoded = internal::DecodeHead(value);
    if (!decoded) {
      return absl::DataLossError("case head cannot be decoded");
    }
    head.version = decoded->version;
    head.last_position = decoded->last_position;
    head.last_hash = std::move(decoded->last_hash);
    return head;
  }

  absl::StatusOr<ReadPage> ReadAll(const ReadAllRequest& request) const {
    const uint64_t last = LastPosition();
    const uint32_t max_count = PageSize(request.max_count);
    const uint64_t from = std::max<uint64_t>(request.from_position, 1);
    ReadPage page;
    page.next = from;
    if (!request.case_id.empty()) return ReadAllOfCase(request, from, last);
    if (from > last) {
      page.end = true;
      return page;
    }
    rocksdb::ReadOptions ro;
    const std::string upper = EventKey(last + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
    uint64_t expected = from;
    uint64_t scanned = 0;
    size_t bytes = 0;
    bool full = false;
    for (it->Seek(EventKey(from)); it->Valid(); it->Next()) {
      const uint64_t position = DecodeU64(View(it->key()));
      if (position != expected) {
        return absl::DataLossError(
            absl::StrCat("event at position ", expected, " is missing"));
      }
      ++expected;
      ASSIGN_OR_RETURN(v1::Event event,
                       DecodeStored(position, View(it->value())));
      ++scanned;
      page.next = position + 1;
      if (request.event_types.empty() ||
          request.event_types.contains(event.envelope().event_type())) {
        page.events.push_back(std::move(event));
        bytes += it->value().size();
        if (page.events.size() >= max_count ||
            (request.max_bytes > 0 && bytes >= request.max_bytes)) {
          full = true;
          break;
        }
      }
      if (scanned >= kMaxScanPerRead) break;
    }
    RETURN_IF_ERROR(FromRocksDb(it->status(), "read log"));
    if (!full && scanned < kMaxScanPerRead && page.next <= last) {
      return absl::DataLossError(
          absl::StrCat("event at position ", page.next, " is missing"));
    }
    page.end = page.next > last;
    return page;
  }

  absl::StatusOr<ReadPage> ReadCase(const ReadCaseRequest& request) const {
    if (!IsValidCaseIdForRead(request.case_id)) {
      return absl::InvalidArgumentError("case_id: malformed");
    }
    ASSIGN_OR_RETURN(CaseHead head, GetCaseHead(request.case_id));
    if (head.version == 0) {
      return absl::NotFoundError(
          absl::StrCat("case ", request.case_id, " has no events"));
    }
    const uint32_t max_count = PageSize(request.max_count);
    ReadPage page;
    size_t bytes = 0;
    // True once the page holds as much as the request allows.
    const auto full = [&]() {
      return page.events.size() >= max_count ||
             (request.max_bytes > 0 && bytes >= request.max_bytes);
    };
    const auto add = [&](v1::Event event) {
      if (request.max_bytes > 0) bytes += event.ByteSizeLong();
      page.events.push_back(std::move(event));
    };
    if (request.direction == Direction::kForward) {
      uint64_t v = std::max<uint64_t>(request.from_version, 1);
      for (; v <= head.version && !full(); ++v) {
        ASSIGN_OR_RETURN(v1::Event event, ReadCaseVersion(request.case_id, v));
        add(std::move(event));
      }
      page.next = v;
      page.end = v > head.version;
    } else {
      uint64_t v = request.from_version == 0
                       ? head.version
                       : std::min(request.from_version, head.version);
      for (; v >= 1 && !full(); --v) {
        ASSIGN_OR_RETURN(v1::Event event, ReadCaseVersion(request.case_id, v));
        add(std::move(event));
      }
      page.next = v;
      page.end = v == 0;
    }
    return page;
  }

  absl::StatusOr<VerifyReport> VerifyCase(const std::string& case_id) const {
    if (!IsValidCaseIdForRead(case_id)) {
      return absl::InvalidArgumentError("case_id: malformed");
    }
    ASSIGN_OR_RETURN(CaseHead head, GetCaseHead(case_id));
    if (head.version == 0) {
      return absl::NotFoundError(
          absl::StrCat("case ", case_id, " has no events"));
    }
    VerifyReport report;
    report.cases_checked = 1;
    std::string prev_hash = ZeroHash();
    uint64_t prev_position = 0;
    for (uint64_t v = 1; v <= head.version; ++v) {
      std::string value;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), case_index_cf_,
                                   CaseIndexKey(case_id, v), &value);
      if (s.IsNotFound() || (s.ok() && value.size() != 8)) {
        // The event's position is unknown: report 0 and name the version.
        return Broken(report, 0,
                      absl::StrCat("version ", v, " is missing from the case"));
      }
      RETURN_IF_ERROR(FromRocksDb(s, "verify"));
      const uint64_t position = DecodeU64(value);
      absl::StatusOr<v1::Event> event = ReadEvent(position);
      if (!event.ok()) {
        if (event.status().code() == absl::StatusCode::kDataLoss ||
            event.status().code() == absl::StatusCode::kNotFound) {
          return Broken(report, position,
                        std::string(event.status().message()));
        }
        return event.status();
      }
      const v1::EventEnvelope& env = event->envelope();
      if (env.case_id() != case_id || env.stream_version() != v) {
        return Broken(report, position,
                      "event does not belong at this place in the case");
      }
      if (env.prev_hash() != prev_hash) {
        return Broken(report, position,
                      "previous-hash link does not match the previous event");
      }
      prev_hash = event->hash();
      prev_position = position;
      ++report.events_checked;
    }
    if (head.last_hash != prev_hash || head.last_position != prev_position) {
      return Broken(report, prev_position,
                    "case head does not match the last event");
    }
    return report;
  }

  absl::StatusOr<VerifyReport> VerifyAll(
      const std::function<bool(uint64_t)>& progress) const {
    // One snapshot for the log, the index and the heads: appends running
    // meanwhile are invisible, so they cannot look like a broken chain.
    struct SnapshotHolder {
      rocksdb::DB* db;
      const rocksdb::Snapshot* snapshot;
      ~SnapshotHolder() { db->ReleaseSnapshot(snapshot); }
    } holder{db_.get(), db_->GetSnapshot()};
    rocksdb::ReadOptions snap;
    snap.snapshot = holder.snapshot;
    uint64_t last = 0;
    {
      std::unique_ptr<rocksdb::Iterator> end(
          db_->NewIterator(snap, events_cf_));
      end->SeekToLast();
      RETURN_IF_ERROR(FromRocksDb(end->status(), "verify"));
      if (end->Valid() && end->key().size() == 8) {
        last = DecodeU64(View(end->key()));
      }
    }
    VerifyReport report;
    struct CaseState {
      uint64_t version = 0;
      uint64_t last_position = 0;
      std::string last_hash;
    };
    absl::flat_hash_map<std::string, CaseState> cases;
    rocksdb::ReadOptions ro = snap;
    const std::string upper = EventKey(last + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
    uint64_t expected = 1;
    for (it->Seek(EventKey(1)); it->Valid(); it->Next()) {
      if (it->key().size() != 8) {
        return Broken(report, expected, "malformed event key");
      }
      const uint64_t position = DecodeU64(View(it->key()));
      if (position != expected) {
        return Broken(report, expected, "global position is missing");
      }
      ++expected;
      absl::StatusOr<v1::Event> event =
          DecodeStored(position, View(it->value()), /*payload=*/false);
      if (!event.ok()) {
        return Broken(report, position, std::string(event.status().message()));
      }
      const v1::EventEnvelope& env = event->envelope();
      CaseState& state = cases[env.case_id()];
      if (env.stream_version() != state.version + 1) {
        return Broken(report, position, "case version is out of sequence");
      }
      if (env.prev_hash() !=
          (state.version == 0 ? ZeroHash() : state.last_hash)) {
        return Broken(report, position,
                      "previous-hash link does not match the previous event");
      }
      std::string index_value;
      rocksdb::Status s = db_->Get(
          snap, case_index_cf_,
          CaseIndexKey(env.case_id(), env.stream_version()), &index_value);
      if (!s.ok() || index_value.size() != 8 ||
          DecodeU64(index_value) != position) {
        if (!s.ok() && !s.IsNotFound() && !s.IsCorruption()) {
          return FromRocksDb(s, "verify");
        }
        return Broken(report, position, "case index does not match the log");
      }
      state.version = env.stream_version();
      state.last_position = position;
      state.last_hash = event->hash();
      ++report.events_checked;
      if (progress && report.events_checked % 10000 == 0 &&
          !progress(report.events_checked)) {
        return absl::CancelledError("verify: stopped before the end");
      }
    }
    RETURN_IF_ERROR(FromRocksDb(it->status(), "verify"));
    if (expected != last + 1) {
      return Broken(report, expected, "global position is missing");
    }
    for (const auto& [case_id, state] : cases) {
      ASSIGN_OR_RETURN(CaseHead head, HeadAt(case_id, snap));
      if (head.version != state.version || head.last_hash != state.last_hash) {
        return Broken(report, state.last_position,
                      "case head does not match the last event");
      }
    }
    report.cases_checked = cases.size();
    if (progress) progress(report.events_checked);
    return report;
  }

  uint64_t LastPosition() const {
    absl::MutexLock lock(&mu_);
    return last_position_;
  }

  bool WaitForPosition(uint64_t position, absl::Time deadline) const {
    struct Arg {
      const Impl* impl;
      uint64_t position;
    } arg{this, position};
    auto reached = [](Arg* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return a->impl->last_position_ >= a->position || a->impl->stopping_;
    };
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(+reached, &arg), deadline);
    return last_position_ >= position;
  }

  uint64_t AddCommitListener(std::function<void(uint64_t)> listener) {
    absl::MutexLock lock(&listeners_mu_);
    const uint64_t id = next_listener_id_++;
    listeners_.emplace(id, std::move(listener));
    return id;
  }

  void RemoveCommitListener(uint64_t id) {
    absl::MutexLock lock(&listeners_mu_);
    listeners_.erase(id);
  }

  absl::Status Health() const {
    absl::MutexLock lock(&mu_);
    return CurrentHealth();
  }

  void SetHealthListener(std::function<void(const absl::Status&)> listener) {
    storage_errors_->SetListener(std::move(listener));
  }

  // The append path's storage error, else RocksDB's background one, else OK.
  absl::Status CurrentHealth() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!health_.ok()) return health_;
    return storage_errors_->first();
  }

  absl::Status Flush() {
    rocksdb::FlushOptions fo;
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      RETURN_IF_ERROR(FromRocksDb(db_->Flush(fo, handle), "flush"));
    }
    return absl::OkStatus();
  }

  const std::string& path() const { return options_.path; }

  absl::StatusOr<uint64_t> Backup(const std::string& directory) {
    std::error_code ec;
    if (std::filesystem::exists(directory, ec)) {
      return absl::FailedPreconditionError(
          "backup: the target directory already exists");
    }
    // Everything acknowledged before the checkpoint starts is in it.
    const uint64_t position = LastPosition();
    rocksdb::Checkpoint* raw = nullptr;
    RETURN_IF_ERROR(
        FromRocksDb(rocksdb::Checkpoint::Create(db_.get(), &raw), "backup"));
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // log_size_for_flush = 0: flush memtables first, so the backup does not
    // depend on replaying WAL files.
    RETURN_IF_ERROR(FromRocksDb(
        checkpoint->CreateCheckpoint(directory, /*log_size_for_flush=*/0),
        "backup"));
    return position;
  }

  absl::Status Compact() {
    RETURN_IF_ERROR(Flush());
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      RETURN_IF_ERROR(FromRocksDb(
          db_->CompactRange(co, handle, nullptr, nullptr), "compact"));
    }
    return keys_ != nullptr ? keys_->Compact() : absl::OkStatus();
  }

  absl::StatusOr<EraseResult> Erase(const EraseRequest& request) {
    if (keys_ == nullptr) {
      return absl::FailedPreconditionError(
          "erase: the log has no key store (payload encryption is off)");
    }
    if (!IsValidCaseId(request.case_id)) {
      return absl::InvalidArgumentError("case_id: malformed");
    }
    const auto text = [](const std::string& value,
                         absl::string_view field) -> absl::Status {
      if (value.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
      }
      if (value.size() > kMaxErasureText) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": longer than ", kMaxErasureText, " bytes"));
      }
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(text(request.reason, "reason"));
    RETURN_IF_ERROR(text(request.legal_basis, "legal_basis"));
    RETURN_IF_ERROR(text(request.actor.user_id(), "actor.user_id"));
    absl::MutexLock lock(&erase_mu_);
    ASSIGN_OR_RETURN(CaseHead head, GetCaseHead(request.case_id));
    if (head.version == 0 && !keys_->IsErased(request.case_id)) {
      return absl::NotFoundError(
          absl::StrCat("case ", request.case_id, " has no events"));
    }
    v1::ErasureLedgerEntry entry;
    entry.set_case_id(request.case_id);
    entry.set_erased_by(request.actor.user_id());
    entry.set_reason(request.reason);
    entry.set_legal_basis(request.legal_basis);
    *entry.mutable_erased_at() = ToProto(options_.clock->Now());
    ASSIGN_OR_RETURN(auto erased, keys_->Erase(std::move(entry)));
    EraseResult result;
    result.already_erased = erased.second;
    result.erased_at = FromProto(erased.first.erased_at());
    ASSIGN_OR_RETURN(result.erasure_position,
                     EnsureErasureRecord(erased.first, request.actor,
                                         /*reapplied=*/false));
    // The key's bytes leave the disk (a retry compacts again).
    RETURN_IF_ERROR(keys_->Compact());
    return result;
  }

  // Re-appends the CaseErased record of every erased case whose log lacks it
  // (a log restored from a backup taken before the erasure).
  absl::Status ReapplyErasures() {
    if (keys_ == nullptr) return absl::OkStatus();
    absl::MutexLock lock(&erase_mu_);
    for (const v1::ErasureLedgerEntry& entry : keys_->Erasures()) {
      v1::Actor actor;
      actor.set_user_id(entry.erased_by());
      RETURN_IF_ERROR(
          EnsureErasureRecord(entry, actor, /*reapplied=*/true).status());
    }
    return absl::OkStatus();
  }

  std::optional<v1::ErasureLedgerEntry> GetErasure(
      const std::string& case_id) const {
    if (keys_ == nullptr) return std::nullopt;
    return keys_->GetErasure(case_id);
  }

  KeyStore* key_store() const { return keys_.get(); }

 private:
  static bool IsValidCaseIdForRead(const std::string& case_id);

  // Makes sure the case's last event is its CaseErased record, appending one
  // if not. Returns the record's position (0 if the case has no events).
  // REQUIRES: erase_mu_ held; the case is in the erasure ledger.
  absl::StatusOr<uint64_t> EnsureErasureRecord(
      const v1::ErasureLedgerEntry& entry, const v1::Actor& actor,
      bool reapplied) ABSL_EXCLUSIVE_LOCKS_REQUIRED(erase_mu_) {
    ASSIGN_OR_RETURN(CaseHead head, GetCaseHead(entry.case_id()));
    if (head.version == 0) return uint64_t{0};
    ASSIGN_OR_RETURN(v1::Event last, ReadEvent(head.last_position));
    if (last.envelope().event_type() == kCaseErasedType) {
      return head.last_position;
    }
    AppendRequest request;
    request.case_id = entry.case_id();
    v1::Event& event = request.events.emplace_back();
    v1::EventEnvelope* env = event.mutable_envelope();
    env->set_event_id(NewEventId());
    env->set_schema_version(1);
    *env->mutable_occurred_at() = entry.erased_at();
    *env->mutable_actor() = actor;
    env->set_source("caseledger/erasure");
    v1::CaseErased* erased = event.mutable_payload()->mutable_case_erased();
    erased->set_reason(entry.reason());
    erased->set_legal_basis(entry.legal_basis());
    *erased->mutable_erased_at() = entry.erased_at();
    erased->set_reapplied_after_restore(reapplied);
    ASSIGN_OR_RETURN(AppendResult appended,
                     Append(std::move(request), /*erasure=*/true));
    return appended.last_position;
  }

  uint32_t PageSize(uint32_t requested) const {
    return requested == 0 ? options_.max_read_page
                          : std::min(requested, options_.max_read_page);
  }

  static absl::StatusOr<VerifyReport> Broken(VerifyReport report,
                                             uint64_t position,
                                             std::string problem) {
    report.ok = false;
    report.first_broken_position = position;
    report.problem = std::move(problem);
    return report;
  }

  // The global position of `case_id`'s event at `version`, from the case
  // index; DATA_LOSS when the index has no (well-formed) entry for it.
  absl::StatusOr<uint64_t> PositionOfVersion(const std::string& case_id,
                                             uint64_t version) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), case_index_cf_,
                                 CaseIndexKey(case_id, version), &value);
    if (s.IsNotFound() || (s.ok() && value.size() != 8)) {
      return absl::DataLossError(
          absl::StrCat("case ", case_id, " version ", version, " is missing"));
    }
    RETURN_IF_ERROR(FromRocksDb(s, "read case"));
    return DecodeU64(value);
  }

  absl::StatusOr<v1::Event> ReadCaseVersion(const std::string& case_id,
                                            uint64_t version) const {
    ASSIGN_OR_RETURN(uint64_t position, PositionOfVersion(case_id, version));
    return ReadEvent(position);
  }

  // The lowest version of `case_id` whose global position is >= `from`, or
  // the case's head version + 1 when there is none. A case's positions grow
  // with its versions, so this is a binary search: O(log versions) point
  // reads instead of a scan of every earlier index entry.
  absl::StatusOr<uint64_t> FirstVersionFrom(const std::string& case_id,
                                            uint64_t from) const {
    if (from <= 1) return 1;
    ASSIGN_OR_RETURN(CaseHead head, GetCaseHead(case_id));
    uint64_t lo = 1;
    uint64_t hi = head.version + 1;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      ASSIGN_OR_RETURN(uint64_t position, PositionOfVersion(case_id, mid));
      if (position >= from) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  absl::StatusOr<ReadPage> ReadAllOfCase(const ReadAllRequest& request,
                                         uint64_t from, uint64_t last) const {
    ReadPage page;
    page.next = from;
    const uint32_t max_count = PageSize(request.max_count);
    ASSIGN_OR_RETURN(uint64_t first_version,
                     FirstVersionFrom(request.case_id, from));
    rocksdb::ReadOptions ro;
    const std::string prefix = CaseIndexPrefix(request.case_id);
    std::string upper_key = prefix;
    upper_key.back() = '\x01';
    rocksdb::Slice upper_slice(upper_key);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, case_index_cf_));
    size_t bytes = 0;
    bool full = false;
    for (it->Seek(CaseIndexKey(request.case_id, first_version)); it->Valid();
         it->Next()) {
      const uint64_t position = DecodeU64(View(it->value()));
      if (position > last) break;
      ASSIGN_OR_RETURN(v1::Event event, ReadEvent(position));
      page.next = position + 1;
      if (request.event_types.empty() ||
          request.event_types.contains(event.envelope().event_type())) {
        if (request.max_bytes > 0) bytes += event.ByteSizeLong();
        page.events.push_back(std::move(event));
        if (page.events.size() >= max_count ||
            (request.max_bytes > 0 && bytes >= request.max_bytes)) {
          full = true;
          break;
        }
      }
    }
    RETURN_IF_ERROR(FromRocksDb(it->status(), "read log"));
    if (!full) {
      page.next = std::max(page.next, last + 1);
      page.end = true;
    }
    return page;
  }

  // The appends of one group and the WriteBatch that commits them.
  struct StagedGroup {
    std::vector<PendingAppend*> appends;
    std::vector<absl::StatusOr<AppendResult>> results;
    rocksdb::WriteBatch batch;
    absl::Time recorded_at;
    // What earlier appends of this group changed, for the later ones.
    absl::flat_hash_map<std::string, HeadValue> heads;
    absl::flat_hash_map<std::string, EventIdValue> ids;
  };

  // Group commit, leader/follower style: the append at the front of
  // `writers_` leads. It takes the queued appends behind it (up to
  // max_group_events), decides each one (retry, expected version), writes
  // them as one synced WriteBatch, and completes them; then the next front
  // leads. A synchronous caller leads on its own thread; an asynchronous
  // append at the front is led by the engine thread. One leader at a time.
  // REQUIRES: mu_ held; writers_.front() is the caller's (or, on the engine
  // thread, an asynchronous) append.
  void LeadGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    StagedGroup group;
    size_t events = 0;
    for (PendingAppend* pending : writers_) {
      const size_t n = pending->request.events.size();
      if (!group.appends.empty() && events + n > options_.max_group_events) {
        break;
      }
      // An import is committed alone (all or nothing, its own recorded_at):
      // a failing import clears the group's batch, so nothing may share it
      // (PrepareImport checks this).
      if (!group.appends.empty() &&
          (pending->import != nullptr ||
           group.appends.front()->import != nullptr)) {
        break;
      }
      events += n;
      group.appends.push_back(pending);
    }
    const uint64_t first = last_position_;
    absl::Status health = CurrentHealth();
    mu_.Unlock();

    uint64_t position = first;
    // recorded_at never decreases along the global log.
    group.recorded_at = std::max(options_.clock->Now(), last_recorded_at_);
    group.results.reserve(group.appends.size());
    for (PendingAppend* pending : group.appends) {
      group.results.push_back(!health.ok()
                                  ? absl::StatusOr<AppendResult>(health)
                              : pending->import != nullptr
                                  ? PrepareImport(*pending, group, position)
                                  : Prepare(*pending, group, position));
    }
    bool committed = false;
    if (position != first) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      // Data keys created for this group's events become durable first.
      absl::Status written =
          keys_ != nullptr ? keys_->SyncIfNeeded() : absl::OkStatus();
      if (written.ok()) {
        written = FromRocksDb(db_->Write(wo, &group.batch), "append: commit");
      }
      committed = written.ok();
      if (committed) {
        last_recorded_at_ = group.recorded_at;
      } else {
        health = written;
        for (auto& result : group.results) {
          if (result.ok()) result = written;
        }
      }
      mu_.Lock();
      if (committed) {
        last_position_ = position;
      } else if (health_.ok()) {
        health_ = health;
      }
      mu_.Unlock();
      if (!committed) storage_errors_->Report(health);
    }
    // Listeners see commits in order: the next leader cannot start before
    // this group leaves writers_ below.
    if (committed) {
      absl::MutexLock lock(&listeners_mu_);
      for (auto& [id, listener] : listeners_) listener(position);
    }

    std::vector<PendingAppend*> asynchronous;
    mu_.Lock();
    for (size_t i = 0; i < group.appends.size(); ++i) {
      PendingAppend* pending = writers_.front();
      writers_.pop_front();
      pending_bytes_ -= pending->bytes;
      pending->result = std::move(group.results[i]);
      pending->finished = true;
      if (pending->done) {
        asynchronous.push_back(pending);
      } else {
        pending->cv.Signal();
      }
    }
    if (!writers_.empty()) {
      if (writers_.front()->done) {
        engine_cv_.Signal();
      } else {
        writers_.front()->cv.Signal();
      }
    }
    if (asynchronous.empty()) return;
    mu_.Unlock();
    for (PendingAppend* pending : asynchronous) {
      std::unique_ptr<PendingAppend> owned(pending);
      owned->done(std::move(owned->result));
    }
    mu_.Lock();
  }

  // The engine thread: leads groups whose front append is asynchronous, so
  // that no gRPC thread ever waits on an fsync.
  void EngineLoop() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      while (!(stopping_ && writers_.empty()) &&
             (writers_.empty() || !writers_.front()->done)) {
        engine_cv_.Wait(&mu_);
      }
      if (writers_.empty()) return;  // stopping, and nothing left
      LeadGroup();
    }
  }

  // Reads a case head, preferring the group's own earlier changes.
  absl::StatusOr<HeadValue> HeadFor(const std::string& case_id,
                                    const StagedGroup& group) const {
    auto found = group.heads.find(case_id);
    if (found != group.heads.end()) return found->second;
    ASSIGN_OR_RETURN(CaseHead head, GetCaseHead(case_id));
    HeadValue value;
    value.version = head.version;
    value.last_position = head.last_position;
    value.last_hash = head.version == 0 ? ZeroHash() : head.last_hash;
    return value;
  }

  // True if the event id found as `stored` is the case's event at its
  // version: an event imported again erased (its content can no longer be
  // compared) is the one already stored when its id, case and version match.
  bool StoredAt(const std::string& case_id, const EventIdValue& stored) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), case_index_cf_,
                                 CaseIndexKey(case_id, stored.version), &value);
    return s.ok() && value.size() == 8 && DecodeU64(value) == stored.position;
  }

  // Looks up an event id in the group, then on disk.
  absl::StatusOr<std::optional<EventIdValue>> LookupEventId(
      const std::string& event_id, const StagedGroup& group) const {
    auto found = group.ids.find(event_id);
    if (found != group.ids.end()) return found->second;
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), event_ids_cf_, event_id, &value);
    if (s.IsNotFound()) return std::optional<EventIdValue>();
    RETURN_IF_ERROR(FromRocksDb(s, "append"));
    std::optional<EventIdValue> decoded = internal::DecodeEventId(value);
    if (!decoded) return absl::DataLossError("event id index is corrupt");
    return decoded;
  }

  // Decides one append against the group's state so far. Returns the result
  // for a replay, or adds the events to `batch` and the overlays.
  absl::StatusOr<AppendResult> Prepare(PendingAppend& pending,
                                       StagedGroup& group, uint64_t& position) {
    rocksdb::WriteBatch& batch = group.batch;
    const AppendRequest& request = pending.request;
    const size_t n = request.events.size();
    // Idempotency: an exact retry of a stored append returns its result.
    size_t found = 0;
    AppendResult replay;
    replay.replayed = true;
    for (size_t i = 0; i < n; ++i) {
      const std::string& id = request.events[i].envelope().event_id();
      ASSIGN_OR_RETURN(std::optional<EventIdValue> stored,
                       LookupEventId(id, group));
      if (!stored) continue;
      if (stored->digest != pending.digests[i] &&
          !(n == 1 && !pending.erased_type.empty() &&
            StoredAt(request.case_id, *stored))) {
        return absl::AlreadyExistsError(
            absl::StrCat("events[", i, "].envelope.event_id: ", id,
                         " is already stored with different content"));
      }
      if (found != i ||
          (i > 0 && stored->position != replay.last_position + 1)) {
        return absl::AlreadyExistsError(
            absl::StrCat("events[", i, "].envelope.event_id: ", id,
                         " is already stored by a different append"));
      }
      if (i == 0) {
        replay.first_position = stored->position;
        replay.first_version = stored->version;
      }
      replay.last_position = stored->position;
      replay.last_version = stored->version;
      ++found;
    }
    if (found == n) {
      replay.commit_position = replay.last_position;
      return replay;
    }
    if (found != 0) {
      return absl::AlreadyExistsError(
          "events: part of this append is already stored by a different "
          "append");
    }
    // Nothing but its erasure record lands after a case's erasure.
    if (keys_ != nullptr && !pending.erasure && pending.erased_type.empty() &&
        keys_->IsErased(request.case_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", request.case_id, " was erased"));
    }
    // Optimistic concurrency.
    ASSIGN_OR_RETURN(HeadValue head, HeadFor(request.case_id, group));
    if (!request.expected.IsMetBy(head.version)) {
      return VersionConflict(request.case_id, request.expected, head.version);
    }
    // Stage the events.
    AppendResult result;
    const google::protobuf::Timestamp recorded = ToProto(group.recorded_at);
    for (size_t i = 0; i < n; ++i) {
      const v1::Event& event = request.events[i];
      v1::StoredEvent stored;
      v1::EventEnvelope* env = stored.mutable_envelope();
      *env = event.envelope();
      env->set_stream_version(head.version + 1);
      env->set_global_position(position + 1);
      env->set_event_type(pending.erased_type.empty()
                              ? EventTypeOf(event.payload())
                              : pending.erased_type);
      *env->mutable_recorded_at() = recorded;
      env->set_prev_hash(head.last_hash);
      if (!pending.erased_type.empty()) {
        stored.set_payload_encoding(v1::PAYLOAD_ENCODING_ERASED);
      } else if (pending.sealed.empty()) {
        stored.set_payload_encoding(v1::PAYLOAD_ENCODING_PLAIN);
        stored.set_payload(event.payload().SerializeAsString());
      } else {
        stored.set_payload_encoding(v1::PAYLOAD_ENCODING_AES256_GCM);
        stored.set_payload(std::move(pending.sealed[i]));
        stored.set_key_id(pending.key_id);
      }
      const std::string bytes = stored.SerializeAsString();
      const std::string hash = Sha256(bytes);
      ++position;
      ++head.version;
      head.last_position = position;
      head.last_hash = hash;
      batch.Put(events_cf_, EventKey(position), hash + bytes);
      batch.Put(case_index_cf_, CaseIndexKey(request.case_id, head.version),
                EncodeU64(position));
      EventIdValue id_value{position, head.version, pending.digests[i]};
      batch.Put(event_ids_cf_, env->event_id(),
                internal::EncodeEventId(id_value));
      for (const std::string& term : request.index_terms) {
        batch.Put(term_index_cf_, internal::TermIndexKey(term, position),
                  rocksdb::Slice());
      }
      group.ids[env->event_id()] = std::move(id_value);
      if (i == 0) {
        result.first_position = position;
        result.first_version = head.version;
      }
    }
    result.last_position = position;
    result.last_version = head.version;
    result.commit_position = position;
    batch.Put(case_heads_cf_, request.case_id, internal::EncodeHead(head));
    group.heads[request.case_id] = std::move(head);
    return result;
  }

  // Decides an import's events in order against the log (it is alone in
  // its group), staging the new ones with their own recorded_at; on the
  // first failure unstages everything and returns it.
  // INVARIANT (enforced here, established by LeadGroup): the import is the
  // only append of its group. On failure this clears the whole group's
  // WriteBatch; an append sharing the group would then be acknowledged
  // without being written.
  absl::StatusOr<AppendResult> PrepareImport(PendingAppend& leader,
                                             StagedGroup& group,
                                             uint64_t& position) {
    if (group.appends.size() != 1 || group.appends.front() != &leader) {
      assert(false && "an import must be alone in its commit group");
      return absl::InternalError("import: not alone in its commit group");
    }
    ImportBatch& batch = *leader.import;
    const uint64_t first = position;
    absl::Time floor = last_recorded_at_;
    for (size_t i = 0; i < batch.parts.size(); ++i) {
      ImportPart& part = batch.parts[i];
      group.recorded_at = std::max(floor, part.recorded_at);
      absl::StatusOr<AppendResult> one = Prepare(*part.append, group, position);
      if (one.ok() && one->replayed && one->first_version != part.version) {
        one = absl::AlreadyExistsError(
            "envelope.event_id: already stored at another version");
      }
      if (!one.ok() && CurrentVersionOf(one.status())) {
        absl::Status conflict = absl::AbortedError(
            absl::StrCat("envelope.stream_version: ", part.version,
                         " does not follow the case's version ",
                         *CurrentVersionOf(one.status())));
        conflict.SetPayload(
            kVersionConflictPayload,
            absl::Cord(absl::StrCat(*CurrentVersionOf(one.status()))));
        one = conflict;
      }
      if (!one.ok()) {
        group.batch.Clear();
        group.heads.clear();
        group.ids.clear();
        position = first;
        batch.result = ImportResult();
        return AtImportIndex(one.status(), i);
      }
      if (one->replayed) {
        ++batch.result.already_present;
        continue;
      }
      floor = group.recorded_at;
      ++batch.result.imported;
      if (one->first_position == part.position) ++batch.result.positions_kept;
    }
    // What LeadGroup keeps as the log's last recorded_at after the commit.
    group.recorded_at = floor;
    AppendResult result;
    result.last_position = position;
    result.commit_position = position;
    return result;
  }

  const EventLogOptions options_;
  // Declared before db_, so it outlives the DB that calls it.
  std::shared_ptr<StorageErrorListener> storage_errors_;
  // nullptr: payloads stored in plain. Outlives db_'s users (declared first,
  // destroyed last).
  std::unique_ptr<KeyStore> keys_;
  // Serialises Erase() calls.
  absl::Mutex erase_mu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* default_cf_;
  rocksdb::ColumnFamilyHandle* events_cf_;
  rocksdb::ColumnFamilyHandle* case_index_cf_;
  rocksdb::ColumnFamilyHandle* case_heads_cf_;
  rocksdb::ColumnFamilyHandle* event_ids_cf_;
  rocksdb::ColumnFamilyHandle* term_index_cf_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t last_position_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status health_ ABSL_GUARDED_BY(mu_);

  // Appends waiting to be committed, in arrival order; the front one's
  // group is being committed. Asynchronous ones are owned here.
  std::deque<PendingAppend*> writers_ ABSL_GUARDED_BY(mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Wakes the engine thread when an asynchronous append reaches the front.
  absl::CondVar engine_cv_;

  // Touched only by the current group leader (and Start, before any).
  absl::Time last_recorded_at_ = absl::InfinitePast();

  absl::Mutex listeners_mu_;
  uint64_t next_listener_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::map<uint64_t, std::function<void(uint64_t)>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);

  std::thread engine_thread_;
};

bool EventLog::Impl::IsValidCaseIdForRead(const std::string& case_id) {
  return !case_id.empty() && case_id.size() <= 128 &&
         case_id.find('\0') == std::string::npos;
}

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(
    const EventLogOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("options.path: required");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("options.clock: required");
  }
  if (options.max_events_per_append == 0 || options.max_event_bytes == 0 ||
      options.max_group_events == 0 || options.max_read_page == 0 ||
      options.max_pending_appends == 0 || options.max_pending_bytes == 0) {
    return absl::InvalidArgumentError("options: limits must be positive");
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.paranoid_checks = true;
  // Acknowledged appends are synced, so only the record after the last
  // synced one can be torn by a crash, and it was never acknowledged: a WAL
  // that ends inside a record is recovered up to it. A record that is
  // complete but fails its checksum is damage to acknowledged data, and
  // fails Open with DATA_LOSS rather than being dropped with everything after
  // it, as kPointInTimeRecovery would do silently (engine/STORAGE_FORMAT.md,
  // "Recovery").
  db_options.wal_recovery_mode =
      options.recover_past_damaged_wal
          ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
          : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.track_and_verify_wals_in_manifest = true;
  // One thread writes at a time (the group leader), and the hashed memtable
  // of event_ids does not support concurrent inserts.
  db_options.allow_concurrent_memtable_write = false;
  if (options.env != nullptr) db_options.env = options.env;
  auto storage_errors = std::make_shared<StorageErrorListener>();
  db_options.listeners.push_back(storage_errors);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // Point lookups of random keys (event ids, case heads) mostly miss or hit
  // the memtable: a memtable bloom filter makes both cheap.
  rocksdb::ColumnFamilyOptions lookup_options = cf_options;
  lookup_options.memtable_prefix_bloom_size_ratio = 0.1;
  lookup_options.memtable_whole_key_filtering = true;
  // Event ids are random UUIDs and only ever looked up, never scanned: a
  // hashed memtable (bucketed by the first 8 characters) makes the random
  // inserts of the append path cheap.
  rocksdb::ColumnFamilyOptions id_options = lookup_options;
  id_options.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(8));
  id_options.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory());
  // Index keys of one case share the case id: remember insert positions per
  // case, so consecutive versions of a case insert next to each other.
  rocksdb::ColumnFamilyOptions index_options = cf_options;
  index_options.memtable_insert_with_hint_prefix_extractor.reset(
      new CaseIdPrefix());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {internal::kEventsCf, cf_options},
      {internal::kCaseIndexCf, index_options},
      {internal::kCaseHeadsCf, lookup_options},
      {internal::kEventIdsCf, id_options},
      {internal::kTermIndexCf, cf_options},
  };
  // A log written before a column family existed gets it added at open;
  // anything else without create_if_missing is refused below as before.
  {
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing)
            .ok() &&
        std::find(existing.begin(), existing.end(), internal::kEventsCf) !=
            existing.end()) {
      db_options.create_missing_column_families = true;
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors,
                                        &handles, &raw_db);
  if (!s.ok()) {
    if (s.IsInvalidArgument() &&
        s.ToString().find("does not exist") != std::string::npos) {
      // Missing database or column family without create_if_missing.
      return absl::FailedPreconditionError(
          "open: no caseledger log at the given path");
    }
    if (s.IsCorruption()) {
      // Recovery found a damaged WAL record or table file: refuse rather
      // than come up without acknowledged events (STORAGE_FORMAT.md,
      // "Recovery").
      return absl::DataLossError(
          absl::StrCat("open: the write-ahead log or a table file is damaged (",
                       s.ToString(),
                       "); nothing was opened, see the Recovery section of "
                       "engine/STORAGE_FORMAT.md"));
    }
    return FromRocksDb(s, "open");
  }
  std::unique_ptr<rocksdb::DB> db(raw_db);
  std::unique_ptr<KeyStore> keys;
  if (!options.key_store_path.empty()) {
    const std::filesystem::path log_dir =
        std::filesystem::path(options.path).lexically_normal();
    const std::filesystem::path key_dir =
        std::filesystem::path(options.key_store_path).lexically_normal();
    const auto [mismatch, rest] = std::mismatch(log_dir.begin(), log_dir.end(),
                                                key_dir.begin(), key_dir.end());
    absl::Status keys_checked;
    if (mismatch == log_dir.end()) {
      keys_checked = absl::InvalidArgumentError(
          "options.key_store_path: must lie outside the log directory");
    } else {
      KeyStoreOptions key_options;
      key_options.path = options.key_store_path;
      key_options.master_key = options.master_key;
      key_options.create_if_missing = options.create_if_missing;
      key_options.cache_keys = options.key_cache_keys;
      absl::StatusOr<std::unique_ptr<KeyStore>> opened =
          KeyStore::Open(key_options);
      if (opened.ok()) {
        keys = std::move(opened).value();
      } else {
        keys_checked = opened.status();
      }
    }
    if (!keys_checked.ok()) {
      for (rocksdb::ColumnFamilyHandle* handle : handles) {
        db->DestroyColumnFamilyHandle(handle);
      }
      return keys_checked;
    }
  }

  std::string format;
  s = db->Get(rocksdb::ReadOptions(), handles[0], internal::kFormatKey,
              &format);
  absl::Status checked;
  if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles[1]));
    it->SeekToFirst();
    if (it->Valid()) {
      checked = absl::FailedPreconditionError(
          "open: the directory holds events but no format marker");
    } else {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      checked = FromRocksDb(
          db->Put(wo, handles[0], internal::kFormatKey, internal::kFormatValue),
          "open");
    }
  } else if (!s.ok()) {
    checked = FromRocksDb(s, "open");
  } else if (format != internal::kFormatValue) {
    checked = absl::FailedPreconditionError(
        "open: the directory holds an incompatible storage format");
  }
  if (!checked.ok()) {
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      db->DestroyColumnFamilyHandle(handle);
    }
    return checked;
  }

  auto impl =
      std::make_unique<Impl>(options, std::move(storage_errors), std::move(db),
                             std::move(handles), std::move(keys));
  RETURN_IF_ERROR(impl->Start());
  RETURN_IF_ERROR(impl->ReapplyErasures());
  return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));
}

EventLog::EventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventLog::~EventLog() = default;

absl::StatusOr<AppendResult> EventLog::Append(const AppendRequest& request) {
  return impl_->Append(request);
}

absl::StatusOr<ImportResult> EventLog::Import(const ImportRequest& request) {
  return impl_->Import(request);
}

void EventLog::AppendAsync(AppendRequest request, AppendCallback done) {
  impl_->AppendAsync(std::move(request), std::move(done));
}

absl::StatusOr<ReadPage> EventLog::ReadAll(
    const ReadAllRequest& request) const {
  return impl_->ReadAll(request);
}

absl::StatusOr<ReadPage> EventLog::ReadCase(
    const ReadCaseRequest& request) const {
  return impl_->ReadCase(request);
}

absl::StatusOr<ReadPage> EventLog::ReadTerm(
    const ReadTermRequest& request) const {
  return impl_->ReadTerm(request);
}

absl::StatusOr<v1::Event> EventLog::ReadEvent(uint64_t position) const {
  return impl_->ReadEvent(position);
}

absl::StatusOr<CaseHead> EventLog::GetCaseHead(
    const std::string& case_id) const {
  return impl_->GetCaseHead(case_id);
}

absl::StatusOr<VerifyReport> EventLog::VerifyCase(
    const std::string& case_id) const {
  return impl_->VerifyCase(case_id);
}

absl::StatusOr<VerifyReport> EventLog::VerifyAll(
    const std::function<bool(uint64_t)>& progress) const {
  return impl_->VerifyAll(progress);
}

uint64_t EventLog::LastPosition() const { return impl_->LastPosition(); }

bool EventLog::WaitForPosition(uint64_t position, absl::Time deadline) const {
  return impl_->WaitForPosition(position, deadline);
}

uint64_t EventLog::AddCommitListener(std::function<void(uint64_t)> listener) {
  return impl_->AddCommitListener(std::move(listener));
}

void EventLog::RemoveCommitListener(uint64_t id) {
  impl_->RemoveCommitListener(id);
}

absl::Status EventLog::Health() const { return impl_->Health(); }

void EventLog::SetHealthListener(
    std::function<void(const absl::Status&)> listener) {
  impl_->SetHealthListener(std::move(listener));
}

absl::Status EventLog::Flush() { return impl_->Flush(); }

const std::string& EventLog::path() const { return impl_->path(); }

absl::StatusOr<uint64_t> EventLog::Backup(const std::string& directory) {
  return impl_->Backup(directory);
}

absl::Status EventLog::Compact() { return impl_->Compact(); }

absl::StatusOr<EraseResult> EventLog::Erase(const EraseRequest& request) {
  return impl_->Erase(request);
}

std::optional<v1::ErasureLedgerEntry> EventLog::GetErasure(
    const std::string& case_id) const {
  return impl_->GetErasure(case_id);
}

bool EventLog::encrypted() const { return impl_->key_store() != nullptr; }

KeyStore* EventLog::key_store() const { return impl_->key_store(); }

}  // namespace caseledger::engine
