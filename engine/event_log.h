#ifndef CASELEDGER_ENGINE_EVENT_LOG_H_
#define CASELEDGER_ENGINE_EVENT_LOG_H_

// The durable, append-only, hash-chained case event log on RocksDB.
//
// Every case action is an event in a case stream (a case, or a caseworker's
// own stream). Each append of one or more events to one case lands
// atomically, is acknowledged only after its WAL record is synced, and gets
// consecutive stream versions and gap-free global positions. Each stored
// event carries SHA-256 over its stored bytes, which include the previous
// event's hash in the same case, so any alteration is detectable.
//
// The on-disk layout is in engine/STORAGE_FORMAT.md.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"
#include "caseledger/v1/key_store.pb.h"
#include "engine/options.h"

namespace caseledger::engine {

class KeyStore;

// The optimistic-concurrency condition of an append.
class ExpectedVersion {
 public:
  enum class Kind {
    kAny,           // no check
    kNoStream,      // the case must not exist yet
    kStreamExists,  // the case must have at least one event
    kExact,         // the case must be at exactly `version()` (0: no stream)
  };

  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, 0); }
  static ExpectedVersion NoStream() {
    return ExpectedVersion(Kind::kNoStream, 0);
  }
  static ExpectedVersion StreamExists() {
    return ExpectedVersion(Kind::kStreamExists, 0);
  }
  static ExpectedVersion Exact(uint64_t version) {
    return ExpectedVersion(Kind::kExact, version);
  }

  Kind kind() const { return kind_; }
  uint64_t version() const { return version_; }

  // True if a case currently at `current_version` (0: no such case) meets
  // this condition.
  bool IsMetBy(uint64_t current_version) const;

  std::string ToString() const;

 private:
  ExpectedVersion(Kind kind, uint64_t version)
      : kind_(kind), version_(version) {}
  Kind kind_;
  uint64_t version_;
};

struct AppendRequest {
  std::string case_id;
  ExpectedVersion expected = ExpectedVersion::Any();
  // The events to append, in order. Per event the client sets
  // envelope.{event_id, occurred_at, actor, source, correlation_id,
  // causation_id, sensitivity, schema_version} and the payload; it may set
  // envelope.case_id (then it must equal `case_id`). The server fields
  // (stream_version, global_position, event_type, recorded_at, prev_hash) and
  // `hash` must be empty.
  std::vector<v1::Event> events;
  // Secondary index terms (e.g. "principal/cm-anna"): every event of the
  // append is indexed under each term, in the same WriteBatch as the events
  // themselves, so the index never disagrees with the log. At most
  // kMaxIndexTerms distinct terms of 1..kMaxIndexTermBytes bytes. Read with
  // EventLog::ReadTerm. Not part of the event (nor of its hash or digest):
  // an exact retry is recognised by its events alone.
  std::vector<std::string> index_terms;
};

inline constexpr size_t kMaxIndexTerms = 4;
inline constexpr size_t kMaxIndexTermBytes = 256;

struct AppendResult {
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  // The global position a reader must reach to observe this append
  // (read-your-writes). Equal to last_position.
  uint64_t commit_position = 0;
  // True when the request repeated an append already stored (idempotent
  // retry): nothing new was written and the original result is returned.
  bool replayed = false;
};

// Called exactly once with the outcome of an AppendAsync, after the events
// are durable. Runs on the thread that committed the append's group (the
// engine's own thread, or a thread blocked in Append), or, for a request
// rejected before queueing, on the caller's thread: it must be quick and must
// not block.
using AppendCallback = std::function<void(absl::StatusOr<AppendResult>)>;

struct ReadAllRequest {
  // First global position to return (1-based; 0 is treated as 1).
  uint64_t from_position = 1;
  // Upper bound on returned events; 0 means options.max_read_page.
  uint32_t max_count = 0;
  // When non-empty, only events of these types ("GoalSet", ...).
  absl::flat_hash_set<std::string> event_types;
  // When non-empty, only events of this case. Served from the case index:
  // the first entry at or after from_position is found by binary search over
  // the case's versions, then only the case's own entries are read.
  std::string case_id;
  // When non-zero, stop after the returned events' stored size reaches this
  // many bytes (at least one event is returned).
  size_t max_bytes = 0;
};

struct ReadTermRequest {
  // The index term (AppendRequest::index_terms).
  std::string term;
  // First global position to return (0 is treated as 1).
  uint64_t from_position = 1;
  // Upper bound on returned events; 0 means options.max_read_page.
  uint32_t max_count = 0;
};

struct ReadPage {
  std::vector<v1::Event> events;
  // Where to continue reading: the global position (ReadAll) or stream
  // version (ReadCase) after the last one examined. Reading again from it
  // never skips and never repeats an event.
  uint64_t next = 0;
  // True when the page reached the current end (of the log or the case).
  bool end = false;
};

enum class Direction { kForward, kBackward };

struct ReadCaseRequest {
  std::string case_id;
  // First stream version to return. Forward: 0 is treated as 1. Backward: 0
  // means the case's last version.
  uint64_t from_version = 0;
  Direction direction = Direction::kForward;
  uint32_t max_count = 0;  // 0 means options.max_read_page
  // When non-zero, stop once the returned events' serialized size reaches
  // this many bytes (at least one event is returned).
  size_t max_bytes = 0;
};

// Where a case stream stands.
struct CaseHead {
  uint64_t version = 0;        // 0: the case has no events
  uint64_t last_position = 0;  // global position of the last event
  std::string last_hash;       // 32 bytes; empty when version == 0
};

// Events carried over from another log (an export), for EventLog::Import.
struct ImportRequest {
  // In the source log's global order. Per event: the envelope as the source
  // served it, with stream_version and recorded_at (required), event_type
  // (optional; must match the payload) and global_position (optional, only
  // compared), and the payload. prev_hash and hash are ignored: they depend
  // on how the source stored its bytes, and this log computes its own chain.
  std::vector<v1::Event> events;
};

struct ImportResult {
  uint64_t imported = 0;         // newly stored
  uint64_t already_present = 0;  // same id, content, case and version stored
  // Newly stored at the global position they carried (all of them when
  // importing a whole export into an empty log).
  uint64_t positions_kept = 0;
  uint64_t last_position = 0;  // the log's last position after the import
};

struct VerifyReport {
  bool ok = true;
  uint64_t events_checked = 0;
  uint64_t cases_checked = 0;
  // When !ok: the global position of the first event that fails, and why.
  uint64_t first_broken_position = 0;
  std::string problem;
};

// A request to erase one case (crypto-shredding).
struct EraseRequest {
  std::string case_id;
  // Why and under which law; both required, at most 1000 characters, and
  // they must not identify the client (they outlive the erasure).
  std::string reason;
  std::string legal_basis;
  // Who asks; user_id required.
  v1::Actor actor;
};

struct EraseResult {
  // Global position of the case's CaseErased record.
  uint64_t erasure_position = 0;
  absl::Time erased_at;
  // True when the case had been erased before (nothing new destroyed).
  bool already_erased = false;
};

// Thread-safe. All methods may be called concurrently from any thread.
class EventLog {
 public:
  static constexpr uint64_t kMaxScanPerRead = 100000;

  // Opens (creating if allowed) the log in `options.path`, and its key store
  // when options.key_store_path is set. Returns DATA_LOSS if the stored data
  // is corrupt, FAILED_PRECONDITION if the directory holds an incompatible
  // format or the master key is not the key store's, INVALID_ARGUMENT for bad
  // options. With a key store, every case in its erasure ledger whose last
  // event in the log is not a CaseErased record (a log restored from a backup
  // taken before the erasure) gets its CaseErased record re-appended
  // (reapplied_after_restore = true) before Open returns.
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(
      const EventLogOptions& options);

  // Completes queued appends, stops the writer thread and closes the DB.
  ~EventLog();

  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `request.events` to `request.case_id` atomically and durably.
  // Returns:
  //  - INVALID_ARGUMENT naming the field for a malformed request or event
  //    (nothing is stored);
  //  - ABORTED if the case's version does not meet `request.expected`; the
  //    status carries the current version (see CurrentVersionOf());
  //  - ALREADY_EXISTS if an event id is already stored with other content or
  //    in another append;
  //  - RESOURCE_EXHAUSTED if the append queue is full or the disk is full;
  //  - UNAVAILABLE if the log refuses writes after a storage error, or is
  //    shutting down;
  //  - FAILED_PRECONDITION if the case was erased (also for a retry of an
  //    append stored before the erasure);
  //  - OK with the original result (replayed = true) for an exact retry.
  absl::StatusOr<AppendResult> Append(const AppendRequest& request);

  // Imports events exported from another log (an operator action: moving or
  // restoring a ledger), all or nothing: either every event of the request is
  // stored or already present, or nothing is stored. Per event, in order:
  //  - an event whose id is stored with the same content, case and version
  //    is already present and skipped (re-running an import adds nothing);
  //    the same id with anything else is ALREADY_EXISTS;
  //  - otherwise it must be its case's next version (ABORTED, carrying the
  //    case's version, if not) and is validated as by Append;
  //  - it keeps its recorded_at, raised if necessary to the log's last
  //    recorded_at (recorded_at never decreases along the log; importing
  //    into an empty log keeps every value), and gets this log's next global
  //    position (the same one, importing a whole export into an empty log).
  // recorded_at later than the clock's now is INVALID_ARGUMENT (it would
  // become the log's floor and pin later appends in the future).
  // An erased case carries over erased:
  //  - an event with payload_erased (no payload; envelope.event_type, a
  //    known type, required) is stored as an envelope without payload and
  //    reads with payload_erased; where its id is already stored at the same
  //    case and version (a copy taken before the erasure) it is present;
  //  - a CaseErased record is validated (reason, legal basis, erased_at, who)
  //    and recorded in this log's erasure ledger before it is stored, which
  //    destroys the case's key here if it has one (then the key store is
  //    compacted): from then on the case reads as erased and refuses
  //    appends, as after Erase(). FAILED_PRECONDITION without a key store.
  //    If the import then fails, the case stays erased and the next Open
  //    re-appends a record, as after an interrupted Erase().
  // Errors name the event: "events[3].envelope.stream_version: ...". At most
  // options.max_group_events events per call. Other errors as for Append.
  absl::StatusOr<ImportResult> Import(const ImportRequest& request);

  // Asynchronous Append: `done` is called exactly once with the outcome,
  // after the events are durable. Never blocks on I/O.
  void AppendAsync(AppendRequest request, AppendCallback done);

  // Reads the global log forward, up to LastPosition() as of the call. Every
  // returned event's hash is checked against its stored bytes, and an
  // encrypted payload is authenticated against its event: DATA_LOSS if one
  // does not match. Events of an erased case come with payload_erased = true
  // and no payload (their CaseErased record is readable). A filtered read
  // examines at most kMaxScanPerRead events per call, so it may return fewer
  // than max_count events (even none) with end == false; continue from `next`.
  absl::StatusOr<ReadPage> ReadAll(const ReadAllRequest& request) const;

  // Reads one case forward or backward. NOT_FOUND if the case has no events.
  // DATA_LOSS as for ReadAll.
  absl::StatusOr<ReadPage> ReadCase(const ReadCaseRequest& request) const;

  // Reads the events indexed under `request.term`, in global order, from
  // `from_position` (up to LastPosition() as of the call), checked as by
  // ReadAll. Touches only the term's index entries and its events, never
  // the rest of the log. `next` is where to continue; `end` is true when no
  // further event of the term was found. INVALID_ARGUMENT for an empty or
  // oversized term.
  absl::StatusOr<ReadPage> ReadTerm(const ReadTermRequest& request) const;

  // Reads one event by global position. NOT_FOUND past the end.
  absl::StatusOr<v1::Event> ReadEvent(uint64_t position) const;

  // The case's head; version 0 if the case has no events.
  absl::StatusOr<CaseHead> GetCaseHead(const std::string& case_id) const;

  // Recomputes one case's hash chain from its first event. NOT_FOUND if the
  // case has no events. A broken chain is reported in the VerifyReport, not
  // as an error; errors are for I/O failures.
  absl::StatusOr<VerifyReport> VerifyCase(const std::string& case_id) const;

  // Recomputes every case's chain and checks global positions are gap-free,
  // in global order, over one consistent snapshot (appends may run
  // meanwhile). `progress`, if set, is called every 10000 events with the
  // number checked; returning false stops the check with CANCELLED. When
  // the whole log checked out, it is also called once at the end with the
  // total (0 for an empty log; so a multiple of 10000 is reported twice);
  // that last call's return value is ignored.
  absl::StatusOr<VerifyReport> VerifyAll(
      const std::function<bool(uint64_t)>& progress = nullptr) const;

  // The highest global position acknowledged so far (0: empty log).
  uint64_t LastPosition() const;

  // Blocks until LastPosition() >= position or `deadline` passes. Returns
  // true if the position was reached. Does not busy-poll.
  bool WaitForPosition(uint64_t position, absl::Time deadline) const;

  // Registers `listener`, called on the writer thread with the new last
  // position after every commit (it must be quick, must not block and must
  // not call Add/RemoveCommitListener).
  // Returns an id for RemoveCommitListener.
  uint64_t AddCommitListener(std::function<void(uint64_t)> listener);
  // After it returns, the listener is not running and will not be called.
  void RemoveCommitListener(uint64_t id);

  // OK while the log accepts writes; the storage error otherwise.
  absl::Status Health() const;

  // Calls `listener` once, with the error, when the log first refuses
  // writes (a failed commit, or a background flush, compaction or WAL error
  // from RocksDB), on the thread that saw it; at once if that has already
  // happened. It must be quick, must not block and must not call into the
  // log. Replaces any earlier listener; nullptr removes it.
  void SetHealthListener(std::function<void(const absl::Status&)> listener);

  // Flushes memtables to SST files (tests and tools).
  absl::Status Flush();

  // Flushes and compacts every column family of the log and the key store
  // into fresh table files (tests and tools).
  absl::Status Compact();

  // Crypto-shreds a case: destroys its data key and records the erasure in
  // the key store's erasure ledger (one synced write), appends a CaseErased
  // record as the case's last event, and compacts the key store so the key's
  // bytes leave the disk. From the key's destruction on, appends to the case
  // fail with FAILED_PRECONDITION and reads return its earlier events with
  // payload_erased. Idempotent: erasing an erased case returns the original
  // erasure (already_erased = true), re-appending the record if missing.
  // Returns INVALID_ARGUMENT (field named) for a bad request, NOT_FOUND for a
  // case with no events, FAILED_PRECONDITION when the log has no key store,
  // and the errors of Append. The hash chain is untouched (it covers the
  // encrypted bytes) and verifies as before.
  absl::StatusOr<EraseResult> Erase(const EraseRequest& request);

  // The case's erasure ledger entry, if it was erased.
  std::optional<v1::ErasureLedgerEntry> GetErasure(
      const std::string& case_id) const;

  // True when new payloads are encrypted (a key store is configured).
  bool encrypted() const;

  // The key store (nullptr without one). Owned by the log; valid while it
  // lives. For tools (master key rotation) and tests.
  KeyStore* key_store() const;

  // Writes a consistent online snapshot of the log to `directory` (which
  // must not exist; RocksDB Checkpoint: hard links where possible). The
  // snapshot opens as a log of its own (restore = point a server at it or
  // copy it into place). Returns a position P such that every event up to P
  // is in the backup. FAILED_PRECONDITION if `directory` exists.
  absl::StatusOr<uint64_t> Backup(const std::string& directory);

  // The RocksDB directory.
  const std::string& path() const;

  class Impl;

 private:
  explicit EventLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// For an ABORTED status returned by Append: the case's current version.
std::optional<uint64_t> CurrentVersionOf(const absl::Status& status);

// The event type name of a payload ("GoalSet"), or "" if none is set.
std::string EventTypeOf(const v1::EventPayload& payload);

}  // namespace caseledger::engine

#endif  // CASELEDGER_ENGINE_EVENT_LOG_H_
