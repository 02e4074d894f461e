#ifndef CASELEDGER_ENGINE_OPTIONS_H_
#define CASELEDGER_ENGINE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/clock.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace caseledger::engine {

struct EventLogOptions {
  // Directory of the RocksDB database. Required.
  std::string path;

  // Create the database if `path` holds none.
  // Default: true
  bool create_if_missing = true;

  // Acknowledge an append only after its WAL record is fsync'ed. Turning this
  // off loses acknowledged events on power loss or OS crash; it exists for
  // tests and benchmarks that say so, never as a server default.
  // Default: true
  bool sync = true;

  // Open even though a write-ahead log record is damaged, keeping what comes
  // before the damage and dropping the damaged record and everything after
  // it, acknowledged or not (RocksDB's kPointInTimeRecovery). Without it such
  // a log fails Open with DATA_LOSS. For an operator who has copied the
  // damaged directory aside and accepts the loss; never a server default.
  // Default: false
  bool recover_past_damaged_wal = false;

  // Largest serialized event (envelope + payload) accepted, in bytes.
  // Default: 64 KiB
  size_t max_event_bytes = 64 * 1024;

  // Most events accepted in one append.
  // Default: 100
  size_t max_events_per_append = 100;

  // Most appends waiting for the writer thread; past it AppendAsync fails
  // with RESOURCE_EXHAUSTED instead of buffering without bound.
  // Default: 10000
  size_t max_pending_appends = 10000;

  // Most bytes of events waiting to be committed; past it AppendAsync fails
  // with RESOURCE_EXHAUSTED (one append is always accepted when none wait).
  // Default: 256 MiB
  size_t max_pending_bytes = 256 << 20;

  // Most events the writer thread commits in one WriteBatch (group commit).
  // A single append larger than this still commits alone.
  // Default: 2000
  size_t max_group_events = 2000;

  // Most events a read page returns.
  // Default: 1000
  uint32_t max_read_page = 1000;

  // RocksDB block cache, in bytes.
  // Default: 64 MiB
  size_t block_cache_bytes = 64 << 20;

  // Source of recorded_at. Not owned; must outlive the log.
  // Default: Clock::Real()
  Clock* clock = Clock::Real();

  // Payload encryption (engine/STORAGE_FORMAT.md, "Payload encryption").
  // Directory of the key store (data keys and erasure ledger), which must
  // lie outside `path` so that Backup never copies it. When set, every new
  // payload is stored encrypted under its case's data key and Erase() is
  // available. When empty, new payloads are stored in plain and Erase()
  // returns FAILED_PRECONDITION: this exists for tests of the plain format and
  // for the benchmark's with/without comparison; caseledgerd always sets it.
  // Default: "" (plain)
  std::string key_store_path;

  // The master key (32 bytes) wrapping the data keys. Required with
  // key_store_path. Never logged.
  std::string master_key;

  // Most unwrapped data keys cached in memory.
  // Default: 100000
  size_t key_cache_keys = 100000;

  // RocksDB environment: the seam through which tests inject a file system
  // that fails on purpose (tests/testing/fault_injection_fs.h). Not owned;
  // must outlive the log.
  // Default: nullptr = the default Env
  rocksdb::Env* env = nullptr;
};

}  // namespace caseledger::engine

#endif  // CASELEDGER_ENGINE_OPTIONS_H_
