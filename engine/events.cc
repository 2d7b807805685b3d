#include "engine/events.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace specd {

std::optional<int64_t> ParseTimestamp(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  size_t i = static_cast<size_t>(consumed);
  if (i < text.size() && text[i] == '.') {  // fraction: milliseconds kept
    int64_t scale = 100;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, scale /= 10) {
      ms += (text[i] - '0') * scale;
    }
  }
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) return ms;
  int oh = 0, om = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-') &&
      std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) {
    int64_t offset = (oh * 60 + om) * 60'000;
    return text[i] == '+' ? ms - offset : ms + offset;
  }
  return std::nullopt;
}

std::string FormatTimestamp(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<EngineEvent::Kind> ParseEventKind(std::string_view name) {
  for (auto k : {EngineEvent::Kind::kRegistered, EngineEvent::Kind::kTransition, EngineEvent::Kind::kRefused,
                 EngineEvent::Kind::kInvalid, EngineEvent::Kind::kRemoved, EngineEvent::Kind::kArchived,
                 EngineEvent::Kind::kWaiting, EngineEvent::Kind::kEdited, EngineEvent::Kind::kClaimed,
                 EngineEvent::Kind::kReleased, EngineEvent::Kind::kExpired, EngineEvent::Kind::kTaskFailed,
                 EngineEvent::Kind::kSubmitted}) {
    if (name == EventKindName(k)) return k;
  }
  return std::nullopt;
}

EventRecord ToEventRecord(const EngineEvent& e, int64_t at_ms, const std::string& trace_id) {
  EventRecord r;
  r.at_ms = at_ms;
  r.kind = EventKindName(e.kind);
  r.spec_id = e.spec_id;
  r.task_id = e.task_id;
  r.path = e.path;
  r.from = e.from;
  r.to = e.to;
  r.actor = e.actor;
  r.reason = e.reason;
  r.trace_id = trace_id;
  return r;
}

EngineEvent FromEventRecord(const EventRecord& r) {
  EngineEvent e;
  e.kind = ParseEventKind(r.kind).value_or(EngineEvent::Kind::kEdited);
  e.spec_id = r.spec_id;
  e.task_id = r.task_id;
  e.path = r.path;
  e.from = r.from;
  e.to = r.to;
  e.actor = r.actor;
  e.reason = r.reason;
  return e;
}

const char* EventKindName(EngineEvent::Kind kind) {
  switch (kind) {
    case EngineEvent::Kind::kRegistered:
      return "registered";
    case EngineEvent::Kind::kTransition:
      return "transition";
    case EngineEvent::Kind::kRefused:
      return "refused";
    case EngineEvent::Kind::kInvalid:
      return "invalid";
    case EngineEvent::Kind::kRemoved:
      return "removed";
    case EngineEvent::Kind::kArchived:
      return "archived";
    case EngineEvent::Kind::kWaiting:
      return "waiting";
    case EngineEvent::Kind::kEdited:
      return "edited";
    case EngineEvent::Kind::kClaimed:
      return "claimed";
    case EngineEvent::Kind::kReleased:
      return "released";
    case EngineEvent::Kind::kExpired:
      return "expired";
    case EngineEvent::Kind::kTaskFailed:
      return "task-failed";
    case EngineEvent::Kind::kSubmitted:
      return "submitted";
  }
  return "?";
}

std::string DescribeEvent(const EngineEvent& e) {
  switch (e.kind) {
    case EngineEvent::Kind::kRegistered:
      return e.spec_id + ": registered at " + e.to;
    case EngineEvent::Kind::kTransition:
      return e.spec_id + ": " + e.from + " -> " + e.to + " (" + e.actor +
             (e.reason.empty() ? "" : ": " + e.reason) + ")";
    case EngineEvent::Kind::kRefused:
      return e.spec_id + ": refused " + e.from + " -> " + e.to + ", status put back to " + e.from + ": " +
             e.reason;
    case EngineEvent::Kind::kInvalid:
      return e.spec_id + ": invalid, left as it is: " + e.reason;
    case EngineEvent::Kind::kRemoved:
      return e.spec_id + ": file removed (" + e.path + "), history kept";
    case EngineEvent::Kind::kArchived:
      return e.spec_id + ": archived to " + e.path;
    case EngineEvent::Kind::kWaiting:
      return e.spec_id + ": " + e.from + ", waiting: " + e.reason;
    case EngineEvent::Kind::kEdited:
      return e.spec_id + ": edited";
    case EngineEvent::Kind::kClaimed:
    case EngineEvent::Kind::kReleased:
    case EngineEvent::Kind::kExpired:
    case EngineEvent::Kind::kTaskFailed:
    case EngineEvent::Kind::kSubmitted:
      return e.spec_id + " " + e.task_id + ": " + EventKindName(e.kind) + " by " + e.actor + ", " + e.from +
             " -> " + e.to + (e.reason.empty() ? "" : " (" + e.reason + ")");
  }
  return e.spec_id;
}

}  // namespace specd
