// The live view of a journal: the event log's rows after a point, written by
// this process or any other (a CLI verb, a git hook, another watcher's
// engine), as engine events. specd watch shows them as they are committed,
// so its output is the repository's activity, not its own.
#pragma once

#include <cstdint>

#include "engine/events.h"
#include "engine/journal.h"

namespace specd {

class JournalTail {
 public:
  explicit JournalTail(Journal* journal) : journal_(journal) {}

  // From now on: what is journaled already is not shown.
  Status Start();
  // Tells `sink` of every event journaled since the last call, oldest first.
  Status Drain(EventSink* sink);

 private:
  Journal* journal_;
  int64_t seq_ = 0;
};

}  // namespace specd
