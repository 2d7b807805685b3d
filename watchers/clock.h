// The watcher's sense of time: a monotonic clock in milliseconds, behind an
// interface so that the watch loop's timers (settle, retry, rescans, the
// git re-check) are driven by a fake clock in tests.
#pragma once

#include <time.h>

#include <cstdint>

namespace specd {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;  // monotonic: never goes back, unrelated to the wall clock
};

// CLOCK_MONOTONIC; lives for the whole process.
inline Clock* MonotonicClock() {
  class Monotonic : public Clock {
   public:
    int64_t NowMs() override {
      struct timespec ts;
      ::clock_gettime(CLOCK_MONOTONIC, &ts);
      return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
    }
  };
  static Monotonic clock;
  return &clock;
}

}  // namespace specd
