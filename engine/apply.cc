// The apply step of a spec's pass: a plan (engine/plan.h) carried out. The
// journal takes the plan's rows first, inside a savepoint of the pass's
// group, so a journal that cannot take them leaves the file alone; then the
// file is written (conditionally: a save since it was read undoes the
// savepoint and the pass reads the file again) and archived; then the
// record gets the new stamp. Sinks hear the events once the group commits.
#include "engine/engine.h"
#include "engine/hash.h"
#include "engine/loaded.h"
#include "engine/spec_files.h"
#include "engine/writeback.h"

namespace specd {

namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

void SpecEngine::Emit(PassReport* report, EngineEvent event) {
  if (held_events_) {
    held_events_->push_back(event);
  } else {
    for (EventSink* sink : sinks_) sink->OnEvent(event);
  }
  ++report->event_count;
  report->events.push_back(std::move(event));  // one file's: a pass over many keeps them only if asked
}

Result<SpecEngine::Outcome> SpecEngine::ApplyPlan(const Loaded& file, const PlanInput& in, SpecPlan plan,
                                                  PassReport* report) {
  if (plan.verb && !plan.verb->allowed) {  // a refused verb changes nothing but its refusal row (roles)
    if (plan.batch.refusals.empty()) return Outcome::kDone;
    if (Status s = journal_->Apply(plan.batch); !s.ok()) return s.error();
    return Outcome::kDone;
  }
  std::optional<std::string> updated;
  if (!plan.edits.empty()) {
    Result<std::string> edited = ApplyEdits(file.bytes, plan.edits);
    if (edited.ok()) {
      updated = std::move(*edited);
    } else if (in.task) {
      // A task's change must reach the file or not happen at all.
      return Error{"specd cannot update " + in.rel + ": " + edited.error().message, ErrorCode::kInvalid};
    } else {
      std::optional<Decision> verb = plan.verb;
      plan = PlanUnwritable(in, edited.error().message);
      plan.verb = verb;
    }
  }
  SpecRecord& record = plan.record;
  // A file to look at again on every pass (a duplicate id) keeps no stamp
  // nor hash, so no pass takes it as unchanged.
  record.content_hash = plan.recheck ? "" : updated ? ContentHash(*updated) : file.hash;
  if (updated) record.written_hash = record.content_hash;
  SetStamp(&record, plan.recheck ? FileStamp{} : KeptStamp(file));
  if (plan.archive_dir) {
    record.path = *plan.archive_dir + "/" + BaseName(in.rel);
    plan.events.push_back(
        EngineEvent{EngineEvent::Kind::kArchived, record.id, record.path, "", record.status, "specd", ""});
  }
  plan.batch.upserts.push_back(record);
  for (const EngineEvent& e : plan.events)
    plan.batch.events.push_back(ToEventRecord(e, in.now_ms, record.trace_id));
  for (TransitionRecord& t : plan.batch.transitions) {
    if (t.content_hash.empty()) t.content_hash = record.content_hash;
  }
  // The journal first: if it cannot take the change, the file is not touched.
  if (Status s = journal_->Mark(); !s.ok()) return s.error();
  auto undo = [&](const Error& e) -> Result<Outcome> {
    journal_->Unmark(false);
    if (e.code == ErrorCode::kConflict) return Outcome::kRetry;  // saved meanwhile: re-read, re-apply
    return e;
  };
  if (Status s = journal_->Apply(plan.batch); !s.ok()) return undo(s.error());
  for (const SpecPlan::FileWrite& w : plan.writes) {  // a submitted diff, before the spec that names it
    Status s = env_->MakeDirs(Absolute(DirName(w.rel)));
    if (s.ok()) s = WriteFileAtomic(env_, Absolute(w.rel), w.bytes);
    if (!s.ok()) return undo(s.error());
  }
  FileStamp stamp = StampOf(record);
  if (updated) {
    if (Status w = WriteFileAtomic(env_, Absolute(in.rel), *updated, &file.stamp, &file.hash); !w.ok())
      return undo(w.error());
  }
  std::string now_at = in.rel;
  if (plan.archive_dir) {
    if (Status s = ArchiveFile(in.rel, *plan.archive_dir, &now_at); !s.ok()) return undo(s.error());
  }
  if ((updated || plan.archive_dir) && !plan.recheck) {
    const int64_t taken = env_->FileClockNanos();
    Result<FileStamp> after = env_->Stat(Absolute(now_at));
    if (!after.ok()) return undo(after.error());
    stamp = StampIsSettled(*after, taken) ? *after : FileStamp{};
  }
  if (!(stamp == StampOf(record))) {
    SetStamp(&record, stamp);
    JournalBatch restamp;
    restamp.upserts.push_back(record);
    if (Status s = journal_->Apply(restamp); !s.ok()) return undo(s.error());
  }
  if (Status s = journal_->Unmark(true); !s.ok()) return s.error();
  for (EngineEvent& e : plan.events) Emit(report, std::move(e));
  return Outcome::kDone;
}

// Moves a terminal spec's file to `dir` (repo-relative), durably.
Status SpecEngine::ArchiveFile(const std::string& rel, const std::string& dir, std::string* moved_to) {
  const std::string to = dir + "/" + BaseName(rel);
  Status s = env_->MakeDirs(Absolute(dir));
  if (s.ok()) s = env_->RenameFile(Absolute(rel), Absolute(to));
  if (s.ok()) s = env_->SyncDir(Absolute(dir));
  if (s.ok()) s = env_->SyncDir(Absolute(DirName(rel)));
  if (s.ok()) *moved_to = to;
  return s;
}

Status SpecEngine::RecordRemoved(const SpecRecord& record, PassReport* report) {
  SpecRecord gone = record;
  gone.removed = true;
  gone.updated_ms = env_->NowMillis();
  EngineEvent removed{EngineEvent::Kind::kRemoved, record.id, record.path, record.status, "", "", ""};
  JournalBatch batch;
  batch.upserts.push_back(gone);
  batch.events.push_back(ToEventRecord(removed, gone.updated_ms, record.trace_id));
  Status s = journal_->Apply(batch);
  if (!s.ok()) return s;
  Emit(report, std::move(removed));
  return Status::Ok();
}

// The file was touched, moved or restored, not changed: only its path and
// stamp are recorded.
Status SpecEngine::RecordStamp(SpecRecord record, const FileStamp& stamp) {
  SetStamp(&record, stamp);
  record.updated_ms = env_->NowMillis();
  JournalBatch batch;
  batch.upserts.push_back(std::move(record));
  return journal_->Apply(batch);
}

}  // namespace specd
