#ifndef CASELEDGER_ENGINE_KEY_STORE_H_
#define CASELEDGER_ENGINE_KEY_STORE_H_

// The key store: one data key per case, wrapped by a master key, and the
// erasure ledger (cases whose key was destroyed), in a RocksDB of its own
// apart from the event log (engine/STORAGE_FORMAT.md, "Key store").
//
// The log's Backup never includes it, so destroying a key erases the case in
// every backup of the log too, and a restored log learns its erasures from
// here. Unwrapped keys are cached in memory (bounded).
//
// Thread-safe.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "caseledger/v1/key_store.pb.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace caseledger::engine {

inline constexpr size_t kMasterKeyBytes = 32;

struct KeyStoreOptions {
  // Directory of the key store's RocksDB. Required.
  std::string path;
  // The master key (32 bytes) that wraps every data key. Required. The store
  // remembers the master key's fingerprint and refuses another key.
  std::string master_key;
  // Create the store if `path` holds none.
  // Default: true
  bool create_if_missing = true;
  // Most unwrapped data keys kept in memory.
  // Default: 100000
  size_t cache_keys = 100000;
};

// One case's data key.
struct DataKey {
  std::string id;   // 8 bytes, recorded with every event encrypted under it
  std::string key;  // 32 bytes
};

class KeyStore {
 public:
  // Opens (creating if allowed) the store. INVALID_ARGUMENT for bad options,
  // FAILED_PRECONDITION if the master key is not the store's, DATA_LOSS if
  // the store is corrupt.
  static absl::StatusOr<std::unique_ptr<KeyStore>> Open(
      const KeyStoreOptions& options);

  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // The case's data key, created if the case has none. A created key is
  // written without fsync: call SyncIfNeeded() before anything encrypted
  // under it becomes durable. FAILED_PRECONDITION if the case was erased.
  absl::StatusOr<DataKey> GetOrCreate(const std::string& case_id);

  // The case's data key; nullopt if it has none (never created, or erased:
  // see GetErasure). DATA_LOSS if its record cannot be unwrapped.
  absl::StatusOr<std::optional<DataKey>> Find(const std::string& case_id);

  // Seals a value derived from the case's events (a read model of the
  // projection store) under the case's data key, created if the case has
  // none (as GetOrCreate: call SyncIfNeeded() before the value becomes
  // durable). `where` names the value's place (its store key, plus a field
  // name if a key holds several) and is bound with the case id and the key id
  // as associated data, so a sealed value moved to another place or case
  // does not open. Returns key id (8 bytes) || nonce || ciphertext || tag.
  // FAILED_PRECONDITION if the case was erased.
  absl::StatusOr<std::string> SealValue(const std::string& case_id,
                                        absl::string_view where,
                                        absl::string_view plaintext);

  // Reverses SealValue. NOT_FOUND ("case ... was erased") once the case is
  // erased: its key is gone and the value can never be read again. DATA_LOSS
  // if the value was altered, moved, sealed under another key, or the case
  // has no key. The message never contains the data.
  absl::StatusOr<std::string> OpenValue(const std::string& case_id,
                                        absl::string_view where,
                                        absl::string_view sealed);

  // Makes every key created so far durable (one WAL sync, only if a key was
  // created since the last one).
  absl::Status SyncIfNeeded();

  // The erasure ledger entry of the case, if it was erased.
  std::optional<v1::ErasureLedgerEntry> GetErasure(
      const std::string& case_id) const;
  bool IsErased(const std::string& case_id) const;
  // Every erasure, in no particular order.
  std::vector<v1::ErasureLedgerEntry> Erasures() const;

  // Destroys the case's data key and records `entry` in the erasure ledger,
  // durably, in one write; drops the key from the cache. If the case was
  // already erased, changes nothing and returns the original entry with
  // `true`. The destroyed key's bytes may remain in older files until
  // Compact().
  absl::StatusOr<std::pair<v1::ErasureLedgerEntry, bool>> Erase(
      v1::ErasureLedgerEntry entry);

  // Flushes the memtable and rewrites every table file (forced bottommost
  // compaction), so deleted and superseded records (destroyed keys, keys
  // wrapped by a previous master key) leave the disk; obsolete WAL files are
  // deleted by the flush.
  absl::Status Compact();

  // Rewraps every data key under `new_master_key` (ids unchanged) in one
  // write, then Compact()s. Events are not touched. INVALID_ARGUMENT for a
  // key of the wrong size.
  absl::Status RotateMasterKey(const std::string& new_master_key);

  // Number of data keys stored (tests and tools).
  absl::StatusOr<size_t> CountKeys() const;

  const std::string& path() const { return options_.path; }

  // Fingerprint (8 bytes) of a master key, as recorded in the store.
  static std::string MasterKeyId(const std::string& master_key);

 private:
  KeyStore(const KeyStoreOptions& options, std::unique_ptr<rocksdb::DB> db);
  absl::Status Load();
  absl::StatusOr<std::optional<DataKey>> ReadKey(const std::string& case_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(miss_mu_);
  void CacheKey(const std::string& case_id, const DataKey& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  KeyStoreOptions options_;  // master_key replaced on rotation
  std::unique_ptr<rocksdb::DB> db_;

  // Serialises everything that reads or writes key records (cache misses,
  // creation, erasure, rotation), so a key read from disk can never be
  // cached after its erasure. Taken before mu_.
  absl::Mutex miss_mu_;
  std::string master_key_ ABSL_GUARDED_BY(miss_mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, DataKey> cache_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, v1::ErasureLedgerEntry> erasures_
      ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace caseledger::engine

#endif  // CASELEDGER_ENGINE_KEY_STORE_H_
