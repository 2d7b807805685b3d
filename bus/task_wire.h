// The task verbs on the wire (specd watch serving remote workers, bus/
// task_service.h; a remote worker, bus/remote_tasks.h): one JSON object per
// request and per reply. Pure: no connection.
//
// Subjects: <prefix.>specd.<repo>.next|heartbeat|release|submit|fail, and
// <prefix.>heartbeat.<worker> (a heartbeat, answered as the verb is; the
// name with what a subject cannot hold made '_').
// A request: {"id": the request's id (a retry carries the same), "worker",
// "spec", "task", "token", "reason", "tail", "patch", "title"}, the fields
// the verb needs; the patch travels as "patch64", base64, every byte kept
// (a diff of a Latin-1 file is not UTF-8). A reply: {"ok": true, "reply": TaskReply, "brief": ...}
// or {"ok": false, "code": "busy"|"not-found"|..., "message"}.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/task_broker.h"

namespace specd {

struct TaskRequest {
  std::string id, worker, spec, task, token, reason, tail, patch, title;
  std::string repo;  // the repository asked ("" any: the subject names it)
};

struct TaskAnswer {
  std::optional<Error> error;  // the verb could not be done (not a refusal)
  TaskReply reply;
  std::optional<AttemptBrief> brief;
  std::string brief_error;  // next claimed, but the brief could not be made
};

std::string TaskVerbSubject(const std::string& prefix, const std::string& repo, const std::string& verb);
std::string HeartbeatSubject(const std::string& prefix, const std::string& worker);

std::string EncodeRequest(const TaskRequest& r);
std::optional<TaskRequest> DecodeRequest(std::string_view data);
std::string EncodeAnswer(const TaskAnswer& a);
// kInvalid when `data` is not an answer.
Result<TaskAnswer> DecodeAnswer(std::string_view data);

}  // namespace specd
