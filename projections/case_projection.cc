#include "projections/case_projection.h"

#include <pthread.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/internal/status_macros.h"
#include "engine/key_store.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "projections/case_folder.h"
#include "projections/dates.h"
#include "projections/timeline.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace caseledger::projections {
namespace {

namespace fs = std::filesystem;

constexpr char kCheckpointKey[] = "m/checkpoint";
constexpr char kCurrentFile[] = "CURRENT";

std::string StateKey(absl::string_view case_id) {
  return absl::StrCat("c/", case_id);
}
std::string FactsKey(absl::string_view case_id) {
  return absl::StrCat("f/", case_id);
}
std::string WorkerKey(absl::string_view id) { return absl::StrCat("w/", id); }
std::string TimelinePrefix(absl::string_view case_id) {
  std::string key = absl::StrCat("t/", case_id);
  key.push_back('\0');
  return key;
}
std::string TimelineKey(absl::string_view case_id, uint64_t version) {
  std::string key = TimelinePrefix(case_id);
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((version >> shift) & 0xFF));
  }
  return key;
}
// The smallest key after every key starting with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xFF) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsCorruption()) {
    return absl::DataLossError(
        absl::StrCat(what, ": projection store is corrupt"));
  }
  if (s.IsNotFound()) return absl::NotFoundError(what);
  return absl::UnavailableError(absl::StrCat(what, ": projection store error"));
}

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// The plan of a stored CaseState, skipping its event facts: they grow with
// the case and a plan query (or an authorization decision, which reads the
// plan on every call) does not need them. False if `bytes` do not decode.
bool ParsePlanOfState(const std::string& bytes, v1::CasePlan* plan) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  const uint32_t plan_tag =
      WireFormatLite::MakeTag(v1::CaseState::kPlanFieldNumber,
                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (tag == plan_tag) {
      uint32_t length = 0;
      std::string field;
      if (!in.ReadVarint32(&length) || !in.ReadString(&field, length) ||
          !plan->MergeFromString(field)) {
        return false;
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

// The case a per-case key belongs to: "c/<case>", "f/<case>" or
// "t/<case> 0x00 u64be(version)"; empty for any other key.
std::string CaseOfKey(absl::string_view key) {
  if (absl::StartsWith(key, "c/") || absl::StartsWith(key, "f/")) {
    return std::string(key.substr(2));
  }
  if (absl::StartsWith(key, "t/") && key.size() >= 2 + 1 + 8) {
    return std::string(key.substr(2, key.size() - 2 - 1 - 8));
  }
  return std::string();
}

// The per-case values of the store (plan state, facts, timeline entries):
// sealed under their case's data key when the log has a key store
// (projections/README.md, "Sealed values"), plain otherwise. Each value is
// sealed with its store key as its place, so it opens only there. Once the
// case is erased, Open returns NOT_FOUND ("case ... was erased").
// Thread-safe (the key store is).
class Sealer {
 public:
  explicit Sealer(engine::KeyStore* keys) : keys_(keys) {}
  bool sealing() const { return keys_ != nullptr; }
  engine::KeyStore* keys() const { return keys_; }

  absl::StatusOr<std::string> Seal(const std::string& case_id,
                                   absl::string_view where,
                                   std::string plaintext) const {
    if (keys_ == nullptr) return plaintext;
    return keys_->SealValue(case_id, where, plaintext);
  }

  absl::StatusOr<std::string> Open(const std::string& case_id,
                                   absl::string_view where,
                                   absl::string_view stored) const {
    if (keys_ == nullptr) return std::string(stored);
    return keys_->OpenValue(case_id, where, stored);
  }

  // A case state (c/<case>). Plain: the CaseState. Sealed: u32be(n), the
  // plan sealed (n bytes), the event facts sealed: two values, so that a
  // plan read (on every authorization) opens only the plan, not the facts
  // that grow with the case.
  absl::StatusOr<std::string> SealState(const std::string& case_id,
                                        const std::string& key,
                                        const v1::CasePlan& plan,
                                        const v1::CaseFacts& facts) const {
    if (keys_ == nullptr) {
      v1::CaseState state;
      *state.mutable_plan() = plan;
      *state.mutable_event_facts() = facts;
      return state.SerializeAsString();
    }
    ASSIGN_OR_RETURN(std::string sealed_plan,
                     Seal(case_id, PlanPlace(key), plan.SerializeAsString()));
    ASSIGN_OR_RETURN(std::string sealed_facts,
                     Seal(case_id, FactsPlace(key), facts.SerializeAsString()));
    std::string out;
    const uint32_t n = static_cast<uint32_t>(sealed_plan.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((n >> shift) & 0xFF));
    }
    absl::StrAppend(&out, sealed_plan, sealed_facts);
    return out;
  }

  // The plan of a stored case state. DATA_LOSS if it does not decode.
  absl::StatusOr<v1::CasePlan> OpenPlan(const std::string& case_id,
                                        const std::string& key,
                                        const std::string& stored) const {
    v1::CasePlan plan;
    if (keys_ == nullptr) {
      if (!ParsePlanOfState(stored, &plan)) return Undecodable();
      return plan;
    }
    RETURN_IF_ERROR(OpenSealedState(case_id, key, stored, &plan, nullptr));
    return plan;
  }

  // The whole stored case state. DATA_LOSS if it does not decode.
  absl::StatusOr<v1::CaseState> OpenState(const std::string& case_id,
                                          const std::string& key,
                                          const std::string& stored) const {
    v1::CaseState state;
    if (keys_ == nullptr) {
      if (!state.ParseFromString(stored)) return Undecodable();
      return state;
    }
    RETURN_IF_ERROR(OpenSealedState(case_id, key, stored, state.mutable_plan(),
                                    state.mutable_event_facts()));
    return state;
  }

  // Opens and parses a per-case value other than a case state.
  template <typename Message>
  absl::Status OpenMessage(const std::string& case_id, absl::string_view key,
                           absl::string_view stored, Message* message,
                           absl::string_view what) const {
    bool parsed;
    if (keys_ == nullptr) {
      parsed = message->ParseFromArray(stored.data(),
                                       static_cast<int>(stored.size()));
    } else {
      ASSIGN_OR_RETURN(std::string bytes, Open(case_id, key, stored));
      parsed = message->ParseFromString(bytes);
    }
    if (!parsed) {
      return absl::DataLossError(absl::StrCat(what, " cannot be decoded"));
    }
    return absl::OkStatus();
  }

 private:
  static std::string PlanPlace(const std::string& key) {
    return absl::StrCat(key, "#plan");
  }
  static std::string FactsPlace(const std::string& key) {
    return absl::StrCat(key, "#event_facts");
  }
  static absl::Status Undecodable() {
    return absl::DataLossError("projection case state cannot be decoded");
  }
  // Opens the plan of a sealed case state, and its event facts unless
  // `facts` is nullptr.
  absl::Status OpenSealedState(const std::string& case_id,
                               const std::string& key, absl::string_view stored,
                               v1::CasePlan* plan, v1::CaseFacts* facts) const {
    if (stored.size() < 4) return Undecodable();
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) {
      n = (n << 8) | static_cast<unsigned char>(stored[i]);
    }
    if (stored.size() - 4 < n) return Undecodable();
    ASSIGN_OR_RETURN(std::string plan_bytes,
                     Open(case_id, PlanPlace(key), stored.substr(4, n)));
    if (!plan->ParseFromString(plan_bytes)) return Undecodable();
    if (facts == nullptr) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::string facts_bytes,
                     Open(case_id, FactsPlace(key), stored.substr(4 + n)));
    if (!facts->ParseFromString(facts_bytes)) return Undecodable();
    return absl::OkStatus();
  }

  engine::KeyStore* const keys_;  // not owned; nullptr: plain
};

}  // namespace

// One RocksDB holding a complete projection state. Removed from disk when
// the last reference goes, if marked obsolete.
class CaseProjection::Generation {
 public:
  static absl::StatusOr<std::shared_ptr<Generation>> Open(
      const std::string& path) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    RETURN_IF_ERROR(
        FromRocks(rocksdb::DB::Open(options, path, &db), "open projection"));
    return std::shared_ptr<Generation>(new Generation(path, db));
  }

  ~Generation() {
    db_->Close();
    db_.reset();
    if (obsolete_) {
      std::error_code ignored;
      fs::remove_all(path_, ignored);
    }
  }

  rocksdb::DB* db() const { return db_.get(); }
  const std::string& path() const { return path_; }
  void MarkObsolete() { obsolete_ = true; }

  absl::StatusOr<std::optional<std::string>> Get(const std::string& key) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    RETURN_IF_ERROR(FromRocks(s, "read projection"));
    return std::optional<std::string>(std::move(value));
  }

 private:
  Generation(std::string path, rocksdb::DB* db)
      : path_(std::move(path)), db_(db) {}
  const std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::atomic<bool> obsolete_{false};
};

// Applies log events to one generation, chunk by chunk. Used by one thread
// at a time.
class CaseProjection::Applier {
 public:
  Applier(std::shared_ptr<Generation> generation, engine::EventLog* log,
          const CaseProjectionOptions& options)
      : generation_(std::move(generation)),
        log_(log),
        options_(options),
        sealer_(log->key_store()) {}

  absl::Status Load() {
    ASSIGN_OR_RETURN(std::optional<std::string> value,
                     generation_->Get(kCheckpointKey));
    if (value && !checkpoint_.ParseFromString(*value)) {
      return absl::DataLossError("projection checkpoint cannot be decoded");
    }
    return absl::OkStatus();
  }

  const std::shared_ptr<Generation>& generation() const { return generation_; }
  const v1::ProjectionCheckpoint& checkpoint() const { return checkpoint_; }
  uint64_t position() const { return checkpoint_.position(); }
  // True if the store can continue from its checkpoint: same projection
  // version, and built from this log (the event at the checkpoint position
  // is the one it last applied; not so after a restore from backup).
  absl::StatusOr<bool> Compatible() const {
    if (checkpoint_.position() == 0) return true;
    if (checkpoint_.projection_version() != kVersion) return false;
    // Plain values in a store now sealed, or the reverse: rebuild.
    if (checkpoint_.sealed() != sealer_.sealing()) return false;
    absl::StatusOr<v1::Event> event = log_->ReadEvent(checkpoint_.position());
    if (event.status().code() == absl::StatusCode::kNotFound) return false;
    RETURN_IF_ERROR(event.status());
    return event->hash() == checkpoint_.last_hash();
  }

  // Applies up to options.chunk_events events after position() and commits
  // them with the checkpoint in one WriteBatch. Returns how many.
  absl::StatusOr<size_t> Step() {
    engine::ReadAllRequest request;
    request.from_position = checkpoint_.position() + 1;
    request.max_count = static_cast<uint32_t>(options_.chunk_events);
    ASSIGN_OR_RETURN(engine::ReadPage page, log_->ReadAll(request));
    if (page.events.empty()) return 0;
    const v1::ProjectionCheckpoint committed = checkpoint_;
    absl::Status status;
    for (const v1::Event& event : page.events) {
      status = ApplyOne(event);
      if (!status.ok()) break;
    }
    if (status.ok()) status = Commit();
    if (!status.ok()) {
      // Nothing of the chunk was written: forget it, so that a retry starts
      // again after the last committed checkpoint (no event skipped).
      checkpoint_ = committed;
      cache_.clear();
      dirty_.clear();
      erased_.clear();
      pending_timeline_.clear();
      pending_workers_.clear();
      return status;
    }
    return page.events.size();
  }

 private:
  struct CachedCase {
    explicit CachedCase(const ScoringConfig& scoring) : folder(scoring) {}
    CaseFolder folder;
  };

  absl::StatusOr<CachedCase*> CaseFor(const std::string& case_id) {
    auto found = cache_.find(case_id);
    if (found != cache_.end()) return found->second.get();
    auto cached = std::make_unique<CachedCase>(options_.metrics.scoring);
    ASSIGN_OR_RETURN(std::optional<std::string> value,
                     generation_->Get(StateKey(case_id)));
    if (value) {
      ASSIGN_OR_RETURN(v1::CaseState state,
                       sealer_.OpenState(case_id, StateKey(case_id), *value));
      cached->folder.Restore(std::move(*state.mutable_plan()),
                             std::move(*state.mutable_event_facts()));
    }
    CachedCase* raw = cached.get();
    cache_.emplace(case_id, std::move(cached));
    return raw;
  }

  // The stored or pending timeline entry of `event_id` in `case_id`.
  absl::StatusOr<std::optional<std::pair<std::string, v1::TimelineEntry>>>
  FindEntry(const std::string& case_id, const std::string& event_id) {
    const std::string prefix = TimelinePrefix(case_id);
    for (auto it = pending_timeline_.lower_bound(prefix);
         it != pending_timeline_.end() && absl::StartsWith(it->first, prefix);
         ++it) {
      if (it->second.event_id() == event_id) {
        return std::make_optional(std::make_pair(it->first, it->second));
      }
    }
    rocksdb::ReadOptions ro;
    const std::string end = PrefixEnd(prefix);
    rocksdb::Slice upper(end);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(generation_->db()->NewIterator(ro));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      v1::TimelineEntry entry;
      RETURN_IF_ERROR(sealer_.OpenMessage(case_id, View(it->key()),
                                          View(it->value()), &entry,
                                          "timeline entry"));
      if (entry.event_id() == event_id) {
        return std::make_optional(
            std::make_pair(it->key().ToString(), std::move(entry)));
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "read timeline"));
    return std::optional<std::pair<std::string, v1::TimelineEntry>>();
  }

  absl::Status ApplyOne(const v1::Event& event) {
    const v1::EventEnvelope& env = event.envelope();
    checkpoint_.set_position(env.global_position());
    checkpoint_.set_last_hash(event.hash());
    // An erased case's earlier events carry no payload: nothing to apply.
    // Counted as applied, so that a store rebuilt after an erasure has the
    // same checkpoint as the one that followed it live.
    if (event.payload_erased()) {
      checkpoint_.set_events_applied(checkpoint_.events_applied() + 1);
      return absl::OkStatus();
    }
    if (event.payload().has_case_erased()) {
      checkpoint_.set_events_applied(checkpoint_.events_applied() + 1);
      Purge(env.case_id());
      return absl::OkStatus();
    }
    if (!IsKnownPayload(event)) {
      checkpoint_.set_skipped_unknown(checkpoint_.skipped_unknown() + 1);
      return absl::OkStatus();
    }
    checkpoint_.set_events_applied(checkpoint_.events_applied() + 1);
    const std::string& case_id = env.case_id();
    ASSIGN_OR_RETURN(CachedCase * cached, CaseFor(case_id));
    dirty_.insert(case_id);

    std::string target_type;
    if (IsCorrection(event)) {
      const v1::EventPayload& p = event.payload();
      const std::string& target =
          p.has_event_corrected()
              ? p.event_corrected().target_event_id()
              : p.event_entered_in_error().target_event_id();
      ASSIGN_OR_RETURN(auto original, FindEntry(case_id, target));
      if (original) {
        target_type = original->second.event_type();
        original->second.set_corrected_by(env.event_id());
        if (p.has_event_entered_in_error()) {
          original->second.set_entered_in_error(true);
        }
        pending_timeline_[original->first] = std::move(original->second);
      }
    }
    pending_timeline_[TimelineKey(case_id, env.stream_version())] =
        MakeTimelineEntry(event, cached->folder.plan(), target_type);

    if (IsCorrection(event)) {
      // Refold the case from its record up to this event.
      engine::ReadCaseRequest read;
      read.case_id = case_id;
      read.from_version = 1;
      std::vector<v1::Event> events;
      while (true) {
        ASSIGN_OR_RETURN(engine::ReadPage page, log_->ReadCase(read));
        for (v1::Event& e : page.events) {
          if (e.envelope().stream_version() > env.stream_version()) break;
          events.push_back(std::move(e));
        }
        if (page.end || events.size() >= env.stream_version() ||
            events.empty()) {
          break;
        }
        read.from_version = page.next;
      }
      CaseFolder refolded = FoldCase(events, options_.metrics.scoring);
      cached->folder.Restore(refolded.plan(), refolded.event_facts());
    } else {
      cached->folder.Apply(event);
    }

    if (event.payload().has_training_cycle_completed()) {
      const auto& t = event.payload().training_cycle_completed();
      v1::CaseworkerFacts* worker = &pending_workers_[t.caseworker_id()];
      if (worker->caseworker_id().empty()) {
        ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         generation_->Get(WorkerKey(t.caseworker_id())));
        if (stored && !worker->ParseFromString(*stored)) {
          return absl::DataLossError("caseworker facts cannot be decoded");
        }
        worker->set_caseworker_id(t.caseworker_id());
      }
      v1::CaseworkerFacts::Completed* completed = worker->add_cycles();
      completed->set_cycle(t.cycle());
      *completed->mutable_completed_on() = t.completed_on();
    }
    return absl::OkStatus();
  }

  // Forgets everything the read models hold of an erased case (its plan,
  // timeline and facts, so aggregates no longer count it); Commit() deletes
  // it from the store.
  void Purge(const std::string& case_id) {
    cache_.erase(case_id);
    dirty_.erase(case_id);
    const std::string prefix = TimelinePrefix(case_id);
    pending_timeline_.erase(pending_timeline_.lower_bound(prefix),
                            pending_timeline_.lower_bound(PrefixEnd(prefix)));
    erased_.insert(case_id);
  }

  absl::Status Commit() {
    if (sealer_.sealing()) {
      // A case erased while this chunk was read has no key to seal under:
      // purge it now (its CaseErased record follows in the log).
      std::vector<std::string> erased;
      for (const std::string& case_id : dirty_) {
        if (sealer_.keys()->IsErased(case_id)) erased.push_back(case_id);
      }
      for (const std::string& case_id : erased) Purge(case_id);
    }
    rocksdb::WriteBatch batch;
    for (const std::string& case_id : erased_) {
      batch.Delete(StateKey(case_id));
      batch.Delete(FactsKey(case_id));
      // Point deletes, not DeleteRange: with memtable insert hints, RocksDB
      // shares one hint per prefix between the point and the range-deletion
      // memtables, which corrupts them.
      const std::string prefix = TimelinePrefix(case_id);
      const std::string end = PrefixEnd(prefix);
      rocksdb::ReadOptions ro;
      rocksdb::Slice upper(end);
      ro.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(generation_->db()->NewIterator(ro));
      for (it->Seek(prefix); it->Valid(); it->Next()) batch.Delete(it->key());
      RETURN_IF_ERROR(FromRocks(it->status(), "purge projection"));
    }
    for (const std::string& case_id : dirty_) {
      const CaseFolder& folder = cache_.at(case_id)->folder;
      const std::string state_key = StateKey(case_id);
      ASSIGN_OR_RETURN(std::string state,
                       sealer_.SealState(case_id, state_key, folder.plan(),
                                         folder.event_facts()));
      batch.Put(state_key, state);
      const std::string facts_key = FactsKey(case_id);
      ASSIGN_OR_RETURN(
          std::string facts,
          sealer_.Seal(case_id, facts_key, folder.Facts().SerializeAsString()));
      batch.Put(facts_key, facts);
    }
    for (const auto& [key, entry] : pending_timeline_) {
      ASSIGN_OR_RETURN(
          std::string value,
          sealer_.Seal(CaseOfKey(key), key, entry.SerializeAsString()));
      batch.Put(key, value);
    }
    for (const auto& [id, worker] : pending_workers_) {
      batch.Put(WorkerKey(id), worker.SerializeAsString());
    }
    checkpoint_.set_projection_version(kVersion);
    checkpoint_.set_sealed(sealer_.sealing());
    // A key created for a case of plain events (written before the log had
    // a key store) must be durable before anything sealed under it is.
    if (sealer_.sealing()) RETURN_IF_ERROR(sealer_.keys()->SyncIfNeeded());
    batch.Put(kCheckpointKey, checkpoint_.SerializeAsString());
    // The store is rebuildable from the log, so its writes are not synced;
    // the WAL still keeps each chunk atomic across a crash.
    RETURN_IF_ERROR(
        FromRocks(generation_->db()->Write(rocksdb::WriteOptions(), &batch),
                  "write projection"));
    if (!erased_.empty()) {
      // The erased case's plaintext leaves the store's files: flush (the old
      // WAL files become obsolete and are deleted) and rewrite every table.
      rocksdb::DB* db = generation_->db();
      RETURN_IF_ERROR(
          FromRocks(db->Flush(rocksdb::FlushOptions()), "purge projection"));
      rocksdb::CompactRangeOptions co;
      co.bottommost_level_compaction =
          rocksdb::BottommostLevelCompaction::kForce;
      RETURN_IF_ERROR(FromRocks(db->CompactRange(co, nullptr, nullptr),
                                "purge projection"));
      erased_.clear();
    }
    dirty_.clear();
    pending_timeline_.clear();
    pending_workers_.clear();
    if (cache_.size() > options_.cache_cases) cache_.clear();
    return absl::OkStatus();
  }

  std::shared_ptr<Generation> generation_;
  engine::EventLog* const log_;
  const CaseProjectionOptions& options_;
  const Sealer sealer_;
  v1::ProjectionCheckpoint checkpoint_;
  absl::flat_hash_map<std::string, std::unique_ptr<CachedCase>> cache_;
  absl::flat_hash_set<std::string> dirty_;
  // Cases erased in the current chunk.
  absl::flat_hash_set<std::string> erased_;
  std::map<std::string, v1::TimelineEntry> pending_timeline_;
  std::map<std::string, v1::CaseworkerFacts> pending_workers_;
};

CaseProjection::CaseProjection(const CaseProjectionOptions& options,
                               engine::EventLog* log)
    : options_(options), log_(log) {}

absl::StatusOr<std::unique_ptr<CaseProjection>> CaseProjection::Open(
    const CaseProjectionOptions& options, engine::EventLog* log) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("options.dir: required");
  }
  if (log == nullptr) return absl::InvalidArgumentError("log: required");
  if (options.chunk_events == 0) {
    return absl::InvalidArgumentError("options.chunk_events: must be > 0");
  }
  RETURN_IF_ERROR(ValidateMetricsConfig(options.metrics));
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return absl::UnavailableError("open projection: cannot create directory");
  }
  // CURRENT names the serving generation; other generations are leftovers
  // of an interrupted rebuild.
  uint64_t current = 0;
  {
    std::ifstream in(fs::path(options.dir) / kCurrentFile);
    std::string name;
    if (in >> name && absl::StartsWith(name, "gen-")) {
      if (!absl::SimpleAtoi(name.substr(4), &current)) current = 0;
    }
  }
  auto projection =
      std::unique_ptr<CaseProjection>(new CaseProjection(options, log));
  const auto write_current = [&](uint64_t generation) -> absl::Status {
    const fs::path tmp = fs::path(options.dir) / "CURRENT.tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "gen-" << generation << "\n";
      if (!out.flush()) {
        return absl::UnavailableError("open projection: cannot write CURRENT");
      }
    }
    fs::rename(tmp, fs::path(options.dir) / kCurrentFile, ec);
    return ec ? absl::UnavailableError("open projection: cannot write CURRENT")
              : absl::OkStatus();
  };
  if (current == 0) {
    current = 1;
    RETURN_IF_ERROR(write_current(current));
  }
  for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "gen-") &&
        name != absl::StrCat("gen-", current)) {
      fs::remove_all(entry.path(), ec);
    }
  }
  std::string path = (fs::path(options.dir) / absl::StrCat("gen-", current));
  ASSIGN_OR_RETURN(std::shared_ptr<Generation> generation,
                   Generation::Open(path));
  auto applier =
      std::make_unique<Applier>(generation, log, projection->options_);
  RETURN_IF_ERROR(applier->Load());
  ASSIGN_OR_RETURN(bool compatible, applier->Compatible());
  if (!compatible) {
    // Built by another projection version, or from another log (restored
    // from a backup): start a fresh generation from position 0.
    generation->MarkObsolete();
    applier.reset();
    generation.reset();
    ++current;
    path = (fs::path(options.dir) / absl::StrCat("gen-", current));
    ASSIGN_OR_RETURN(generation, Generation::Open(path));
    RETURN_IF_ERROR(write_current(current));
    applier = std::make_unique<Applier>(generation, log, projection->options_);
    RETURN_IF_ERROR(applier->Load());
  }
  {
    absl::MutexLock lock(&projection->mu_);
    projection->current_ = generation;
    projection->position_ = applier->position();
    projection->events_applied_ = applier->checkpoint().events_applied();
    projection->skipped_unknown_ = applier->checkpoint().skipped_unknown();
    projection->log_position_ = log->LastPosition();
    projection->next_generation_ = current + 1;
    projection->live_ = std::move(applier);
  }
  return projection;
}

CaseProjection::~CaseProjection() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (listener_id_ != 0) log_->RemoveCommitListener(listener_id_);
  if (rebuild_thread_.joinable()) rebuild_thread_.join();
  if (live_thread_.joinable()) live_thread_.join();
  absl::MutexLock lock(&mu_);
  if (rebuilt_ != nullptr) rebuilt_->generation()->MarkObsolete();
}

void CaseProjection::Start() {
  listener_id_ = log_->AddCommitListener([this](uint64_t position) {
    absl::MutexLock lock(&mu_);
    log_position_ = std::max(log_position_, position);
  });
  {
    absl::MutexLock lock(&mu_);
    log_position_ = std::max(log_position_, log_->LastPosition());
  }
  live_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cl-project");
    LiveLoop();
  });
}

absl::Status CaseProjection::CatchUp() {
  for (;;) {
    Applier* applier;
    {
      absl::MutexLock lock(&mu_);
      applier = live_.get();
    }
    ASSIGN_OR_RETURN(size_t applied, applier->Step());
    absl::MutexLock lock(&mu_);
    position_ = applier->position();
    events_applied_ = applier->checkpoint().events_applied();
    skipped_unknown_ = applier->checkpoint().skipped_unknown();
    log_position_ = std::max(log_position_, log_->LastPosition());
    if (applied == 0) return absl::OkStatus();
  }
}

void CaseProjection::LiveLoop() {
  for (;;) {
    std::unique_ptr<Applier> rebuilt;
    Applier* applier;
    {
      absl::MutexLock lock(&mu_);
      auto work = [](CaseProjection* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return p->stopping_ || p->rebuilt_ != nullptr ||
               p->log_position_ > p->position_;
      };
      mu_.Await(absl::Condition(+work, this));
      // Under a stream of small commits, gather a few before applying them:
      // one chunk costs about as much as one event. Bounded by apply_delay,
      // which is what read-your-writes may wait extra.
      if (rebuilt_ == nullptr && !stopping_ &&
          log_position_ - position_ < options_.chunk_events &&
          options_.apply_delay > absl::ZeroDuration()) {
        auto full = [](CaseProjection* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return p->stopping_ || p->rebuilt_ != nullptr ||
                 p->log_position_ - p->position_ >= p->options_.chunk_events;
        };
        mu_.AwaitWithTimeout(absl::Condition(+full, this),
                             options_.apply_delay);
      }
      if (stopping_) return;
      rebuilt = std::move(rebuilt_);
      applier = live_.get();
    }
    if (rebuilt != nullptr) {
      absl::Status swapped = SwapIn(std::move(rebuilt));
      if (!swapped.ok()) {
        absl::MutexLock lock(&mu_);
        last_error_ = std::string(swapped.message());
      }
      continue;
    }
    absl::StatusOr<size_t> applied = applier->Step();
    absl::MutexLock lock(&mu_);
    if (!applied.ok()) {
      last_error_ = std::string(applied.status().message());
      // Retry when the log moves again (or at stop); do not spin.
      const uint64_t seen = log_position_;
      auto moved = [](std::pair<CaseProjection*, uint64_t>* arg)
                       ABSL_NO_THREAD_SAFETY_ANALYSIS {
                         return arg->first->stopping_ ||
                                arg->first->log_position_ > arg->second;
                       };
      std::pair<CaseProjection*, uint64_t> arg(this, seen);
      mu_.AwaitWithTimeout(absl::Condition(+moved, &arg), absl::Seconds(1));
      continue;
    }
    last_error_.clear();
    position_ = applier->position();
    events_applied_ = applier->checkpoint().events_applied();
    skipped_unknown_ = applier->checkpoint().skipped_unknown();
    if (*applied == 0) {
      // Nothing new (the listener saw a position we have applied already).
      log_position_ = std::max(position_, log_->LastPosition());
      if (log_position_ <= position_) log_position_ = position_;
    }
  }
}

absl::Status CaseProjection::SwapIn(std::unique_ptr<Applier> rebuilt) {
  // Bring the rebuilt generation to exactly the live position, then switch.
  uint64_t target;
  {
    absl::MutexLock lock(&mu_);
    target = position_;
  }
  // On failure the rebuilt generation is dropped and the old one serves on.
  const auto abandon = [&](absl::Status status) {
    rebuilt->generation()->MarkObsolete();
    absl::MutexLock lock(&mu_);
    rebuilding_ = false;
    return status;
  };
  while (rebuilt->position() < target) {
    absl::StatusOr<size_t> applied = rebuilt->Step();
    if (!applied.ok()) return abandon(applied.status());
    if (*applied == 0) break;
  }
  const std::string name =
      fs::path(rebuilt->generation()->path()).filename().string();
  const fs::path dir(options_.dir);
  {
    std::ofstream out(dir / "CURRENT.tmp", std::ios::trunc);
    out << name << "\n";
    if (!out.flush()) {
      return abandon(absl::UnavailableError("rebuild: cannot write CURRENT"));
    }
  }
  std::error_code ec;
  fs::rename(dir / "CURRENT.tmp", dir / kCurrentFile, ec);
  if (ec) {
    return abandon(absl::UnavailableError("rebuild: cannot write CURRENT"));
  }
  std::unique_ptr<Applier> old;
  {
    absl::MutexLock lock(&mu_);
    current_->MarkObsolete();
    current_ = rebuilt->generation();
    old = std::move(live_);
    live_ = std::move(rebuilt);
    position_ = live_->position();
    events_applied_ = live_->checkpoint().events_applied();
    skipped_unknown_ = live_->checkpoint().skipped_unknown();
    rebuilding_ = false;
  }
  return absl::OkStatus();
}

absl::Status CaseProjection::StartRebuild() {
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    if (rebuilding_) {
      return absl::FailedPreconditionError("a rebuild is already running");
    }
    if (live_thread_.get_id() == std::thread::id()) {
      return absl::FailedPreconditionError(
          "rebuild needs the projection to be started");
    }
    rebuilding_ = true;
    rebuild_position_ = 0;
    generation = next_generation_++;
  }
  if (rebuild_thread_.joinable()) rebuild_thread_.join();
  const std::string path =
      (fs::path(options_.dir) / absl::StrCat("gen-", generation)).string();
  std::error_code ec;
  fs::remove_all(path, ec);
  absl::StatusOr<std::shared_ptr<Generation>> fresh = Generation::Open(path);
  if (!fresh.ok()) {
    absl::MutexLock lock(&mu_);
    rebuilding_ = false;
    return fresh.status();
  }
  auto applier = std::make_unique<Applier>(*fresh, log_, options_);
  rebuild_thread_ = std::thread([this, a = std::move(applier)]() mutable {
    pthread_setname_np(pthread_self(), "cl-rebuild");
    RebuildLoop(std::move(a));
  });
  return absl::OkStatus();
}

void CaseProjection::RebuildLoop(std::unique_ptr<Applier> applier) {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        applier->generation()->MarkObsolete();
        rebuilding_ = false;
        return;
      }
    }
    absl::StatusOr<size_t> applied = applier->Step();
    absl::MutexLock lock(&mu_);
    if (!applied.ok()) {
      last_error_ = absl::StrCat("rebuild: ", applied.status().message());
      applier->generation()->MarkObsolete();
      rebuilding_ = false;
      return;
    }
    rebuild_position_ = applier->position();
    if (*applied == 0) {
      // Caught up with the log as it stood: hand over to the live thread.
      rebuilt_ = std::move(applier);
      return;
    }
  }
}

void CaseProjection::WaitForRebuild() const {
  absl::MutexLock lock(&mu_);
  auto done = [](const CaseProjection* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return !p->rebuilding_ || p->stopping_;
  };
  mu_.Await(absl::Condition(+done, this));
}

std::shared_ptr<CaseProjection::Generation> CaseProjection::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

uint64_t CaseProjection::Position() const {
  absl::MutexLock lock(&mu_);
  return position_;
}

std::vector<ProjectionStatus> CaseProjection::Status() const {
  absl::MutexLock lock(&mu_);
  std::vector<ProjectionStatus> out;
  for (const char* name : {"plan", "timeline", "metrics"}) {
    ProjectionStatus s;
    s.name = name;
    s.version = kVersion;
    s.position = position_;
    s.log_position = std::max(log_position_, position_);
    s.lag = s.log_position - position_;
    s.events_applied = events_applied_;
    s.skipped_unknown = skipped_unknown_;
    s.rebuilding = rebuilding_;
    s.rebuild_position = rebuild_position_;
    s.last_error = last_error_;
    out.push_back(std::move(s));
  }
  return out;
}

bool CaseProjection::WaitForPosition(uint64_t position,
                                     absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  std::pair<const CaseProjection*, uint64_t> arg(this, position);
  auto reached = [](std::pair<const CaseProjection*, uint64_t>* a)
                     ABSL_NO_THREAD_SAFETY_ANALYSIS {
                       return a->first->position_ >= a->second ||
                              a->first->stopping_;
                     };
  mu_.AwaitWithDeadline(absl::Condition(+reached, &arg), deadline);
  return position_ >= position;
}

absl::StatusOr<v1::CasePlan> CaseProjection::GetPlan(
    const std::string& case_id) const {
  std::shared_ptr<Generation> generation = Current();
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   generation->Get(StateKey(case_id)));
  if (!value) {
    return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
  }
  return Sealer(log_->key_store()).OpenPlan(case_id, StateKey(case_id), *value);
}

absl::StatusOr<TimelinePage> CaseProjection::GetTimeline(
    const TimelineQuery& query) const {
  std::shared_ptr<Generation> generation = Current();
  TimelinePage page;
  page.position = Position();
  ASSIGN_OR_RETURN(std::optional<std::string> state,
                   generation->Get(StateKey(query.case_id)));
  if (!state) {
    return absl::NotFoundError(
        absl::StrCat("case ", query.case_id, " not found"));
  }
  const Sealer sealer(log_->key_store());
  const uint32_t page_size = std::clamp<uint32_t>(query.page_size, 1, 1000);
  const std::string prefix = TimelinePrefix(query.case_id);
  const std::string end = PrefixEnd(prefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(generation->db()->NewIterator(ro));
  for (it->Seek(TimelineKey(query.case_id,
                            std::max<uint64_t>(query.from_version, 1)));
       it->Valid(); it->Next()) {
    v1::TimelineEntry entry;
    RETURN_IF_ERROR(sealer.OpenMessage(query.case_id, View(it->key()),
                                       View(it->value()), &entry,
                                       "timeline entry"));
    if (page.entries.size() >= page_size) {
      page.next_version = entry.stream_version();
      break;
    }
    if (!query.event_types.empty() &&
        !query.event_types.contains(entry.event_type())) {
      continue;
    }
    const absl::Time occurred = ToTime(entry.occurred_at());
    if (occurred < query.since || occurred >= query.until) continue;
    page.entries.push_back(std::move(entry));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read timeline"));
  return page;
}

absl::StatusOr<v1::CaseFacts> CaseProjection::GetFacts(
    const std::string& case_id) const {
  std::shared_ptr<Generation> generation = Current();
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   generation->Get(FactsKey(case_id)));
  if (!value) {
    return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
  }
  v1::CaseFacts facts;
  RETURN_IF_ERROR(Sealer(log_->key_store())
                      .OpenMessage(case_id, FactsKey(case_id), *value, &facts,
                                   "case facts"));
  return facts;
}

absl::StatusOr<v1::CaseMetrics> CaseProjection::GetCaseMetrics(
    const std::string& case_id, const v1::Date& as_of) const {
  if (!IsValidDate(as_of)) {
    return absl::InvalidArgumentError("as_of: not a calendar date");
  }
  ASSIGN_OR_RETURN(v1::CaseFacts facts, GetFacts(case_id));
  v1::CaseMetrics metrics = ComputeCaseMetrics(facts, as_of, options_.metrics);
  metrics.set_projection_version(kVersion);
  return metrics;
}

absl::StatusOr<v1::MetricsReport> CaseProjection::GetMetrics(
    const MetricsQuery& query) const {
  RETURN_IF_ERROR(ValidateMetricsQuery(query));
  std::shared_ptr<Generation> generation = Current();
  // One snapshot, so the facts and the checkpoint agree.
  const rocksdb::Snapshot* snapshot = generation->db()->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::vector<v1::CaseFacts> cases;
  absl::flat_hash_map<std::string, v1::CaseworkerFacts> workers;
  absl::Status status;
  {
    std::unique_ptr<rocksdb::Iterator> it(generation->db()->NewIterator(ro));
    const Sealer sealer(log_->key_store());
    for (it->Seek("f/"); it->Valid() && it->key().starts_with("f/");
         it->Next()) {
      v1::CaseFacts facts;
      const absl::string_view key = View(it->key());
      status = sealer.OpenMessage(CaseOfKey(key), key, View(it->value()),
                                  &facts, "case facts");
      // Erased while its CaseErased record is still on its way: not counted.
      if (absl::IsNotFound(status)) {
        status = absl::OkStatus();
        continue;
      }
      if (!status.ok()) break;
      if (facts.status() == v1::CASE_STATUS_UNSPECIFIED) continue;
      cases.push_back(std::move(facts));
    }
    for (it->Seek("w/");
         status.ok() && it->Valid() && it->key().starts_with("w/");
         it->Next()) {
      v1::CaseworkerFacts worker;
      if (!worker.ParseFromArray(it->value().data(),
                                 static_cast<int>(it->value().size()))) {
        status = absl::DataLossError("caseworker facts cannot be decoded");
        break;
      }
      workers.emplace(worker.caseworker_id(), std::move(worker));
    }
    if (status.ok()) status = FromRocks(it->status(), "read metrics");
  }
  std::string checkpoint_value;
  if (status.ok()) {
    rocksdb::Status s =
        generation->db()->Get(ro, kCheckpointKey, &checkpoint_value);
    if (!s.ok() && !s.IsNotFound()) status = FromRocks(s, "read checkpoint");
  }
  generation->db()->ReleaseSnapshot(snapshot);
  RETURN_IF_ERROR(status);
  v1::ProjectionCheckpoint checkpoint;
  checkpoint.ParseFromString(checkpoint_value);
  return AggregateMetrics(cases, workers, query, options_.metrics,
                          checkpoint.position(), kVersion);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
CaseProjection::Dump() const {
  std::shared_ptr<Generation> generation = Current();
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(
      generation->db()->NewIterator(rocksdb::ReadOptions()));
  const Sealer sealer(log_->key_store());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    std::string value = it->value().ToString();
    const std::string case_id = CaseOfKey(key);
    if (sealer.sealing() && !case_id.empty()) {
      if (absl::StartsWith(key, "c/")) {
        ASSIGN_OR_RETURN(v1::CaseState state,
                         sealer.OpenState(case_id, key, value));
        value = state.SerializeAsString();
      } else {
        ASSIGN_OR_RETURN(value, sealer.Open(case_id, key, value));
      }
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "dump"));
  return out;
}

absl::Status CaseProjection::Compact() {
  std::shared_ptr<Generation> generation = Current();
  rocksdb::DB* db = generation->db();
  RETURN_IF_ERROR(
      FromRocks(db->Flush(rocksdb::FlushOptions()), "compact projection"));
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(db->CompactRange(co, nullptr, nullptr),
                   "compact projection");
}

}  // namespace caseledger::projections
