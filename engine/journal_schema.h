// The journal's schema: the versioned migrations (PRAGMA user_version is the
// number applied) and the checks made before anything is written. Used by
// Journal::Open only.
#pragma once

#include "engine/sqlite_db.h"
#include "schema/result.h"

namespace specd {

int JournalSchemaVersion();  // the version this specd writes

// A journal from a newer specd (or a file that is not a journal) is an Error
// and left untouched; otherwise WAL, synchronous=FULL, foreign keys, and the
// missing migrations in one transaction.
Status PrepareJournalSchema(SqliteDb& db);

// For a read-only connection: the journal's schema is this specd's. Older is
// kInvalid (one run that can write it migrates it), newer as above.
Status CheckJournalSchemaForReading(SqliteDb& db);

}  // namespace specd
