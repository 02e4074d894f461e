#include "services/master_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace caseledger::services {
namespace {

constexpr size_t kKeyBytes = 32;

bool IsHex(const std::string& s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ReadMasterKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        "master_key_file: not found or not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(
        "master_key_file: readable or writable by group or others; make it "
        "owner-only (chmod 600)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError("master_key_file: cannot be read");
  }
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  if (content.size() == kKeyBytes) return content;
  std::string text(absl::StripTrailingAsciiWhitespace(content));
  if (text.size() == 2 * kKeyBytes && IsHex(text)) {
    return absl::HexStringToBytes(text);
  }
  return absl::FailedPreconditionError(
      "master_key_file: must hold 32 bytes as 64 hex digits (e.g. `openssl "
      "rand -hex 32`) or 32 raw bytes");
}

absl::Status CreateMasterKeyFile(const std::string& path) {
  std::string key(kKeyBytes, '\0');
  {
    std::ifstream random("/dev/urandom", std::ios::binary);
    if (!random.read(key.data(), static_cast<std::streamsize>(key.size()))) {
      return absl::FailedPreconditionError("master_key_file: no random source");
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        "master_key_file: cannot be created (it may exist already)");
  }
  const std::string text = absl::StrCat(absl::BytesToHexString(key), "\n");
  const bool written = ::write(fd, text.data(), text.size()) ==
                           static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    return absl::FailedPreconditionError("master_key_file: cannot be written");
  }
  return absl::OkStatus();
}

}  // namespace caseledger::services
