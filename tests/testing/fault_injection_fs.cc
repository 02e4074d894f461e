#include "tests/testing/fault_injection_fs.h"

#include <algorithm>
#include <filesystem>
#include <random>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace caseledger::testing {
namespace {

bool Matches(FaultInjectionFs::Files files, const std::string& fname) {
  switch (files) {
    case FaultInjectionFs::Files::kAll:
      return true;
    case FaultInjectionFs::Files::kWal:
      return absl::EndsWith(fname, ".log");
    case FaultInjectionFs::Files::kTable:
      return absl::EndsWith(fname, ".sst");
    case FaultInjectionFs::Files::kManifest:
      return absl::StrContains(fname, "MANIFEST-");
  }
  return false;
}

rocksdb::IOStatus Failure(FaultInjectionFs::Error error) {
  return error == FaultInjectionFs::Error::kNoSpace
             ? rocksdb::IOStatus::NoSpace("injected: no space left on device")
             : rocksdb::IOStatus::IOError("injected: input/output error");
}

}  // namespace

// A writable file that asks the file system before each write and sync and
// reports what reached it.
class FaultInjectionFs::File : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(FaultInjectionFs* fs, std::string fname,
       std::unique_ptr<rocksdb::FSWritableFile> target)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        fname_(std::move(fname)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(Op::kWrite, fname_);
    if (!s.ok()) return s;
    s = target()->Append(data, options, dbg);
    if (s.ok()) fs_->Wrote(fname_, data.size());
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(Op::kWrite, fname_);
    if (!s.ok()) return s;
    s = target()->Append(data, options, info, dbg);
    if (s.ok()) fs_->Wrote(fname_, data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    // Direct I/O only, which the engine does not use: refuse rather than
    // track sizes wrongly.
    return rocksdb::IOStatus::NotSupported("FaultInjectionFs: direct I/O");
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return rocksdb::IOStatus::NotSupported("FaultInjectionFs: direct I/O");
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->PowerCheck();
    if (!s.ok()) return s;
    s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      absl::MutexLock lock(&fs_->mu_);
      FileState& state = fs_->files_[fname_];
      state.size = std::min<uint64_t>(state.size, size);
      state.synced = std::min(state.synced, state.size);
    }
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(Op::kSync, fname_);
    if (!s.ok()) return s;
    // Durability is simulated (LoseUnsyncedData), so the real fsync would
    // only make the tests as slow as the disk.
    fs_->Synced(fname_);
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(Op::kSync, fname_);
    if (!s.ok()) return s;
    // Durability is simulated (LoseUnsyncedData), so the real fsync would
    // only make the tests as slow as the disk.
    fs_->Synced(fname_);
    return s;
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->PowerCheck();
    if (!s.ok()) return s;
    return target()->RangeSync(offset, nbytes, options, dbg);
  }

 private:
  FaultInjectionFs* const fs_;  // outlives its files
  const std::string fname_;
};

// A directory whose syncs are simulated: entries are modelled as durable
// when created, so a sync only has to fail once the power is cut.
class FaultInjectionFs::Directory : public rocksdb::FSDirectoryWrapper {
 public:
  Directory(FaultInjectionFs* fs, std::unique_ptr<rocksdb::FSDirectory> target)
      : FSDirectoryWrapper(std::move(target)), fs_(fs) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return fs_->PowerCheck();
  }
  rocksdb::IOStatus FsyncWithDirOptions(
      const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
      const rocksdb::DirFsyncOptions& dir_fsync_options) override {
    return fs_->PowerCheck();
  }

 private:
  FaultInjectionFs* const fs_;  // outlives its directories
};

FaultInjectionFs::FaultInjectionFs()
    : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

void FaultInjectionFs::Arm(const Fault& fault) {
  absl::MutexLock lock(&mu_);
  fault_ = fault;
  matched_ = 0;
  writes_ = 0;
  syncs_ = 0;
}

void FaultInjectionFs::Disarm() {
  absl::MutexLock lock(&mu_);
  fault_.reset();
  failing_.reset();
}

uint64_t FaultInjectionFs::injected() const {
  absl::MutexLock lock(&mu_);
  return injected_;
}

uint64_t FaultInjectionFs::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

uint64_t FaultInjectionFs::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

void FaultInjectionFs::CutPower() {
  absl::MutexLock lock(&mu_);
  power_cut_ = true;
}

bool FaultInjectionFs::power_cut() const {
  absl::MutexLock lock(&mu_);
  return power_cut_;
}

rocksdb::IOStatus FaultInjectionFs::PowerCheck() const {
  absl::MutexLock lock(&mu_);
  if (!power_cut_) return rocksdb::IOStatus::OK();
  return rocksdb::IOStatus::IOError("injected: power cut");
}

rocksdb::IOStatus FaultInjectionFs::Check(Op op, const std::string& fname) {
  absl::MutexLock lock(&mu_);
  (op == Op::kWrite ? writes_ : syncs_)++;
  if (power_cut_) {
    ++injected_;
    return rocksdb::IOStatus::IOError("injected: power cut");
  }
  if (failing_) {
    ++injected_;
    return Failure(*failing_);
  }
  if (!fault_ || fault_->op != op || !Matches(fault_->files, fname)) {
    return rocksdb::IOStatus::OK();
  }
  if (++matched_ != fault_->nth) return rocksdb::IOStatus::OK();
  ++injected_;
  switch (fault_->mode) {
    case Mode::kOnce:
      break;
    case Mode::kPersistent:
      failing_ = fault_->error;
      break;
    case Mode::kPowerLoss:
      power_cut_ = true;
      return rocksdb::IOStatus::IOError("injected: power cut");
  }
  return Failure(fault_->error);
}

void FaultInjectionFs::Wrote(const std::string& fname, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  files_[fname].size += bytes;
}

void FaultInjectionFs::Synced(const std::string& fname) {
  absl::MutexLock lock(&mu_);
  FileState& state = files_[fname];
  state.synced = state.size;
}

absl::Status FaultInjectionFs::LoseUnsyncedData(
    std::optional<uint64_t> torn_seed) {
  std::vector<std::pair<std::string, FileState>> files;
  {
    absl::MutexLock lock(&mu_);
    if (!power_cut_) {
      return absl::FailedPreconditionError("LoseUnsyncedData: power is on");
    }
    files.assign(files_.begin(), files_.end());
  }
  // A stable order, so that a seed always tears the same way.
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::mt19937_64 random(torn_seed.value_or(0));
  for (const auto& [fname, state] : files) {
    uint64_t keep = state.synced;
    if (torn_seed && state.size > state.synced) {
      keep += random() % (state.size - state.synced + 1);
    }
    // The POSIX file system has no Truncate(name): cut the file directly
    // (no DB has it open).
    std::error_code error;
    const uint64_t actual = std::filesystem::file_size(fname, error);
    if (error) continue;  // deleted since
    if (actual <= keep) continue;
    std::filesystem::resize_file(fname, keep, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot truncate ", fname, ": ", error.message()));
    }
  }
  absl::MutexLock lock(&mu_);
  files_.clear();
  power_cut_ = false;
  fault_.reset();
  failing_.reset();
  return absl::OkStatus();
}

rocksdb::IOStatus FaultInjectionFs::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->NewWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    files_[fname] = FileState{};
  }
  *result = std::make_unique<File>(this, fname, std::move(file));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (!target()->GetFileSize(fname, rocksdb::IOOptions(), &size, dbg).ok()) {
    size = 0;
  }
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->ReopenWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = files_.try_emplace(fname, FileState{size, size});
    (void)inserted;
  }
  *result = std::make_unique<File>(this, fname, std::move(file));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    files_.erase(old_fname);
    files_[fname] = FileState{};
  }
  *result = std::make_unique<File>(this, fname, std::move(file));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::RenameFile(
    const std::string& src, const std::string& target_name,
    const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  s = target()->RenameFile(src, target_name, options, dbg);
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    auto found = files_.find(src);
    if (found != files_.end()) {
      FileState state = found->second;
      files_.erase(found);
      files_[target_name] = state;
    } else {
      files_.erase(target_name);
    }
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::LinkFile(const std::string& src,
                                             const std::string& target_name,
                                             const rocksdb::IOOptions& options,
                                             rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  return target()->LinkFile(src, target_name, options, dbg);
}

rocksdb::IOStatus FaultInjectionFs::DeleteFile(
    const std::string& fname, const rocksdb::IOOptions& options,
    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    files_.erase(fname);
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::Truncate(const std::string& fname,
                                             size_t size,
                                             const rocksdb::IOOptions& options,
                                             rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  s = target()->Truncate(fname, size, options, dbg);
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    auto found = files_.find(fname);
    if (found != files_.end()) {
      found->second.size = std::min<uint64_t>(found->second.size, size);
      found->second.synced = std::min(found->second.synced, found->second.size);
    }
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::NewDirectory(
    const std::string& name, const rocksdb::IOOptions& options,
    std::unique_ptr<rocksdb::FSDirectory>* result,
    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  rocksdb::IOStatus s = target()->NewDirectory(name, options, &directory, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<Directory>(this, std::move(directory));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::CreateDir(const std::string& dirname,
                                              const rocksdb::IOOptions& options,
                                              rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  return target()->CreateDir(dirname, options, dbg);
}

rocksdb::IOStatus FaultInjectionFs::CreateDirIfMissing(
    const std::string& dirname, const rocksdb::IOOptions& options,
    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = PowerCheck();
  if (!s.ok()) return s;
  return target()->CreateDirIfMissing(dirname, options, dbg);
}

FaultInjectionEnv::FaultInjectionEnv()
    : fs(std::make_shared<FaultInjectionFs>()),
      env(rocksdb::NewCompositeEnv(fs)) {}

}  // namespace caseledger::testing
