#include "engine/key_store.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/internal/aead.h"
#include "engine/internal/rocksdb_status.h"
#include "engine/internal/status_macros.h"
#include "engine/sha256.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace caseledger::engine {

using internal::FromRocksDb;

namespace {

constexpr char kFormatKey[] = "format";
constexpr char kFormatValue[] = "caseledger-keys-1";
constexpr char kMasterKeyIdKey[] = "master_key_id";
constexpr char kKeyPrefix[] = "k/";
constexpr char kErasurePrefix[] = "e/";
constexpr size_t kKeyIdBytes = 8;

std::string KeyKey(const std::string& case_id) {
  return absl::StrCat(kKeyPrefix, case_id);
}
std::string ErasureKey(const std::string& case_id) {
  return absl::StrCat(kErasurePrefix, case_id);
}

// Associated data of a wrapped key: binds it to its case and id.
std::string WrapAad(const std::string& case_id, const std::string& key_id) {
  return absl::StrCat("caseledger-dek-1", std::string(1, '\0'), case_id,
                      std::string(1, '\0'), key_id);
}

// Associated data of a sealed derived value: binds it to its case, its place
// and the key that sealed it. Its prefix differs from the payloads' and the
// wrapped keys', so no sealed value opens as one of those.
std::string ValueAad(const std::string& case_id, absl::string_view where,
                     absl::string_view key_id) {
  const std::string nul(1, '\0');
  return absl::StrCat("caseledger-value-1", nul, case_id, nul, where, nul,
                      key_id);
}

void Wipe(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

absl::StatusOr<v1::WrappedDataKey> Wrap(const std::string& master_key,
                                        const std::string& case_id,
                                        const DataKey& key) {
  v1::WrappedDataKey wrapped;
  wrapped.set_key_id(key.id);
  wrapped.set_master_key_id(KeyStore::MasterKeyId(master_key));
  ASSIGN_OR_RETURN(
      std::string sealed,
      internal::Seal(master_key, key.key, WrapAad(case_id, key.id)));
  wrapped.set_wrapped(std::move(sealed));
  return wrapped;
}

absl::StatusOr<DataKey> Unwrap(const std::string& master_key,
                               const std::string& case_id,
                               const v1::WrappedDataKey& wrapped) {
  if (wrapped.master_key_id() != KeyStore::MasterKeyId(master_key)) {
    return absl::DataLossError(
        "a data key is wrapped by another master key than the store's");
  }
  absl::StatusOr<std::string> key = internal::Open(
      master_key, wrapped.wrapped(), WrapAad(case_id, wrapped.key_id()));
  if (!key.ok() || key->size() != internal::kAeadKeyBytes) {
    return absl::DataLossError(
        absl::StrCat("the data key of case ", case_id, " cannot be unwrapped"));
  }
  return DataKey{wrapped.key_id(), std::move(*key)};
}

}  // namespace

std::string KeyStore::MasterKeyId(const std::string& master_key) {
  return Sha256(absl::StrCat("caseledger master key id", std::string(1, '\0'),
                             master_key))
      .substr(0, 8);
}

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(
    const KeyStoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("key_store.path: required");
  }
  if (options.master_key.size() != kMasterKeyBytes) {
    return absl::InvalidArgumentError("key_store.master_key: must be 32 bytes");
  }
  if (options.cache_keys == 0) {
    return absl::InvalidArgumentError("key_store.cache_keys: must be positive");
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.paranoid_checks = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Erased keys must leave the disk: never keep or recycle old WAL files.
  db_options.recycle_log_file_num = 0;
  db_options.WAL_ttl_seconds = 0;
  db_options.WAL_size_limit_MB = 0;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, &raw);
  if (!s.ok()) {
    if (s.IsInvalidArgument() &&
        s.ToString().find("does not exist") != std::string::npos) {
      return absl::FailedPreconditionError(
          "open: no caseledger key store at the given path");
    }
    return FromRocksDb(s, "open key store");
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<KeyStore> store(new KeyStore(options, std::move(db)));
  RETURN_IF_ERROR(store->Load());
  return store;
}

KeyStore::KeyStore(const KeyStoreOptions& options,
                   std::unique_ptr<rocksdb::DB> db)
    : options_(options), db_(std::move(db)) {
  absl::MutexLock lock(&miss_mu_);
  master_key_ = options.master_key;
  Wipe(options_.master_key);
}

KeyStore::~KeyStore() {
  {
    absl::MutexLock lock(&mu_);
    for (auto& [case_id, key] : cache_) Wipe(key.key);
  }
  {
    absl::MutexLock lock(&miss_mu_);
    Wipe(master_key_);
  }
  db_->Close();
}

absl::Status KeyStore::Load() {
  absl::MutexLock miss(&miss_mu_);
  const std::string id = MasterKeyId(master_key_);
  std::string format;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) {
      return absl::FailedPreconditionError(
          "open: the key store holds records but no format marker");
    }
    rocksdb::WriteBatch batch;
    batch.Put(kFormatKey, kFormatValue);
    batch.Put(kMasterKeyIdKey, id);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocksDb(db_->Write(wo, &batch), "open key store");
  }
  RETURN_IF_ERROR(FromRocksDb(s, "open key store"));
  if (format != kFormatValue) {
    return absl::FailedPreconditionError(
        "open: the key store holds an incompatible format");
  }
  std::string stored_id;
  RETURN_IF_ERROR(
      FromRocksDb(db_->Get(rocksdb::ReadOptions(), kMasterKeyIdKey, &stored_id),
                  "open key store"));
  if (stored_id != id) {
    return absl::FailedPreconditionError(
        "open: the master key does not match the key store's");
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  absl::MutexLock lock(&mu_);
  for (it->Seek(kErasurePrefix);
       it->Valid() && it->key().starts_with(kErasurePrefix); it->Next()) {
    v1::ErasureLedgerEntry entry;
    if (!entry.ParseFromArray(it->value().data(),
                              static_cast<int>(it->value().size()))) {
      return absl::DataLossError("an erasure ledger entry cannot be decoded");
    }
    erasures_[entry.case_id()] = std::move(entry);
  }
  return FromRocksDb(it->status(), "open key store");
}

void KeyStore::CacheKey(const std::string& case_id, const DataKey& key) {
  if (cache_.size() >= options_.cache_keys) {
    // Bounded: evict an arbitrary entry (it is re-read on its next use).
    auto victim = cache_.begin();
    Wipe(victim->second.key);
    cache_.erase(victim);
  }
  cache_[case_id] = key;
}

absl::StatusOr<std::optional<DataKey>> KeyStore::ReadKey(
    const std::string& case_id) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), KeyKey(case_id), &value);
  if (s.IsNotFound()) return std::optional<DataKey>();
  RETURN_IF_ERROR(FromRocksDb(s, "read data key"));
  v1::WrappedDataKey wrapped;
  if (!wrapped.ParseFromString(value) ||
      wrapped.key_id().size() != kKeyIdBytes) {
    return absl::DataLossError(absl::StrCat("the data key record of case ",
                                            case_id, " cannot be decoded"));
  }
  ASSIGN_OR_RETURN(DataKey key, Unwrap(master_key_, case_id, wrapped));
  return std::optional<DataKey>(std::move(key));
}

absl::StatusOr<std::optional<DataKey>> KeyStore::Find(
    const std::string& case_id) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (erasures_.contains(case_id)) return std::optional<DataKey>();
    auto found = cache_.find(case_id);
    if (found != cache_.end()) return std::optional<DataKey>(found->second);
  }
  absl::MutexLock miss(&miss_mu_);
  ASSIGN_OR_RETURN(std::optional<DataKey> key, ReadKey(case_id));
  absl::MutexLock lock(&mu_);
  if (erasures_.contains(case_id)) return std::optional<DataKey>();
  if (key) CacheKey(case_id, *key);
  return key;
}

absl::StatusOr<DataKey> KeyStore::GetOrCreate(const std::string& case_id) {
  const auto erased = [&] {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", case_id, " was erased"));
  };
  {
    absl::MutexLock lock(&mu_);
    if (erasures_.contains(case_id)) return erased();
    auto found = cache_.find(case_id);
    if (found != cache_.end()) return found->second;
  }
  absl::MutexLock miss(&miss_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (erasures_.contains(case_id)) return erased();
    auto found = cache_.find(case_id);
    if (found != cache_.end()) return found->second;
  }
  ASSIGN_OR_RETURN(std::optional<DataKey> stored, ReadKey(case_id));
  DataKey key;
  if (stored) {
    key = std::move(*stored);
  } else {
    ASSIGN_OR_RETURN(key.id, internal::RandomBytes(kKeyIdBytes));
    ASSIGN_OR_RETURN(key.key, internal::RandomBytes(internal::kAeadKeyBytes));
    ASSIGN_OR_RETURN(v1::WrappedDataKey wrapped,
                     Wrap(master_key_, case_id, key));
    // Not synced here: SyncIfNeeded() syncs once for all keys created before
    // the log commits events encrypted under them.
    RETURN_IF_ERROR(
        FromRocksDb(db_->Put(rocksdb::WriteOptions(), KeyKey(case_id),
                             wrapped.SerializeAsString()),
                    "create data key"));
  }
  absl::MutexLock lock(&mu_);
  if (!stored) dirty_ = true;
  CacheKey(case_id, key);
  return key;
}

absl::StatusOr<std::string> KeyStore::SealValue(const std::string& case_id,
                                                absl::string_view where,
                                                absl::string_view plaintext) {
  ASSIGN_OR_RETURN(DataKey key, GetOrCreate(case_id));
  ASSIGN_OR_RETURN(
      std::string sealed,
      internal::Seal(key.key, plaintext, ValueAad(case_id, where, key.id)));
  Wipe(key.key);
  return absl::StrCat(key.id, sealed);
}

absl::StatusOr<std::string> KeyStore::OpenValue(const std::string& case_id,
                                                absl::string_view where,
                                                absl::string_view sealed) {
  ASSIGN_OR_RETURN(std::optional<DataKey> key, Find(case_id));
  if (!key) {
    if (IsErased(case_id)) {
      return absl::NotFoundError(absl::StrCat("case ", case_id, " was erased"));
    }
    return absl::DataLossError(absl::StrCat("a sealed value of case ", case_id,
                                            " has no data key to open it"));
  }
  absl::StatusOr<std::string> opened =
      sealed.size() < kKeyIdBytes || sealed.substr(0, kKeyIdBytes) != key->id
          ? absl::DataLossError("sealed under another key")
          : internal::Open(key->key, sealed.substr(kKeyIdBytes),
                           ValueAad(case_id, where, key->id));
  Wipe(key->key);
  if (!opened.ok()) {
    return absl::DataLossError(
        absl::StrCat("a sealed value of case ", case_id,
                     " does not open: altered or moved"));
  }
  return opened;
}

absl::Status KeyStore::SyncIfNeeded() {
  {
    absl::MutexLock lock(&mu_);
    if (!dirty_) return absl::OkStatus();
    dirty_ = false;
  }
  absl::Status s = FromRocksDb(db_->SyncWAL(), "sync key store");
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    dirty_ = true;
  }
  return s;
}

std::optional<v1::ErasureLedgerEntry> KeyStore::GetErasure(
    const std::string& case_id) const {
  absl::MutexLock lock(&mu_);
  auto found = erasures_.find(case_id);
  if (found == erasures_.end()) return std::nullopt;
  return found->second;
}

bool KeyStore::IsErased(const std::string& case_id) const {
  absl::MutexLock lock(&mu_);
  return erasures_.contains(case_id);
}

std::vector<v1::ErasureLedgerEntry> KeyStore::Erasures() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ErasureLedgerEntry> all;
  all.reserve(erasures_.size());
  for (const auto& [case_id, entry] : erasures_) all.push_back(entry);
  return all;
}

absl::StatusOr<std::pair<v1::ErasureLedgerEntry, bool>> KeyStore::Erase(
    v1::ErasureLedgerEntry entry) {
  absl::MutexLock miss(&miss_mu_);
  {
    absl::MutexLock lock(&mu_);
    auto found = erasures_.find(entry.case_id());
    if (found != erasures_.end()) return std::make_pair(found->second, true);
  }
  rocksdb::WriteBatch batch;
  batch.Delete(KeyKey(entry.case_id()));
  batch.Put(ErasureKey(entry.case_id()), entry.SerializeAsString());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, &batch), "erase data key"));
  absl::MutexLock lock(&mu_);
  auto cached = cache_.find(entry.case_id());
  if (cached != cache_.end()) {
    Wipe(cached->second.key);
    cache_.erase(cached);
  }
  erasures_[entry.case_id()] = entry;
  return std::make_pair(std::move(entry), false);
}

absl::Status KeyStore::Compact() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  RETURN_IF_ERROR(FromRocksDb(db_->Flush(fo), "compact key store"));
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  co.exclusive_manual_compaction = true;
  return FromRocksDb(db_->CompactRange(co, nullptr, nullptr),
                     "compact key store");
}

absl::Status KeyStore::RotateMasterKey(const std::string& new_master_key) {
  if (new_master_key.size() != kMasterKeyBytes) {
    return absl::InvalidArgumentError("new master key: must be 32 bytes");
  }
  {
    absl::MutexLock miss(&miss_mu_);
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(kKeyPrefix); it->Valid() && it->key().starts_with(kKeyPrefix);
         it->Next()) {
      const std::string case_id =
          it->key().ToString().substr(sizeof(kKeyPrefix) - 1);
      v1::WrappedDataKey wrapped;
      if (!wrapped.ParseFromArray(it->value().data(),
                                  static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("the data key record of case ",
                                                case_id, " cannot be decoded"));
      }
      ASSIGN_OR_RETURN(DataKey key, Unwrap(master_key_, case_id, wrapped));
      absl::StatusOr<v1::WrappedDataKey> rewrapped =
          Wrap(new_master_key, case_id, key);
      Wipe(key.key);
      if (!rewrapped.ok()) return rewrapped.status();
      batch.Put(it->key(), rewrapped->SerializeAsString());
    }
    RETURN_IF_ERROR(FromRocksDb(it->status(), "rotate master key"));
    batch.Put(kMasterKeyIdKey, MasterKeyId(new_master_key));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, &batch), "rotate master key"));
    Wipe(master_key_);
    master_key_ = new_master_key;
  }
  return Compact();
}

absl::StatusOr<size_t> KeyStore::CountKeys() const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  size_t n = 0;
  for (it->Seek(kKeyPrefix); it->Valid() && it->key().starts_with(kKeyPrefix);
       it->Next()) {
    ++n;
  }
  RETURN_IF_ERROR(FromRocksDb(it->status(), "count keys"));
  return n;
}

}  // namespace caseledger::engine
