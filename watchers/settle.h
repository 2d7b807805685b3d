// When to look at a changed file. A write that says it is finished (closed
// after writing, renamed into place) is looked at at once: that is what an
// editor's save and specd's own write-back look like, and why the latency
// of a save is the engine's alone. An event that does not end a write (a
// create, a modify, a delete that may be half of a rename-save) waits until
// the path has been quiet for the settle time; every new event on the path
// starts the wait again, so a burst of events is one look.
//
// A file that does not validate on a first look may be half-written: it is
// held for one more settle time and looked at again, and only if it is still
// invalid then, and no process has it open for writing, is it an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "watchers/file_watcher.h"

namespace specd {

class Settler {
 public:
  explicit Settler(int64_t settle_ms) : settle_ms_(settle_ms) {}

  void Note(const FsEvent& event, int64_t now_ms);
  // `path` was invalid on a first look (or its writer still has it open):
  // look again once it has been quiet.
  // `held_since_ms`: when it was first held (now_ms on a first hold).
  // Looked at again after `wait_ms` (-1: the settle time).
  void Hold(const std::string& path, int64_t now_ms, int64_t held_since_ms, int64_t wait_ms = -1);
  // Try again later (the engine could not finish it: busy journal, full disk).
  void Retry(const std::string& path, int64_t due_ms);

  struct Due {
    std::string path;
    bool last_look = false;     // held before: an invalid file is now an error
    int64_t held_since_ms = 0;  // when it was first held (last_look only)
  };
  // The paths due at `now_ms`, removed from the pending set, sorted.
  std::vector<Due> Take(int64_t now_ms);
  std::optional<int64_t> NextDue() const;
  size_t pending() const { return pending_.size(); }

 private:
  struct Entry {
    int64_t due_ms = 0;
    bool last_look = false;
    int64_t held_since_ms = 0;
  };
  int64_t settle_ms_;
  std::unordered_map<std::string, Entry> pending_;
};

}  // namespace specd
