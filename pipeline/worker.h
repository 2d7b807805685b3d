// specd worker: a coding agent run on each ready task. Each of N slots
// loops: claim the next ready task (a TaskBroker: this repository's engine,
// or a coordinator over NATS) -> a fresh
// worktree at the lease's base (task_worktree.h) -> the agent, `/bin/sh -c
// CMD` in it, run as a gate is (gate_runner.h: own session, stdin
// /dev/null, timeout, blocked detection), the lease's heartbeats sent from
// here meanwhile -> exit 0: the worktree's change submitted; else the
// attempt failed with the log's tail -> the worktree removed -> next.
//
// Nothing ready: a slot waits for the journal to change (inotify on its
// folder) or for the earliest lease of anyone to expire; no polling. Asked
// to stop (*stop set by a signal): no new claim, the agents killed, their
// leases released, their worktrees removed.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/journal.h"
#include "engine/task_broker.h"
#include "pipeline/git_repo.h"
#include "schema/result.h"

namespace specd::pipeline {

struct WorkerOptions {
  std::string exec;   // the agent: /bin/sh -c EXEC in the task's worktree
  int workers = 1;    // slots; slot k claims as NAME (one slot) or NAME.k
  std::string name;   // the worker's name in leases
  std::string spec;   // only this spec's tasks ("" any)
  bool once = false;  // return when nothing is ready and no agent of ours runs
  int64_t timeout_ms = 3600'000;
  int64_t quiet_ms = 300'000;
  int64_t heartbeat_ms = 20'000;
  int64_t kill_grace_ms = 10'000;
  const volatile std::sig_atomic_t* stop = nullptr;  // set by SIGINT/SIGTERM
  // How idle slots hear that something changed: true when it did within
  // `wait_ms`. Empty: inotify on the local journal's folder.
  std::function<bool(int64_t wait_ms)> wait_for_change;
};

// What the worker did, for the CLI to show (lines, JSON, a live table).
struct WorkerEvent {
  enum class Kind {
    kClaimed,    // a task claimed; text: the task's title
    kLine,       // a line of the agent's output
    kSubmitted,  // its diff submitted; text: the diff's stored path
    kFailed,     // the attempt failed; text: why
    kReleased,   // the lease given back (the worker was stopped); text: why
    kLost,       // the lease was lost (expired, taken over); text: why
    kPruned,     // a dead worker's worktree removed; text: its path
    kIdle,       // the slot waits for work
  };
  Kind kind = Kind::kIdle;
  int slot = 0;  // 1..N
  std::string spec, task, worker;
  int64_t epoch = 0, attempt = 0;
  std::string text;
};
const char* WorkerEventName(WorkerEvent::Kind);  // "claimed", "line", ...

// Called from the slots' threads (calls are serialized by the worker).
class WorkerView {
 public:
  virtual ~WorkerView() = default;
  virtual void On(const WorkerEvent&) = 0;
  virtual void Tick() {}  // about twice a second, from the waiting thread: a live view redraws
};

// One slot's own task broker (its engine and journal connection, or its
// connection to a coordinator) and repository: each slot thread has
// connections of its own. `keep` owns them. `journal`: the local journal
// (null for a worker of a remote coordinator), whose dead workers'
// worktrees a starting worker prunes.
struct WorkerSlot {
  std::shared_ptr<void> keep;
  TaskBroker* broker = nullptr;
  GitRepo* git = nullptr;
  Journal* journal = nullptr;
  // Before an attempt: makes the lease's base commit present in `git`
  // (a remote worker fetches it); may be empty.
  std::function<Status(const LeaseRecord&)> fetch_base;
};
using OpenWorkerSlot = std::function<Result<WorkerSlot>()>;

struct WorkerStats {
  int claimed = 0, submitted = 0, failed = 0, released = 0, lost = 0;
};

// Runs until *stop, or (once) until nothing is left to do. An error when
// a slot cannot be opened, the journal cannot be watched, or a claim or a
// worktree fails for a reason that is not the task's (the worker stops: a
// full disk is not worked around by claiming again).
Result<WorkerStats> RunWorker(const WorkerOptions& options, const OpenWorkerSlot& open, WorkerView* view);

// specd's task worktrees whose lease is not live (ended, or past its
// expiry: its worker is gone), removed; what `specd reconcile` and a
// starting worker do. Returns the removed worktrees' paths.
Result<std::vector<std::string>> PruneDeadWorktrees(GitRepo& git, Journal& journal);

}  // namespace specd::pipeline
