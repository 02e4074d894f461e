#ifndef CASELEDGER_TESTS_TESTING_TEMP_DIR_H_
#define CASELEDGER_TESTS_TESTING_TEMP_DIR_H_

#include <string>
#include <vector>

namespace caseledger::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object is destroyed. Not thread-safe.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(const std::string& name) const;

 private:
  std::string path_;
};

// The regular files below `dir` (recursively) whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir,
                                         const std::string& needle);

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_TEMP_DIR_H_
