#include "engine/journal_schema.h"

#include <array>
#include <string>

namespace specd {

namespace {

// Schema. Each entry migrates from the version before it; the schema version
// (PRAGMA user_version) is the number of entries applied. Never edit a
// shipped entry: add one.

// v1: what the journal knows about each spec file, and its history.
// specs is WITHOUT ROWID so ListSpecs' "ORDER BY id" is the table's own order.
// AUTOINCREMENT: seq never goes back or is reused, and since every write
// holds SQLite's write lock (BEGIN IMMEDIATE) it is strictly increasing across
// processes too.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE specs (
  id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
  path TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  status TEXT NOT NULL,
  generation INTEGER NOT NULL,
  written_hash TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  removed INTEGER NOT NULL CHECK (removed IN (0, 1)),
  errors TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX specs_by_path ON specs (path);

CREATE TABLE transitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  spec_id TEXT NOT NULL REFERENCES specs (id),
  trace_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  content_hash TEXT NOT NULL
);
CREATE INDEX transitions_by_spec ON transitions (spec_id, seq);

CREATE TABLE refusals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  spec_id TEXT NOT NULL REFERENCES specs (id),
  actor TEXT NOT NULL,
  from_status TEXT NOT NULL,
  requested TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX refusals_by_spec ON refusals (spec_id, seq);
)sql";

// v2: failures and how they were resolved, searchable. failures_fts is an
// external-content FTS5 index over failures, kept in sync by triggers (so the
// text is stored once). porter: "indent" finds "indentation".
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  spec_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT NOT NULL,
  resolution TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX failures_by_spec ON failures (spec_id, id);

CREATE VIRTUAL TABLE failures_fts USING fts5(
  summary, details, resolution, content='failures', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER failures_fts_insert AFTER INSERT ON failures BEGIN
  INSERT INTO failures_fts (rowid, summary, details, resolution)
  VALUES (new.id, new.summary, new.details, new.resolution);
END;
CREATE TRIGGER failures_fts_delete AFTER DELETE ON failures BEGIN
  INSERT INTO failures_fts (failures_fts, rowid, summary, details, resolution)
  VALUES ('delete', old.id, old.summary, old.details, old.resolution);
END;
CREATE TRIGGER failures_fts_update AFTER UPDATE ON failures BEGIN
  INSERT INTO failures_fts (failures_fts, rowid, summary, details, resolution)
  VALUES ('delete', old.id, old.summary, old.details, old.resolution);
  INSERT INTO failures_fts (rowid, summary, details, resolution)
  VALUES (new.id, new.summary, new.details, new.resolution);
END;
)sql";

// v3: the ctime joins the stamp (an in-place save of the same size that puts
// the mtime back still moves the ctime, as git knows), and why a spec waits.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE specs ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE specs ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
)sql";

// v4: what the watcher did that concerns no single spec (overflow rescans).
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE watch_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql";

// v5: one event log. Every event the engine reports (registered, transition,
// refused, invalid, waiting, archived, removed, edited, and later kinds) is a
// row with one sequence, written in the same transaction as the change it
// reports; `specd events` and `specd watch` read it. spec_id is free text (an
// event may concern a file whose id is unknown). The history already journaled
// is copied in, oldest first: transitions (a first one, from nothing, is
// "registered") and refusals by time, and at one time in the order a batch
// writes them (transitions before refusals). Content hashes change algorithm
// (SHA-256 -> XXH3-128): the stored ones are emptied, and the engine re-hashes
// a known spec with an empty hash instead of taking it for an edit.
constexpr char kSchemaV5[] = R"sql(
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  spec_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  path TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  trace_id TEXT NOT NULL
);
CREATE INDEX events_by_spec ON events (spec_id, seq);

INSERT INTO events (at_ms, kind, spec_id, task_id, path, from_status, to_status, actor, reason, trace_id)
SELECT at_ms, kind, spec_id, '', path, from_status, to_status, actor, reason, trace_id FROM (
  SELECT t.at_ms, CASE WHEN t.from_status = '' THEN 'registered' ELSE 'transition' END AS kind,
         t.spec_id, COALESCE(s.path, '') AS path, t.from_status, t.to_status, t.actor, t.reason,
         t.trace_id, 0 AS source, t.seq
  FROM transitions AS t LEFT JOIN specs AS s ON s.id = t.spec_id
  UNION ALL
  SELECT r.at_ms, 'refused', r.spec_id, COALESCE(s.path, ''), r.from_status, r.requested, r.actor,
         r.reason, COALESCE(s.trace_id, ''), 1, r.seq
  FROM refusals AS r LEFT JOIN specs AS s ON s.id = r.spec_id
) ORDER BY at_ms, source, seq;

UPDATE specs SET content_hash = '', written_hash = '';
)sql";

// v6: tasks under leases (engine/lease.h). A lease row per epoch handed
// out (never deleted: the history of who held what); a task row with its
// counters and its submitted diff's place in the spec's stack.
constexpr char kSchemaV6[] = R"sql(
CREATE TABLE leases (
  spec_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  worker TEXT NOT NULL,
  token TEXT NOT NULL,
  base TEXT NOT NULL,
  claimed_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  ended_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (spec_id, task_id, epoch)
);
CREATE INDEX leases_held ON leases (outcome, expires_ms) WHERE outcome = '';
CREATE TABLE tasks (
  spec_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  submitted_seq INTEGER NOT NULL,
  diff_path TEXT NOT NULL,
  diff_hash TEXT NOT NULL,
  submitted_epoch INTEGER NOT NULL,
  last_reason TEXT NOT NULL,
  PRIMARY KEY (spec_id, task_id)
);
)sql";

// v7: gate runs (issue 13). One row per gate run on a candidate: the
// spec's stack applied on the target branch's tip, named by its tree, so
// "every gate passed on the current tip" is a lookup.
constexpr char kSchemaV7[] = R"sql(
CREATE TABLE gate_runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  spec_id TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  tip TEXT NOT NULL,
  candidate TEXT NOT NULL,
  gate TEXT NOT NULL,
  outcome TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  log_path TEXT NOT NULL,
  why TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX gate_runs_spec ON gate_runs (spec_id, candidate);
)sql";

// v8: many machines (issue 16). For each publisher of the event log (a
// NATS stream), the last event seq it has published: the events after it
// wait in the log until it is back. And the remote workers a coordinator
// has heard from: when, and asking what.
constexpr char kSchemaV8[] = R"sql(
CREATE TABLE outbox (
  sink TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE TABLE remote_workers (
  name TEXT PRIMARY KEY,
  last_seen_ms INTEGER NOT NULL,
  last_verb TEXT NOT NULL
);
)sql";

constexpr std::array<const char*, 8> kMigrations = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,
                                                    kSchemaV5, kSchemaV6, kSchemaV7, kSchemaV8};

Result<int> UserVersion(SqliteDb& db) {
  Result<int64_t> v = db.QueryInt("PRAGMA user_version", "cannot read the schema version");
  if (!v.ok()) return v.error();
  return static_cast<int>(*v);
}

Status CheckNotNewer(const SqliteDb& db, int version) {
  if (version <= JournalSchemaVersion()) return Status::Ok();
  return Error{"journal " + db.path() + " has schema version " + std::to_string(version) +
               ", newer than this specd supports (" + std::to_string(JournalSchemaVersion()) +
               "); upgrade specd (the journal was left untouched)"};
}

// Applies the migrations after the file's version in one transaction: a
// failure leaves the journal as it was.
Status Migrate(SqliteDb& db) {
  return db.InWriteTransaction("the schema migration", [&]() -> Status {
    // Read again under the write lock: another process may have migrated.
    Result<int> from = UserVersion(db);
    if (!from.ok()) return from.error();
    if (Status s = CheckNotNewer(db, *from); !s.ok()) return s;
    for (int v = *from + 1; v <= JournalSchemaVersion(); ++v) {
      if (Status s = db.Exec(kMigrations[v - 1], "cannot migrate to schema version " + std::to_string(v));
          !s.ok()) {
        return s;
      }
    }
    // PRAGMA takes no bound parameters; the value is our own constant.
    return db.Exec("PRAGMA user_version = " + std::to_string(JournalSchemaVersion()),
                   "cannot set the schema version");
  });
}

}  // namespace

int JournalSchemaVersion() {
  return static_cast<int>(kMigrations.size());
}

// The checks come before anything that writes, so a journal from a newer
// specd (or a file that is not a journal) is not touched.
Status PrepareJournalSchema(SqliteDb& db) {
  Result<int> version = UserVersion(db);
  if (!version.ok()) return version.error();
  if (Status s = CheckNotNewer(db, *version); !s.ok()) return s;
  if (Status s = db.Configure(); !s.ok()) return s;
  if (*version < JournalSchemaVersion()) return Migrate(db);
  return Status::Ok();
}

Status CheckJournalSchemaForReading(SqliteDb& db) {
  Result<int> version = UserVersion(db);
  if (!version.ok()) return version.error();
  if (Status s = CheckNotNewer(db, *version); !s.ok()) return s;
  if (*version == JournalSchemaVersion()) return Status::Ok();
  return Error{
      "journal " + db.path() + " has schema version " + std::to_string(*version) +
          ", older than this specd's (" + std::to_string(JournalSchemaVersion()) +
          ") and it cannot be written here: run specd reconcile once where it can (that upgrades it)",
      ErrorCode::kInvalid};
}

}  // namespace specd
