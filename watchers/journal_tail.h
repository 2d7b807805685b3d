// The live view of a journal: transitions and refusals recorded after a
// point, by this process or any other (a CLI verb, a git hook, another
// watcher's engine), as engine events. specd watch shows them as they are
// committed, so its output is the repository's activity, not its own.
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
  // Tells `sink` of every transition, then every refusal, journaled since
  // the last call, oldest first.
  Status Drain(EventSink* sink);

 private:
  Journal* journal_;
  int64_t transitions_ = 0;
  int64_t refusals_ = 0;
};

// Whether the engine journals this kind of event as a transition or a
// refusal (and a live view shows it from the journal, not from the engine).
bool IsJournaledKind(EngineEvent::Kind kind);

}  // namespace specd
