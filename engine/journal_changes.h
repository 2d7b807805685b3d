// Waking a reader of the journal (the NATS publisher, `specd events
// --follow`, an idle worker) when another connection may have committed:
// inotify on the journal's folder.
//
// inotify reports the first write to journal.db-wal, which comes before the
// commit is visible (that is journal.db-shm, written through a mapping:
// never reported), and folds the commit's later writes into that one event.
// A reader that wakes and finds nothing new would then sleep to its
// timeout with a commit waiting. So after a wake whose read found nothing
// (Found(false)), the next waits are short (2, 4, ... 128 ms) until a read
// finds something or the steps run out.
#pragma once

#include <cstdint>
#include <string>

#include "schema/result.h"

namespace specd {

class JournalChanges {
 public:
  JournalChanges() = default;
  ~JournalChanges();
  JournalChanges(const JournalChanges&) = delete;
  JournalChanges& operator=(const JournalChanges&) = delete;

  // Watches the folder of `journal_path`; an error when inotify cannot.
  Status Start(const std::string& journal_path);
  // Returns true when the journal's files changed (or a short re-look is
  // due), false after `max_ms`, or when `extra_fd` (>= 0) became readable.
  bool Wait(int64_t max_ms, int extra_fd = -1);
  // What the read after the last true Wait found.
  void Found(bool something);

 private:
  int fd_ = -1;
  std::string name_;        // the journal's file name: its -wal and -shm start with it
  int64_t relook_ms_ = 0;   // 0: none due; else the next short wait
  bool by_change_ = false;  // the last true Wait was an inotify event (not a re-look)
};

}  // namespace specd
