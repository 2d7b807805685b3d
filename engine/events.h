// What the engine tells the world: one event per thing that happened to a
// spec (a transition, a refusal, ...). `specd reconcile` prints them; later
// consumers (metrics, NATS, the web board) subscribe as an EventSink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/journal.h"

namespace specd {

// What happened to one spec, for people (specd reconcile prints these) and
// for sinks (later: metrics, NATS, the web board).
struct EngineEvent {
  enum class Kind {
    kRegistered,
    kTransition,
    kRefused,
    kInvalid,
    kRemoved,
    kArchived,
    kWaiting,
    kEdited,
    // A task's: from and to are task states, task_id names it.
    kClaimed,
    kReleased,
    kExpired,
    kTaskFailed,
    kSubmitted,
  };
  Kind kind = Kind::kEdited;
  std::string spec_id;
  std::string path;  // repo-relative
  std::string from, to, actor, reason;
  std::string task_id;  // a task's event
};
const char* EventKindName(EngineEvent::Kind kind);
std::optional<EngineEvent::Kind> ParseEventKind(std::string_view name);
std::string DescribeEvent(const EngineEvent& e);  // one line for people

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(const EngineEvent& event) = 0;
};

// An event as the journal's event log keeps it (at `at_ms`, under the
// spec's trace), and back: every event the engine produces is one row,
// written with the change it reports (engine/apply.cc), read by specd watch
// and specd events.
EventRecord ToEventRecord(const EngineEvent& e, int64_t at_ms, const std::string& trace_id);
EngineEvent FromEventRecord(const EventRecord& r);

// RFC 3339 UTC with seconds, as written into changeLog and updatedAt.
std::string FormatTimestamp(int64_t unix_ms);
// An RFC 3339 date-time (Z or an offset, optional fraction) as Unix ms.
std::optional<int64_t> ParseTimestamp(const std::string& text);

}  // namespace specd
