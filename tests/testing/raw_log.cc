#include "tests/testing/raw_log.h"

#include <memory>
#include <vector>

#include "caseledger/v1/stored_event.pb.h"
#include "engine/ids.h"
#include "engine/internal/keys.h"
#include "engine/sha256.h"
#include "rocksdb/db.h"

namespace caseledger::testing {

namespace keys = ::caseledger::engine::internal;

namespace {

// Opens the log's RocksDB with every column family.
absl::Status OpenRaw(const std::string& db_path,
                     std::unique_ptr<rocksdb::DB>* db,
                     std::vector<rocksdb::ColumnFamilyHandle*>* handles) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_path, &names)
           .ok()) {
    return absl::FailedPreconditionError("no log at path");
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(rocksdb::DBOptions(), db_path, descriptors, handles,
                         &raw)
           .ok()) {
    return absl::FailedPreconditionError("cannot open log");
  }
  db->reset(raw);
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendUnknownTypeEvent(const std::string& db_path,
                                    const std::string& case_id,
                                    const std::string& event_type) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
  if (absl::Status s = OpenRaw(db_path, &db, &handles); !s.ok()) return s;
  auto cf = [&](const std::string& name) {
    for (auto* h : handles) {
      if (h->GetName() == name) return h;
    }
    return handles[0];
  };
  absl::Status status;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), cf(keys::kEventsCf)));
  it->SeekToLast();
  uint64_t last = 0;
  v1::StoredEvent previous;
  if (it->Valid()) {
    last = keys::DecodeU64(absl::string_view(it->key().data(), 8));
    previous.ParseFromArray(it->value().data() + 32,
                            static_cast<int>(it->value().size() - 32));
  }
  it.reset();
  std::string head_value;
  keys::HeadValue head;
  head.last_hash = std::string(32, '\0');
  if (db->Get(rocksdb::ReadOptions(), cf(keys::kCaseHeadsCf), case_id,
              &head_value)
          .ok()) {
    head = *keys::DecodeHead(head_value);
  }
  v1::StoredEvent stored;
  v1::EventEnvelope* env = stored.mutable_envelope();
  env->set_event_id(engine::NewEventId());
  env->set_case_id(case_id);
  env->set_stream_version(head.version + 1);
  env->set_global_position(last + 1);
  env->set_event_type(event_type);
  env->set_schema_version(2);
  *env->mutable_occurred_at() = previous.envelope().recorded_at();
  *env->mutable_recorded_at() = previous.envelope().recorded_at();
  env->mutable_actor()->set_user_id("future-client");
  env->mutable_actor()->set_role("caseworker");
  env->set_prev_hash(head.last_hash);
  stored.set_payload_encoding(v1::PAYLOAD_ENCODING_PLAIN);
  // Field 999, length-delimited, 3 bytes "new": unknown to this schema.
  stored.set_payload(std::string("\xba\x3e\x03new", 6));
  const std::string bytes = stored.SerializeAsString();
  const std::string hash = engine::Sha256(bytes);
  rocksdb::WriteBatch batch;
  batch.Put(cf(keys::kEventsCf), keys::EventKey(last + 1), hash + bytes);
  batch.Put(cf(keys::kCaseIndexCf),
            keys::CaseIndexKey(case_id, head.version + 1),
            keys::EncodeU64(last + 1));
  keys::HeadValue new_head{head.version + 1, last + 1, hash};
  batch.Put(cf(keys::kCaseHeadsCf), case_id, keys::EncodeHead(new_head));
  keys::EventIdValue id_value{last + 1, head.version + 1, std::string(32, 'x')};
  batch.Put(cf(keys::kEventIdsCf), env->event_id(),
            keys::EncodeEventId(id_value));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (!db->Write(wo, &batch).ok()) status = absl::InternalError("write failed");
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  return status;
}

absl::Status RemoveCaseIndexEntry(const std::string& db_path,
                                  const std::string& case_id,
                                  uint64_t version) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
  if (absl::Status s = OpenRaw(db_path, &db, &handles); !s.ok()) return s;
  absl::Status status = absl::NotFoundError("no case_index family");
  for (auto* h : handles) {
    if (h->GetName() != keys::kCaseIndexCf) continue;
    status = db->Delete(rocksdb::WriteOptions(), h,
                        keys::CaseIndexKey(case_id, version))
                     .ok()
                 ? absl::OkStatus()
                 : absl::InternalError("delete failed");
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  return status;
}

absl::StatusOr<v1::StoredEvent> ReadStoredEvent(const std::string& db_path,
                                                uint64_t position) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
  if (absl::Status s = OpenRaw(db_path, &db, &handles); !s.ok()) return s;
  rocksdb::ColumnFamilyHandle* events = handles[0];
  for (auto* h : handles) {
    if (h->GetName() == keys::kEventsCf) events = h;
  }
  std::string value;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), events, keys::EventKey(position), &value);
  v1::StoredEvent stored;
  const bool ok = s.ok() && value.size() > 32 &&
                  stored.ParseFromArray(value.data() + 32,
                                        static_cast<int>(value.size() - 32));
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  if (!ok) return absl::NotFoundError("no decodable event at position");
  return stored;
}

absl::Status RewriteStoredEvent(
    const std::string& db_path, uint64_t position,
    const std::function<void(v1::StoredEvent&)>& mutate) {
  absl::StatusOr<v1::StoredEvent> stored = ReadStoredEvent(db_path, position);
  if (!stored.ok()) return stored.status();
  mutate(*stored);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
  if (absl::Status s = OpenRaw(db_path, &db, &handles); !s.ok()) return s;
  rocksdb::ColumnFamilyHandle* events = handles[0];
  for (auto* h : handles) {
    if (h->GetName() == keys::kEventsCf) events = h;
  }
  const std::string bytes = stored->SerializeAsString();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db->Put(wo, events, keys::EventKey(position),
                              engine::Sha256(bytes) + bytes);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return s.ok() ? absl::OkStatus() : absl::InternalError("rewrite failed");
}

}  // namespace caseledger::testing
