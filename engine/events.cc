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
  }
  return e.spec_id;
}

}  // namespace specd
