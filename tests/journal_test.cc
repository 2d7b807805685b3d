// The journal on real SQLite files in a temporary directory: round trips of
// every record, atomic batches, migrations, a second process writing at the
// same time, full-text search, where the journal lives, and SHA-256.
#include "engine/journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using ::specd::testing::TempDir;

void Write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

// A raw connection, to build old or foreign journals by hand and to look at
// what the journal wrote without going through its API.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) ADD_FAILURE() << sqlite3_errmsg(db_);
  }
  ~RawDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  }
  // The first column of the first row, as text ("" when there is no row).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_);
      return "";
    }
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

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

// A spec record with every field set to something other than its default.
SpecRecord FullSpec(const std::string& id) {
  SpecRecord r;
  r.id = id;
  r.path = ".agents/specs/active/" + id + ".yaml";
  r.content_hash = Sha256Hex(id);
  r.size = 0xFFFF'FFFF'0000'1234ull;  // above INT64_MAX: stored bit for bit
  r.mtime_ns = -1'234'567'890;        // before 1970
  r.inode = 0xFFFF'FFFF'FFFF'FFF0ull;
  r.status = "in-progress";
  r.generation = 7;
  r.written_hash = Sha256Hex("written " + id);
  r.trace_id = "trace-" + id;
  r.removed = false;
  r.errors = "spec.yaml:3:9: /status: must be one of ...\nspec.yaml:9:1: /tasks: required\n";
  r.updated_ms = 1'771'400'000'123;
  return r;
}

TransitionRecord Transition(const std::string& spec_id, const std::string& from, const std::string& to) {
  TransitionRecord t;
  t.spec_id = spec_id;
  t.trace_id = "trace-" + spec_id;
  t.actor = "engine";
  t.from = from;
  t.to = to;
  t.reason = "because " + to;
  t.at_ms = 1'771'400'000'000;
  t.content_hash = Sha256Hex(to);
  return t;
}

FailureRecord Failure(const std::string& summary, const std::string& details, const std::string& resolution) {
  FailureRecord f;
  f.spec_id = "spec-2026-01-01-001";
  f.task_id = "TASK-001";
  f.summary = summary;
  f.details = details;
  f.resolution = resolution;
  f.at_ms = 1'771'400'000'999;
  return f;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "git/specd/journal.db";  // the directories do not exist yet
    Result<std::unique_ptr<Journal>> j = Journal::Open(path_);
    ASSERT_TRUE(j.ok()) << j.error().message;
    journal_ = std::move(*j);
  }

  void MustApply(const JournalBatch& batch) {
    Status s = journal_->Apply(batch);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  std::vector<SpecRecord> List(bool include_removed = false) {
    Result<std::vector<SpecRecord>> specs = journal_->ListSpecs(include_removed);
    EXPECT_TRUE(specs.ok()) << specs.error().message;
    return specs.ok() ? *specs : std::vector<SpecRecord>();
  }

  std::vector<FailureRecord> Search(const std::string& text, int limit = 10) {
    Result<std::vector<FailureRecord>> found = journal_->SearchFailures(text, limit);
    EXPECT_TRUE(found.ok()) << text << ": " << found.error().message;
    return found.ok() ? *found : std::vector<FailureRecord>();
  }

  std::vector<std::string> SearchSummaries(const std::string& text) {
    std::vector<std::string> out;
    for (const FailureRecord& f : Search(text)) out.push_back(f.summary);
    return out;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Journal> journal_;
};

TEST_F(JournalTest, OpenCreatesAWalJournalAtTheCurrentVersion) {
  EXPECT_EQ(journal_->path(), path_);
  EXPECT_EQ(Journal::SchemaVersion(), 4);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), "4");
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
  journal_.reset();
  Result<std::unique_ptr<Journal>> again = Journal::Open(path_);  // reopening migrates nothing
  ASSERT_TRUE(again.ok()) << again.error().message;
}

TEST_F(JournalTest, SpecRoundTripsEveryField) {
  SpecRecord spec = FullSpec("spec-2026-02-18-001");
  MustApply({.upserts = {spec}});

  Result<std::optional<SpecRecord>> got = journal_->GetSpec(spec.id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, spec);
  Result<std::optional<SpecRecord>> by_path = journal_->GetSpecByPath(spec.path);
  ASSERT_TRUE(by_path.ok() && by_path->has_value());
  EXPECT_EQ(**by_path, spec);
  EXPECT_THAT(List(), ElementsAre(spec));

  Result<std::optional<SpecRecord>> missing = journal_->GetSpec("spec-2026-02-18-999");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  Result<std::optional<SpecRecord>> no_path = journal_->GetSpecByPath(".agents/specs/active/nope.yaml");
  ASSERT_TRUE(no_path.ok());
  EXPECT_FALSE(no_path->has_value());
}

TEST_F(JournalTest, UpsertStoresTheWholeNewRecord) {
  SpecRecord spec = FullSpec("spec-2026-02-18-001");
  MustApply({.upserts = {spec}});
  spec.content_hash = "";
  spec.status = "";
  spec.errors = "";
  spec.generation = 8;
  spec.size = 12;
  MustApply({.upserts = {spec}});
  EXPECT_THAT(List(), ElementsAre(spec));
}

TEST_F(JournalTest, TransitionsRoundTripInOrderWithIncreasingSeq) {
  const std::string id = "spec-2026-02-18-001";
  std::vector<TransitionRecord> sent = {Transition(id, "", "draft"), Transition(id, "draft", "review")};
  AppliedIds applied;
  ASSERT_TRUE(journal_->Apply({.upserts = {FullSpec(id)}, .transitions = sent}, &applied).ok());
  sent.push_back(Transition(id, "review", "approved"));
  MustApply({.transitions = {sent[2]}});

  Result<std::vector<TransitionRecord>> got = journal_->Transitions(id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 3u);
  EXPECT_THAT(applied.transition_seqs, ElementsAre((*got)[0].seq, (*got)[1].seq));
  for (size_t i = 0; i < 3; ++i) {
    if (i > 0) {
      EXPECT_GT((*got)[i].seq, (*got)[i - 1].seq);
    }
    TransitionRecord expected = sent[i];
    expected.seq = (*got)[i].seq;
    EXPECT_EQ((*got)[i], expected) << i;
  }
  Result<int64_t> last = journal_->LastSeq();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, (*got)[2].seq);
  EXPECT_THAT(*journal_->Transitions("spec-2026-02-18-002"), IsEmpty());
}

TEST_F(JournalTest, LastSeqIsZeroWhenEmpty) {
  Result<int64_t> last = journal_->LastSeq();
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_EQ(*last, 0);
}

TEST_F(JournalTest, RefusalsRoundTrip) {
  const std::string id = "spec-2026-02-18-001";
  RefusalRecord r{.spec_id = id,
                  .actor = "alice",
                  .from = "draft",
                  .requested = "completed",
                  .reason = "draft -> completed is not allowed",
                  .at_ms = 1'771'400'000'555};
  RefusalRecord second = r;
  second.requested = "approved";
  AppliedIds applied;
  ASSERT_TRUE(journal_->Apply({.upserts = {FullSpec(id)}, .refusals = {r, second}}, &applied).ok());

  Result<std::vector<RefusalRecord>> got = journal_->Refusals(id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_THAT(applied.refusal_seqs, ElementsAre((*got)[0].seq, (*got)[1].seq));
  EXPECT_LT((*got)[0].seq, (*got)[1].seq);
  r.seq = (*got)[0].seq;
  second.seq = (*got)[1].seq;
  EXPECT_THAT(*got, ElementsAre(r, second));
}

TEST_F(JournalTest, FailuresRoundTripAndALaterResolutionIsSearchable) {
  FailureRecord f = Failure("diff does not apply", "hunk 2 of src/main.cc failed", "");
  AppliedIds applied;
  ASSERT_TRUE(journal_->Apply({.failures = {f}}, &applied).ok());
  ASSERT_EQ(applied.failure_ids.size(), 1u);
  f.id = applied.failure_ids[0];
  Result<std::vector<FailureRecord>> got = journal_->Failures(f.spec_id);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  const FailureRecord& g = (*got)[0];
  EXPECT_EQ(std::tie(g.id, g.spec_id, g.task_id, g.summary, g.details, g.resolution, g.at_ms),
            std::tie(f.id, f.spec_id, f.task_id, f.summary, f.details, f.resolution, f.at_ms));

  f.resolution = "rebased the worktree onto main";
  MustApply({.failures = {f}});
  EXPECT_EQ((*journal_->Failures(f.spec_id))[0].resolution, f.resolution);
  EXPECT_THAT(SearchSummaries("rebase"), ElementsAre("diff does not apply"));
  f.resolution = "regenerated the diff";
  MustApply({.failures = {f}});
  EXPECT_THAT(SearchSummaries("rebase"), IsEmpty());  // the index forgot the old text
  EXPECT_THAT(SearchSummaries("regenerated"), ElementsAre("diff does not apply"));

  RawDb raw(path_);
  raw.Exec("INSERT INTO failures_fts (failures_fts) VALUES ('integrity-check')");
}

TEST_F(JournalTest, UpdatingAnUnknownFailureFailsTheBatch) {
  FailureRecord f = Failure("x", "y", "z");
  f.id = 42;
  Status s = journal_->Apply({.upserts = {FullSpec("spec-2026-02-18-001")}, .failures = {f}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "journal " + path_ + ": cannot record failure 1 of 1 (id 42): no such failure");
  EXPECT_THAT(List(), IsEmpty());
}

TEST_F(JournalTest, ABatchWithABadSecondRecordLeavesNothingBehind) {
  SpecRecord good = FullSpec("spec-2026-02-18-001");
  SpecRecord bad = FullSpec("spec-2026-02-18-002");
  bad.id = "";  // violates CHECK (id <> '')
  Status s = journal_->Apply({.upserts = {good, bad}, .transitions = {Transition(good.id, "", "draft")}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "journal " + path_ + ": cannot record spec 2 of 2 (id \"\"): CHECK constraint failed: id <> ''");
  EXPECT_THAT(List(true), IsEmpty());
  EXPECT_EQ(*journal_->LastSeq(), 0);
}

TEST_F(JournalTest, ATransitionForAnUnknownSpecFailsTheWholeBatch) {
  SpecRecord spec = FullSpec("spec-2026-02-18-001");
  Status s = journal_->Apply(
      {.upserts = {spec},
       .transitions = {Transition(spec.id, "", "draft"), Transition("spec-2026-02-18-404", "", "draft")}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "journal " + path_ +
                                   ": cannot record transition 2 of 2 (spec-2026-02-18-404 (none) -> draft): "
                                   "FOREIGN KEY constraint failed");
  EXPECT_THAT(List(true), IsEmpty());
  EXPECT_EQ(*journal_->LastSeq(), 0);

  // Not even a seq was used up: the next transition is the first.
  AppliedIds applied;
  ASSERT_TRUE(
      journal_->Apply({.upserts = {spec}, .transitions = {Transition(spec.id, "", "draft")}}, &applied).ok());
  EXPECT_THAT(applied.transition_seqs, ElementsAre(1));
}

TEST_F(JournalTest, RemovedSpecsKeepTheirHistory) {
  SpecRecord spec = FullSpec("spec-2026-02-18-001");
  MustApply({.upserts = {spec},
             .transitions = {Transition(spec.id, "", "draft")},
             .refusals = {{.spec_id = spec.id, .from = "draft", .requested = "completed"}}});
  spec.removed = true;
  MustApply({.upserts = {spec}, .transitions = {Transition(spec.id, "draft", "draft")}});

  EXPECT_THAT(List(), IsEmpty());
  EXPECT_THAT(List(true), ElementsAre(spec));
  EXPECT_TRUE((*journal_->GetSpec(spec.id))->removed);
  EXPECT_EQ(journal_->Transitions(spec.id)->size(), 2u);
  EXPECT_EQ(journal_->Refusals(spec.id)->size(), 1u);

  // A live spec at the same path is preferred over the removed one.
  SpecRecord other = FullSpec("spec-2026-02-18-002");
  other.path = spec.path;
  other.updated_ms = spec.updated_ms - 1;
  MustApply({.upserts = {other}});
  EXPECT_EQ((*journal_->GetSpecByPath(spec.path))->id, other.id);
}

TEST_F(JournalTest, SearchPutsTheMostSimilarFailureFirst) {
  MustApply(
      {.failures = {
           Failure("worker timeout", "the check command hit a timeout error after 300 s", "raised the limit"),
           Failure("YAML indentation wrong in the tasks list", "line 12: bad indentation of a sequence entry",
                   "re-indented with two spaces"),
           Failure("merge conflict", "README.md changed on main", "rebased"),
       }});
  std::vector<FailureRecord> found = Search("yaml indentation error");
  ASSERT_EQ(found.size(), 2u);  // the merge conflict shares no word
  EXPECT_EQ(found[0].summary, "YAML indentation wrong in the tasks list");
  EXPECT_EQ(found[0].resolution, "re-indented with two spaces");
  EXPECT_EQ(found[1].summary, "worker timeout");
  EXPECT_LT(found[0].rank, found[1].rank);
  EXPECT_THAT(SearchSummaries("indent"), ElementsAre("YAML indentation wrong in the tasks list"));  // stems
  EXPECT_EQ(Search("yaml indentation error", 1).size(), 1u);
  EXPECT_THAT(Search("yaml", 0), IsEmpty());
}

TEST_F(JournalTest, SearchTreatsPunctuationAndKeywordsAsText) {
  MustApply({.failures = {Failure("a \"quote\" broke the parser", "can't parse (x)", "")}});
  EXPECT_THAT(SearchSummaries("can't \"quote\" (x) AND OR *"), ElementsAre("a \"quote\" broke the parser"));
  for (const char* text : {"",          "\"",         "\"\"",
                           "*",         "(",          ")",
                           "AND",       "OR",         "NOT",
                           "NEAR(a b)", "a:b",        "^x",
                           "-x",        "+",          "{summary}: x",
                           "'",         "naïve café", "— “quoted” ‘x’",
                           "\xff\xfe",  "\\",         "%_"}) {
    Search(text);  // asserts only that none is an error
  }
  EXPECT_THAT(Search("... !!! ???"), IsEmpty());
}

TEST_F(JournalTest, WatchLogRoundTripsInOrder) {
  MustApply({.watch = {WatchRecord{0, 1'771'400'000'000, "started", "watching 3 directories"}}});
  MustApply({.watch = {WatchRecord{0, 1'771'400'000'500, "overflow", "rescanned 1203 files, 17 changed"}}});
  Result<std::vector<WatchRecord>> log = journal_->WatchLog();
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_THAT(*log,
              ElementsAre(WatchRecord{1, 1'771'400'000'000, "started", "watching 3 directories"},
                          WatchRecord{2, 1'771'400'000'500, "overflow", "rescanned 1203 files, 17 changed"}));
}

TEST_F(JournalTest, ListStampsHasTheLiveSpecsByPath) {
  SpecRecord b = FullSpec("spec-2026-02-18-002"), a = FullSpec("spec-2026-02-18-001"),
             gone = FullSpec("spec-2026-02-18-003");
  a.ctime_ns = 42;
  gone.removed = true;
  MustApply({.upserts = {b, a, gone}});
  Result<std::vector<PathStamp>> stamps = journal_->ListStamps();
  ASSERT_TRUE(stamps.ok()) << stamps.error().message;
  ASSERT_EQ(stamps->size(), 2u);
  EXPECT_EQ((*stamps)[0].path, a.path);
  EXPECT_EQ((*stamps)[0].size, a.size);
  EXPECT_EQ((*stamps)[0].mtime_ns, a.mtime_ns);
  EXPECT_EQ((*stamps)[0].inode, a.inode);
  EXPECT_EQ((*stamps)[0].ctime_ns, 42);
  EXPECT_EQ((*stamps)[1].path, b.path);
}

TEST_F(JournalTest, AGroupIsInvisibleToOthersUntilItEnds) {
  Result<std::unique_ptr<Journal>> other = Journal::Open(path_);
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(journal_->BeginGroup().ok());
  MustApply({.upserts = {FullSpec("spec-2026-02-18-001")}});
  MustApply({.upserts = {FullSpec("spec-2026-02-18-002")}});
  EXPECT_EQ(List().size(), 2u);  // this connection sees its own group
  EXPECT_THAT(*(*other)->ListSpecs(), IsEmpty());
  ASSERT_TRUE(journal_->EndGroup().ok());
  EXPECT_EQ((*other)->ListSpecs()->size(), 2u);
}

TEST_F(JournalTest, AFailedBatchInAGroupLeavesTheOthers) {
  ASSERT_TRUE(journal_->BeginGroup().ok());
  MustApply({.upserts = {FullSpec("spec-2026-02-18-001")}});
  SpecRecord bad = FullSpec("spec-2026-02-18-002");
  bad.id = "";
  EXPECT_FALSE(journal_->Apply({.upserts = {FullSpec("spec-2026-02-18-003"), bad}}).ok());
  MustApply({.upserts = {FullSpec("spec-2026-02-18-004")}});
  ASSERT_TRUE(journal_->EndGroup().ok());
  std::vector<std::string> ids;
  for (const SpecRecord& r : List()) ids.push_back(r.id);
  EXPECT_THAT(ids, ElementsAre("spec-2026-02-18-001", "spec-2026-02-18-004"));
}

TEST_F(JournalTest, AGroupRolledBackLeavesNothing) {
  ASSERT_TRUE(journal_->BeginGroup().ok());
  EXPECT_FALSE(journal_->BeginGroup().ok());  // no nesting
  MustApply({.upserts = {FullSpec("spec-2026-02-18-001")}});
  ASSERT_TRUE(journal_->EndGroup(false).ok());
  EXPECT_THAT(List(true), IsEmpty());
}

TEST_F(JournalTest, TwoJournalsOnOneFileSeeEachOther) {
  Result<std::unique_ptr<Journal>> second = Journal::Open(path_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  const std::string id = "spec-2026-02-18-001";
  MustApply({.upserts = {FullSpec(id)}, .transitions = {Transition(id, "", "draft")}});
  ASSERT_TRUE((*second)->Apply({.transitions = {Transition(id, "draft", "review")}}).ok());
  MustApply({.transitions = {Transition(id, "review", "approved")}});

  Result<std::vector<TransitionRecord>> got = (*second)->Transitions(id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[2].to, "approved");
  EXPECT_LT((*got)[0].seq, (*got)[1].seq);
  EXPECT_LT((*got)[1].seq, (*got)[2].seq);
}

// Opens the journal (concurrently with the other process, so creation and
// migration race too) and applies `n` one-transition batches.
bool WriteBatches(const std::string& path, const std::string& id, int n) {
  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  if (!j.ok()) return false;
  SpecRecord spec = FullSpec(id);
  for (int i = 0; i < n; ++i) {
    TransitionRecord t = Transition(id, "draft", "draft");
    t.reason = std::to_string(i);
    if (!(*j)->Apply({.upserts = {spec}, .transitions = {t}}).ok()) return false;
    // A moment of "work" between writes, as real writers have. Without it the
    // process that gets the lock first does all its batches while the other
    // sits in SQLite's busy back-off, and the writes would not interleave.
    ::usleep(200);
  }
  return true;
}

TEST(JournalProcessTest, TwoProcessesWriteAtOnce) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  constexpr int kEach = 200;
  pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) ::_exit(WriteBatches(path, "spec-2026-02-18-002", kEach) ? 0 : 1);
  bool parent_ok = WriteBatches(path, "spec-2026-02-18-001", kEach);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(parent_ok);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok()) << j.error().message;
  std::vector<int64_t> all;
  for (const char* id : {"spec-2026-02-18-001", "spec-2026-02-18-002"}) {
    Result<std::vector<TransitionRecord>> got = (*j)->Transitions(id);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), static_cast<size_t>(kEach)) << id;
    for (int i = 0; i < kEach; ++i) {
      EXPECT_EQ((*got)[i].reason, std::to_string(i)) << id;  // each process's order is kept
      all.push_back((*got)[i].seq);
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(2 * kEach);
  for (int i = 0; i < 2 * kEach; ++i) expected[i] = i + 1;  // unique, no gaps
  EXPECT_EQ(all, expected);
  EXPECT_EQ(*(*j)->LastSeq(), 2 * kEach);
}

// Creating the journal needs an exclusive lock for the switch to WAL, for
// which SQLite does not wait by itself: several processes opening a new
// journal at once must all succeed.
TEST(JournalProcessTest, ManyProcessesCreateTheJournalAtOnce) {
  constexpr int kRounds = 20, kProcesses = 4;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    const std::string path = dir / "journal.db";
    std::vector<pid_t> children;
    for (int k = 0; k < kProcesses; ++k) {
      pid_t child = ::fork();
      ASSERT_GE(child, 0) << std::strerror(errno);
      if (child == 0) ::_exit(Journal::Open(path).ok() ? 0 : 1);
      children.push_back(child);
    }
    for (pid_t child : children) {
      int status = 0;
      ASSERT_EQ(::waitpid(child, &status, 0), child);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
    }
  }
}

TEST_F(JournalTest, HundredThousandSpecsInOneBatch) {
  constexpr int kCount = 100'000;
  JournalBatch batch;
  batch.upserts.reserve(kCount);
  for (int i = 0; i < kCount; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "spec-2026-02-18-%06d", i);
    SpecRecord r = FullSpec(id);
    r.size = static_cast<uint64_t>(i);
    r.errors = "";
    batch.upserts.push_back(std::move(r));
  }
  MustApply(batch);

  std::vector<SpecRecord> specs = List();
  ASSERT_EQ(specs.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(specs.front(), batch.upserts.front());
  EXPECT_EQ(specs.back(), batch.upserts.back());
  EXPECT_EQ(specs[4242].size, 4242u);
  Result<std::optional<SpecRecord>> by_path = journal_->GetSpecByPath(batch.upserts[77'777].path);
  ASSERT_TRUE(by_path.ok() && by_path->has_value());
  EXPECT_EQ((*by_path)->id, "spec-2026-02-18-077777");
}

TEST(JournalMigrationTest, AVersion1JournalIsMigrated) {
  TempDir dir;
  const std::string path = dir / "journal.db";
  RawDb(path).Exec(kV1Schema);

  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(RawDb(path).Query("PRAGMA user_version"), "4");
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
                                   " has schema version 999, newer than this specd supports (4); upgrade "
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

TEST(JournalPathForTest, InsideTheGitDirectory) {
  TempDir dir;
  fs::create_directories(dir / "repo/.git");
  EXPECT_EQ(JournalPathFor(dir / "repo"), dir / "repo/.git/specd/journal.db");
}

TEST(JournalPathForTest, ALinkedWorktreeUsesItsOwnGitDirectory) {
  TempDir dir;
  fs::create_directories(dir / "main/.git/worktrees/wt");
  Write(dir / "wt/.git", "gitdir: " + (dir / "main/.git/worktrees/wt") + "\n");
  EXPECT_EQ(JournalPathFor(dir / "wt"), dir / "main/.git/worktrees/wt/specd/journal.db");
  // A relative gitdir (as submodules write it) is relative to the .git file.
  Write(dir / "wt2/.git", "gitdir: ../main/.git/worktrees/wt\r\n");
  EXPECT_EQ(JournalPathFor(dir / "wt2"), dir / "main/.git/worktrees/wt/specd/journal.db");
}

TEST(JournalPathForTest, WithoutGitItLivesUnderDotAgents) {
  TempDir dir;
  fs::create_directories(dir / "plain/.agents/specs");
  EXPECT_EQ(JournalPathFor(dir / "plain"), dir / "plain/.agents/.specd/journal.db");
  Write(dir / "odd/.git", "not a gitdir line\n");
  EXPECT_EQ(JournalPathFor(dir / "odd"), dir / "odd/.agents/.specd/journal.db");
  Write(dir / "gone/.git", "gitdir: /nonexistent/specd-test/worktrees/x\n");
  EXPECT_EQ(JournalPathFor(dir / "gone"), dir / "gone/.agents/.specd/journal.db");
}

TEST(Sha256Test, StandardVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),  // 448 bits
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      Sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
                "opqrsmnopqrstnopqrstu"),  // 896 bits
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(Sha256Hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(Sha256Hex(std::string_view("a\0b\xff", 4)),
            "a37cc3026aae4d519e0b19c298fa913b4dccfdf0658cbccbb7deaa0226d5acdb");
}

// Lengths around the padding edges (55 fits the length in one block, 56 does
// not), checked against sha256sum.
TEST(Sha256Test, PaddingBoundaries) {
  const std::pair<size_t, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
      {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
  };
  for (const auto& [n, hex] : cases) EXPECT_EQ(Sha256Hex(std::string(n, 'a')), hex) << n;
}

}  // namespace
}  // namespace specd
