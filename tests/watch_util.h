// A `specd watch` running as a child of the test: stdout and stderr in one
// pipe that the test reads line by line, so a test synchronises on what the
// watcher says it did (an event line, "ready in", a rescan), never on
// sleeps. Every wait has a generous hang guard that fails the test with all
// the output read so far: a guard against a hang, not a timing assertion.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "tests/process_util.h"

namespace specd::testing {

class WatchProcess {
 public:
  static constexpr int64_t kHangGuardMs = 60'000;

  // Runs `program` with `args` (stdin /dev/null, NOTIFY_SOCKET and
  // WATCHDOG_USEC unset: not under systemd).
  WatchProcess(const std::string& program, const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return;
    }
    pid_ = ::fork();
    if (pid_ < 0) {
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      return;
    }
    if (pid_ == 0) {
      int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(fds[1], 1) < 0 || ::dup2(fds[1], 2) < 0) ::_exit(120);
      ::unsetenv("NOTIFY_SOCKET");
      ::unsetenv("WATCHDOG_USEC");
      ::unsetenv("WATCHDOG_PID");
      ExecOrExit(program, args);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }

  ~WatchProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      int status;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (fd_ >= 0) ::close(fd_);
  }
  WatchProcess(const WatchProcess&) = delete;
  WatchProcess& operator=(const WatchProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The next line (after the last one a WaitForLine returned) that contains
  // `needle`; "" (and a test failure with the output so far) when none
  // comes before the hang guard or the pipe closes.
  std::string WaitForLine(const std::string& needle, int64_t guard_ms = kHangGuardMs) {
    const int64_t deadline = NowMs() + guard_ms;
    for (;;) {
      for (; cursor_ < lines_.size(); ++cursor_) {
        if (lines_[cursor_].find(needle) != std::string::npos) return lines_[cursor_++];
      }
      if (!ReadMore(deadline)) {
        ADD_FAILURE() << "no line with '" << needle << "' from specd watch "
                      << (eof_ ? "(it exited)" : "(hang guard)") << "; all it wrote:\n"
                      << output_;
        return "";
      }
    }
  }

  // Waits until `count` lines in all the output so far contain `needle`
  // (lines in any order; does not move WaitForLine's place).
  bool WaitForCount(const std::string& needle, size_t count, int64_t guard_ms = kHangGuardMs) {
    const int64_t deadline = NowMs() + guard_ms;
    size_t seen = 0, scanned = 0;
    for (;;) {
      for (; scanned < lines_.size(); ++scanned) seen += lines_[scanned].find(needle) != std::string::npos;
      if (seen >= count) return true;
      if (!ReadMore(deadline)) {
        ADD_FAILURE() << seen << " of " << count << " lines with '" << needle << "' from specd watch "
                      << (eof_ ? "(it exited)" : "(hang guard)") << "; all it wrote:\n"
                      << output_;
        return false;
      }
    }
  }

  // Lines read so far that contain `needle`.
  size_t Count(const std::string& needle) const {
    size_t n = 0;
    for (const std::string& l : lines_) n += l.find(needle) != std::string::npos;
    return n;
  }
  std::vector<std::string> LinesWith(const std::string& needle) const {
    std::vector<std::string> out;
    for (const std::string& l : lines_) {
      if (l.find(needle) != std::string::npos) out.push_back(l);
    }
    return out;
  }
  const std::string& output() const { return output_; }

  void Signal(int sig) { ASSERT_EQ(::kill(pid_, sig), 0) << std::strerror(errno); }

  // Reads everything to the end, then reaps the child: its exit status, or
  // -1 when it was killed by a signal (-2 when the hang guard ran out).
  int Wait(int64_t guard_ms = kHangGuardMs) {
    const int64_t deadline = NowMs() + guard_ms;
    while (!eof_) {
      if (!ReadMore(deadline)) {
        if (!eof_) {
          ADD_FAILURE() << "specd watch did not exit; all it wrote:\n" << output_;
          return -2;
        }
      }
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  static int64_t NowMs() {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
  }

  // Reads what is there (waiting for it until `deadline`); false at the end
  // of the output or the deadline.
  bool ReadMore(int64_t deadline) {
    if (eof_ || fd_ < 0) return false;
    const int64_t left = deadline - NowMs();
    if (left <= 0) return false;
    struct pollfd p = {fd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    char buf[65536];
    ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) return true;
    if (got <= 0) {
      eof_ = true;
      if (!partial_.empty()) lines_.push_back(std::move(partial_)), partial_.clear();
      return false;
    }
    output_.append(buf, static_cast<size_t>(got));
    partial_.append(buf, static_cast<size_t>(got));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines_.push_back(partial_.substr(start, nl - start));
    }
    partial_.erase(0, start);
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool eof_ = false;
  bool exited_ = false;
  std::string output_;
  std::string partial_;
  std::vector<std::string> lines_;
  size_t cursor_ = 0;
};

}  // namespace specd::testing
