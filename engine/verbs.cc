// The verbs' path into the engine: the spec's file reconciled as it is now,
// then the request planned and applied like any other change.
#include "engine/engine.h"
#include "engine/loaded.h"

namespace specd {

Result<PassReport> SpecEngine::ReconcileSpec(const std::string& id) {
  Result<std::optional<SpecRecord>> rec = journal_->GetSpec(id);
  if (!rec.ok()) return rec.error();
  if (*rec && !(*rec)->removed && env_->Exists(Absolute((*rec)->path))) return ReconcilePath((*rec)->path);
  return ReconcileAll();  // new to the journal, or moved: look everywhere
}

Result<Decision> SpecEngine::RequestTransition(const std::string& id, SpecState to, const Actor& actor,
                                               const std::string& reason) {
  return Locked<Decision>([&]() { return Transition(id, to, actor, reason); });
}

Result<Decision> SpecEngine::Transition(const std::string& id, SpecState to, const Actor& actor,
                                        const std::string& reason) {
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
    in->verb = Request{to, Via::kVerb, reason};
    in->verb_actor = actor;
    if (to == SpecState::kPlanning) {  // a reopen resets the tasks' attempts
      Result<std::vector<TaskRecord>> tasks = journal_->SpecTasks(id);
      if (!tasks.ok()) return tasks.error();
      in->task_records = std::move(*tasks);
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
  Result<FileStamp> stamp = env_->Stat(Absolute(record->path));
  if (!stamp.ok()) return stamp.error();
  if (Status s = Read(record->path, *stamp, file); !s.ok()) return s.error();
  const bool current = file->hash == record->content_hash;
  if (current) Parse(record->path, file);
  if (current && file->valid) return Outcome::kDone;
  // Saved since the pass: reconcile that version, then decide again.
  if (Result<PassReport> again = ReconcilePath(record->path); !again.ok()) return again.error();
  return Outcome::kRetry;
}

}  // namespace specd
