// Writing a JournalBatch (engine/journal.h) inside the caller's transaction
// or savepoint. Used by Journal::Apply only.
#pragma once

#include "engine/journal.h"
#include "engine/sqlite_db.h"
#include "schema/result.h"

namespace specd {

// The lease and task rows of a batch (journal_tasks.cc).
Status WriteTaskRows(SqliteDb& db, const JournalBatch& batch);
Status WriteGateRuns(SqliteDb& db, const std::vector<GateRunRecord>& runs);  // journal_gates.cc

// Seq values and failure ids are appended to `ids` in batch order. On a
// failure the caller rolls back; the Error names the record that failed.
Status WriteJournalBatch(SqliteDb& db, const JournalBatch& batch, AppliedIds* ids);

}  // namespace specd
