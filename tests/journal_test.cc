// The journal on real SQLite files in a temporary directory: round trips of
// every record, atomic batches, a second process writing at the same time,
// full-text search, and where the journal lives (migrations:
// journal_migration_test.cc; the event log: journal_events_test.cc).
#include "engine/journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/journal_changes.h"
#include "tests/journal_test_util.h"
#include "tests/process_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using ::specd::testing::Failure;
using ::specd::testing::FullSpec;
using ::specd::testing::JournalTest;
using ::specd::testing::RawDb;
using ::specd::testing::TempDir;
using ::specd::testing::Transition;
using ::specd::testing::Write;

TEST_F(JournalTest, OpenCreatesAWalJournalAtTheCurrentVersion) {
  EXPECT_EQ(journal_->path(), path_);
  EXPECT_EQ(Journal::SchemaVersion(), 8);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), "8");
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

// A reader woken by a commit's first WAL write that finds nothing looks
// again a few times, briefly (the commit shows a moment later), then waits
// for the next change; a wake that finds something ends the re-looks.
TEST(JournalChangesTest, AWakeThatFindsNothingLooksAgainBrieflyThenWaits) {
  ::specd::testing::TempDir dir;
  const std::string path = dir / "journal.db";
  JournalChanges changes;
  ASSERT_TRUE(changes.Start(path).ok());
  changes.Found(false);  // not after a change: no re-look
  EXPECT_FALSE(changes.Wait(20));

  Result<std::unique_ptr<Journal>> j = Journal::Open(path);  // writes journal.db and its WAL
  ASSERT_TRUE(j.ok()) << j.error().message;
  ASSERT_TRUE(changes.Wait(5000));
  changes.Found(false);
  int relooks = 0;
  while (changes.Wait(1000)) {  // 2, 4, ... 128 ms: short waits, each a look
    changes.Found(false);
    ASSERT_LT(++relooks, 20);
  }
  EXPECT_EQ(relooks, 7);

  std::FILE* f = std::fopen((path + "-wal").c_str(), "a");  // a change again
  ASSERT_NE(f, nullptr);
  std::fputs("x", f);
  std::fclose(f);
  ASSERT_TRUE(changes.Wait(5000));
  changes.Found(true);  // found something: no re-look
  EXPECT_FALSE(changes.Wait(20));
  // Another folder's files, or a file not the journal's, wake nobody.
  std::FILE* other = std::fopen((dir / "notes.txt").c_str(), "w");
  ASSERT_NE(other, nullptr);
  std::fclose(other);
  EXPECT_FALSE(changes.Wait(20));
}

}  // namespace
}  // namespace specd
