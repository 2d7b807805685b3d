// The journal's tasks and leases (schema v6): rows written with a batch
// (WriteTaskRows) and the queries the engine's task verbs ask.
#include <string>
#include <vector>

#include "engine/journal.h"
#include "engine/journal_write.h"
#include "engine/sqlite_db.h"

namespace specd {

namespace {

constexpr char kLeaseColumns[] =
    "spec_id, task_id, epoch, worker, token, base, claimed_ms, expires_ms, ended_ms, outcome, reason";
constexpr char kTaskColumns[] =
    "spec_id, task_id, epoch, attempts, submitted_seq, diff_path, diff_hash, submitted_epoch, last_reason";

LeaseRecord ReadLease(const SqliteStmt& row) {
  return LeaseRecord{row.Text(0), row.Text(1), row.Int(2), row.Text(3), row.Text(4), row.Text(5),
                     row.Int(6),  row.Int(7),  row.Int(8), row.Text(9), row.Text(10)};
}

TaskRecord ReadTask(const SqliteStmt& row) {
  return TaskRecord{row.Text(0), row.Text(1), row.Int(2), row.Int(3), row.Int(4),
                    row.Text(5), row.Text(6), row.Int(7), row.Text(8)};
}

std::string Key(const std::string& spec, const std::string& task) {
  return spec + " " + task;
}

}  // namespace

Status WriteTaskRows(SqliteDb& c, const JournalBatch& batch) {
  if (!batch.leases.empty()) {
    Result<SqliteStmt> st = c.Prepare(std::string("INSERT OR REPLACE INTO leases (") + kLeaseColumns +
                                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!st.ok()) return st.error();
    for (const LeaseRecord& l : batch.leases) {
      st->BindText(1, l.spec_id);
      st->BindText(2, l.task_id);
      st->BindInt(3, l.epoch);
      st->BindText(4, l.worker);
      st->BindText(5, l.token);
      st->BindText(6, l.base);
      st->BindInt(7, l.claimed_ms);
      st->BindInt(8, l.expires_ms);
      st->BindInt(9, l.ended_ms);
      st->BindText(10, l.outcome);
      st->BindText(11, l.reason);
      if (st->Step() != SQLITE_DONE) {
        return c.Fail("cannot record the lease of " + Key(l.spec_id, l.task_id) + " epoch " +
                      std::to_string(l.epoch));
      }
      st->Reset();
    }
  }
  if (!batch.tasks.empty()) {
    Result<SqliteStmt> st = c.Prepare(std::string("INSERT OR REPLACE INTO tasks (") + kTaskColumns +
                                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st.ok()) return st.error();
    for (const TaskRecord& t : batch.tasks) {
      st->BindText(1, t.spec_id);
      st->BindText(2, t.task_id);
      st->BindInt(3, t.epoch);
      st->BindInt(4, t.attempts);
      st->BindInt(5, t.submitted_seq);
      st->BindText(6, t.diff_path);
      st->BindText(7, t.diff_hash);
      st->BindInt(8, t.submitted_epoch);
      st->BindText(9, t.last_reason);
      if (st->Step() != SQLITE_DONE) return c.Fail("cannot record task " + Key(t.spec_id, t.task_id));
      st->Reset();
    }
  }
  return Status::Ok();
}

Result<std::optional<TaskRecord>> Journal::GetTask(const std::string& spec_id, const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st =
      c.Prepare(std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE spec_id = ?1 AND task_id = ?2");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  st->BindText(2, task_id);
  return FirstRow<TaskRecord>(c, *st, "cannot read task " + Key(spec_id, task_id), ReadTask);
}

Result<std::vector<TaskRecord>> Journal::SpecTasks(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st =
      c.Prepare(std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE spec_id = ?1 ORDER BY task_id");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return CollectRows<TaskRecord>(c, *st, "cannot read the tasks of " + spec_id, ReadTask);
}

Result<std::optional<LeaseRecord>> Journal::GetLease(const std::string& spec_id, const std::string& task_id,
                                                     int64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(std::string("SELECT ") + kLeaseColumns +
                                    " FROM leases WHERE spec_id = ?1 AND task_id = ?2 AND epoch = ?3");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  st->BindText(2, task_id);
  st->BindInt(3, epoch);
  return FirstRow<LeaseRecord>(c, *st, "cannot read the lease of " + Key(spec_id, task_id), ReadLease);
}

Result<std::vector<LeaseRecord>> Journal::HeldLeases(const std::string& spec_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(std::string("SELECT ") + kLeaseColumns +
                                    " FROM leases WHERE outcome = '' AND (?1 = '' OR spec_id = ?1) "
                                    "ORDER BY spec_id, task_id, epoch");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  return CollectRows<LeaseRecord>(c, *st, "cannot read the held leases", ReadLease);
}

}  // namespace specd
