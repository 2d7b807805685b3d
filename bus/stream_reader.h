// Reading the event stream back (`specd events` with NATS configured): one
// repository's events from SPECD_EVENTS, in stream order, through an ordered
// consumer of its own (nothing is left on the server when it ends).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "bus/nats_conn.h"
#include "engine/journal.h"

namespace specd {

struct StreamReadOptions {
  std::string repo_id, subject_prefix;
  int64_t since = 0;           // journal seq: only the events after it
  bool follow = false;         // false: up to what the stream held at the start
  std::function<bool()> stop;  // looked at between messages (follow)
};

// Calls `each` for every event of the repository in the stream. kNotFound
// when the stream does not exist yet, kBusy when the server is away.
Status ReadEventStream(NatsConn* conn, const StreamReadOptions& options,
                       const std::function<void(const EventRecord&)>& each);

}  // namespace specd
