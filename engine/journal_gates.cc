// The journal's gate runs (schema v7): written with a batch, read by spec
// and candidate (did every gate pass on this tree?).
#include <string>
#include <vector>

#include "engine/journal.h"
#include "engine/journal_write.h"
#include "engine/sqlite_db.h"

namespace specd {

namespace {

constexpr char kColumns[] =
    "seq, spec_id, trace_id, tip, candidate, gate, outcome, exit_code, duration_ms, log_path, why, at_ms";

GateRunRecord ReadGateRun(const SqliteStmt& row) {
  return GateRunRecord{row.Int(0),  row.Text(1), row.Text(2), row.Text(3), row.Text(4),  row.Text(5),
                       row.Text(6), row.Int(7),  row.Int(8),  row.Text(9), row.Text(10), row.Int(11)};
}

}  // namespace

Status WriteGateRuns(SqliteDb& c, const std::vector<GateRunRecord>& runs) {
  if (runs.empty()) return Status::Ok();
  Result<SqliteStmt> st = c.Prepare(
      "INSERT INTO gate_runs (spec_id, trace_id, tip, candidate, gate, outcome, exit_code, duration_ms, "
      "log_path, why, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!st.ok()) return st.error();
  for (const GateRunRecord& r : runs) {
    st->BindText(1, r.spec_id);
    st->BindText(2, r.trace_id);
    st->BindText(3, r.tip);
    st->BindText(4, r.candidate);
    st->BindText(5, r.gate);
    st->BindText(6, r.outcome);
    st->BindInt(7, r.exit_code);
    st->BindInt(8, r.duration_ms);
    st->BindText(9, r.log_path);
    st->BindText(10, r.why);
    st->BindInt(11, r.at_ms);
    if (st->Step() != SQLITE_DONE) return c.Fail("cannot record gate " + r.gate + " of " + r.spec_id);
    st->Reset();
  }
  return Status::Ok();
}

Result<std::vector<GateRunRecord>> Journal::GateRuns(const std::string& spec_id,
                                                     const std::string& candidate) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteDb& c = *db_;
  Result<SqliteStmt> st = c.Prepare(std::string("SELECT ") + kColumns +
                                    " FROM gate_runs WHERE spec_id = ?1 AND (?2 = '' OR candidate = ?2) "
                                    "ORDER BY seq");
  if (!st.ok()) return st.error();
  st->BindText(1, spec_id);
  st->BindText(2, candidate);
  return CollectRows<GateRunRecord>(c, *st, "cannot read the gate runs of " + spec_id, ReadGateRun);
}

}  // namespace specd
