// The event log's rows as NATS messages, and back. Pure: no connection.
//
// Subjects (each after the settings' subjectPrefix and a dot, when given):
//   specs.created         a spec registered
//   specs.diff-submitted  a spec's transition to diff-submitted
//   specs.failed          a transition to failed, or a task's attempt failed
//   specs.completed       a transition to completed
//   specs.task-assigned   a task claimed under a lease
//   specs.task-completed  a task's diff submitted
//   specs.updated         every other event (transitions, refusals, invalid
//                         files, waits, archives, removals, releases, expiries)
//   heartbeat.<worker>    a worker's heartbeat (core NATS, not kept)
// One message per event; its Nats-Msg-Id is repo/spec/seq, so the stream's
// duplicate window drops a message published again after a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/nats_conn.h"
#include "engine/journal.h"

namespace specd {

struct RepoSettings;

// The stream: SPECD_EVENTS, or SPECD_EVENTS_<prefix> (dots as '_') under a
// subjectPrefix, so repositories with different prefixes share a server.
std::string EventStreamName(const std::string& prefix);

// `prefix` + "." + `tail`, or `tail` without a prefix.
std::string BusSubject(const std::string& prefix, const std::string& tail);
// The subjects the event stream holds: "<prefix.>specs.>".
std::vector<std::string> EventStreamSubjects(const std::string& prefix);
// The subject's tail ("specs.created", ...) an event is published on.
std::string EventSubjectTail(const EventRecord& e);
// {"repo","seq","at","kind","spec","task","path","from","to","actor","reason","trace"};
// task is null for a spec's own event.
std::string EventPayload(const EventRecord& e, const std::string& repo);
std::string EventMsgId(const EventRecord& e, const std::string& repo);

struct BusEvent {
  std::string repo;
  EventRecord event;
};
// A payload read back; nullopt when it is not one of ours.
std::optional<BusEvent> ParseEventPayload(std::string_view data);

// Where this repository's events go: the settings' `nats` with `url_override`
// (--nats URL) in its place when given; the credentials file made absolute
// against `repo_root`. nullopt when neither names a server.
struct BusConfig {
  std::string url, subject_prefix, credentials_file, repo_id;
};
std::optional<BusConfig> BusConfigFor(const RepoSettings& settings, const std::string& repo_root,
                                      const std::string& url_override);
// The connection's settings for `bus`; `name` is how the server lists the
// client ("specd watch shop").
NatsConfig NatsConfigOf(const BusConfig& bus, std::string name);

}  // namespace specd
