#ifndef CASELEDGER_TESTS_TESTING_DAEMON_H_
#define CASELEDGER_TESTS_TESTING_DAEMON_H_

// caseledgerd run as a child process, as an operator runs it: its stderr
// (the log) is read line by line. Tests that need the binary define
// CASELEDGERD_PATH (see tests/services/CMakeLists.txt). Not thread-safe.

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "gtest/gtest.h"

extern char** environ;

namespace caseledger::testing {

class Daemon {
 public:
  // Starts `binary` with `args` (argv[1..]); stderr is a pipe read here.
  Daemon(const std::string& binary, const std::vector<std::string>& args) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> all = {binary};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(),
                          environ),
              0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    log_ = fdopen(fds[0], "r");
  }

  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (drainer_.joinable()) drainer_.join();
    if (log_ != nullptr) fclose(log_);
  }

  // Reads log lines until one contains `needle`; returns it ("" at EOF).
  // Not after DrainInBackground().
  std::string WaitFor(const std::string& needle) {
    char line[4096];
    while (fgets(line, sizeof(line), log_) != nullptr) {
      all_ += line;
      if (absl::StrContains(line, needle)) return line;
    }
    return "";
  }

  // Keeps reading the log on a thread of its own until the process exits
  // (so a chatty server never blocks on a full pipe); log() is complete
  // after Wait() or Terminate().
  void DrainInBackground() {
    drainer_ = std::thread([this] {
      char line[4096];
      while (fgets(line, sizeof(line), log_) != nullptr) drained_ += line;
    });
  }

  // SIGTERM, then the exit status (or -1 if it did not exit normally).
  int Terminate() {
    kill(pid_, SIGTERM);
    return Wait();
  }

  // Waits for the process to exit by itself; its exit status, or -1.
  int Wait() {
    if (drainer_.joinable()) {
      drainer_.join();  // EOF when the process exits
      all_ += drained_;
    } else {
      WaitFor("\n<never>");  // drain the log to EOF
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t pid() const { return pid_; }
  const std::string& log() const { return all_; }

 private:
  pid_t pid_ = -1;
  FILE* log_ = nullptr;
  std::string all_;
  std::thread drainer_;
  std::string drained_;  // written by drainer_ only until it is joined
};

// The port of a "caseledgerd serving ... port=N ..." log line; 0 if none.
inline int PortFrom(const std::string& line) {
  const size_t at = line.find(" port=");
  int port = 0;
  if (at == std::string::npos) return 0;
  const std::string rest = line.substr(at + 6);
  (void)absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &port);
  return port;
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_DAEMON_H_
