// The journal's outboxes (schema v8): how far each publisher of the event log
// has got. The events themselves are the outbox's contents: they are written
// with the change they report, so a publisher that is down loses nothing.
#include <string>

#include "engine/journal.h"
#include "engine/journal_write.h"
#include "engine/sqlite_db.h"

namespace specd {

Result<int64_t> Journal::OutboxSeq(const std::string& sink) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare("SELECT seq FROM outbox WHERE sink = ?1");
  if (!st.ok()) return st.error();
  st->BindText(1, sink);
  const int rc = st->Step();
  if (rc == SQLITE_ROW) return st->Int(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return c.Fail("cannot read the outbox of " + sink);
}

Status Journal::SetOutboxSeq(const std::string& sink, int64_t seq, int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  // Never backwards: two publishers of one sink (a restart racing its
  // predecessor's last write) leave the furthest.
  Result<SqliteStmt> st = c.Prepare(
      "INSERT INTO outbox (sink, seq, at_ms) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, at_ms = excluded.at_ms WHERE excluded.seq > seq");
  if (!st.ok()) return st.error();
  st->BindText(1, sink);
  st->BindInt(2, seq);
  st->BindInt(3, at_ms);
  if (st->Step() != SQLITE_DONE)
    return c.Fail("cannot move the outbox of " + sink + " to " + std::to_string(seq));
  return Status::Ok();
}

Status Journal::SawRemoteWorker(const std::string& name, const std::string& verb, int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(
      "INSERT INTO remote_workers (name, last_seen_ms, last_verb) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (name) DO UPDATE SET last_seen_ms = excluded.last_seen_ms, last_verb = "
      "excluded.last_verb");
  if (!st.ok()) return st.error();
  st->BindText(1, name);
  st->BindInt(2, at_ms);
  st->BindText(3, verb);
  if (st->Step() != SQLITE_DONE) return c.Fail("cannot record remote worker " + name);
  return Status::Ok();
}

Result<std::vector<RemoteWorkerRecord>> Journal::RemoteWorkers() {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare("SELECT name, last_seen_ms, last_verb FROM remote_workers ORDER BY name");
  if (!st.ok()) return st.error();
  return CollectRows<RemoteWorkerRecord>(c, *st, "cannot read the remote workers", [](const SqliteStmt& row) {
    return RemoteWorkerRecord{row.Text(0), row.Int(1), row.Text(2)};
  });
}

}  // namespace specd
