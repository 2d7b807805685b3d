// Tasks under leases (issue 12): the verbs a worker uses. Each runs holding
// the journal's write lock (one group), sweeps expired leases first, then
// decides on the spec's file as it is now and goes the one decision path:
// a TaskAction in PlanInput, PlanSpec, ApplyPlan. So a claim is exactly
// once (two processes cannot both see a task pending), and a late worker's
// request is refused by its lease epoch.
#include <algorithm>
#include <climits>
#include <map>
#include <set>

#include "engine/engine.h"
#include "engine/hash.h"
#include "engine/loaded.h"
#include "engine/repo.h"

namespace specd {

namespace {

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

const TaskFact* FindTask(const SpecModel& model, const std::string& task_id) {
  for (const TaskFact& t : model.tasks) {
    if (t.id == task_id) return &t;
  }
  return nullptr;
}

bool TakesClaims(const std::string& status) {
  return status == "planning" || status == "in-progress";
}

std::string Seconds(int64_t ms) {
  return std::to_string(ms / 1000) + " s";
}

}  // namespace

Result<TaskReply> SpecEngine::OnSpecTask(const std::string& spec_id, const TaskDecider& decide) {
  if (Result<PassReport> pass = ReconcileSpec(spec_id); !pass.ok()) return pass.error();
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    SpecRecord record;
    Loaded file;
    Result<Outcome> current = LoadCurrent(spec_id, &record, &file);
    if (!current.ok()) return current.error();
    if (*current == Outcome::kRetry) continue;
    TaskReply reply;
    reply.spec_status = record.status;
    if (!record.errors.empty()) {
      reply.refused = spec_id + " does not validate; fix it first: " + FirstLine(record.errors);
      return reply;
    }
    Result<PlanInput> in = Gather(record.path, file, record, Source::kVerb);
    if (!in.ok()) return in.error();
    Result<std::optional<TaskAction>> action = decide(*in, &reply);
    if (!action.ok()) return action.error();
    if (!*action) return reply;
    in->task = std::move(**action);
    SpecPlan plan = PlanSpec(*in);
    reply.spec_status = plan.record.status;
    PassReport report;
    Result<Outcome> o = ApplyPlan(file, *in, std::move(plan), &report);
    if (!o.ok()) {
      if (o.error().code != ErrorCode::kInvalid) return o.error();
      reply.refused = o.error().message;  // the file cannot take the task's change
      return reply;
    }
    if (*o == Outcome::kDone) return reply;
    if (Result<PassReport> again = ReconcilePath(record.path); !again.ok()) return again.error();
  }
  return Error{spec_id + " kept changing while specd tried to update it; try again", ErrorCode::kConflict};
}

Result<std::optional<std::string>> SpecEngine::LeaseProblem(const std::string& spec_id,
                                                            const std::string& task_id,
                                                            const std::string& token, LeaseRecord* lease,
                                                            TaskRecord* counters) {
  Result<std::optional<TaskRecord>> task = journal_->GetTask(spec_id, task_id);
  if (!task.ok()) return task.error();
  *counters = task->value_or(TaskRecord{spec_id, task_id});
  std::optional<LeaseRecord> mine;
  if (std::optional<int64_t> epoch = LeaseTokenEpoch(token)) {
    Result<std::optional<LeaseRecord>> row = journal_->GetLease(spec_id, task_id, *epoch);
    if (!row.ok()) return row.error();
    mine = *row;
  }
  std::optional<std::string> why = LeaseRefusal(mine, counters->epoch, token, env_->NowMillis());
  if (!why && mine) *lease = *mine;
  if (why) *why = spec_id + " " + task_id + ": " + *why;
  return why;
}

// The spec's submitted diffs, except `except_task`'s, in submission order
// (the journal's; a diff submitted in another clone comes after, in the
// file's task order).
Result<std::vector<StackedPatch>> SpecEngine::Stack(const SpecModel& model, const std::string& except_task) {
  Result<std::vector<TaskRecord>> records = journal_->SpecTasks(model.id);
  if (!records.ok()) return records.error();
  std::map<std::string, int64_t> seq;
  for (const TaskRecord& r : *records) {
    if (r.submitted_seq > 0) seq[r.task_id] = r.submitted_seq;
  }
  std::vector<std::pair<std::pair<int64_t, size_t>, const TaskFact*>> order;
  for (size_t i = 0; i < model.tasks.size(); ++i) {
    const TaskFact& t = model.tasks[i];
    if (t.id == except_task || t.diff_path.empty()) continue;
    if (t.status != "diff-submitted" && t.status != "reviewed") continue;
    auto it = seq.find(t.id);
    order.push_back({{it == seq.end() ? INT64_MAX : it->second, i}, &t});
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<StackedPatch> stack;
  for (const auto& [key, t] : order) {
    Result<std::string> patch = env_->ReadFile(Absolute(t->diff_path));
    if (!patch.ok()) {
      return Error{model.id + " " + t->id + ": cannot read its submitted diff " + t->diff_path + ": " +
                       patch.error().message,
                   patch.error().code};
    }
    stack.push_back(StackedPatch{t->id, std::move(*patch)});
  }
  return stack;
}

Result<size_t> SpecEngine::SweepLeases() {
  return Locked<size_t>([&]() { return Sweep(); });
}

Result<size_t> SpecEngine::Sweep() {
  Result<std::vector<LeaseRecord>> held = journal_->HeldLeases("");
  if (!held.ok()) return held.error();
  size_t expired = 0;
  for (const LeaseRecord& lease : *held) {
    const int64_t now = env_->NowMillis();
    if (lease.expires_ms > now) continue;
    Result<std::optional<TaskRecord>> row = journal_->GetTask(lease.spec_id, lease.task_id);
    if (!row.ok()) return row.error();
    TaskRecord counters = row->value_or(TaskRecord{lease.spec_id, lease.task_id});
    counters.attempts += 1;
    counters.epoch = std::max(counters.epoch, lease.epoch) + 1;  // the expired epoch is fenced off
    counters.last_reason = "lease epoch " + std::to_string(lease.epoch) + " of " + lease.worker +
                           " expired: no heartbeat for " + Seconds(options_.lease_ttl_ms);
    LeaseRecord ended = lease;
    ended.outcome = "expired";
    ended.ended_ms = now;
    ended.reason = counters.last_reason;
    TaskAction action{TaskAction::Kind::kExpire, lease.task_id, "specd",
                      counters.last_reason,      ended,         counters};
    bool file_moved_on = false;
    Result<TaskReply> done = OnSpecTask(lease.spec_id, [&](const PlanInput& in, TaskReply*) {
      // The file no longer has the task in progress (a submit cut short after
      // its write, a hand edit): the file wins; the lease just ends.
      const TaskFact* task = FindTask(in.model, lease.task_id);
      file_moved_on = !task || task->status != "in-progress";
      return Result<std::optional<TaskAction>>(file_moved_on ? std::optional<TaskAction>()
                                                             : std::optional<TaskAction>(action));
    });
    if (!done.ok() && done.error().code != ErrorCode::kNotFound) return done.error();
    if (file_moved_on) {
      ended.reason = "the lease expired after the file had moved the task on";
      counters = row->value_or(TaskRecord{lease.spec_id, lease.task_id});
      counters.epoch = std::max(counters.epoch, lease.epoch) + 1;
    }
    if (!done.ok() || !done->refused.empty() || file_moved_on) {
      // The spec is gone or cannot be changed: the lease ends in the journal alone.
      JournalBatch batch;
      batch.leases.push_back(ended);
      batch.tasks.push_back(counters);
      if (Status s = journal_->Apply(batch); !s.ok()) return s.error();
    }
    ++expired;
  }
  return expired;
}

Result<TaskReply> SpecEngine::Claim(const std::string& spec_id, const std::string& task_id,
                                    const std::string& worker) {
  return OnSpecTask(spec_id, [&](const PlanInput& in, TaskReply* reply) -> Result<std::optional<TaskAction>> {
    const std::string status = in.record ? in.record->status : in.model.status;
    if (!TakesClaims(status)) {
      reply->refused = spec_id + " is " + status + ": tasks are claimed in planning or in-progress";
      return std::optional<TaskAction>();
    }
    const TaskFact* task = FindTask(in.model, task_id);
    if (!task) {
      reply->refused = spec_id + " has no task " + task_id;
      return std::optional<TaskAction>();
    }
    Result<std::vector<LeaseRecord>> held = journal_->HeldLeases(spec_id);
    if (!held.ok()) return held.error();
    const bool leased =
        std::any_of(held->begin(), held->end(), [&](const LeaseRecord& l) { return l.task_id == task_id; });
    if (std::string why = WhyNotReady(*task, in.model.tasks, leased); !why.empty()) {
      reply->refused = spec_id + " " + why;
      return std::optional<TaskAction>();
    }
    Result<std::optional<TaskRecord>> row = journal_->GetTask(spec_id, task_id);
    if (!row.ok()) return row.error();
    TaskRecord counters = row->value_or(TaskRecord{spec_id, task_id});
    counters.epoch += 1;
    const int64_t now = env_->NowMillis();
    LeaseRecord lease{spec_id,
                      task_id,
                      counters.epoch,
                      worker,
                      NewLeaseToken(counters.epoch),
                      "",
                      now,
                      now + options_.lease_ttl_ms};
    if (workspace_) {
      Result<std::vector<StackedPatch>> stack = Stack(in.model, task_id);
      if (!stack.ok()) return stack.error();
      Result<std::string> base = workspace_->MakeBase(spec_id, task_id, counters.epoch, *stack);
      if (!base.ok()) {
        if (base.error().code != ErrorCode::kConflict && base.error().code != ErrorCode::kNotFound) {
          return base.error();
        }
        reply->refused = spec_id + " " + task_id + ": no base to start from: " + base.error().message;
        return std::optional<TaskAction>();
      }
      lease.base = *base;
    }
    reply->lease = lease;
    reply->files = task->files;
    reply->title = task->title;
    return std::optional<TaskAction>(
        TaskAction{TaskAction::Kind::kClaim, task_id, worker, "", lease, counters});
  });
}

Result<TaskReply> SpecEngine::ClaimTask(const std::string& spec_id, const std::string& task_id,
                                        const std::string& worker) {
  return Locked<TaskReply>([&]() -> Result<TaskReply> {
    if (Result<size_t> swept = Sweep(); !swept.ok()) return swept.error();
    return Claim(spec_id, task_id, worker);
  });
}

Result<TaskReply> SpecEngine::NextTask(const std::string& worker, const std::string& spec_id) {
  return Locked<TaskReply>([&]() -> Result<TaskReply> {
    if (Result<size_t> swept = Sweep(); !swept.ok()) return swept.error();
    std::vector<std::string> candidates;
    if (!spec_id.empty()) {
      candidates.push_back(spec_id);
    } else {
      Result<std::vector<SpecRecord>> specs = journal_->ListSpecs();
      if (!specs.ok()) return specs.error();
      for (const SpecRecord& r : *specs) {
        if (TakesClaims(r.status) && r.errors.empty()) candidates.push_back(r.id);
      }
    }
    Result<std::vector<LeaseRecord>> held = journal_->HeldLeases(spec_id);
    if (!held.ok()) return held.error();
    std::set<std::pair<std::string, std::string>> leased;
    for (const LeaseRecord& l : *held) leased.insert({l.spec_id, l.task_id});
    std::vector<ReadyTask> ready;
    for (const std::string& id : candidates) {
      if (Result<PassReport> pass = ReconcileSpec(id); !pass.ok()) return pass.error();
      SpecRecord record;
      Loaded file;
      Result<Outcome> current = LoadSettled(id, &record, &file);
      if (!current.ok()) return current.error();
      if (*current == Outcome::kRetry || !record.errors.empty() || !TakesClaims(record.status)) {
        if (spec_id.empty()) continue;
        TaskReply reply;
        reply.spec_status = record.status;
        reply.refused = !record.errors.empty()
                            ? id + " does not validate; fix it first: " + FirstLine(record.errors)
                            : id + " is " + record.status + ": tasks are claimed in planning or in-progress";
        return reply;
      }
      for (const TaskFact& t : file.model.tasks) {
        if (WhyNotReady(t, file.model.tasks, leased.count({id, t.id}) > 0).empty()) {
          ready.push_back(ReadyTask{id, file.model.priority, t});
        }
      }
    }
    OrderReady(&ready);
    if (ready.empty()) {
      TaskReply reply;
      reply.nothing_ready = true;
      return reply;
    }
    return Claim(ready.front().spec_id, ready.front().task.id, worker);
  });
}

Result<TaskReply> SpecEngine::Heartbeat(const std::string& spec_id, const std::string& task_id,
                                        const std::string& token) {
  return Locked<TaskReply>([&]() -> Result<TaskReply> {
    if (Result<size_t> swept = Sweep(); !swept.ok()) return swept.error();
    TaskReply reply;
    LeaseRecord lease;
    TaskRecord counters;
    Result<std::optional<std::string>> why = LeaseProblem(spec_id, task_id, token, &lease, &counters);
    if (!why.ok()) return why.error();
    if (*why) {
      reply.refused = **why;
      return reply;
    }
    lease.expires_ms = env_->NowMillis() + options_.lease_ttl_ms;  // journal only: never the file
    JournalBatch batch;
    batch.leases.push_back(lease);
    if (Status s = journal_->Apply(batch); !s.ok()) return s.error();
    reply.lease = lease;
    return reply;
  });
}

Result<TaskReply> SpecEngine::UnderLease(const std::string& spec_id, const std::string& task_id,
                                         const std::string& token, const LeasedDecider& decide) {
  return Locked<TaskReply>([&]() -> Result<TaskReply> {
    if (Result<size_t> swept = Sweep(); !swept.ok()) return swept.error();
    return OnSpecTask(
        spec_id, [&](const PlanInput& in, TaskReply* reply) -> Result<std::optional<TaskAction>> {
          LeaseRecord lease;
          TaskRecord counters;
          Result<std::optional<std::string>> why = LeaseProblem(spec_id, task_id, token, &lease, &counters);
          if (!why.ok()) return why.error();
          if (*why) {
            reply->refused = **why;
            return std::optional<TaskAction>();
          }
          lease.ended_ms = env_->NowMillis();
          return decide(in, lease, counters, reply);
        });
  });
}

Result<TaskReply> SpecEngine::ReleaseTask(const std::string& spec_id, const std::string& task_id,
                                          const std::string& token, const std::string& reason) {
  return UnderLease(spec_id, task_id, token,
                    [&](const PlanInput&, LeaseRecord lease, TaskRecord counters,
                        TaskReply* reply) -> Result<std::optional<TaskAction>> {
                      lease.outcome = "released";
                      lease.reason = reason;
                      reply->lease = lease;
                      return std::optional<TaskAction>(TaskAction{TaskAction::Kind::kRelease, task_id,
                                                                  lease.worker, reason, lease, counters});
                    });
}

Result<TaskReply> SpecEngine::FailTask(const std::string& spec_id, const std::string& task_id,
                                       const std::string& token, const std::string& reason,
                                       const std::string& log_tail) {
  return UnderLease(spec_id, task_id, token,
                    [&](const PlanInput&, LeaseRecord lease, TaskRecord counters,
                        TaskReply* reply) -> Result<std::optional<TaskAction>> {
                      lease.outcome = "failed";
                      lease.reason = reason;
                      counters.attempts += 1;
                      counters.last_reason = reason;
                      reply->lease = lease;
                      TaskAction action{
                          TaskAction::Kind::kFail, task_id, lease.worker, reason, lease, counters};
                      action.log_tail = log_tail;
                      return std::optional<TaskAction>(std::move(action));
                    });
}

Result<TaskReply> SpecEngine::SubmitTask(const std::string& spec_id, const std::string& task_id,
                                         const std::string& token, const std::string& patch) {
  Result<TaskReply> reply = SubmitUnderLease(spec_id, task_id, token, patch);
  if (!reply.ok() || reply->refused.empty()) return reply;
  // The same submit again (a reply lost on the way back, retried with the
  // same token): it was taken, and is told so, not refused.
  std::optional<int64_t> epoch = LeaseTokenEpoch(token);
  Result<std::optional<TaskRecord>> task = journal_->GetTask(spec_id, task_id);
  if (!epoch || !task.ok() || !*task) return reply;
  Result<std::optional<LeaseRecord>> lease = journal_->GetLease(spec_id, task_id, *epoch);
  if (!lease.ok() || !*lease) return reply;
  const TaskRecord& t = **task;
  const LeaseRecord& l = **lease;
  if (l.token != token || l.outcome != "submitted" || t.submitted_epoch != *epoch ||
      t.diff_hash != ContentHash(patch))
    return reply;
  TaskReply again;
  again.lease = l;
  again.diff_path = t.diff_path;
  if (Result<std::optional<SpecRecord>> spec = journal_->GetSpec(spec_id); spec.ok() && *spec)
    again.spec_status = (*spec)->status;
  return again;
}

Result<TaskReply> SpecEngine::SubmitUnderLease(const std::string& spec_id, const std::string& task_id,
                                               const std::string& token, const std::string& patch) {
  return UnderLease(
      spec_id, task_id, token,
      [&](const PlanInput& in, LeaseRecord lease, TaskRecord counters,
          TaskReply* reply) -> Result<std::optional<TaskAction>> {
        auto refuse = [&](std::string why) {
          reply->refused = spec_id + " " + task_id + ": " + why;
          return std::optional<TaskAction>();
        };
        const TaskFact* task = FindTask(in.model, task_id);
        if (!task) return refuse("the spec has no such task any more");
        if (task->status != "in-progress") return refuse("the task is " + task->status + ", not in-progress");
        if (patch.size() > options_.max_diff_bytes) {
          return refuse("the diff is " + std::to_string(patch.size()) + " bytes, over the limit of " +
                        std::to_string(options_.max_diff_bytes));
        }
        if (!workspace_) return refuse("submitting a diff needs a git repository");
        const std::string dir = ".agents/diffs/" + spec_id;
        if (Status s = CheckRepoDir(root_, ".agents/diffs"); !s.ok()) return s.error();
        if (Status s = CheckRepoDir(root_, dir); !s.ok()) return s.error();
        Result<std::vector<StackedPatch>> stack = Stack(in.model, task_id);
        if (!stack.ok()) return stack.error();
        Status check = workspace_->CheckSubmission(spec_id, task_id, lease.base, patch, task->files, *stack);
        if (!check.ok()) {
          if (check.error().code != ErrorCode::kInvalid && check.error().code != ErrorCode::kConflict) {
            return check.error();
          }
          return refuse(check.error().message);
        }
        Result<std::vector<TaskRecord>> siblings = journal_->SpecTasks(spec_id);
        if (!siblings.ok()) return siblings.error();
        int64_t last = 0;
        for (const TaskRecord& r : *siblings) last = std::max(last, r.submitted_seq);
        const std::string diff_path = dir + "/" + task_id + ".diff";
        counters.submitted_seq = last + 1;
        counters.diff_path = diff_path;
        counters.diff_hash = ContentHash(patch);
        counters.submitted_epoch = lease.epoch;
        lease.outcome = "submitted";
        reply->lease = lease;
        reply->diff_path = diff_path;
        TaskAction action{TaskAction::Kind::kSubmit, task_id, lease.worker, "", lease, counters};
        action.diff_path = diff_path;
        action.diff_bytes = patch;
        return std::optional<TaskAction>(std::move(action));
      });
}

}  // namespace specd
