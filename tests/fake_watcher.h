// What drives WatchService's loop in process: a FakeWatcher that delivers
// the FsEvents a test scripts (through an eventfd, so the loop's poll wakes
// as it would for inotify) and a FakeClock that moves only when the test
// says so. Everything else (engine, journal, files) is real.
#pragma once

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "watchers/clock.h"
#include "watchers/file_watcher.h"
#include "watchers/watch_service.h"

namespace specd::testing {

class FakeClock : public Clock {
 public:
  int64_t NowMs() override { return now_ms_; }
  void Advance(int64_t ms) { now_ms_ += ms; }

 private:
  int64_t now_ms_ = 1'000'000;  // any start: the service only compares times
};

class FakeWatcher : public FileWatcher {
 public:
  FakeWatcher() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) ADD_FAILURE() << "eventfd: " << std::strerror(errno);
  }
  ~FakeWatcher() override {
    if (fd_ >= 0) ::close(fd_);
  }

  // What the next Read returns, added to what is queued.
  void Push(const std::string& path, FsEvent::Kind kind) {
    next_.events.push_back(FsEvent{path, kind});
    Wake();
  }
  // The kernel's queue overflowed: the next Read asks for a full rescan.
  void Overflow() {
    next_.rescan = next_.overflow = true;
    next_.rescan_reason = "the kernel's event queue overflowed (fs.inotify.max_queued_events)";
    Wake();
  }
  int reads() const { return reads_; }

  const char* name() const override { return "fake"; }
  int fd() const override { return fd_; }
  int64_t interval_ms() const override { return 0; }
  size_t watched() const override { return 0; }
  Result<WatchBatch> Read() override {
    ++reads_;
    uint64_t count;
    while (::read(fd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count)) {
    }
    return std::exchange(next_, WatchBatch{});
  }

 private:
  void Wake() {
    const uint64_t one = 1;
    if (::write(fd_, &one, sizeof one) != static_cast<ssize_t>(sizeof one)) ADD_FAILURE() << "eventfd write";
  }

  int fd_;
  WatchBatch next_;
  int reads_ = 0;
};

// A WatcherFactory that hands the service `watcher` (which it then owns;
// the test keeps the pointer it gave).
inline WatcherFactory HandOver(FakeWatcher* watcher) {
  return
      [watcher]() -> Result<std::unique_ptr<FileWatcher>> { return std::unique_ptr<FileWatcher>(watcher); };
}

}  // namespace specd::testing
