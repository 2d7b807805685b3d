// Tasks under leases (SPEC_FORMAT.md "Task states"; issue 12). A claim
// hands a worker a lease on one task: a fencing epoch that only goes up, a
// secret token carrying it, an expiry renewed by heartbeats, and the commit
// its work starts from. Leases and attempt counts live in the journal, never
// in the spec file (the file gets the task's status and assignedTo only).
// Everything here is pure: the engine (engine/tasks.cc) reads the journal,
// asks these, and plans the change like any other (engine/plan.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/state_machine.h"

namespace specd {

// One lease, a row of the journal's `leases` table. A held lease has no
// outcome; an ended one says how it ended.
struct LeaseRecord {
  std::string spec_id, task_id;
  int64_t epoch = 0;
  std::string worker, token;
  std::string base;  // the commit the work starts from ("" outside a git repository)
  int64_t claimed_ms = 0, expires_ms = 0;
  int64_t ended_ms = 0;
  std::string outcome;  // "" held; released, expired, failed, submitted
  std::string reason;
  bool held() const { return outcome.empty(); }
  bool operator==(const LeaseRecord&) const = default;
};

// One task's counters, a row of the journal's `tasks` table.
struct TaskRecord {
  std::string spec_id, task_id;
  int64_t epoch = 0;          // the highest epoch handed out or retired: the next claim gets more
  int64_t attempts = 0;       // failed or expired attempts since the spec was (re)planned
  int64_t submitted_seq = 0;  // 0: no diff submitted; else its place in the spec's stack
  std::string diff_path, diff_hash;
  int64_t submitted_epoch = 0;
  std::string last_reason;
  bool operator==(const TaskRecord&) const = default;
};

// "<epoch>.<32 hex digits from getrandom>": opaque to a worker, but the
// epoch can be read back to say which lease a stale token was for.
std::string NewLeaseToken(int64_t epoch);
std::optional<int64_t> LeaseTokenEpoch(std::string_view token);

// Why a request made with `token` on a task is refused, or nullopt: the
// token holds the task's live lease. `mine` is the lease row of the token's
// epoch (nullopt: none); `newest_epoch` the task's highest.
std::optional<std::string> LeaseRefusal(const std::optional<LeaseRecord>& mine, int64_t newest_epoch,
                                        std::string_view token, int64_t now_ms);

// A task a worker could take: pending, no held lease, and every dependency
// done, reviewed or diff-submitted. `ready` says why not when it is not.
std::string WhyNotReady(const TaskFact& task, const std::vector<TaskFact>& siblings, bool leased);

// One spec's ready tasks and what orders them against other specs'.
struct ReadyTask {
  std::string spec_id, spec_priority;
  TaskFact task;
};
// Orders candidates: the spec's priority (critical first; none last), then
// fewer dependencies, then the spec's id, then the task's.
void OrderReady(std::vector<ReadyTask>* ready);

// What a task request does, planned with the spec (PlanInput::task).
struct TaskAction {
  enum class Kind : uint8_t { kClaim, kRelease, kExpire, kFail, kSubmit };
  Kind kind = Kind::kClaim;
  std::string task_id;
  std::string actor;       // the worker (an expiry: "specd")
  std::string reason;      // release/fail: the worker's; expire: "no heartbeat for 60 s"
  LeaseRecord lease;       // the lease row as it becomes (claimed, or ended)
  TaskRecord counters;     // the task row as it becomes
  std::string log_tail;    // kFail: the end of the worker's log, for `specd failures --like`
  std::string diff_path;   // kSubmit: repo-relative
  std::string diff_bytes;  // kSubmit: the accepted patch, written to diff_path
};

}  // namespace specd
