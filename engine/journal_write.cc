// Writing one journal batch: each kind of record in the order JournalBatch
// documents, on a connection already inside a transaction or savepoint.
#include "engine/journal_write.h"

#include <string>
#include <vector>

namespace specd {

namespace {

// "draft -> review"; a spec's first transition starts from nothing.
std::string Arrow(const std::string& from, const std::string& to) {
  return (from.empty() ? "(none)" : from) + " -> " + to;
}

std::string Nth(const char* what, size_t i, size_t n, const std::string& key) {
  return std::string("cannot record ") + what + " " + std::to_string(i + 1) + " of " + std::to_string(n) +
         " (" + key + ")";
}

Status WriteUpserts(SqliteDb& c, const std::vector<SpecRecord>& specs) {
  if (specs.empty()) return Status::Ok();
  Result<SqliteStmt> st = c.Prepare(
      "INSERT INTO specs (id, path, content_hash, size, mtime_ns, inode, status, generation, written_hash, "
      "trace_id, removed, errors, updated_ms, ctime_ns, waiting) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
      "ON CONFLICT (id) DO UPDATE SET path = excluded.path, content_hash = excluded.content_hash, "
      "size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, status = excluded.status, "
      "generation = excluded.generation, written_hash = excluded.written_hash, trace_id = excluded.trace_id, "
      "removed = excluded.removed, errors = excluded.errors, updated_ms = excluded.updated_ms, "
      "ctime_ns = excluded.ctime_ns, waiting = excluded.waiting");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < specs.size(); ++i) {
    const SpecRecord& r = specs[i];
    st->BindText(1, r.id);
    st->BindText(2, r.path);
    st->BindText(3, r.content_hash);
    st->BindInt(4, static_cast<int64_t>(r.size));  // uint64 stored bit for bit
    st->BindInt(5, r.mtime_ns);
    st->BindInt(6, static_cast<int64_t>(r.inode));
    st->BindText(7, r.status);
    st->BindInt(8, r.generation);
    st->BindText(9, r.written_hash);
    st->BindText(10, r.trace_id);
    st->BindInt(11, r.removed ? 1 : 0);
    st->BindText(12, r.errors);
    st->BindInt(13, r.updated_ms);
    st->BindInt(14, r.ctime_ns);
    st->BindText(15, r.waiting);
    if (st->Step() != SQLITE_DONE) return c.Fail(Nth("spec", i, specs.size(), "id \"" + r.id + "\""));
    st->Reset();
  }
  return Status::Ok();
}

Status WriteTransitions(SqliteDb& c, const std::vector<TransitionRecord>& transitions,
                        std::vector<int64_t>* seqs) {
  if (transitions.empty()) return Status::Ok();
  Result<SqliteStmt> st = c.Prepare(
      "INSERT INTO transitions "
      "(spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < transitions.size(); ++i) {
    const TransitionRecord& t = transitions[i];
    st->BindText(1, t.spec_id);
    st->BindText(2, t.trace_id);
    st->BindText(3, t.actor);
    st->BindText(4, t.from);
    st->BindText(5, t.to);
    st->BindText(6, t.reason);
    st->BindInt(7, t.at_ms);
    st->BindText(8, t.content_hash);
    if (st->Step() != SQLITE_DONE) {
      return c.Fail(Nth("transition", i, transitions.size(), t.spec_id + " " + Arrow(t.from, t.to)));
    }
    seqs->push_back(c.LastInsertRowid());
    st->Reset();
  }
  return Status::Ok();
}

Status WriteRefusals(SqliteDb& c, const std::vector<RefusalRecord>& refusals, std::vector<int64_t>* seqs) {
  if (refusals.empty()) return Status::Ok();
  Result<SqliteStmt> st = c.Prepare(
      "INSERT INTO refusals (spec_id, actor, from_status, requested, reason, at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < refusals.size(); ++i) {
    const RefusalRecord& r = refusals[i];
    st->BindText(1, r.spec_id);
    st->BindText(2, r.actor);
    st->BindText(3, r.from);
    st->BindText(4, r.requested);
    st->BindText(5, r.reason);
    st->BindInt(6, r.at_ms);
    if (st->Step() != SQLITE_DONE) {
      return c.Fail(Nth("refusal", i, refusals.size(), r.spec_id + " " + Arrow(r.from, r.requested)));
    }
    seqs->push_back(c.LastInsertRowid());
    st->Reset();
  }
  return Status::Ok();
}

// Binds the fields a failure insert and update share, as ?1..?6.
void BindFailure(SqliteStmt& st, const FailureRecord& f) {
  st.BindText(1, f.spec_id);
  st.BindText(2, f.task_id);
  st.BindText(3, f.summary);
  st.BindText(4, f.details);
  st.BindText(5, f.resolution);
  st.BindInt(6, f.at_ms);
}

Status WriteFailures(SqliteDb& c, const std::vector<FailureRecord>& failures, std::vector<int64_t>* ids) {
  if (failures.empty()) return Status::Ok();
  Result<SqliteStmt> insert = c.Prepare(
      "INSERT INTO failures (spec_id, task_id, summary, details, resolution, at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert.ok()) return insert.error();
  Result<SqliteStmt> update = c.Prepare(
      "UPDATE failures SET spec_id = ?1, task_id = ?2, summary = ?3, details = ?4, resolution = ?5, "
      "at_ms = ?6 WHERE id = ?7");
  if (!update.ok()) return update.error();
  for (size_t i = 0; i < failures.size(); ++i) {
    const FailureRecord& f = failures[i];
    SqliteStmt& st = f.id == 0 ? *insert : *update;
    BindFailure(st, f);
    if (f.id != 0) st.BindInt(7, f.id);
    std::string key = f.id == 0 ? "new, " + f.summary : "id " + std::to_string(f.id);
    if (st.Step() != SQLITE_DONE) return c.Fail(Nth("failure", i, failures.size(), key));
    if (f.id != 0 && c.Changes() == 0) {
      return c.Failed(Nth("failure", i, failures.size(), key) + ": no such failure", ErrorCode::kNotFound);
    }
    ids->push_back(f.id == 0 ? c.LastInsertRowid() : f.id);
    st.Reset();
  }
  return Status::Ok();
}

Status WriteWatchLog(SqliteDb& c, const std::vector<WatchRecord>& records) {
  if (records.empty()) return Status::Ok();
  Result<SqliteStmt> st = c.Prepare("INSERT INTO watch_log (at_ms, kind, detail) VALUES (?1, ?2, ?3)");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < records.size(); ++i) {
    st->BindInt(1, records[i].at_ms);
    st->BindText(2, records[i].kind);
    st->BindText(3, records[i].detail);
    if (st->Step() != SQLITE_DONE) return c.Fail(Nth("watch log entry", i, records.size(), records[i].kind));
    st->Reset();
  }
  return Status::Ok();
}

Status WriteEvents(SqliteDb& c, const std::vector<EventRecord>& events, std::vector<int64_t>* seqs) {
  if (events.empty()) return Status::Ok();
  Result<SqliteStmt> st = c.Prepare(
      "INSERT INTO events "
      "(at_ms, kind, spec_id, task_id, path, from_status, to_status, actor, reason, trace_id) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!st.ok()) return st.error();
  for (size_t i = 0; i < events.size(); ++i) {
    const EventRecord& e = events[i];
    st->BindInt(1, e.at_ms);
    st->BindText(2, e.kind);
    st->BindText(3, e.spec_id);
    st->BindText(4, e.task_id);
    st->BindText(5, e.path);
    st->BindText(6, e.from);
    st->BindText(7, e.to);
    st->BindText(8, e.actor);
    st->BindText(9, e.reason);
    st->BindText(10, e.trace_id);
    if (st->Step() != SQLITE_DONE) return c.Fail(Nth("event", i, events.size(), e.kind + " " + e.spec_id));
    seqs->push_back(c.LastInsertRowid());
    st->Reset();
  }
  return Status::Ok();
}

}  // namespace

Status WriteJournalBatch(SqliteDb& c, const JournalBatch& batch, AppliedIds* ids) {
  if (Status s = WriteUpserts(c, batch.upserts); !s.ok()) return s;
  if (Status s = WriteTransitions(c, batch.transitions, &ids->transition_seqs); !s.ok()) return s;
  if (Status s = WriteRefusals(c, batch.refusals, &ids->refusal_seqs); !s.ok()) return s;
  if (Status s = WriteFailures(c, batch.failures, &ids->failure_ids); !s.ok()) return s;
  if (Status s = WriteWatchLog(c, batch.watch); !s.ok()) return s;
  if (Status s = WriteTaskRows(c, batch); !s.ok()) return s;
  if (Status s = WriteGateRuns(c, batch.gate_runs); !s.ok()) return s;
  return WriteEvents(c, batch.events, &ids->event_seqs);
}

}  // namespace specd
