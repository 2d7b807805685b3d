// One watcher per repository: an flock(2) on <git dir>/specd/watch.lock,
// held for the life of the process (the kernel lets go when it dies, so a
// crash leaves no stale lock). The file holds the owner's pid, so a second
// watcher can say who is already watching.
#pragma once

#include <memory>
#include <string>

#include "engine/journal.h"  // WatchLockPathFor
#include "schema/result.h"

namespace specd {

class WatchLock {
 public:
  // Error (naming the holder's pid) when another process holds it.
  static Result<std::unique_ptr<WatchLock>> Acquire(const std::string& path);
  ~WatchLock();
  WatchLock(const WatchLock&) = delete;
  WatchLock& operator=(const WatchLock&) = delete;

 private:
  explicit WatchLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace specd
