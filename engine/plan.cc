#include "engine/plan.h"

#include <set>
#include <tuple>

namespace specd {

namespace {

constexpr int kMaxEngineSteps = 8;  // approved -> planning -> in-progress -> ... in one pass

// The progress block as the writer takes it.
Progress ToProgress(const std::vector<std::pair<std::string, int64_t>>& counts) {
  Progress p;
  for (const auto& [key, value] : counts) {
    int v = static_cast<int>(value);
    if (key == "total") p.total = v;
    if (key == "pending") p.pending = v;
    if (key == "inProgress") p.in_progress = v;
    if (key == "diffSubmitted") p.diff_submitted = v;
    if (key == "reviewed") p.reviewed = v;
    if (key == "done") p.done = v;
    if (key == "failed") p.failed = v;
    if (key == "blocked") p.blocked = v;
    if (key == "percent") p.percent = v;
  }
  return p;
}

// Builds one spec's plan; each step below is one kind of decision.
class Planner {
 public:
  explicit Planner(const PlanInput& in) : in_(in), now_(FormatTimestamp(in.now_ms)) {
    plan_.record = in.record ? *in.record : SpecRecord{};
    plan_.record.id = in.id;
    plan_.record.path = in.rel;
    plan_.record.removed = false;
    plan_.record.updated_ms = in.now_ms;
    author_ = in.model.author.empty() ? "author" : in.model.author;
    facts_ = in.facts;
    facts_.valid = true;
    facts_.tasks = in.model.tasks;
    facts_.author = in.model.author;
  }

  SpecPlan Invalid() {
    SpecRecord& r = plan_.record;
    // A new failure, searchable later with `specd failures --like` (two copies
    // of one spec name each other in turn: one failure for the pair).
    const bool same_pair = in_.duplicate && r.errors.find("' is also in ") != std::string::npos;
    if (in_.errors != r.errors && !same_pair) {
      plan_.batch.failures.push_back(
          FailureRecord{0, in_.id, "", in_.first_error_pointer, in_.errors, "", in_.now_ms});
    }
    r.errors = in_.errors;
    plan_.recheck = in_.duplicate;  // until the other file is gone, whichever pass sees it
    Event(EngineEvent::Kind::kInvalid, r.status, "", "", in_.first_error);
    return std::move(plan_);
  }

  SpecPlan Valid() {
    ResolveFailure();
    const std::optional<SpecState> file_status = ParseState(in_.model.status);
    current_ = file_status ? *file_status : *ParseState(plan_.record.status);
    if (!in_.record || plan_.record.status.empty()) {
      Register();
    } else if (plan_.record.status != in_.model.status) {
      StatusChanged(file_status);
    }
    if (in_.verb && !Verb()) return std::move(plan_);
    if (in_.task) TaskStep(*in_.task);
    if (in_.source != Source::kGit) EngineSteps();
    if (in_.source == Source::kGit) plan_.record.waiting.clear();  // decided on the next ordinary pass
    Edits(file_status);
    Finish();
    return std::move(plan_);
  }

 private:
  void Event(EngineEvent::Kind kind, std::string from, std::string to, std::string actor,
             std::string reason) {
    plan_.events.push_back(EngineEvent{kind, in_.id, in_.rel, std::move(from), std::move(to),
                                       std::move(actor), std::move(reason)});
  }

  // It was invalid: say how the last failure was resolved.
  void ResolveFailure() {
    if (plan_.record.errors.empty() || !in_.open_failure) return;
    FailureRecord resolved = *in_.open_failure;
    resolved.resolution = "fixed by an edit of the file at " + now_ + " (author edit #" +
                          std::to_string(plan_.record.generation) + ")";
    plan_.batch.failures.push_back(resolved);
  }

  void Transition(SpecState from, SpecState to, const std::string& actor, const std::string& reason) {
    plan_.batch.transitions.push_back(
        TransitionRecord{0, in_.id, "", actor, StateName(from), StateName(to), reason, in_.now_ms, ""});
    plan_.edits.append_changelog.push_back(
        ChangeLogEntry{now_, actor, StateName(from), StateName(to), reason, ""});
    Event(EngineEvent::Kind::kTransition, StateName(from), StateName(to), actor, reason);
  }

  void Register() {
    plan_.record.trace_id = in_.new_trace_id;
    plan_.batch.transitions.push_back(TransitionRecord{0, in_.id, "", "specd", "", StateName(current_),
                                                       "registered", in_.now_ms, in_.hash});
    Event(EngineEvent::Kind::kRegistered, "", StateName(current_), "specd", "");
  }

  // The file's status is not the journal's last legal one.
  void StatusChanged(const std::optional<SpecState>& file_status) {
    const SpecRecord& r = plan_.record;
    const SpecState legal = *ParseState(r.status);
    std::set<std::tuple<std::string, std::string, std::string>> known;
    for (const TransitionRecord& t : in_.journaled) known.insert({FormatTimestamp(t.at_ms), t.from, t.to});
    for (const ChangeLogEntry& e : in_.known_log) known.insert({e.at, e.from, e.to});
    auto is_known = [&](const ChangeLogEntry& e) { return known.count({e.at, e.from, e.to}) > 0; };
    const std::vector<ChangeLogEntry>& log = in_.model.change_log;
    if (auto chain = NewChangeLogChain(log, is_known, r.status, in_.model.status)) {
      CatchUp(*chain);
    } else if (in_.source == Source::kGit && file_status) {
      // Already decided where it was made: recorded, never refused or rewritten.
      std::string reason = "by " + author_ + ": status edited in the file, brought in by git";
      Decision d =
          Decide(legal, facts_, Request{*file_status, Via::kSync, reason}, Actor{"git", Role::kEngine});
      if (!d.allowed) reason += " (" + d.reason + ")";
      plan_.batch.transitions.push_back(
          TransitionRecord{0, in_.id, "", "git", StateName(legal), in_.model.status, reason, in_.now_ms, ""});
      Event(EngineEvent::Kind::kTransition, StateName(legal), in_.model.status, "git", reason);
    } else {
      HandEdit(legal, file_status);
    }
  }

  // The file wins: transitions its changeLog has and the journal lacks are
  // recorded, at the entry's own time (so the next catch-up matches them).
  void CatchUp(const std::vector<size_t>& chain) {
    const std::vector<ChangeLogEntry>& log = in_.model.change_log;
    // Entries under this clone's trace were written by specd here (the
    // journal missed them in a crash): not an author's edit.
    bool ours = true;
    for (size_t i : chain) ours = ours && log[i].trace == plan_.record.trace_id;
    if (ours && in_.author_edit) --plan_.record.generation;
    author_edit_ = in_.author_edit && !ours;
    const bool via_git = in_.source == Source::kGit;
    plan_.caught_up = chain;
    for (size_t i : chain) {
      const ChangeLogEntry& e = log[i];
      // From git, the entry is git's; whoever made it is named in the reason.
      std::string reason = e.reason.empty() ? "recorded from the file" : e.reason;
      if (via_git) reason = "by " + (e.actor.empty() ? std::string("someone") : e.actor) + ": " + reason;
      const std::string actor = via_git ? "git" : e.actor;
      plan_.batch.transitions.push_back(TransitionRecord{
          0, in_.id, "", actor, e.from, e.to, reason, ParseTimestamp(e.at).value_or(in_.now_ms), in_.hash});
      Event(EngineEvent::Kind::kTransition, e.from, e.to, actor, "recorded from the file's changeLog");
    }
  }

  void HandEdit(SpecState legal, const std::optional<SpecState>& file_status) {
    Decision d =
        file_status
            ? Decide(legal, facts_, Request{*file_status, Via::kFileEdit, ""}, Actor{author_, Role::kAuthor})
            : Decision{false, legal, legal, "'" + in_.model.status + "' is not a spec status", {}};
    if (d.allowed) {
      Transition(legal, *file_status, author_, "status edited in the file");
      return;
    }
    plan_.batch.refusals.push_back(
        RefusalRecord{0, in_.id, author_, StateName(legal), in_.model.status, d.reason, in_.now_ms});
    Event(EngineEvent::Kind::kRefused, StateName(legal), in_.model.status, author_, d.reason);
    current_ = legal;
    plan_.edits.status = StateName(legal);
  }

  // false: refused, and the plan is the refusal alone (nothing written).
  bool Verb() {
    Decision d = Decide(current_, facts_, *in_.verb, in_.verb_actor);
    if (!d.allowed) {
      plan_ = SpecPlan{};
      plan_.verb = d;
      if (!d.rule.empty()) {  // who may do what: the refusal is journaled (`specd log`), nothing else
        plan_.batch.refusals.push_back(RefusalRecord{0, in_.id, in_.verb_actor.name, StateName(current_),
                                                     StateName(in_.verb->to), d.reason, in_.now_ms});
      }
      return false;
    }
    const bool rework = in_.verb->to == SpecState::kInProgress &&
                        (current_ == SpecState::kReviewed || current_ == SpecState::kDiffSubmitted);
    if (rework) Rework(&d.task_changes);
    for (const TaskChange& tc : d.task_changes) {
      TaskEdit te;
      te.task_id = tc.task_id;
      te.status = tc.status;
      if (tc.clear_assignee) te.assigned_to = std::optional<std::string>();
      plan_.edits.tasks.push_back(te);
      for (TaskFact& t : facts_.tasks) {
        if (t.id == tc.task_id) t.status = tc.status, t.assigned = t.assigned && !tc.clear_assignee;
      }
    }
    if (current_ == SpecState::kFailed && in_.verb->to == SpecState::kPlanning) Reopen();
    Transition(current_, in_.verb->to, in_.verb_actor.name, in_.verb->reason);
    current_ = in_.verb->to;
    plan_.verb = d;
    return true;
  }

  // Rejected work: each task sent back counts an attempt and leaves the
  // stack (a new submission goes last); the one that uses its attempts up
  // fails, and the spec with it. Each is a failure row, so `specd failures
  // --like` finds it.
  void Rework(std::vector<TaskChange>* changes) {
    for (TaskChange& tc : *changes) {
      TaskRecord r{in_.id, tc.task_id};
      for (const TaskRecord& known : in_.task_records) r = known.task_id == tc.task_id ? known : r;
      r.attempts += 1;
      r.submitted_seq = 0;
      r.last_reason = in_.verb->reason;
      plan_.batch.tasks.push_back(r);
      tc.status = AttemptFailed(r, in_.verb->reason, in_.verb_details);
    }
  }

  // A failed attempt of a task whose `counters` have counted it: a failure
  // row (`reason`, `details`: a log's tail); the last attempt fails the
  // task, and the spec with it. The task's new status.
  std::string AttemptFailed(const TaskRecord& counters, const std::string& reason,
                            const std::string& details) {
    plan_.batch.failures.push_back(
        FailureRecord{0, in_.id, counters.task_id, reason, details, "", in_.now_ms});
    if (counters.attempts < in_.max_attempts) return "pending";
    facts_.attempts_exhausted = true;
    facts_.exhausted_reason =
        counters.task_id + " used up its " + std::to_string(in_.max_attempts) + " attempts; last: " + reason;
    return "failed";
  }

  // failed -> planning: every failed task is pending again, attempts reset.
  void Reopen() {
    for (TaskFact& t : facts_.tasks) {
      if (t.status != "failed") continue;
      TaskEdit te;
      te.task_id = t.id;
      te.status = "pending";
      te.assigned_to = std::optional<std::string>();
      plan_.edits.tasks.push_back(te);
      t.status = "pending";
      t.assigned = false;
    }
    for (TaskRecord r : in_.task_records) {
      if (r.attempts == 0) continue;
      r.attempts = 0;
      plan_.batch.tasks.push_back(r);
    }
  }

  // A task's claim, release, expiry, failure or submission: the task's new
  // state in the file, its lease and counters in the journal, one event.
  void TaskStep(const TaskAction& a) {
    TaskFact* task = nullptr;
    for (TaskFact& t : facts_.tasks) task = t.id == a.task_id ? &t : task;
    if (!task) return;  // the engine checked it is there
    const std::string from = task->status;
    TaskEdit te;
    te.task_id = a.task_id;
    EngineEvent::Kind kind = EngineEvent::Kind::kClaimed;
    std::string to, reason = a.reason;
    std::optional<std::string> assignee;  // nullopt: null in the file
    switch (a.kind) {
      case TaskAction::Kind::kClaim:
        to = "in-progress", assignee = a.actor;
        reason =
            "lease epoch " + std::to_string(a.lease.epoch) + " until " + FormatTimestamp(a.lease.expires_ms);
        break;
      case TaskAction::Kind::kRelease:
        to = "pending", kind = EngineEvent::Kind::kReleased;
        break;
      case TaskAction::Kind::kExpire:
      case TaskAction::Kind::kFail: {
        kind = a.kind == TaskAction::Kind::kExpire ? EngineEvent::Kind::kExpired
                                                   : EngineEvent::Kind::kTaskFailed;
        to = AttemptFailed(a.counters, a.reason, a.log_tail);
        reason += " (attempt " + std::to_string(a.counters.attempts) + " of " +
                  std::to_string(in_.max_attempts) + ")";
        break;
      }
      case TaskAction::Kind::kSubmit:
        to = "diff-submitted", kind = EngineEvent::Kind::kSubmitted, assignee = task->assigned_to;
        te.diff_path = a.diff_path;
        plan_.writes.push_back(SpecPlan::FileWrite{a.diff_path, a.diff_bytes});
        break;
    }
    te.status = to;
    if (!(a.kind == TaskAction::Kind::kSubmit)) te.assigned_to = assignee;
    task->status = to;
    task->assigned = assignee.has_value();
    task->assigned_to = assignee.value_or("");
    plan_.edits.tasks.push_back(te);
    plan_.batch.leases.push_back(a.lease);
    plan_.batch.tasks.push_back(a.counters);
    // A worker's verb is journaled as worker:NAME (the lease and assignedTo
    // keep NAME); an expiry is the engine's.
    const std::string actor = a.kind == TaskAction::Kind::kExpire ? a.actor : "worker:" + a.actor;
    EngineEvent e{kind, in_.id, in_.rel, from, to, actor, reason};
    e.task_id = a.task_id;
    plan_.events.push_back(std::move(e));
  }

  // The engine's own steps; a new "waiting" reason is an event.
  void EngineSteps() {
    std::string waiting;
    for (int i = 0; i < kMaxEngineSteps; ++i) {
      EngineStep step = NextEngineStep(current_, facts_);
      if (!step.to) {
        waiting = step.waiting;
        break;
      }
      Transition(current_, *step.to, "specd", step.reason);
      current_ = *step.to;
    }
    // Said again only when it changed, or after a transition reached it.
    if (!waiting.empty() && (waiting != plan_.record.waiting || !plan_.batch.transitions.empty())) {
      Event(EngineEvent::Kind::kWaiting, StateName(current_), "", "specd", waiting);
    }
    plan_.record.waiting = waiting;
  }

  // What the file gets. Git-clean: only a change the engine makes (a
  // transition written to the changeLog, a status put back, a task change)
  // writes the file; `progress` and `updatedAt` ride along with it, never
  // alone, and git's files are left as git wrote them.
  void Edits(const std::optional<SpecState>& file_status) {
    SpecEdits& edits = plan_.edits;
    if (!file_status || current_ != *file_status) edits.status = StateName(current_);
    if (in_.source == Source::kGit || edits.empty()) {
      edits = SpecEdits{};
      return;
    }
    std::vector<std::pair<std::string, int64_t>> progress = DeriveProgress(facts_.tasks);
    if ((!facts_.tasks.empty() || in_.model.has_progress) && progress != in_.model.progress) {
      edits.progress = ToProgress(progress);
    }
    // updatedAt is the time of the change the changeLog records: a task's
    // change alone (a claim, a release) leaves it, so clones agree on it.
    if (!edits.append_changelog.empty() || edits.status) edits.updated_at = now_;
    for (ChangeLogEntry& e : edits.append_changelog) e.trace = plan_.record.trace_id;
  }

  void Finish() {
    SpecRecord& r = plan_.record;
    r.status = StateName(current_);
    r.errors.clear();
    for (TransitionRecord& t : plan_.batch.transitions) t.trace_id = r.trace_id;
    if (IsTerminal(current_) && in_.rel.find("/archive/") == std::string::npos &&
        in_.source != Source::kGit) {
      plan_.archive_dir = ".agents/specs/archive/" + now_.substr(0, 7);
    }
    if (plan_.events.empty() && author_edit_) {
      Event(EngineEvent::Kind::kEdited, r.status, "", author_, "");
    }
  }

  const PlanInput& in_;
  const std::string now_;
  SpecPlan plan_;
  SpecFacts facts_;
  std::string author_;
  SpecState current_ = SpecState::kDraft;
  bool author_edit_ = in_.author_edit;
};

}  // namespace

SpecPlan PlanSpec(const PlanInput& in) {
  Planner planner(in);
  return in.valid ? planner.Valid() : planner.Invalid();
}

SpecPlan PlanUnwritable(const PlanInput& in, const std::string& why) {
  PlanInput unwritable = in;
  unwritable.valid = false;
  unwritable.errors = "specd cannot update this file: " + why + "\n";
  unwritable.first_error = unwritable.errors;
  SpecPlan plan = Planner(unwritable).Invalid();
  plan.batch.failures.clear();  // not the author's mistake to search for: the file is fine
  return plan;
}

}  // namespace specd
