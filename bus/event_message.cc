#include "bus/event_message.h"

#include <nlohmann/json.hpp>

#include "engine/events.h"
#include "engine/settings.h"

namespace specd {

std::string BusSubject(const std::string& prefix, const std::string& tail) {
  return prefix.empty() ? tail : prefix + "." + tail;
}

std::string EventStreamName(const std::string& prefix) {
  std::string name = "SPECD_EVENTS";
  if (prefix.empty()) return name;
  name += '_';
  for (char c : prefix) name += c == '.' ? '_' : c;
  return name;
}

std::vector<std::string> EventStreamSubjects(const std::string& prefix) {
  return {BusSubject(prefix, "specs.>")};
}

std::string EventSubjectTail(const EventRecord& e) {
  if (e.kind == "registered") return "specs.created";
  if (e.kind == "claimed") return "specs.task-assigned";
  if (e.kind == "submitted") return "specs.task-completed";
  if (e.kind == "task-failed") return "specs.failed";
  if (e.kind == "transition") {
    if (e.to == "diff-submitted" || e.to == "failed" || e.to == "completed") return "specs." + e.to;
  }
  return "specs.updated";
}

std::string EventPayload(const EventRecord& e, const std::string& repo) {
  nlohmann::ordered_json j = {
      {"repo", repo},
      {"seq", e.seq},
      {"at", FormatTimestamp(e.at_ms)},
      {"kind", e.kind},
      {"spec", e.spec_id},
      {"task", e.task_id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.task_id)},
      {"path", e.path},
      {"from", e.from},
      {"to", e.to},
      {"actor", e.actor},
      {"reason", e.reason},
      {"trace", e.trace_id}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EventMsgId(const EventRecord& e, const std::string& repo) {
  return repo + "/" + e.spec_id + "/" + std::to_string(e.seq);
}

std::optional<BusEvent> ParseEventPayload(std::string_view data) {
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto text = [&](const char* key) {
    auto at = j.find(key);
    return at != j.end() && at->is_string() ? at->get<std::string>() : std::string();
  };
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer() || text("repo").empty() || text("kind").empty())
    return std::nullopt;
  BusEvent out;
  out.repo = text("repo");
  EventRecord& e = out.event;
  e.seq = seq->get<int64_t>();
  e.at_ms = ParseTimestamp(text("at")).value_or(0);
  e.kind = text("kind");
  e.spec_id = text("spec");
  e.task_id = text("task");
  e.path = text("path");
  e.from = text("from");
  e.to = text("to");
  e.actor = text("actor");
  e.reason = text("reason");
  e.trace_id = text("trace");
  return out;
}

std::optional<BusConfig> BusConfigFor(const RepoSettings& settings, const std::string& repo_root,
                                      const std::string& url_override) {
  if (!settings.nats && url_override.empty()) return std::nullopt;
  BusConfig c;
  c.repo_id = settings.repo_id;
  if (settings.nats) {
    c.url = settings.nats->url;
    c.subject_prefix = settings.nats->subject_prefix;
    c.credentials_file = settings.nats->credentials_file;
    if (!c.credentials_file.empty() && c.credentials_file.front() != '/')
      c.credentials_file = repo_root + "/" + c.credentials_file;
  }
  if (!url_override.empty()) c.url = url_override;
  return c;
}

NatsConfig NatsConfigOf(const BusConfig& bus, std::string name) {
  NatsConfig c;
  c.url = bus.url;
  c.credentials_file = bus.credentials_file;
  c.name = std::move(name);
  return c;
}

}  // namespace specd
