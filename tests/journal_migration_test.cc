// Journal migrations and the files Journal::Open refuses: journals written
// by older specd versions (built here with the SQL those versions shipped),
// a failed migration, a newer journal, a file that is not a journal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "tests/journal_test_util.h"
#include "tests/process_util.h"

namespace specd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::specd::testing::Failure;
using ::specd::testing::RawDb;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

// The v1 schema exactly as it shipped; a test journal written by that specd.
constexpr char kV1Schema[] = R"sql(
CREATE TABLE specs (
  id TEXT NOT NULL PRIMARY KEY CHECK (id <> ''), path TEXT NOT NULL, content_hash TEXT NOT NULL,
  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, status TEXT NOT NULL,
  generation INTEGER NOT NULL, written_hash TEXT NOT NULL, trace_id TEXT NOT NULL,
  removed INTEGER NOT NULL CHECK (removed IN (0, 1)), errors TEXT NOT NULL, updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX specs_by_path ON specs (path);
CREATE TABLE transitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, spec_id TEXT NOT NULL REFERENCES specs (id),
  trace_id TEXT NOT NULL, actor TEXT NOT NULL, from_status TEXT NOT NULL, to_status TEXT NOT NULL,
  reason TEXT NOT NULL, at_ms INTEGER NOT NULL, content_hash TEXT NOT NULL
);
CREATE INDEX transitions_by_spec ON transitions (spec_id, seq);
CREATE TABLE refusals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, spec_id TEXT NOT NULL REFERENCES specs (id),
  actor TEXT NOT NULL, from_status TEXT NOT NULL, requested TEXT NOT NULL, reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX refusals_by_spec ON refusals (spec_id, seq);
INSERT INTO specs VALUES ('spec-2026-01-01-001', '.agents/specs/active/spec-2026-01-01-001.yaml', 'h1',
  10, 20, 30, 'draft', 1, '', 'trace-1', 0, '', 40);
INSERT INTO transitions (spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash)
  VALUES ('spec-2026-01-01-001', 'trace-1', 'alice', '', 'draft', 'created', 40, 'h1');
PRAGMA user_version = 1;
)sql";

TEST(JournalMigrationTest, AVersion1JournalIsMigrated) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  RawDb(path).Exec(kV1Schema);

  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(RawDb(path).Query("PRAGMA user_version"), "8");
  Result<std::optional<SpecRecord>> spec = (*j)->GetSpec("spec-2026-01-01-001");
  ASSERT_TRUE(spec.ok() && spec->has_value());
  EXPECT_EQ((*spec)->trace_id, "trace-1");
  EXPECT_EQ((*spec)->ctime_ns, 0);  // v3's columns start empty
  EXPECT_EQ((*spec)->waiting, "");
  EXPECT_EQ((*j)->Transitions("spec-2026-01-01-001")->size(), 1u);
  // What v2 added works on the migrated journal.
  ASSERT_TRUE((*j)->Apply({.failures = {Failure("flaky network", "", "")}}).ok());
  EXPECT_EQ((*j)->SearchFailures("network", 5)->size(), 1u);
}

// A journal as specd wrote it at schema version 4: v1's file above, then
// the v2..v4 migrations exactly as they shipped, then history of two specs
// (SHA-256 hashes of the old algorithm) with refusals between transitions.
constexpr char kV2ToV4AndHistory[] = R"sql(
CREATE TABLE failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT, spec_id TEXT NOT NULL, task_id TEXT NOT NULL,
  summary TEXT NOT NULL, details TEXT NOT NULL, resolution TEXT NOT NULL, at_ms INTEGER NOT NULL
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
ALTER TABLE specs ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE specs ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
CREATE TABLE watch_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL
);
UPDATE specs SET written_hash = 'w1' WHERE id = 'spec-2026-01-01-001';
INSERT INTO specs VALUES ('spec-2026-01-01-002', '.agents/specs/active/spec-2026-01-01-002.yaml', 'h2',
  11, 21, 31, 'review', 2, 'w2', 'trace-2', 0, '', 70, 41, '');
INSERT INTO transitions (spec_id, trace_id, actor, from_status, to_status, reason, at_ms, content_hash)
  VALUES ('spec-2026-01-01-002', 'trace-2', 'specd', '', 'draft', 'registered', 50, 'h2a'),
         ('spec-2026-01-01-002', 'trace-2', 'ada', 'draft', 'review', 'status edited in the file', 70, 'h2');
INSERT INTO refusals (spec_id, actor, from_status, requested, reason, at_ms)
  VALUES ('spec-2026-01-01-002', 'rex', 'review', 'done', 'not a life-cycle edge', 70),
         ('spec-2026-01-01-002', 'rex', 'draft', 'approved', 'needs a review first', 60),
         ('spec-2026-01-01-001', 'bob', 'draft', 'in-progress', 'not a life-cycle edge', 45);
PRAGMA user_version = 4;
)sql";

EventRecord Backfilled(int64_t seq, int64_t at_ms, const std::string& kind, const std::string& spec_id,
                       const std::string& from, const std::string& to, const std::string& actor,
                       const std::string& reason, const std::string& trace_id) {
  return EventRecord{.seq = seq,
                     .at_ms = at_ms,
                     .kind = kind,
                     .spec_id = spec_id,
                     .task_id = "",
                     .path = ".agents/specs/active/" + spec_id + ".yaml",
                     .from = from,
                     .to = to,
                     .actor = actor,
                     .reason = reason,
                     .trace_id = trace_id};
}

// v4 -> v5: the event log starts with the journal's history, in time order
// (at one time: transitions, then refusals, as a batch writes them), and every
// spec's hashes are emptied (the algorithm changed); the old tables stay.
TEST(JournalMigrationTest, AVersion4JournalGetsItsHistoryAsEventsAndLosesItsHashes) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  RawDb(path).Exec(std::string(kV1Schema) + kV2ToV4AndHistory);

  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(RawDb(path).Query("PRAGMA user_version"), "8");
  const std::string a = "spec-2026-01-01-001", b = "spec-2026-01-01-002";
  Result<std::vector<EventRecord>> events = (*j)->EventsAfter(0, 100);
  ASSERT_TRUE(events.ok()) << events.error().message;
  EXPECT_THAT(
      *events,
      ElementsAre(
          Backfilled(1, 40, "registered", a, "", "draft", "alice", "created", "trace-1"),
          Backfilled(2, 45, "refused", a, "draft", "in-progress", "bob", "not a life-cycle edge", "trace-1"),
          Backfilled(3, 50, "registered", b, "", "draft", "specd", "registered", "trace-2"),
          Backfilled(4, 60, "refused", b, "draft", "approved", "rex", "needs a review first", "trace-2"),
          Backfilled(5, 70, "transition", b, "draft", "review", "ada", "status edited in the file",
                     "trace-2"),
          Backfilled(6, 70, "refused", b, "review", "done", "rex", "not a life-cycle edge", "trace-2")));
  EXPECT_EQ((*j)->SpecEvents(b)->size(), 4u);
  EXPECT_EQ(*(*j)->LastEventSeq(), 6);

  Result<std::vector<SpecRecord>> specs = (*j)->ListSpecs();
  ASSERT_TRUE(specs.ok()) << specs.error().message;
  ASSERT_EQ(specs->size(), 2u);
  for (const SpecRecord& r : *specs) {
    EXPECT_EQ(r.content_hash, "") << r.id;
    EXPECT_EQ(r.written_hash, "") << r.id;
  }
  EXPECT_EQ((*specs)[1].status, "review");  // nothing else changed
  EXPECT_EQ((*specs)[1].ctime_ns, 41);
  // specd log still reads the old tables, as they were.
  Result<std::vector<TransitionRecord>> ts = (*j)->Transitions(b);
  ASSERT_TRUE(ts.ok());
  ASSERT_EQ(ts->size(), 2u);
  EXPECT_EQ((*ts)[1].content_hash, "h2");
  EXPECT_EQ((*j)->Refusals(b)->size(), 2u);

  AppliedIds applied;  // the next event continues the sequence
  ASSERT_TRUE((*j)->Apply({.events = {EventRecord{.kind = "edited", .spec_id = a}}}, &applied).ok());
  EXPECT_THAT(applied.event_seqs, ElementsAre(7));
}

TEST(JournalMigrationTest, AFailedMigrationLeavesTheJournalAsItWas) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  RawDb(path).Exec(std::string(kV1Schema) + "CREATE TABLE failures_fts (x);");  // in v2's way

  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().message,
            "journal " + path + ": cannot migrate to schema version 2: table failures_fts already exists");
  RawDb raw(path);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), "1");
  EXPECT_EQ(raw.Query("SELECT count(*) FROM sqlite_master WHERE name = 'failures'"), "0");  // rolled back
}

TEST(JournalMigrationTest, ANewerJournalIsAnErrorAndUntouched) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  RawDb(path).Exec("CREATE TABLE future (x); PRAGMA user_version = 999;");

  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().message, "journal " + path +
                                   " has schema version 999, newer than this specd supports (8); upgrade "
                                   "specd (the journal was left untouched)");
  RawDb raw(path);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), "999");
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "delete");  // not switched to WAL
  EXPECT_EQ(raw.Query("SELECT count(*) FROM sqlite_master"), "1");
}

TEST(JournalMigrationTest, AFileThatIsNotAJournalIsAnError) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  Write(path, std::string(4096, 'x'));
  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_FALSE(j.ok());
  EXPECT_THAT(j.error().message, HasSubstr("file is not a database"));
  EXPECT_THAT(j.error().message, HasSubstr(path));
}

}  // namespace
}  // namespace specd
