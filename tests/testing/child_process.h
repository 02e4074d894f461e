#ifndef CASELEDGER_TESTS_TESTING_CHILD_PROCESS_H_
#define CASELEDGER_TESTS_TESTING_CHILD_PROCESS_H_

// Spawning, reading and killing a child process in crash tests.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

extern char** environ;

namespace caseledger::testing {

// A child process whose stdout is a pipe read by this process (for tests
// that SIGKILL a writer at chosen moments). Not thread-safe.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills and reaps the child if it is still unreaped; closes the pipe.
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (read_fd_ >= 0) ::close(read_fd_);
  }

  // Starts the program at `path` with `args` (argv[1..]). Its file
  // descriptor `capture_fd` (1: stdout, 2: stderr) is the pipe; the others
  // are inherited.
  void Spawn(const std::string& path, const std::vector<std::string>& args,
             int capture_fd = 1) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0) << std::strerror(errno);
    read_fd_ = fds[0];
    posix_spawn_file_actions_t actions;
    ASSERT_EQ(posix_spawn_file_actions_init(&actions), 0);
    // dup2 clears FD_CLOEXEC on the target; both pipe ends are closed on
    // exec.
    ASSERT_EQ(posix_spawn_file_actions_adddup2(&actions, fds[1], capture_fd),
              0);

    std::vector<std::string> argv_strings = {path};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);

    const int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr,
                               argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    // Only the child may hold the write end, or EOF never comes.
    ::close(fds[1]);
    if (rc != 0) pid_ = -1;
    ASSERT_EQ(rc, 0) << "posix_spawn " << path << ": " << std::strerror(rc);
  }

  // Reads the next complete line (without '\n'). Returns nullopt at EOF; a
  // trailing fragment without '\n' is returned in `*fragment` (which
  // a writer that prints whole lines with one write(2) never leaves).
  std::optional<std::string> ReadLine(std::string* fragment) {
    while (true) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      char chunk[4096];
      const ssize_t n = ::read(read_fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *fragment = std::move(buffer_);
        buffer_.clear();
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Sends SIGKILL (a no-op if the child has already exited) and reaps the
  // child. Returns its wait status. Requires a successful Spawn().
  int KillAndWait() {
    if (pid_ <= 0) return 0;  // never kill(-1, ...)
    ::kill(pid_, SIGKILL);
    return Wait();
  }

  // Waits for the child to exit by itself and reaps it. Returns its wait
  // status. Requires a successful Spawn().
  int Wait() {
    if (pid_ <= 0) return 0;
    int status = 0;
    pid_t reaped;
    do {
      reaped = ::waitpid(pid_, &status, 0);
    } while (reaped < 0 && errno == EINTR);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
  std::string buffer_;
};

// "killed by signal 9", "exited with 3", ...
inline std::string DescribeWaitStatus(int status) {
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status));
  }
  if (WIFEXITED(status)) {
    return absl::StrCat("exited with ", WEXITSTATUS(status));
  }
  return absl::StrCat("wait status ", status);
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_CHILD_PROCESS_H_
