#ifndef CASELEDGER_TESTS_TESTING_FAULT_INJECTION_FS_H_
#define CASELEDGER_TESTS_TESTING_FAULT_INJECTION_FS_H_

// A rocksdb::FileSystem that fails on purpose, for storage fault tests.
//
// It forwards everything to the default (POSIX) file system and can:
//  - fail the Nth write (Append) or sync (Sync/Fsync) of chosen files with
//    EIO or ENOSPC, once or persistently (every later write and sync fails);
//  - cut the power at the Nth write or sync: that operation and every later
//    mutating one fails with EIO (nothing more reaches the disk), and
//    LoseUnsyncedData() then cuts every file it wrote back to its last synced
//    length, optionally keeping a random part of the unsynced tail (a torn
//    write), as a power loss does to the page cache.
//
// Model of durability (deliberately simple, stated so tests know what they
// prove): file data is durable once Sync/Fsync of the file returned OK;
// RangeSync counts for nothing; directory entries (create, rename, delete)
// are durable when the call returns. Files that existed before this file
// system saw them count as fully synced. Since durability is simulated, file
// and directory syncs do not reach the disk (tests run at memory speed).
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace caseledger::testing {

class FaultInjectionFs : public rocksdb::FileSystemWrapper {
 public:
  enum class Op { kWrite, kSync };
  enum class Error { kIo, kNoSpace };
  enum class Mode {
    kOnce,        // only the Nth operation fails
    kPersistent,  // the Nth and every later write and sync fail
    kPowerLoss,   // the Nth fails and the power is cut (see CutPower)
  };
  // Which files count towards N and can fail.
  enum class Files { kAll, kWal, kTable, kManifest };

  struct Fault {
    Op op = Op::kWrite;
    // 1: the next matching operation.
    uint64_t nth = 1;
    Error error = Error::kIo;
    Mode mode = Mode::kOnce;
    Files files = Files::kAll;
  };

  // Over rocksdb::FileSystem::Default().
  FaultInjectionFs();

  static const char* kClassName() { return "CaseledgerFaultInjectionFs"; }
  const char* Name() const override { return kClassName(); }

  // Replaces any armed fault and counts from zero.
  void Arm(const Fault& fault);
  // Removes the armed fault and a persistent failure (not a power cut).
  void Disarm();
  // How many operations failed because of a fault or a power cut.
  uint64_t injected() const;
  // Writes and syncs seen since the last Arm (matching or not).
  uint64_t writes() const;
  uint64_t syncs() const;

  // From now on every mutating operation (write, sync, create, rename,
  // delete, truncate) fails with EIO. Reads still work.
  void CutPower();
  bool power_cut() const;

  // Cuts every file written through this file system back to its last synced
  // length. With `torn_seed`, keeps instead a pseudo-random part of each
  // unsynced tail (chosen from the seed). Then restores the power and
  // forgets every fault.
  // REQUIRES: CutPower() was called and no DB has these files open.
  absl::Status LoseUnsyncedData(std::optional<uint64_t> torn_seed);

  // rocksdb::FileSystem overrides.
  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src,
                               const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name,
                                 const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;

 private:
  class File;
  class Directory;
  friend class File;
  friend class Directory;

  struct FileState {
    uint64_t size = 0;    // bytes written through us (or found on reopen)
    uint64_t synced = 0;  // size at the last successful sync
  };

  // Decides whether the next `op` on `fname` fails; counts it.
  rocksdb::IOStatus Check(Op op, const std::string& fname);
  // A failure if the power is cut, else OK.
  rocksdb::IOStatus PowerCheck() const;
  void Wrote(const std::string& fname, uint64_t bytes);
  void Synced(const std::string& fname);

  mutable absl::Mutex mu_;
  std::optional<Fault> fault_ ABSL_GUARDED_BY(mu_);
  uint64_t matched_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t injected_ ABSL_GUARDED_BY(mu_) = 0;
  // Set once a kPersistent fault fired: every write and sync fails with it.
  std::optional<Error> failing_ ABSL_GUARDED_BY(mu_);
  bool power_cut_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
};

// A FaultInjectionFs and the rocksdb::Env that uses it, for
// EventLogOptions::env. Not thread-safe to construct; the members are.
struct FaultInjectionEnv {
  FaultInjectionEnv();
  std::shared_ptr<FaultInjectionFs> fs;
  std::unique_ptr<rocksdb::Env> env;
};

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_FAULT_INJECTION_FS_H_
