// specd worker's loop (worker.h): the slots' threads, and the thread that
// watches the journal for them.
#include "pipeline/worker.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/events.h"
#include "engine/journal_changes.h"
#include "pipeline/gate_runner.h"
#include "pipeline/proc_watch.h"
#include "pipeline/task_worktree.h"

namespace specd::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kTickMs = 100;          // how soon an agent hears of a stop
constexpr int64_t kWaitMaxMs = 60'000;    // an idle slot looks again at least this often
constexpr int64_t kViewTickMs = 500;      // a live view's redraw
constexpr size_t kReasonLineBytes = 200;  // the agent's last line in a failure's reason

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The last line of `tail` with something in it, at most kReasonLineBytes.
std::string LastLine(const std::string& tail) {
  size_t end = tail.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t start = tail.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = tail.substr(start, end + 1 - start);
  if (line.size() > kReasonLineBytes) line = line.substr(0, kReasonLineBytes) + "...";
  return line;
}

Status WriteText(const std::string& path, const std::string& text, fs::perms mode) {
  std::error_code ec;
  fs::remove(path, ec);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return Error{"cannot write " + path};
  }
  fs::permissions(path, mode, ec);
  if (ec) return Error{"cannot set the mode of " + path + ": " + ec.message()};
  return Status::Ok();
}

// What the slots share: the wake-ups, the counters, the view.
struct Shared {
  const WorkerOptions& options;
  WorkerView* view;
  std::mutex mu;
  std::condition_variable cv;
  int64_t generation = 0;  // bumped on every change of the journal's files
  int busy = 0;            // slots claiming or running an agent
  int alive = 0;           // slots whose thread has not ended
  bool done = false;       // once: nothing is left
  volatile std::sig_atomic_t stopping = 0;
  std::optional<Error> fatal;
  WorkerStats stats;
  std::mutex view_mu;

  void Emit(const WorkerEvent& e) {
    std::lock_guard<std::mutex> l(view_mu);
    if (view) view->On(e);
  }
  bool Stopping() const { return stopping || (options.stop && *options.stop); }
  void Fail(Error error) {
    std::lock_guard<std::mutex> l(mu);
    if (!fatal) fatal = std::move(error);
    stopping = 1;
    cv.notify_all();
  }
};

class Slot {
 public:
  Slot(int index, WorkerSlot parts, Shared* shared)
      : index_(index), parts_(std::move(parts)), shared_(*shared), options_(shared->options) {
    name_ = options_.workers == 1 ? options_.name : options_.name + "." + std::to_string(index);
  }

  void Run() {
    bool idle = false;
    while (!shared_.Stopping()) {
      int64_t seen;
      {
        std::lock_guard<std::mutex> l(shared_.mu);
        if (shared_.done) break;
        seen = shared_.generation;
        ++shared_.busy;
      }
      Result<TaskReply> reply = parts_.broker->Next(name_, options_.spec);
      if (!reply.ok()) {
        Done();
        shared_.Fail(Error{"cannot claim a task: " + reply.error().message, reply.error().code});
        break;
      }
      if (reply->nothing_ready || !reply->refused.empty()) {
        if (!idle) Emit(WorkerEvent::Kind::kIdle, {}, index_ == 1 ? reply->refused : "");  // said once
        idle = true;
        if (!Wait(seen)) break;
        continue;
      }
      idle = false;
      Attempt(*reply);
      Done();
    }
    std::lock_guard<std::mutex> l(shared_.mu);
    --shared_.alive;
    shared_.cv.notify_all();
  }

 private:
  void Done() {
    std::lock_guard<std::mutex> l(shared_.mu);
    --shared_.busy;
    shared_.cv.notify_all();
  }

  // Nothing ready: until the journal changes or a lease may have expired.
  // False when the worker is done (once, and nothing runs) or stopping.
  bool Wait(int64_t seen) {
    int64_t wait_ms = kWaitMaxMs;
    if (const int64_t expiry = parts_.broker->EarliestExpiry(); expiry > 0)
      wait_ms = std::min(wait_ms, expiry - WallMs() + 50);
    wait_ms = std::max<int64_t>(wait_ms, 50);
    std::unique_lock<std::mutex> l(shared_.mu);
    --shared_.busy;
    if (options_.once && shared_.busy == 0) {
      shared_.done = true;
      shared_.cv.notify_all();
      return false;
    }
    shared_.cv.wait_for(l, std::chrono::milliseconds(wait_ms),
                        [&] { return shared_.generation != seen || shared_.done || shared_.Stopping(); });
    return !shared_.done && !shared_.Stopping();
  }

  void Emit(WorkerEvent::Kind kind, const LeaseRecord& lease, const std::string& text) {
    WorkerEvent e;
    e.kind = kind;
    e.slot = index_;
    e.spec = lease.spec_id;
    e.task = lease.task_id;
    e.worker = name_;
    e.epoch = lease.epoch;
    e.attempt = attempt_;
    e.text = text;
    shared_.Emit(e);
  }

  void Count(int WorkerStats::*counter) {
    std::lock_guard<std::mutex> l(shared_.mu);
    ++(shared_.stats.*counter);
  }

  // The files the agent is given: the spec as it is now, read-only, the
  // task's files, failures like its last one; and its environment.
  Result<std::vector<std::pair<std::string, std::string>>> Prepare(const TaskReply& reply,
                                                                   const std::string& stem,
                                                                   const AttemptBrief& brief) {
    const LeaseRecord& lease = reply.lease;
    std::error_code ec;
    fs::create_directories(fs::path(stem).parent_path(), ec);
    if (ec) return Error{"cannot create " + fs::path(stem).parent_path().string() + ": " + ec.message()};
    std::string files;
    for (const std::string& f : reply.files) files += f + "\n";
    const auto ro = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
    for (const auto& [suffix, text] :
         {std::pair<std::string, const std::string*>{".spec.yaml", &brief.spec_bytes},
          {".files", &files},
          {".similar-failures", &brief.similar_failures}}) {
      if (Status s = WriteText(stem + suffix, *text, ro); !s.ok()) return s.error();
    }
    return std::vector<std::pair<std::string, std::string>>{
        {"SPECD_SPEC", lease.spec_id},
        {"SPECD_TASK", lease.task_id},
        {"SPECD_SPEC_FILE", stem + ".spec.yaml"},
        {"SPECD_TASK_FILES", stem + ".files"},
        {"SPECD_SIMILAR_FAILURES", stem + ".similar-failures"},
        {"SPECD_ATTEMPT", std::to_string(attempt_)},
        {"SPECD_TRACE", brief.trace_id},
        {"SPECD_BASE", lease.base},
    };
  }

  void Attempt(const TaskReply& reply) {
    const LeaseRecord& lease = reply.lease;
    Result<AttemptBrief> brief = parts_.broker->Brief(reply);
    attempt_ = brief.ok() ? brief->attempt : 1;
    Count(&WorkerStats::claimed);
    Emit(WorkerEvent::Kind::kClaimed, lease, reply.title);
    if (shared_.Stopping()) return Release(lease, "the worker was stopped");
    if (!brief.ok()) return GiveUp(lease, "cannot prepare the attempt: " + brief.error().message);
    if (parts_.fetch_base) {
      if (Status s = parts_.fetch_base(lease); !s.ok())
        return GiveUp(lease, "cannot fetch the task's base: " + s.error().message);
    }
    const std::string stem = parts_.git->common_dir() + "/specd/logs/" + lease.spec_id + "/" + lease.task_id +
                             "/" + std::to_string(lease.epoch);
    Result<std::vector<std::pair<std::string, std::string>>> env = Prepare(reply, stem, *brief);
    if (!env.ok()) return GiveUp(lease, "cannot prepare the attempt: " + env.error().message);
    Result<TaskWorktree> wt =
        AddTaskWorktree(*parts_.git, lease.spec_id, lease.task_id, lease.epoch, lease.base);
    if (!wt.ok()) return GiveUp(lease, "cannot make the task's worktree: " + wt.error().message);
    env->push_back({"SPECD_WORKTREE", wt->path});
    Run(lease, *wt, stem + ".log", std::move(*env));
    if (Status s = RemoveTaskWorktree(*parts_.git, *wt); !s.ok()) {
      shared_.Fail(Error{"cannot remove the worktree " + wt->path + ": " + s.error().message});
    }
  }

  void Run(const LeaseRecord& lease, const TaskWorktree& wt, const std::string& log,
           std::vector<std::pair<std::string, std::string>> env) {
    volatile std::sig_atomic_t stop = 0;
    std::string lost;
    // Every heartbeat interval of the settings, and at least three times a
    // lease's life (a remote coordinator's TTL may be shorter than this
    // clone's settings say).
    const int64_t life = lease.expires_ms - lease.claimed_ms;
    const int64_t beat_ms =
        life > 0 ? std::min(options_.heartbeat_ms, std::max<int64_t>(life / 3, 200)) : options_.heartbeat_ms;
    int64_t next_beat = WallMs() + beat_ms;
    GateCommand command{lease.spec_id + "/" + lease.task_id, options_.exec, options_.timeout_ms,
                        options_.quiet_ms};
    GateRunOptions run;
    run.workdir = wt.path;
    run.log_path = log;
    run.env = std::move(env);
    run.kill_grace_ms = options_.kill_grace_ms;
    run.stop = &stop;
    run.tick_ms = kTickMs;
    run.on_line = [&](const std::string& line) { Emit(WorkerEvent::Kind::kLine, lease, line); };
    run.on_tick = [&] {
      if (shared_.Stopping()) stop = 1;
      if (WallMs() < next_beat) return;
      Result<TaskReply> beat = parts_.broker->Heartbeat(lease);
      if (beat.ok() && !beat->refused.empty()) {
        lost = beat->refused;
        stop = 1;
      }
      // An error (a busy journal) is tried again at the next tick.
      next_beat = beat.ok() ? WallMs() + beat_ms : WallMs() + 1000;
    };
    Result<GateResult> ran = RunGate(command, run);
    if (!lost.empty()) {
      Count(&WorkerStats::lost);
      return Emit(WorkerEvent::Kind::kLost, lease, lost);
    }
    if (!ran.ok() && ran.error().code == ErrorCode::kBusy) return Release(lease, "the worker was stopped");
    if (!ran.ok()) return FailAttempt(lease, "the agent could not start: " + ran.error().message, "");
    switch (ran->outcome) {
      case GateOutcome::kPass:
        return Submit(lease, wt, ran->tail);
      case GateOutcome::kFail: {
        const std::string last = LastLine(ran->tail);
        return FailAttempt(lease, "the agent failed (" + ran->why + ")" + (last.empty() ? "" : ": " + last),
                           ran->tail);
      }
      case GateOutcome::kTimeout:
        return FailAttempt(lease, ran->why, ran->tail);
      case GateOutcome::kBlocked:
        return FailAttempt(lease,
                           ran->why.find("waiting on a read") != std::string::npos
                               ? "blocked: waiting for input (" + ran->why + ")"
                               : ran->why,
                           ran->tail);
    }
  }

  void Submit(const LeaseRecord& lease, const TaskWorktree& wt, const std::string& tail) {
    Result<std::string> patch = WorktreePatch(*parts_.git, wt);
    if (!patch.ok()) return GiveUp(lease, "cannot read the worktree's change: " + patch.error().message);
    if (patch->empty()) return FailAttempt(lease, "the agent exited 0 but changed nothing", tail);
    Result<TaskReply> sent = parts_.broker->Submit(lease, *patch);
    if (!sent.ok()) return GiveUp(lease, "cannot submit: " + sent.error().message);
    if (!sent->refused.empty()) return FailAttempt(lease, "its diff was refused: " + sent->refused, tail);
    Count(&WorkerStats::submitted);
    Emit(WorkerEvent::Kind::kSubmitted, lease, sent->diff_path);
  }

  void FailAttempt(const LeaseRecord& lease, const std::string& reason, const std::string& tail) {
    Result<TaskReply> r = parts_.broker->Fail(lease, reason, tail);
    if (!r.ok()) return shared_.Fail(Error{"cannot record the failure: " + r.error().message});
    if (!r->refused.empty()) {
      Count(&WorkerStats::lost);
      return Emit(WorkerEvent::Kind::kLost, lease, r->refused + " (the attempt had failed: " + reason + ")");
    }
    Count(&WorkerStats::failed);
    Emit(WorkerEvent::Kind::kFailed, lease, reason);
  }

  void Release(const LeaseRecord& lease, const std::string& reason) {
    Result<TaskReply> r = parts_.broker->Release(lease, reason);
    if (!r.ok()) return shared_.Fail(Error{"cannot release the lease: " + r.error().message});
    if (!r->refused.empty()) {
      Count(&WorkerStats::lost);
      return Emit(WorkerEvent::Kind::kLost, lease, r->refused);
    }
    Count(&WorkerStats::released);
    Emit(WorkerEvent::Kind::kReleased, lease, reason);
  }

  // Not the task's fault (a full disk, a broken repository): the lease
  // goes back and the worker stops rather than claim again.
  void GiveUp(const LeaseRecord& lease, const std::string& why) {
    Release(lease, why);
    shared_.Fail(Error{lease.spec_id + " " + lease.task_id + ": " + why});
  }

  int index_;
  WorkerSlot parts_;
  Shared& shared_;
  const WorkerOptions& options_;
  std::string name_;
  int64_t attempt_ = 0;
};

}  // namespace

const char* WorkerEventName(WorkerEvent::Kind kind) {
  switch (kind) {
    case WorkerEvent::Kind::kClaimed:
      return "claimed";
    case WorkerEvent::Kind::kLine:
      return "line";
    case WorkerEvent::Kind::kSubmitted:
      return "submitted";
    case WorkerEvent::Kind::kFailed:
      return "failed";
    case WorkerEvent::Kind::kReleased:
      return "released";
    case WorkerEvent::Kind::kLost:
      return "lost";
    case WorkerEvent::Kind::kPruned:
      return "pruned";
    case WorkerEvent::Kind::kIdle:
      return "idle";
  }
  return "idle";
}

Result<std::vector<std::string>> PruneDeadWorktrees(GitRepo& git, Journal& journal) {
  const int64_t now = WallMs();
  std::optional<Error> error;
  Result<std::vector<TaskWorktree>> pruned =
      PruneTaskWorktrees(git, [&](const std::string& spec, const std::string& task, int64_t epoch) {
        Result<std::optional<LeaseRecord>> lease = journal.GetLease(spec, task, epoch);
        if (!lease.ok()) {
          if (!error) error = lease.error();
          return true;  // not known: kept
        }
        if (*lease && (*lease)->held() && (*lease)->expires_ms > now) return true;
        // Its worker was killed; its agent may not have been (it runs in a
        // session of its own) and would go on writing into the folder.
        const std::string dir =
            git.common_dir() + "/specd/worktrees/" + spec + "-" + task + "-" + std::to_string(epoch);
        for (pid_t pid : ProcessesWorkingIn(dir)) ::kill(pid, SIGKILL);
        return false;
      });
  if (error) return *error;
  if (!pruned.ok()) return pruned.error();
  std::vector<std::string> paths;
  for (const TaskWorktree& wt : *pruned) paths.push_back(wt.path);
  return paths;
}

Result<WorkerStats> RunWorker(const WorkerOptions& options, const OpenWorkerSlot& open, WorkerView* view) {
  Shared shared{options, view};
  std::vector<std::unique_ptr<Slot>> slots;
  std::string journal_path;
  for (int k = 1; k <= options.workers; ++k) {
    Result<WorkerSlot> parts = open();
    if (!parts.ok()) return parts.error();
    if (!parts->git)
      return Error{"specd worker needs a git repository (each task is worked on in a worktree)"};
    if (k == 1 && parts->journal) {
      journal_path = parts->journal->path();
      Result<std::vector<std::string>> pruned = PruneDeadWorktrees(*parts->git, *parts->journal);
      if (!pruned.ok()) return pruned.error();
      for (const std::string& path : *pruned) {
        WorkerEvent e;
        e.kind = WorkerEvent::Kind::kPruned;
        e.text = path;
        shared.Emit(e);
      }
    }
    slots.push_back(std::make_unique<Slot>(k, std::move(*parts), &shared));
  }
  JournalChanges watch;
  std::function<bool(int64_t)> wait_for_change = options.wait_for_change;
  if (!wait_for_change) {
    if (journal_path.empty())
      return Error{"specd worker: nothing to wait on for work (no journal, no coordinator)"};
    if (Status s = watch.Start(journal_path); !s.ok()) return s.error();
    // The slots read after each wake; a short re-look after a WAL write
    // (engine/journal_changes.h) costs them a look at nothing at worst.
    wait_for_change = [&watch](int64_t ms) {
      const bool changed = watch.Wait(ms);
      if (changed) watch.Found(false);
      return changed;
    };
  }
  shared.alive = options.workers;
  std::vector<std::thread> threads;
  for (auto& slot : slots) threads.emplace_back([s = slot.get()] { s->Run(); });
  int64_t next_view = WallMs() + kViewTickMs;
  for (;;) {
    {
      std::lock_guard<std::mutex> l(shared.mu);
      if (shared.alive == 0) break;
    }
    const bool changed = wait_for_change(kTickMs);
    std::lock_guard<std::mutex> l(shared.mu);
    if (changed) ++shared.generation;
    if (changed || shared.Stopping()) shared.cv.notify_all();
    if (WallMs() >= next_view) {
      next_view = WallMs() + kViewTickMs;
      std::lock_guard<std::mutex> v(shared.view_mu);
      if (view) view->Tick();
    }
  }
  for (std::thread& t : threads) t.join();
  if (shared.fatal) return *shared.fatal;
  return shared.stats;
}

}  // namespace specd::pipeline
