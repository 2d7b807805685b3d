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
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace specd::testing {

// What the watcher prints for a registration and for a hand edit to review.
inline const std::string kRegistered = "(specd: registered)";
inline const std::string kEdited = "draft -> review (tester: status edited in the file)";

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

// ---------------------------------------------------------------------------
// What the tests of the real `specd watch` share: specs, saves, and a
// fixture with a git repository, the watcher's start and stop, and the
// journal read back.

inline constexpr char kActive[] = ".agents/specs/active";

// The i-th spec id (0-based): spec-2026-MM-DD-NNN, 1,000 a day.
inline std::string Id(int i) {
  char buf[32];
  const int day = i / 1000;
  std::snprintf(buf, sizeof buf, "spec-2026-%02d-%02d-%03d", day / 28 + 1, day % 28 + 1, i % 1000);
  return buf;
}

// kValidSpec as spec `id`, at `status`.
inline std::string SpecText(const std::string& id, const std::string& status = "draft") {
  std::string text = Replace(kValidSpec, "id: spec-2026-01-01-001", "id: " + id);
  return status == "draft" ? text : Replace(text, "status: draft\n", "status: " + status + "\n");
}

// What an event line says, without its time ("14:04:49.346  ").
inline std::string EventText(const std::string& line) {
  return line.size() > 14 ? line.substr(14) : line;
}

// The whole file in one open/write/close (what a plain `>` redirect does).
inline void WriteFile(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())) << path;
  ASSERT_EQ(::close(fd), 0) << path;
}

// An editor's rename-save: the new bytes under a temporary name in the same
// directory, renamed over the file (gedit's .goutputstream-XXXXXX).
inline void RenameSave(const std::string& path, const std::string& bytes) {
  const std::string temp = std::filesystem::path(path).parent_path() / ".goutputstream-ABC123";
  WriteFile(temp, bytes);
  ASSERT_EQ(::rename(temp.c_str(), path.c_str()), 0) << std::strerror(errno);
}

class WatchFixture : public ::testing::Test {
 protected:
  WatchFixture() {
    Output git = *RunProcess(repo_.path(), "git", {"init", "-q", repo_.path()});
    EXPECT_EQ(git.exit_code, 0) << git.err;
    std::filesystem::create_directories(repo_ / kActive);
  }

  static std::string Rel(const std::string& id) { return std::string(kActive) + "/" + id + ".yaml"; }
  std::string PathOf(const std::string& id) const { return repo_ / Rel(id); }
  std::string Active() const { return repo_ / kActive; }

  // Starts specd watch on the repository and waits until it is ready.
  // `root`: another repository than repo_ (a clone).
  std::unique_ptr<WatchProcess> Start(const std::vector<std::string>& extra = {},
                                      const std::string& root = "") {
    std::vector<std::string> args = {"watch", "--repo", root.empty() ? repo_.path() : root};
    args.insert(args.end(), extra.begin(), extra.end());
    auto w = std::make_unique<WatchProcess>(SPECD_BINARY, args);
    ready_ = w->WaitForLine("ready in");
    return w;
  }

  // SIGTERM, exit status 0, and the stop summary (after "stopped by SIGTERM after ").
  std::string Stop(WatchProcess* w) {
    w->Signal(SIGTERM);
    EXPECT_EQ(w->Wait(), 0) << w->output();
    std::vector<std::string> bye = w->LinesWith("specd watch: stopped by SIGTERM after ");
    EXPECT_EQ(bye.size(), 1u) << w->output();
    if (bye.empty()) return "";
    return bye[0].substr(bye[0].find(" after ") + 7);
  }

  std::unique_ptr<Journal> OpenJournal(const std::string& root = "") {
    Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPathFor(root.empty() ? repo_.path() : root));
    EXPECT_TRUE(j.ok()) << j.error().message;
    return j.ok() ? std::move(*j) : nullptr;
  }

  // Each transition as "from -> to (actor: reason)".
  std::vector<std::string> Transitions(Journal* j, const std::string& id) {
    std::vector<std::string> out;
    Result<std::vector<TransitionRecord>> ts = j->Transitions(id);
    EXPECT_TRUE(ts.ok());
    if (ts.ok()) {
      for (const TransitionRecord& t : *ts)
        out.push_back(t.from + " -> " + t.to + " (" + t.actor + ": " + t.reason + ")");
    }
    return out;
  }

  std::vector<std::string> WatchKinds(Journal* j) {
    std::vector<std::string> out;
    Result<std::vector<WatchRecord>> log = j->WatchLog();
    EXPECT_TRUE(log.ok());
    if (log.ok()) {
      for (const WatchRecord& r : *log) out.push_back(r.kind);
    }
    return out;
  }

  std::vector<SpecRecord> Specs(Journal* j, bool include_removed = true) {
    Result<std::vector<SpecRecord>> specs = j->ListSpecs(include_removed);
    EXPECT_TRUE(specs.ok());
    return specs.ok() ? *specs : std::vector<SpecRecord>{};
  }

  // git with a home of its own (no user config, no global core.hooksPath),
  // committing as a tester; in repo_ unless `cwd` is given.
  Output Git(const std::vector<std::string>& args, const std::string& cwd = "") {
    RunOptions o = GitEnv(home_.path());
    o.env.emplace_back("SPECD_ACTOR", "tester");
    return *RunProcess(cwd.empty() ? repo_.path() : cwd, "git", args, o);
  }
  void GitOk(const std::vector<std::string>& args, const std::string& cwd = "") {
    Output o = Git(args, cwd);
    EXPECT_EQ(o.exit_code, 0) << "git " << args[0] << ": " << o.out << o.err;
  }

  TempDir home_{"specd-home"};
  TempDir repo_{"specd-watch"};
  std::string ready_;
};

}  // namespace specd::testing
