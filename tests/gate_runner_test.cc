// RunGate with real shells: each outcome (pass, fail, timeout, blocked on a
// fifo or a sleep, a silent busy loop that is not blocked), what the gate
// gets (stdin /dev/null, its environment, its session), where its output
// goes (the log's exact bytes, "[name] " lines on a stream, the tail), and
// that no process of a gate outlives RunGate, however it tried to.
#include "pipeline/gate_runner.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/proc_watch.h"
#include "tests/process_util.h"

namespace specd::pipeline {
namespace {

using ::specd::testing::ReadAll;
using ::specd::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Live (not zombie) processes whose session is `sid` or whose pid is one of `pids`.
std::vector<std::string> Survivors(long sid, const std::vector<long>& pids = {}) {
  std::vector<std::string> out;
  DIR* dir = ::opendir("/proc");
  while (dirent* e = dir ? ::readdir(dir) : nullptr) {
    const long p = std::strtol(e->d_name, nullptr, 10);
    if (p <= 0) continue;
    const std::string stat = ReadAll("/proc/" + std::string(e->d_name) + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = 0, pgrp = 0, session = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &session) != 4)
      continue;
    if (state != 'Z' && (session == sid || std::count(pids.begin(), pids.end(), p))) out.push_back(stat);
  }
  if (dir) ::closedir(dir);
  return out;
}

// The number a gate printed first ("echo $$": its shell's pid, which is its session id).
pid_t FirstNumber(const std::string& log) {
  return static_cast<pid_t>(std::strtol(log.c_str(), nullptr, 10));
}

class GateRunnerTest : public ::testing::Test {
 protected:
  GateRunnerTest() {
    options_.workdir = dir_.path();
    options_.log_path = dir_ / "logs/spec-1/trace-1/unit.log";
    options_.kill_grace_ms = 1'000;
  }

  GateResult Run(const std::string& run, int64_t timeout_ms = 60'000, int64_t quiet_ms = 60'000) {
    GateCommand gate{"unit", run, timeout_ms, quiet_ms};
    Result<GateResult> r = RunGate(gate, options_);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return GateResult{};
    EXPECT_EQ(r->name, "unit");
    EXPECT_EQ(r->log_path, options_.log_path);
    return *r;
  }
  std::string Log() { return ReadAll(options_.log_path); }

  TempDir dir_{"specd-gate"};
  GateRunOptions options_;
};

TEST_F(GateRunnerTest, ExitZeroPassesAndTheLogHoldsTheOutput) {
  GateResult r = Run("echo hello; echo to stderr >&2");
  EXPECT_EQ(GateOutcomeName(r.outcome), std::string("pass"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.why, "exit 0");
  EXPECT_EQ(Log(), "hello\nto stderr\n");
  EXPECT_EQ(r.tail, "hello\nto stderr\n");
  EXPECT_GE(r.duration_ms, 0);
}

TEST_F(GateRunnerTest, ANonZeroExitFailsWithItsCodeAndTheLast40Lines) {
  GateResult r = Run("i=1; while [ $i -le 50 ]; do echo line $i; i=$((i+1)); done; echo broke >&2; exit 2");
  EXPECT_EQ(r.outcome, GateOutcome::kFail);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.why, "exit 2");
  std::string want;
  for (int i = 12; i <= 50; ++i) want += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(r.tail, want + "broke\n");
  EXPECT_THAT(Log(), StartsWith("line 1\nline 2\n"));
  EXPECT_EQ(Log().size(), 9 * 7 + 41 * 8 + 6u);
}

// Long lines: the tail keeps at most 4 KiB and begins at a line's start.
TEST_F(GateRunnerTest, TheTailIsAtMost4KiBOfWholeLines) {
  GateResult r = Run("i=0; while [ $i -lt 30 ]; do printf '%0199d\\n' $i; i=$((i+1)); done; exit 1");
  EXPECT_EQ(r.outcome, GateOutcome::kFail);
  std::string want;
  for (int i = 10; i < 30; ++i) want += std::string(197, '0') + std::to_string(i) + "\n";
  EXPECT_EQ(r.tail.size(), 20 * 200u);
  EXPECT_EQ(r.tail, want);
}

TEST_F(GateRunnerTest, ACommandThatCannotBeFoundFailsWithExit127) {
  GateResult r = Run("no-such-command-specd-gate");
  EXPECT_EQ(r.outcome, GateOutcome::kFail);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.why, "exit 127");
  EXPECT_THAT(Log(), HasSubstr("no-such-command-specd-gate"));
  EXPECT_THAT(Log(), HasSubstr("not found"));
}

TEST_F(GateRunnerTest, AShellKilledByASignalFailsAndSaysWhich) {
  GateResult r = Run("kill -9 $$");
  EXPECT_EQ(r.outcome, GateOutcome::kFail);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.why, "killed by signal 9");
}

TEST_F(GateRunnerTest, PastItsWallTimeoutTheGateIsKilledWithItsSession) {
  GateResult r = Run("echo $$; echo started; sleep 30", 1'000);
  EXPECT_EQ(r.outcome, GateOutcome::kTimeout);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.why, "ran past its 1 s timeout");
  const pid_t sid = FirstNumber(Log());
  EXPECT_EQ(Log(), std::to_string(sid) + "\nstarted\n");
  EXPECT_THAT(Survivors(sid), ::testing::IsEmpty());
}

// A gate that ignores SIGTERM (and so do its children: the disposition is
// inherited) is killed by SIGKILL after the grace.
TEST_F(GateRunnerTest, AGateThatIgnoresSigtermIsKilledAfterTheGrace) {
  options_.kill_grace_ms = 300;
  GateResult r = Run("trap '' TERM; echo $$; sleep 30; echo survived", 1'000);
  EXPECT_EQ(r.outcome, GateOutcome::kTimeout);
  const pid_t sid = FirstNumber(Log());
  EXPECT_EQ(Log(), std::to_string(sid) + "\n");
  EXPECT_THAT(Survivors(sid), ::testing::IsEmpty());
}

// Issue 13: a read that never completes is reported blocked after the 3 s
// quiet setting (how soon is measured from the CLI, never asserted in a test).
TEST_F(GateRunnerTest, AReadFromAFifoNobodyWritesIsBlocked) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  GateResult r = Run("echo $$; read x < fifo", 60'000, 3'000);
  EXPECT_EQ(r.outcome, GateOutcome::kBlocked);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_THAT(r.why, MatchesRegex("no output for 3 s and waiting on a read \\(pid [0-9]+ sh: [a-z_]+\\)"));
  EXPECT_GE(r.duration_ms, 3'000);
  EXPECT_THAT(Survivors(FirstNumber(Log())), ::testing::IsEmpty());
}

TEST_F(GateRunnerTest, ASleepThatUsesNoCpuIsBlocked) {
  GateResult r = Run("echo $$; sleep 30", 60'000, 2'000);
  EXPECT_EQ(r.outcome, GateOutcome::kBlocked);
  EXPECT_THAT(r.why, MatchesRegex("no output for 2 s and using no CPU \\(pid [0-9]+ sleep: [a-z_]+\\)"));
  EXPECT_THAT(Survivors(FirstNumber(Log())), ::testing::IsEmpty());
}

// Output resets the quiet clock: a gate that prints every 0.7 s with a 1 s
// quiet setting is never blocked.
TEST_F(GateRunnerTest, OutputKeepsAGateFromBeingBlocked) {
  GateResult r = Run("for i in 1 2 3 4; do echo $i; sleep 0.7; done", 60'000, 1'000);
  EXPECT_EQ(r.outcome, GateOutcome::kPass) << r.why;
  EXPECT_EQ(Log(), "1\n2\n3\n4\n");
}

TEST_F(GateRunnerTest, ASilentBusyLoopIsNeverBlockedButTimesOut) {
  GateResult r = Run("echo $$; while :; do :; done", 4'000, 1'000);
  EXPECT_EQ(r.outcome, GateOutcome::kTimeout) << r.why;
  EXPECT_EQ(r.why, "ran past its 4 s timeout");
  EXPECT_THAT(Survivors(FirstNumber(Log())), ::testing::IsEmpty());
}

// The decision: when the shell exits, whatever it left running is killed;
// the outcome is the shell's. A child in the session, and one that left it
// with setsid (found by the output pipe it still holds).
TEST_F(GateRunnerTest, ChildrenThatOutliveTheShellAreKilled) {
  GateResult r = Run("echo $$; sleep 100 & echo $!; setsid sleep 101 & echo $!; sleep 0.2; exit 0");
  EXPECT_EQ(r.outcome, GateOutcome::kPass) << r.why;
  EXPECT_EQ(r.exit_code, 0);
  std::istringstream lines(Log());
  long sid = 0, in_session = 0, escaped = 0;
  lines >> sid >> in_session >> escaped;
  ASSERT_GT(escaped, 0) << Log();
  EXPECT_THAT(Survivors(sid, {in_session, escaped}), ::testing::IsEmpty());
}

// The caller asked to stop (specd watch stopping its `specd gates` child):
// the gate's whole session is killed and RunGate says so, with no outcome to
// blame the work for.
TEST_F(GateRunnerTest, AStopRequestKillsTheGateAndIsNotAnOutcome) {
  static volatile std::sig_atomic_t stop = 0;
  stop = 0;
  options_.stop = &stop;
  std::thread asker([&] {
    for (int i = 0; i < 6000 && !std::filesystem::exists(dir_ / "started"); ++i) ::usleep(10'000);
    stop = 1;
  });
  GateCommand gate{"unit", "echo $$; touch started; sleep 30", 60'000, 60'000};
  Result<GateResult> r = RunGate(gate, options_);
  asker.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBusy);
  EXPECT_EQ(r.error().message, "gate unit was stopped (its processes killed): specd was asked to stop");
  const pid_t sid = FirstNumber(Log());
  ASSERT_GT(sid, 0) << Log();
  EXPECT_THAT(Survivors(sid), ::testing::IsEmpty());
}

TEST_F(GateRunnerTest, StdinIsDevNull) {
  GateResult r = Run("cat; readlink /proc/self/fd/0");
  EXPECT_EQ(r.outcome, GateOutcome::kPass);
  EXPECT_EQ(Log(), "/dev/null\n");
}

TEST_F(GateRunnerTest, TheEnvironmentHasTheCallersVariablesAndNoPrompts) {
  options_.env = {{"SPECD_SPEC", "spec-2026-01-01-001"}, {"SPECD_TRACE", "tr-1"}, {"GIT_EDITOR", "vi"}};
  GateResult r = Run("echo \"$SPECD_SPEC $SPECD_TRACE $GIT_TERMINAL_PROMPT $GIT_EDITOR\"; test -n \"$PATH\"");
  EXPECT_EQ(r.outcome, GateOutcome::kPass);
  EXPECT_EQ(Log(), "spec-2026-01-01-001 tr-1 0 vi\n");
}

TEST_F(GateRunnerTest, TheGateRunsInItsWorkdirInASessionOfItsOwn) {
  GateResult r = Run("pwd; cut -d' ' -f6 /proc/$$/stat; echo $$");
  EXPECT_EQ(r.outcome, GateOutcome::kPass) << Log();
  std::istringstream lines(Log());
  std::string pwd;
  long sid = 0, pid = 0;
  lines >> pwd >> sid >> pid;
  EXPECT_EQ(pwd, dir_.path());
  EXPECT_EQ(sid, pid);
  EXPECT_NE(sid, static_cast<long>(::getsid(0)));
}

TEST_F(GateRunnerTest, EveryLineGoesToTheStreamWithThePrefixAndTheLogHasTheBytes) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  options_.stream_fd = fds[1];
  GateResult r =
      Run("echo one; printf 'two\\nthr'; sleep 0.1; printf 'ee\\n\\n'; echo four >&2; printf five");
  ::close(fds[1]);
  std::string streamed;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) streamed.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  EXPECT_EQ(r.outcome, GateOutcome::kPass);
  EXPECT_EQ(Log(), "one\ntwo\nthree\n\nfour\nfive");
  EXPECT_EQ(streamed, "[unit] one\n[unit] two\n[unit] three\n[unit] \n[unit] four\n[unit] five\n");
}

TEST_F(GateRunnerTest, EachLineReachesOnLineAsItComesWithoutItsNewline) {
  std::vector<std::string> lines;
  options_.on_line = [&](const std::string& line) { lines.push_back(line); };
  GateResult r =
      Run("echo one; printf 'two\\nthr'; sleep 0.1; printf 'ee\\n\\n'; echo four >&2; printf five");
  EXPECT_EQ(r.outcome, GateOutcome::kPass);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three", "", "four", "five"}));
  EXPECT_EQ(Log(), "one\ntwo\nthree\n\nfour\nfive");
}

// What a worker's heartbeat rides on: on_tick comes while the command runs,
// and may stop it (a lease lost).
TEST_F(GateRunnerTest, OnTickComesWhileItRunsAndMayStopIt) {
  static volatile std::sig_atomic_t stop = 0;
  stop = 0;
  options_.stop = &stop;
  options_.tick_ms = 50;
  int ticks = 0;
  options_.on_tick = [&] {
    if (std::filesystem::exists(dir_ / "started") && ++ticks == 3) stop = 1;
  };
  GateCommand gate{"unit", "echo $$; touch started; sleep 30", 60'000, 60'000};
  Result<GateResult> r = RunGate(gate, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBusy);
  EXPECT_EQ(ticks, 3);
  const pid_t sid = FirstNumber(Log());
  ASSERT_GT(sid, 0) << Log();
  EXPECT_THAT(Survivors(sid), ::testing::IsEmpty());
}

TEST_F(GateRunnerTest, AGateThatCannotStartIsAnError) {
  options_.workdir = dir_ / "missing";
  Result<GateResult> r = RunGate(GateCommand{"unit", "true"}, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message,
            "gate 'unit': cannot enter " + dir_ / "missing" + ": No such file or directory");

  options_.workdir = dir_.path();
  testing::Write(dir_ / "file", "x");
  options_.log_path = dir_ / "file/unit.log";
  r = RunGate(GateCommand{"unit", "true"}, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot create the gate log " + dir_ / "file/unit.log" + ": Not a directory");
}

TEST(ProcWatchTest, IdleMeansTheSameProcessesNoneRunningNoneWithMoreCpu) {
  const std::vector<ProcSample> a = {{10, 1, 10, 'S', 5, "sh"}, {11, 10, 10, 'S', 7, "sleep"}};
  EXPECT_TRUE(Idle(a, a));
  std::vector<ProcSample> b = a;
  b[1].cpu_ticks = 8;
  EXPECT_FALSE(Idle(a, b));
  b = a;
  b[0].state = 'R';
  EXPECT_FALSE(Idle(a, b));
  EXPECT_FALSE(Idle(b, a));
  b = a;
  b.push_back({12, 10, 10, 'S', 0, "cat"});
  EXPECT_FALSE(Idle(a, b));
  b = a;
  b[1].pid = 13;
  EXPECT_FALSE(Idle(a, b));
}

// What a starting worker kills before it removes a dead worker's worktree:
// the processes at work in that folder or below it, and no other.
TEST(ProcWatchTest, ProcessesWorkingInFindsThoseInTheFolderOrBelowOnly) {
  TempDir dir{"specd-procs"};
  std::filesystem::create_directories(dir / "wt/sub");
  std::filesystem::create_directories(dir / "wt2");
  auto start = [&](const std::string& cwd) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(cwd.c_str()) != 0) ::_exit(1);
      ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  };
  const pid_t in = start(dir / "wt"), below = start(dir / "wt/sub"), beside = start(dir / "wt2");
  std::vector<pid_t> found;
  for (int i = 0; i < 500; ++i) {  // until both children have changed directory
    found = ProcessesWorkingIn(dir / "wt");
    if (found.size() >= 2) break;
    ::usleep(10'000);
  }
  std::sort(found.begin(), found.end());
  std::vector<pid_t> want = {in, below};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(found, want);
  for (pid_t p : {in, below, beside}) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
}

}  // namespace
}  // namespace specd::pipeline
