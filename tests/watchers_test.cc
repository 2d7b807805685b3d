// The watcher's pieces without a process: when the Settler says a path is
// due, which names the watcher passes on, which file systems force polling,
// the one-watcher-per-repository lock, and how the backends and the GitGate
// see a git operation come and go (real directories, no process).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/process_util.h"
#include "tests/test_util.h"
#include "watchers/file_watcher.h"
#include "watchers/git_gate.h"
#include "watchers/lock.h"
#include "watchers/settle.h"

namespace specd {
namespace {

using ::specd::testing::ReadAll;
using ::specd::testing::TempDir;

using Kind = FsEvent::Kind;

// Due lists as "path" (first look) or "path!" (last look), in Take's order.
std::vector<std::string> Taken(Settler* s, int64_t now) {
  std::vector<std::string> out;
  for (const Settler::Due& d : s->Take(now)) out.push_back(d.path + (d.last_look ? "!" : ""));
  return out;
}

using Paths = std::vector<std::string>;

// ---------------------------------------------------------------------------
// Settler

TEST(SettlerTest, AFinishedWriteIsDueAtOnce) {
  Settler s(20);
  s.Note(FsEvent{"/r/a.yaml", Kind::kWritten}, 100);
  EXPECT_EQ(s.NextDue(), 100);
  EXPECT_EQ(Taken(&s, 99), Paths{});
  EXPECT_EQ(Taken(&s, 100), Paths{"/r/a.yaml"});
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.NextDue(), std::nullopt);
  EXPECT_EQ(Taken(&s, 1000), Paths{});  // taken once
}

TEST(SettlerTest, ChangingAndGoneWaitForTheSettleTime) {
  Settler s(20);
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 100);
  s.Note(FsEvent{"/r/b.yaml", Kind::kGone}, 105);
  EXPECT_EQ(s.NextDue(), 120);
  EXPECT_EQ(Taken(&s, 119), Paths{});
  EXPECT_EQ(Taken(&s, 120), Paths{"/r/a.yaml"});
  EXPECT_EQ(s.NextDue(), 125);
  EXPECT_EQ(Taken(&s, 124), Paths{});
  EXPECT_EQ(Taken(&s, 125), Paths{"/r/b.yaml"});
  EXPECT_EQ(s.pending(), 0u);
}

TEST(SettlerTest, EveryNewEventStartsTheWaitAgain) {
  Settler s(20);
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 100);
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 115);
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 130);
  EXPECT_EQ(s.pending(), 1u);  // a burst is one look
  EXPECT_EQ(Taken(&s, 149), Paths{});
  EXPECT_EQ(Taken(&s, 150), Paths{"/r/a.yaml"});
}

TEST(SettlerTest, TheLatestEventDecides) {
  Settler s(20);
  // Created, modified, then closed: due when closed.
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 100);
  s.Note(FsEvent{"/r/a.yaml", Kind::kWritten}, 103);
  // A rename-save: the old name goes (gone), the new one arrives (written).
  s.Note(FsEvent{"/r/b.yaml", Kind::kGone}, 100);
  s.Note(FsEvent{"/r/b.yaml", Kind::kWritten}, 101);
  // Closed, then a writer is back: wait again.
  s.Note(FsEvent{"/r/c.yaml", Kind::kWritten}, 100);
  s.Note(FsEvent{"/r/c.yaml", Kind::kChanging}, 104);
  EXPECT_EQ(Taken(&s, 102), Paths{"/r/b.yaml"});
  EXPECT_EQ(Taken(&s, 103), Paths{"/r/a.yaml"});
  EXPECT_EQ(Taken(&s, 123), Paths{});
  EXPECT_EQ(Taken(&s, 124), Paths{"/r/c.yaml"});
}

TEST(SettlerTest, DuePathsComeSortedAndOnlyTheDueOnes) {
  Settler s(20);
  s.Note(FsEvent{"/r/c.yaml", Kind::kWritten}, 10);
  s.Note(FsEvent{"/r/a.yaml", Kind::kWritten}, 11);
  s.Note(FsEvent{"/r/d.yaml", Kind::kChanging}, 12);
  s.Note(FsEvent{"/r/b.yaml", Kind::kWritten}, 12);
  EXPECT_EQ(s.pending(), 4u);
  EXPECT_EQ(Taken(&s, 12), (Paths{"/r/a.yaml", "/r/b.yaml", "/r/c.yaml"}));
  EXPECT_EQ(s.pending(), 1u);
  EXPECT_EQ(s.NextDue(), 32);
  EXPECT_EQ(Taken(&s, 32), Paths{"/r/d.yaml"});
}

TEST(SettlerTest, AHeldPathIsLookedAtOnceMoreAsALastLook) {
  Settler s(20);
  s.Note(FsEvent{"/r/a.yaml", Kind::kWritten}, 100);
  EXPECT_EQ(Taken(&s, 100), Paths{"/r/a.yaml"});
  s.Hold("/r/a.yaml", 100, 100);  // invalid on the first look
  EXPECT_EQ(s.NextDue(), 120);
  EXPECT_EQ(Taken(&s, 119), Paths{});
  EXPECT_EQ(Taken(&s, 120), Paths{"/r/a.yaml!"});
  EXPECT_EQ(s.pending(), 0u);
  // Held again (its writer still has it open): it keeps the time it was first held.
  s.Hold("/r/a.yaml", 120, 100);
  std::vector<Settler::Due> due = s.Take(140);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(due[0].last_look);
  EXPECT_EQ(due[0].held_since_ms, 100);
}

TEST(SettlerTest, AWriterComingBackMakesAHeldPathAFirstLookAgain) {
  Settler s(20);
  s.Hold("/r/a.yaml", 100, 100);
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 110);  // the writer is back
  EXPECT_EQ(Taken(&s, 129), Paths{});
  EXPECT_EQ(Taken(&s, 130), Paths{"/r/a.yaml"});  // not a last look
  s.Hold("/r/b.yaml", 100, 100);
  s.Note(FsEvent{"/r/b.yaml", Kind::kWritten}, 105);  // and finished
  EXPECT_EQ(Taken(&s, 105), Paths{"/r/b.yaml"});
}

TEST(SettlerTest, HoldingAPendingPathKeepsItAFirstLookAndTheLaterTime) {
  Settler s(20);
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 200);  // due 220
  s.Hold("/r/a.yaml", 210, 210);                       // would be due 230
  EXPECT_EQ(Taken(&s, 229), Paths{});
  EXPECT_EQ(Taken(&s, 230), Paths{"/r/a.yaml"});
  s.Note(FsEvent{"/r/b.yaml", Kind::kChanging}, 200);  // due 220
  s.Hold("/r/b.yaml", 190, 190);                       // would be due 210: the later stays
  EXPECT_EQ(Taken(&s, 219), Paths{});
  EXPECT_EQ(Taken(&s, 220), Paths{"/r/b.yaml"});
}

TEST(SettlerTest, RetryKeepsTheEarlierTime) {
  Settler s(20);
  s.Retry("/r/a.yaml", 1000);
  EXPECT_EQ(s.NextDue(), 1000);
  s.Retry("/r/a.yaml", 2000);
  EXPECT_EQ(s.NextDue(), 1000);
  s.Note(FsEvent{"/r/b.yaml", Kind::kChanging}, 900);  // due 920
  s.Retry("/r/b.yaml", 1500);
  EXPECT_EQ(s.NextDue(), 920);
  EXPECT_EQ(Taken(&s, 920), Paths{"/r/b.yaml"});
  EXPECT_EQ(Taken(&s, 999), Paths{});
  EXPECT_EQ(Taken(&s, 1000), Paths{"/r/a.yaml"});
  EXPECT_EQ(s.pending(), 0u);
}

TEST(SettlerTest, ZeroSettleMakesEverythingDueAtOnce) {
  Settler s(0);
  s.Note(FsEvent{"/r/a.yaml", Kind::kChanging}, 7);
  s.Note(FsEvent{"/r/b.yaml", Kind::kGone}, 7);
  EXPECT_EQ(Taken(&s, 7), (Paths{"/r/a.yaml", "/r/b.yaml"}));
}

// ---------------------------------------------------------------------------
// Names

TEST(WatchedNamesTest, EditorTemporariesAndSpecdsOwnAreIgnored) {
  for (const char* name : {".x.yaml.swp", ".x.yaml.swo", ".x.yaml.swx", "x.yaml~", "#x.yaml#", ".#x.yaml",
                           "4913", ".subl1234.tmp", ".subl.tmp", ".specd-tmp-spec-2026-01-01-001.yaml", ""}) {
    EXPECT_TRUE(IsIgnoredName(name)) << "'" << name << "'";
    EXPECT_FALSE(IsWatchedName(name)) << "'" << name << "'";
  }
}

TEST(WatchedNamesTest, SpecFileNamesAreWatched) {
  for (const char* name :
       {"spec-2026-01-01-001.yaml", "x.yaml", "x.yml", "#x.yaml", "x~y.yaml", "4913.yaml", "subl1.yaml"}) {
    EXPECT_FALSE(IsIgnoredName(name)) << name;
    EXPECT_TRUE(IsWatchedName(name)) << name;
  }
}

TEST(WatchedNamesTest, OtherNamesAreNotWatchedNorIgnored) {
  for (const char* name :
       {"README.md", "x.json", "x.yaml.bak", "yaml", ".yaml", "x.swp", "4914", ".x.yaml"}) {
    EXPECT_FALSE(IsWatchedName(name)) << name;
  }
  // Not an editor's temporary, only not a spec.
  EXPECT_FALSE(IsIgnoredName("README.md"));
  EXPECT_FALSE(IsIgnoredName("x.swp"));  // vim's swap names start with a dot
  EXPECT_FALSE(IsIgnoredName("4914"));
}

// ---------------------------------------------------------------------------
// File systems

TEST(RemoteFileSystemTest, NamesTheFileSystemsWhereInotifyIsBlind) {
  EXPECT_EQ(RemoteFileSystemName(0x6969), "nfs");
  EXPECT_EQ(RemoteFileSystemName(0x517B), "smb");
  EXPECT_EQ(RemoteFileSystemName(0xFF534D42), "cifs");
  EXPECT_EQ(RemoteFileSystemName(0xFE534D42), "smb2");
  EXPECT_EQ(RemoteFileSystemName(0x65735546), "fuse");
  EXPECT_EQ(RemoteFileSystemName(0x01021997), "9p (v9fs)");
  // f_type sign-extended from a 32-bit word is the same file system.
  EXPECT_EQ(RemoteFileSystemName(static_cast<int32_t>(0xFF534D42u)), "cifs");
}

TEST(RemoteFileSystemTest, LocalFileSystemsAreEmpty) {
  EXPECT_EQ(RemoteFileSystemName(0xEF53), "");      // ext2/3/4
  EXPECT_EQ(RemoteFileSystemName(0x01021994), "");  // tmpfs
  EXPECT_EQ(RemoteFileSystemName(0x9123683E), "");  // btrfs
  EXPECT_EQ(RemoteFileSystemName(0x58465342), "");  // xfs
  EXPECT_EQ(RemoteFileSystemName(0), "");
}

TEST(RemoteFileSystemTest, AMissingPathIsJudgedByItsNearestParent) {
  TempDir dir;
  const std::string here = RemoteFileSystemAt(dir.path());
  EXPECT_EQ(RemoteFileSystemAt(dir / "not/there/yet"), here);
  EXPECT_EQ(RemoteFileSystemAt("/proc/self/no-such-file"), "");  // proc is local
}

// ---------------------------------------------------------------------------
// The lock

TEST(WatchLockTest, ASecondAcquireFailsNamingTheHoldersPid) {
  TempDir dir;
  const std::string path = dir / "watch.lock";
  Result<std::unique_ptr<WatchLock>> first = WatchLock::Acquire(path);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(ReadAll(path), std::to_string(::getpid()) + "\n");
  // flock belongs to the open file description: a second open in the same
  // process conflicts, as another process's would.
  Result<std::unique_ptr<WatchLock>> second = WatchLock::Acquire(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "another specd watch (pid " + std::to_string(::getpid()) +
                                        ") is already watching this repository; stop it first (its lock is " +
                                        path + ")");
  EXPECT_EQ(ReadAll(path), std::to_string(::getpid()) + "\n");  // the holder's pid is left alone
  first->reset();                                               // let go
  Result<std::unique_ptr<WatchLock>> third = WatchLock::Acquire(path);
  ASSERT_TRUE(third.ok()) << third.error().message;
}

TEST(WatchLockTest, AStalePidFromACrashDoesNotBlock) {
  TempDir dir;
  const std::string path = dir / "watch.lock";
  ::specd::testing::Write(path, "999999\nleft over\n");  // a crashed watcher's file, no lock held
  Result<std::unique_ptr<WatchLock>> lock = WatchLock::Acquire(path);
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EXPECT_EQ(ReadAll(path), std::to_string(::getpid()) + "\n");
}

TEST(WatchLockTest, AnUnopenableLockSaysSo) {
  TempDir dir;
  const std::string path = dir / "no/such/dir/watch.lock";
  Result<std::unique_ptr<WatchLock>> lock = WatchLock::Acquire(path);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().message, "cannot open " + path + ": No such file or directory");
}

TEST(WatchLockTest, LivesNextToTheJournal) {
  EXPECT_EQ(WatchLockPathFor("/r/.git/specd/journal.db"), "/r/.git/specd/watch.lock");
  EXPECT_EQ(WatchLockPathFor("journal.db"), "./watch.lock");
}

// ---------------------------------------------------------------------------
// Git operations: the backends report the git dir's markers, in order

// "path kind" for each event, paths relative to `root`.
Paths Events(const WatchBatch& batch, const std::string& root) {
  Paths out;
  for (const FsEvent& e : batch.events) {
    const char* kind = e.kind == Kind::kWritten ? "written" : e.kind == Kind::kGone ? "gone" : "changing";
    out.push_back(e.path.substr(root.size() + 1) + " " + kind);
  }
  return out;
}

class GitMarkersTest : public ::testing::Test {
 protected:
  GitMarkersTest() {
    std::filesystem::create_directories(dir_ / ".git");
    std::filesystem::create_directories(dir_ / ".agents/specs/active");
  }
  TempDir dir_;
};

TEST_F(GitMarkersTest, InotifyReportsAMarkerAndTheSpecsGitWroteInOrder) {
  Result<std::unique_ptr<FileWatcher>> w = NewInotifyWatcher(dir_.path(), dir_ / ".git");
  ASSERT_TRUE(w.ok()) << w.error().message;
  ::specd::testing::Write(dir_ / ".git/index.lock", "");
  ::specd::testing::Write(dir_ / ".git/ORIG_HEAD", "");  // not a marker: not reported
  ::specd::testing::Write(dir_ / ".agents/specs/active/a.yaml", "x");
  ASSERT_EQ(::rename((dir_ / ".git/index.lock").c_str(), (dir_ / ".git/index").c_str()), 0);
  Result<WatchBatch> batch = (*w)->Read();
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(Events(*batch, dir_.path()),
            (Paths{".git/index.lock written", ".agents/specs/active/a.yaml changing",
                   ".agents/specs/active/a.yaml changing", ".agents/specs/active/a.yaml written",
                   ".git/index.lock gone"}));
}

TEST_F(GitMarkersTest, PollingReportsAMarkerThatCameBeforeAndOneThatWentAfterTheSpecs) {
  ::specd::testing::Write(dir_ / ".git/MERGE_HEAD", "");
  Result<std::unique_ptr<FileWatcher>> w = NewPollingWatcher(dir_.path(), 1000, dir_ / ".git");
  ASSERT_TRUE(w.ok()) << w.error().message;
  std::filesystem::remove(dir_ / ".git/MERGE_HEAD");
  ::specd::testing::Write(dir_ / ".agents/specs/active/a.yaml", "x");
  std::filesystem::create_directories(dir_ / ".git/rebase-merge");
  Result<WatchBatch> batch = (*w)->Read();
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(
      Events(*batch, dir_.path()),
      (Paths{".git/rebase-merge written", ".agents/specs/active/a.yaml written", ".git/MERGE_HEAD gone"}));
}

TEST_F(GitMarkersTest, TheGateIsBusyWhileAnyMarkerIsThereAndSaysWhatWasUnderWay) {
  GitGate gate(dir_ / ".git");
  EXPECT_FALSE(gate.IsMarker(dir_ / ".git/ORIG_HEAD"));
  EXPECT_FALSE(gate.IsMarker(dir_ / ".agents/MERGE_HEAD"));
  ASSERT_TRUE(gate.IsMarker(dir_ / ".git/MERGE_HEAD"));
  gate.Note(FsEvent{dir_ / ".git/index.lock", Kind::kWritten});
  gate.Note(FsEvent{dir_ / ".git/MERGE_HEAD", Kind::kWritten});
  gate.Note(FsEvent{dir_ / ".git/index.lock", Kind::kGone});
  EXPECT_TRUE(gate.busy());
  gate.Hold("/a.yaml");
  gate.Hold("/a.yaml");
  gate.Note(FsEvent{dir_ / ".git/MERGE_HEAD", Kind::kGone});
  EXPECT_FALSE(gate.busy());
  EXPECT_EQ(gate.Describe(), "a merge (MERGE_HEAD), git's index lock (index.lock)");
  GitGate::Held held = gate.Take();
  EXPECT_EQ(held.paths, Paths{"/a.yaml"});
  EXPECT_FALSE(held.everything);
  EXPECT_FALSE(gate.holding());
  // Refresh looks at the directory itself: a linked worktree's own git dir.
  ::specd::testing::Write(dir_ / ".git/REVERT_HEAD", "");
  gate.Refresh();
  EXPECT_TRUE(gate.busy());
  EXPECT_EQ(gate.Describe(), "a revert (REVERT_HEAD)");
}

TEST_F(GitMarkersTest, TheGitDirIsTheJournalsOwnAndNoneWithoutGit) {
  EXPECT_EQ(GitDirFor(dir_.path()), dir_ / ".git");
  TempDir worktree;
  ::specd::testing::Write(worktree / ".git", "gitdir: " + (dir_ / ".git") + "\n");
  EXPECT_EQ(GitDirFor(worktree.path()), dir_ / ".git");
  TempDir plain;
  EXPECT_EQ(GitDirFor(plain.path()), "");
}

}  // namespace
}  // namespace specd
