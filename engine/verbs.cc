// The verbs' path into the engine: the spec's file reconciled as it is now,
// then the request planned and applied like any other change.
#include "engine/engine.h"
#include "engine/gates.h"
#include "engine/loaded.h"

namespace specd {

Result<PassReport> SpecEngine::ReconcileSpec(const std::string& id) {
  Result<std::optional<SpecRecord>> rec = journal_->GetSpec(id);
  if (!rec.ok()) return rec.error();
  if (*rec && !(*rec)->removed && env_->Exists(Absolute((*rec)->path))) return ReconcilePath((*rec)->path);
  return ReconcileAll();  // new to the journal, or moved: look everywhere
}

Result<PassReport> SpecEngine::LookAgain(const std::string& id) {
  return Locked<PassReport>([&]() -> Result<PassReport> {
    PassReport report;
    for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
      SpecRecord record;
      Loaded file;
      Result<Outcome> current = LoadCurrent(id, &record, &file);
      if (!current.ok()) return current.error();
      if (*current == Outcome::kRetry) continue;
      if (!record.errors.empty()) return report;
      Result<PlanInput> in = Gather(record.path, file, record, Source::kVerb);
      if (!in.ok()) return in.error();
      Result<Outcome> o = ApplyPlan(file, *in, PlanSpec(*in), &report);
      if (!o.ok()) return o.error();
      if (*o == Outcome::kDone) return report;
    }
    return Error{id + " kept changing while specd looked at it; try again", ErrorCode::kConflict};
  });
}

Result<Decision> SpecEngine::RequestTransition(const std::string& id, SpecState to, const Actor& actor,
                                               const std::string& reason,
                                               const std::vector<std::string>& tasks,
                                               const std::string& details) {
  return Locked<Decision>([&]() {
    return Transition(id, to, actor, Request{to, Via::kVerb, reason, tasks}, details);
  });
}

Result<std::vector<StackedPatch>> SpecEngine::SpecStack(const std::string& id, SpecModel* model) {
  return Locked<std::vector<StackedPatch>>([&]() -> Result<std::vector<StackedPatch>> {
    SpecRecord record;
    Loaded file;
    Result<Outcome> current = LoadSettled(id, &record, &file);
    if (!current.ok()) return current.error();
    if (*current == Outcome::kRetry) return Error{id + " kept changing; try again", ErrorCode::kConflict};
    if (!record.errors.empty()) return Error{id + " does not validate; fix it first:\n" + record.errors};
    if (model) *model = file.model;
    return Stack(file.model, "");
  });
}

// Did every gate configured at the target's tip pass on the candidate the
// spec's stack makes there now? A moved tip or a new submission is a new
// candidate, so the gates run again.
Status SpecEngine::GatherGates(const SpecModel& model, SpecFacts* facts) {
  if (!workspace_) return Status::Ok();  // no git: no diffs, nothing to gate
  Result<std::vector<StackedPatch>> stack = Stack(model, "");
  if (!stack.ok()) return stack.error();
  Result<Candidate> candidate = workspace_->MakeCandidate(*stack);
  if (!candidate.ok()) {
    if (candidate.error().code != ErrorCode::kConflict) return candidate.error();
    facts->gates_pass = false;
    facts->gates_problem = candidate.error().message;
    return Status::Ok();
  }
  Result<std::vector<GateRunRecord>> runs = journal_->GateRuns(model.id, candidate->tree);
  if (!runs.ok()) return runs.error();
  std::vector<std::string> names;
  for (const RepoSettings::Gate& g : candidate->gates) names.push_back(g.name);
  GateVerdict v = JudgeGates(names, *runs, model.id, candidate->Where());
  facts->gates_pass = v.pass;
  facts->gates_problem = v.problem;
  return Status::Ok();
}

Result<Decision> SpecEngine::Transition(const std::string& id, SpecState to, const Actor& actor,
                                        const Request& request, const std::string& details) {
  Result<PassReport> pass = ReconcileSpec(id);  // act on the file as it is now
  if (!pass.ok()) return pass.error();
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    SpecRecord record;
    Loaded file;
    Result<Outcome> current = LoadCurrent(id, &record, &file);
    if (!current.ok()) return current.error();
    if (*current == Outcome::kRetry) continue;
    if (!record.errors.empty()) {
      Decision d;
      d.to = to;
      d.reason = "the spec does not validate; fix it first:\n" + record.errors;
      return d;
    }
    Result<PlanInput> in = Gather(record.path, file, record, Source::kVerb);
    if (!in.ok()) return in.error();
    in->verb = request;
    in->verb_actor = actor;
    in->facts.roles = options_.roles;
    in->verb_details = details;
    const std::string& from = record.status;
    if (to == SpecState::kPlanning ||
        to == SpecState::kInProgress) {  // a reopen resets attempts, a reject counts one
      Result<std::vector<TaskRecord>> tasks = journal_->SpecTasks(id);
      if (!tasks.ok()) return tasks.error();
      in->task_records = std::move(*tasks);
    }
    if (to == SpecState::kReviewed && from == StateName(SpecState::kDiffSubmitted)) {
      if (Status s = GatherGates(in->model, &in->facts); !s.ok()) return s.error();
    }
    SpecPlan plan = PlanSpec(*in);
    const Decision decision = plan.verb.value_or(Decision{});
    PassReport report;
    Result<Outcome> o = ApplyPlan(file, *in, std::move(plan), &report);
    if (!o.ok()) return o.error();
    if (*o == Outcome::kDone) return decision;
    if (Result<PassReport> again = ReconcilePath(record.path); !again.ok()) return again.error();
  }
  return Error{id + " kept changing while specd tried to update it; try again", ErrorCode::kConflict};
}

Result<SpecEngine::Outcome> SpecEngine::LoadCurrent(const std::string& id, SpecRecord* record, Loaded* file) {
  Result<std::optional<SpecRecord>> rec = journal_->GetSpec(id);
  if (!rec.ok()) return rec.error();
  if (!*rec || (*rec)->removed) {
    return Error{"no spec " + id + " in " + root_ + "/.agents/specs/", ErrorCode::kNotFound};
  }
  *record = **rec;
  if (!record->errors.empty()) return Outcome::kDone;
  const int64_t taken = env_->FileClockNanos();
  Result<FileStamp> stamp = env_->Stat(Absolute(record->path));
  if (!stamp.ok()) return stamp.error();
  if (Status s = Read(record->path, *stamp, taken, file); !s.ok()) return s.error();
  const bool current = file->hash == record->content_hash;
  if (current) Parse(record->path, file);
  if (current && file->valid) return Outcome::kDone;
  // Saved since the pass: reconcile that version, then decide again.
  if (Result<PassReport> again = ReconcilePath(record->path); !again.ok()) return again.error();
  return Outcome::kRetry;
}

Result<SpecEngine::Outcome> SpecEngine::LoadSettled(const std::string& id, SpecRecord* record, Loaded* file) {
  Result<Outcome> current = Outcome::kRetry;
  for (int i = 0; i < options_.max_write_attempts && *current == Outcome::kRetry; ++i) {
    current = LoadCurrent(id, record, file);
    if (!current.ok()) return current;
  }
  return current;
}

}  // namespace specd
