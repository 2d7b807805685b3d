// WatchService's loop in process: a FakeWatcher delivers the events a test
// scripts and a FakeClock moves only when told; the engine, the SQLite
// journal and the spec files are real, in a temporary directory. Each test
// steps the loop (Step(false): handle what is there, never wait) and
// asserts the passes made and the journal's rows.
#include "watchers/watch_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/journal.h"
#include "tests/fake_env.h"
#include "tests/fake_watcher.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::specd::testing::FakeClock;
using ::specd::testing::FakeWatcher;
using ::specd::testing::kValidSpec;
using ::specd::testing::ReadAll;
using ::specd::testing::Replace;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

constexpr char kId[] = "spec-2026-01-01-001";
constexpr char kRel[] = ".agents/specs/active/spec-2026-01-01-001.yaml";
constexpr int64_t kSettle = 20;
constexpr int64_t kRetry = 1000;

class WatchServiceTest : public ::testing::Test {
 protected:
  WatchServiceTest() {
    fs::create_directories(repo_ / ".git");  // a git dir: the journal and the git markers live there
    fs::create_directories(repo_ / ".agents/specs/active");
    Result<std::unique_ptr<Journal>> j = Journal::Open(JournalPathFor(repo_.path()));
    EXPECT_TRUE(j.ok()) << j.error().message;
    if (j.ok()) journal_ = std::move(*j);
  }

  // The service over `env` (the real one unless a test injects failures),
  // started and through its first pass.
  void StartService(Env* env = Env::Default()) {
    engine_ = std::make_unique<SpecEngine>(env, journal_.get(), repo_.path());
    EngineOptions from_git;
    from_git.changes_from_git = true;
    git_engine_ = std::make_unique<SpecEngine>(env, journal_.get(), repo_.path(), from_git);
    WatchOptions options;
    options.settle_ms = kSettle;
    options.retry_ms = kRetry;
    options.rescan_ms = 0;
    options.clock = &clock_;
    options.handle_signals = false;
    options.new_watcher = ::specd::testing::HandOver(watcher_);
    options.git_dir = repo_ / ".git";
    options.git_engine = git_engine_.get();
    service_ = std::make_unique<WatchService>(engine_.get(), journal_.get(), options, &notifier_);
    Status s = service_->Start();
    ASSERT_TRUE(s.ok()) << s.error().message;
    s = service_->StartUp();
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  void Step() {
    Result<bool> go = service_->Step(/*block=*/false);
    ASSERT_TRUE(go.ok()) << go.error().message;
    EXPECT_TRUE(*go);
  }

  std::string Path(const std::string& rel = kRel) const { return repo_ / rel; }

  // Each transition as "from -> to (actor: reason)".
  std::vector<std::string> Transitions(const std::string& id = kId) {
    std::vector<std::string> out;
    Result<std::vector<TransitionRecord>> ts = journal_->Transitions(id);
    EXPECT_TRUE(ts.ok());
    if (ts.ok()) {
      for (const TransitionRecord& t : *ts)
        out.push_back(t.from + " -> " + t.to + " (" + t.actor + ": " + t.reason + ")");
    }
    return out;
  }
  std::vector<std::string> WatchLog() {
    std::vector<std::string> out;
    Result<std::vector<WatchRecord>> log = journal_->WatchLog();
    EXPECT_TRUE(log.ok());
    if (log.ok()) {
      for (const WatchRecord& r : *log) out.push_back(r.kind + ": " + r.detail);
    }
    return out;
  }

  TempDir repo_{"specd-service"};
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<SpecEngine> engine_, git_engine_;
  FakeClock clock_;
  FakeWatcher* watcher_ = new FakeWatcher;  // owned by the service once started
  SdNotifier notifier_ = SdNotifier::FromValues(nullptr, nullptr, nullptr, ::getpid());
  std::unique_ptr<WatchService> service_;
};

using Lines = std::vector<std::string>;
const std::string kRegistered = " -> draft (specd: registered)";

TEST_F(WatchServiceTest, AWrittenPathIsReconciledAtOnce) {
  StartService();
  Write(Path(), kValidSpec);
  watcher_->Push(Path(), FsEvent::Kind::kWritten);
  Step();
  EXPECT_EQ(service_->stats().passes, 1u);
  EXPECT_EQ(service_->stats().examined, 1u);
  EXPECT_EQ(service_->pending(), 0u);
  EXPECT_EQ(Transitions(), Lines{kRegistered});
}

TEST_F(WatchServiceTest, ACreatedPathWaitsForSettleMsOfQuiet) {
  StartService();
  Write(Path(), kValidSpec);
  watcher_->Push(Path(), FsEvent::Kind::kChanging);
  Step();
  EXPECT_EQ(service_->stats().passes, 0u);
  clock_.Advance(kSettle - 1);
  watcher_->Push(Path(), FsEvent::Kind::kChanging);  // the writer is back: the wait starts again
  Step();
  clock_.Advance(kSettle - 1);
  Step();
  EXPECT_EQ(service_->stats().passes, 0u);
  EXPECT_EQ(Transitions(), Lines{});
  clock_.Advance(1);  // settle ms since the last event
  Step();
  EXPECT_EQ(service_->stats().passes, 1u);
  EXPECT_EQ(Transitions(), Lines{kRegistered});
}

TEST_F(WatchServiceTest, AnInvalidFileIsHeldAndLookedAtAgain) {
  StartService();
  const std::string half = std::string(kValidSpec).substr(0, 60);  // a writer half done
  Write(Path(), half);
  watcher_->Push(Path(), FsEvent::Kind::kWritten);
  Step();
  EXPECT_EQ(service_->stats().passes, 1u);
  EXPECT_EQ(service_->stats().held, 1u);
  Result<std::optional<SpecRecord>> rec = journal_->GetSpecByPath(kRel);
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(*rec) << "a held file is not journaled";
  // The writer finishes without an event reaching us: the second look,
  // settle ms later, finds it whole.
  Write(Path(), kValidSpec);
  clock_.Advance(kSettle - 1);
  Step();
  EXPECT_EQ(service_->stats().passes, 1u);
  clock_.Advance(1);
  Step();
  EXPECT_EQ(service_->stats().passes, 2u);
  EXPECT_EQ(Transitions(), Lines{kRegistered});
  Result<std::vector<FailureRecord>> failures = journal_->Failures(kId);
  ASSERT_TRUE(failures.ok());
  EXPECT_TRUE(failures->empty());
}

TEST_F(WatchServiceTest, AnInvalidFileStillInvalidOnTheSecondLookIsJournaled) {
  StartService();
  const std::string bad = Replace(kValidSpec, "title: A valid spec for the tests", "title: short");
  Write(Path(), bad);
  watcher_->Push(Path(), FsEvent::Kind::kWritten);
  Step();
  EXPECT_EQ(service_->stats().held, 1u);
  clock_.Advance(kSettle);
  Step();  // nobody has it open for writing: the last look reports it
  EXPECT_EQ(service_->stats().passes, 2u);
  Result<std::optional<SpecRecord>> rec = journal_->GetSpec(kId);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_NE((*rec)->errors.find("/metadata/title: must be at least 10 characters long (it has 5)"),
            std::string::npos)
      << (*rec)->errors;
  EXPECT_EQ(ReadAll(Path()), bad);
}

TEST_F(WatchServiceTest, AnOverflowLeadsToAFullRescanJournaledInWatchLog) {
  StartService();
  const std::string other = Replace(kValidSpec, kId, "spec-2026-01-01-002");
  Write(Path(), kValidSpec);  // two files whose events were lost
  Write(Path(".agents/specs/active/spec-2026-01-01-002.yaml"), other);
  watcher_->Overflow();
  Step();
  EXPECT_EQ(service_->stats().overflows, 1u);
  EXPECT_EQ(service_->stats().rescans, 1u);
  EXPECT_EQ(service_->stats().passes, 0u);
  EXPECT_EQ(Transitions(), Lines{kRegistered});
  EXPECT_EQ(Transitions("spec-2026-01-01-002"), Lines{kRegistered});
  EXPECT_EQ(WatchLog(),
            (Lines{"started: watching " + Path(".agents/specs/active") +
                       " (fake, 0 specs, 0 changed since last seen)",
                   "overflow: the kernel's event queue overflowed (fs.inotify.max_queued_events): "
                   "rescanned 2 files, 2 changed, 2 events"}));
}

TEST_F(WatchServiceTest, AFailingPathIsRetriedAfterRetryMs) {
  FakeEnv env(1'700'000'000'000);
  StartService(&env);
  // Approved: the engine's step writes the file, and that write fails once.
  Write(Path(), Replace(kValidSpec, "status: draft", "status: approved"));
  env.FailNth(FakeEnv::Op::kRenameFile, 1, "rename: Input/output error");
  watcher_->Push(Path(), FsEvent::Kind::kWritten);
  Step();
  EXPECT_EQ(service_->stats().passes, 1u);
  EXPECT_EQ(Transitions(), Lines{});  // the journal's rows went with the failed write
  EXPECT_EQ(service_->pending(), 1u);
  clock_.Advance(kRetry - 1);
  Step();
  EXPECT_EQ(service_->stats().passes, 1u);
  clock_.Advance(1);
  Step();
  EXPECT_EQ(service_->stats().passes, 2u);
  EXPECT_EQ(service_->pending(), 0u);
  EXPECT_EQ(Transitions(), (Lines{" -> approved (specd: registered)",
                                  "approved -> planning (specd: approved: planning starts)"}));
}

TEST_F(WatchServiceTest, ADirectoryWithASpecsNameIsNotRetried) {
  fs::create_directories(Path(".agents/specs/active/x.yaml"));
  StartService();
  EXPECT_EQ(service_->pending(), 0u);  // the first pass could not read it, and left it
  clock_.Advance(10 * kRetry);
  Step();
  EXPECT_EQ(service_->stats().passes, 0u);
}

// ---------------------------------------------------------------------------
// Git operations

TEST_F(WatchServiceTest, WhatChangesDuringAGitOperationIsReconciledAsGitsWhenItEnds) {
  Write(Path(), kValidSpec);
  StartService();
  ASSERT_EQ(Transitions(), Lines{kRegistered});
  // A merge brings in a status the life cycle would not allow as a hand edit.
  const std::string merged = Replace(kValidSpec, "status: draft\n", "status: approved\n");
  watcher_->Push(Path(".git/MERGE_HEAD"), FsEvent::Kind::kWritten);
  Write(Path(), merged);
  watcher_->Push(Path(), FsEvent::Kind::kWritten);
  Step();
  EXPECT_TRUE(service_->git_busy());
  EXPECT_EQ(service_->stats().passes, 0u);
  clock_.Advance(kSettle);
  Step();
  EXPECT_EQ(service_->stats().passes, 0u);  // held while the merge is under way
  watcher_->Push(Path(".git/MERGE_HEAD"), FsEvent::Kind::kGone);
  Step();
  EXPECT_FALSE(service_->git_busy());
  EXPECT_EQ(service_->stats().git_passes, 1u);
  EXPECT_EQ(ReadAll(Path()), merged);  // nothing put back
  Result<std::vector<RefusalRecord>> refusals = journal_->Refusals(kId);
  ASSERT_TRUE(refusals.ok());
  EXPECT_TRUE(refusals->empty());
  Lines ts = Transitions();
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[1].rfind("draft -> approved (git: ", 0), 0u) << ts[1];
  EXPECT_EQ(WatchLog().back(),
            "git: after a merge (MERGE_HEAD): 1 changed spec reconciled as git changes, 1 events");
}

TEST_F(WatchServiceTest, AnEditMadeBeforeAGitOperationIsStillJudgedAsAnEdit) {
  Write(Path(), kValidSpec);
  StartService();
  // A hand edit skipping review, still settling when git takes its index
  // lock (an editor's background `git status`): not git's to launder.
  const std::string jumped = Replace(kValidSpec, "status: draft\n", "status: approved\n");
  Write(Path(), jumped);
  watcher_->Push(Path(), FsEvent::Kind::kChanging);
  watcher_->Push(Path(".git/index.lock"), FsEvent::Kind::kWritten);
  Step();
  clock_.Advance(kSettle);
  Step();
  EXPECT_EQ(service_->stats().passes, 0u);  // due, but git is at work
  watcher_->Push(Path(".git/index.lock"), FsEvent::Kind::kGone);
  Step();
  EXPECT_EQ(service_->stats().git_passes, 0u);  // git changed no spec
  EXPECT_EQ(service_->stats().passes, 1u);
  Result<std::vector<RefusalRecord>> refusals = journal_->Refusals(kId);
  ASSERT_TRUE(refusals.ok());
  ASSERT_EQ(refusals->size(), 1u);
  EXPECT_EQ((*refusals)[0].requested, "approved");
  EXPECT_EQ(Transitions(), Lines{kRegistered});
  EXPECT_EQ(ReadAll(Path()).find("status: approved"), std::string::npos);  // the legal status put back
}

TEST_F(WatchServiceTest, AnOperationEndingWithoutAnEventIsNoticedByTheReCheck) {
  Write(Path(".git/index.lock"), "");
  StartService();  // under way at start: the first pass waits for it
  EXPECT_TRUE(service_->git_busy());
  Write(Path(), kValidSpec);
  watcher_->Push(Path(), FsEvent::Kind::kWritten);
  Step();
  EXPECT_EQ(Transitions(), Lines{});
  fs::remove(Path(".git/index.lock"));  // and no event says so
  Step();
  EXPECT_TRUE(service_->git_busy());
  clock_.Advance(WatchOptions{}.git_check_ms);
  Step();
  EXPECT_FALSE(service_->git_busy());
  EXPECT_EQ(service_->stats().git_passes, 1u);
  Lines ts = Transitions();
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].rfind(" -> draft (", 0), 0u) << ts[0];
  EXPECT_EQ(
      WatchLog().back(),
      "git: after git's index lock (index.lock): rescanned 1 files as git changes, 1 changed, 1 events");
}

}  // namespace
}  // namespace specd
