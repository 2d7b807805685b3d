// The SQLite wrapper's errors, on real files: a lock held by another
// connection is kBusy, a damaged file names itself and what to do, a
// constraint says which kind it is.
#include "engine/sqlite_db.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/journal.h"
#include "tests/journal_test_util.h"
#include "tests/process_util.h"

namespace specd {
namespace {

using ::specd::testing::FullSpec;
using ::specd::testing::JournalTest;
using ::specd::testing::RawDb;
using ::specd::testing::TempDir;
using ::specd::testing::Transition;
using ::specd::testing::Write;

// A database at `path` with no busy timeout (a lock held elsewhere fails at
// once) and one table t (v INTEGER); null after a test failure.
std::unique_ptr<SqliteDb> OpenWithTable(const std::string& path) {
  Result<std::unique_ptr<SqliteDb>> db =
      SqliteDb::Open(path, SqliteOptions{.busy_timeout_ms = 0, .label = "test db"});
  EXPECT_TRUE(db.ok()) << db.error().message;
  if (!db.ok()) return nullptr;
  Status s = (*db)->Configure();
  if (s.ok()) s = (*db)->Exec("CREATE TABLE t (v INTEGER)", "cannot create t");
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(*db) : nullptr;
}

// Another connection (as another process would) holds the write lock: a
// write transaction gives up after the busy timeout (none here) with kBusy.
TEST(SqliteDbTest, AWriteLockHeldElsewhereIsBusy) {
  TempDir dir;
  const std::string path = dir / "x.db";
  std::unique_ptr<SqliteDb> db = OpenWithTable(path);
  ASSERT_NE(db, nullptr);
  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");

  int body_runs = 0;
  Status s = db->InWriteTransaction("t", [&] {
    ++body_runs;
    return Status::Ok();
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kBusy);
  EXPECT_EQ(s.error().message,
            "test db " + path + ": cannot begin a write transaction to t: database is locked");
  EXPECT_EQ(body_runs, 0);
  EXPECT_FALSE(db->InTransaction());

  other.Exec("COMMIT");
  s = db->InWriteTransaction("t", [&] { return db->Exec("INSERT INTO t VALUES (1)", "cannot insert"); });
  EXPECT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(RawDb(path).Query("SELECT count(*) FROM t"), "1");
}

TEST(SqliteDbTest, AFailedBodyRollsTheTransactionBack) {
  TempDir dir;
  const std::string path = dir / "x.db";
  std::unique_ptr<SqliteDb> db = OpenWithTable(path);
  ASSERT_NE(db, nullptr);
  Status s = db->InWriteTransaction("t", [&]() -> Status {
    if (Status w = db->Exec("INSERT INTO t VALUES (1)", "cannot insert"); !w.ok()) return w;
    return db->Failed("the body gave up", ErrorCode::kConflict);
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(s.error().message, "test db " + path + ": the body gave up");
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(RawDb(path).Query("SELECT count(*) FROM t"), "0");
}

// A file that is not a journal (or a damaged one) says where it is and that
// moving it aside rebuilds the journal from the spec files.
TEST(SqliteDbTest, ADamagedJournalNamesItsPathAndTheWayOut) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  Write(path, std::string(4096, 'x'));
  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, ErrorCode::kOther);
  EXPECT_EQ(j.error().message, "journal " + path +
                                   ": cannot read the schema version: file is not a database (the journal is "
                                   "damaged: move " +
                                   path + " aside and specd rebuilds it from the spec files)");
}

TEST_F(JournalTest, ConstraintErrorsSayWhatACallerCanDo) {
  Status unknown = journal_->Apply({.transitions = {Transition("spec-2026-02-18-404", "", "draft")}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);  // FOREIGN KEY: no such spec
  SpecRecord bad = FullSpec("spec-2026-02-18-001");
  bad.id = "";
  Status invalid = journal_->Apply({.upserts = {bad}});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalid);  // CHECK (id <> '')
}

}  // namespace
}  // namespace specd
