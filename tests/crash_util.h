// What the crash tests share (tests/crash_test.cc, tests/task_crash_test.cc):
// the seed, the point a run is ended at, the forked child that is ended
// there, and what the restart compares: bytes with the run's own trace id
// swapped away, and the temp files a killed writer left behind.
// The method: a forked child runs one engine operation; half the runs end it
// inside a chosen Env call (raise(SIGKILL) before its Nth file operation, N
// uniform over the operations an uninterrupted run makes), half are killed
// by the parent after a random delay (uniform over 1.5 times an
// uninterrupted run's duration), which also lands inside SQLite's commit
// and inside work that makes no Env call at all.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "engine/env.h"
#include "tests/fake_env.h"

namespace specd::testing {

// A random seed, or SPECD_CRASH_SEED's; printed (and recorded as the test's
// property) so that a failing run can be repeated.
inline uint64_t CrashSeed(const char* what) {
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("SPECD_CRASH_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::cout << what << " seed: " << seed << " (SPECD_CRASH_SEED=" << seed << " repeats it)\n";
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

// Where a run ends: before the child's kill_at-th Env call (by_hook), or
// when the parent kills it delay_us after it said it was ready.
struct CrashPoint {
  bool by_hook = false;
  int kill_at = 0;  // 0: the child's Env never kills it
  int64_t delay_us = 0;
};

// Half the runs by hook (N uniform over `env_calls`), half by timer
// (uniform over 1.5 times `micros`).
inline CrashPoint PickCrashPoint(std::mt19937_64& rng, int env_calls, int64_t micros) {
  CrashPoint at;
  at.by_hook = rng() % 2 == 0;
  if (at.by_hook) {
    at.kill_at = 1 + static_cast<int>(rng() % static_cast<uint64_t>(std::max(env_calls, 1)));
  } else {
    at.delay_us = static_cast<int64_t>(rng() % static_cast<uint64_t>(micros * 3 / 2 + 1));
  }
  return at;
}

// `env` ends the process with SIGKILL right before its kill_at-th call
// (nothing when kill_at is 0). For the child only.
inline void KillBeforeCall(FakeEnv* env, int kill_at) {
  if (kill_at <= 0) return;
  env->SetHook([kill_at, calls = 0](FakeEnv::Op, const std::string&) mutable {
    if (++calls == kill_at) ::raise(SIGKILL);
  });
}

// What the child runs: it sets up (its own journal handle, engine, Env with
// KillBeforeCall(kill_at)), calls ready() right before the operation under
// test, and returns its exit code (0: the operation did what it should).
using CrashChild = std::function<int(int kill_at, const std::function<void()>& ready)>;

// Forks a child running `child` and ends it at `at`; the child's wait
// status, or -1 when it could not be started or never said it was ready.
// `micros`, when given, gets the time from ready to the child's end.
inline int ForkAndCrash(const CrashPoint& at, const CrashChild& child, int64_t* micros = nullptr) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::close(ready[0]);
    const int code = child(at.kill_at, [&]() {
      char c = 1;
      if (::write(ready[1], &c, 1) != 1) ::_exit(5);
    });
    ::_exit(code);
  }
  ::close(ready[1]);
  char c;
  const bool started = ::read(ready[0], &c, 1) == 1;
  ::close(ready[0]);
  const auto start = std::chrono::steady_clock::now();
  if (started && !at.by_hook) {
    // Not a wait for something to happen: the moment to strike. Sleeping
    // (not spinning) leaves the CPU to the child.
    struct timespec delay = {static_cast<time_t>(at.delay_us / 1'000'000),
                             static_cast<long>(at.delay_us % 1'000'000) * 1000};
    while (::nanosleep(&delay, &delay) != 0 && errno == EINTR) {
    }
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (micros) {
    *micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
                  .count();
  }
  return started ? status : -1;
}

inline bool KilledBySigkill(int status) {
  return status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// How the runs ended.
struct CrashCounts {
  int runs = 0, by_hook = 0, by_timer = 0, killed = 0, finished = 0;
};

// One run: `child` forked and ended at a point picked by `rng` (over
// `env_calls` Env calls, `micros` of an uninterrupted forked run), counted;
// a test failure unless it was killed or finished with exit code 0.
inline void CrashAt(std::mt19937_64& rng, int env_calls, int64_t micros, const CrashChild& child,
                    CrashCounts* counts) {
  const CrashPoint at = PickCrashPoint(rng, env_calls, micros);
  const int status = ForkAndCrash(at, child);
  ASSERT_GE(status, 0) << "the child did not start";
  ++counts->runs;
  (at.by_hook ? counts->by_hook : counts->by_timer)++;
  if (KilledBySigkill(status)) {
    ++counts->killed;
  } else {
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    ++counts->finished;
  }
}

// A CrashPoint that never ends the child: to time an uninterrupted run.
inline CrashPoint NoCrash() {
  CrashPoint at;
  at.by_hook = true;  // no timer
  return at;
}

inline int64_t Median(std::vector<int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// `bytes` with every `from` (a trace id) replaced by `to`, unquoted: the
// writer quotes a trace that would read as a number (all digits and one
// `e`), and trace ids are random, so quoting is compared away.
inline std::string SwapTrace(std::string bytes, const std::string& from, const std::string& to) {
  const std::string quoted = "\"" + from + "\"";
  for (size_t at = 0; !from.empty() && (at = bytes.find(quoted, at)) != std::string::npos;
       at += from.size()) {
    bytes.replace(at, quoted.size(), from);
  }
  for (size_t at = 0; !from.empty() && (at = bytes.find(from, at)) != std::string::npos; at += to.size()) {
    bytes.replace(at, from.size(), to);
  }
  return bytes;
}

// specd temp files (.specd-tmp-*) anywhere under `dir`, as paths.
inline std::vector<std::string> TempFilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(kTempPrefix, 0) == 0) out.push_back(e.path().string());
  }
  return out;
}

}  // namespace specd::testing
