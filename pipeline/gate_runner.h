// One gate command run to its outcome: `/bin/sh -c RUN` in a session of its
// own, stdin /dev/null, stdout and stderr into one pipe that goes to a log
// (and, line by line with a "[name] " prefix, to a terminal), judged pass,
// fail, timeout or blocked. No threads: the pipe is polled.
//
// Blocked: no output for quiet_ms, and over a sample of 500 ms no process of
// the gate (its session and their descendants, read from /proc) used CPU or
// was running. A silent busy loop is never blocked; it ends by its timeout.
//
// The end: timeout and blocked signal every process of the gate (SIGTERM,
// SIGKILL after kill_grace_ms). When the shell exits by itself, whatever it
// left running (`daemon &`, a process that left the session but holds the
// output pipe) is killed the same way; its output until then is logged. So
// when RunGate returns, no process of the gate is left and the shell is reaped.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "schema/result.h"

namespace specd::pipeline {

struct GateCommand {
  std::string name;               // "unit", used in the prefix and the log name
  std::string run;                // a shell command: /bin/sh -c RUN
  int64_t timeout_ms = 1800'000;  // wall clock
  int64_t quiet_ms = 600'000;     // no output this long -> look for "blocked"
};

enum class GateOutcome { kPass, kFail, kTimeout, kBlocked };
const char* GateOutcomeName(GateOutcome);  // "pass" "fail" "timeout" "blocked"

struct GateRunOptions {
  std::string workdir;                                   // the gate's cwd (the candidate worktree)
  std::string log_path;                                  // created with its parent folders; whole output
  std::vector<std::pair<std::string, std::string>> env;  // added: SPECD_SPEC, SPECD_TRACE...
  int stream_fd = -1;              // >= 0: every output line also written here as "[name] line"
  int64_t kill_grace_ms = 10'000;  // SIGTERM to the group, SIGKILL after this
  // Set (non-zero) by a signal handler when the caller is asked to stop:
  // the gate's group is killed as on a timeout, and RunGate returns kBusy
  // ("stopped"), not an outcome: the work is not to blame.
  const volatile std::sig_atomic_t* stop = nullptr;
  // Each line of output as it comes, without its newline (a last line
  // without one too): what a live view shows.
  std::function<void(const std::string& line)> on_line;
  // Called about every tick_ms while the command runs (a worker's
  // heartbeat); it may set *stop.
  std::function<void()> on_tick;
  int64_t tick_ms = 0;
};

struct GateResult {
  std::string name;
  GateOutcome outcome = GateOutcome::kFail;
  int exit_code = -1;  // the shell's exit code; -1 when killed by us or by a signal
  int64_t duration_ms = 0;
  std::string log_path;
  std::string tail;  // the log's last 40 lines (at most 4 KiB), for the failures table and a reject reason
  std::string why;   // one line: "exit 2", "ran past its 1800 s timeout", "no output for 3 s and
                     // waiting on a read (pid 4242 sh: pipe_read)", "killed by signal 9"
};

// An error only when the gate cannot start: the log cannot be created
// (kPermission, kOther), the workdir is missing (kNotFound) or not
// enterable, /bin/sh cannot be run, fork fails. A gate that ran has a result.
Result<GateResult> RunGate(const GateCommand&, const GateRunOptions&);

// `s` as one word for /bin/sh: in single quotes, each ' written as '\''.
std::string ShellQuote(const std::string& s);

}  // namespace specd::pipeline
