#ifndef CASELEDGER_TESTS_TESTING_CHILD_OUTPUT_H_
#define CASELEDGER_TESTS_TESTING_CHILD_OUTPUT_H_

// Output of the child programs of crash tests: whole lines on stdout (a pipe
// the parent reads with ChildProcess), one write(2) per line.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace caseledger::testing {

// Writes all of `text` to fd 1, serialised across threads. Returns false if
// the pipe is gone (the parent stopped listening).
inline bool WriteStdout(const std::string& text) {
  static std::mutex* mu = new std::mutex();
  std::lock_guard<std::mutex> lock(*mu);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(1, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reports an unexpected outcome ("ERR <message>" on stdout, and on stderr
// prefixed by `program`) and exits at once with status 3, without running
// destructors (other threads may still be using storage).
[[noreturn]] inline void FailChild(const char* program,
                                   const std::string& message) {
  WriteStdout("ERR " + message + "\n");
  std::fprintf(stderr, "%s: %s\n", program, message.c_str());
  std::fflush(stderr);
  std::_Exit(3);
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_CHILD_OUTPUT_H_
