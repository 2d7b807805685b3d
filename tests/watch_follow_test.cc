// specd watch when its ground moves (issue 10 item 9): the repository folder
// renamed, a directory with a spec's name, the journal deleted under it. The
// real binary, real files; each test asserts the exit status, the message
// and that nothing was journaled wrongly.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "tests/process_util.h"
#include "tests/test_util.h"
#include "tests/watch_util.h"

namespace specd {
namespace {

namespace fs = std::filesystem;
using ::specd::testing::EventText;
using ::specd::testing::Id;
using ::specd::testing::ReadAll;
using ::specd::testing::RenameSave;
using ::specd::testing::SpecText;
using WatchFollowTest = ::specd::testing::WatchFixture;

// Renames `from` to `to` and back at the end, so the temporary directory is
// where its owner will remove it whatever the test found.
class Renamed {
 public:
  Renamed(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {
    EXPECT_EQ(::rename(from_.c_str(), to_.c_str()), 0) << std::strerror(errno);
  }
  ~Renamed() { ::rename(to_.c_str(), from_.c_str()); }

 private:
  std::string from_, to_;
};

TEST_F(WatchFollowTest, TheRepositoryRenamedStopsTheWatcherNamingItsOldPath) {
  const std::string a = Id(1);
  testing::Write(PathOf(a), SpecText(a));
  auto w = Start();
  const std::string moved = repo_.path() + "-moved";
  {
    Renamed rename(repo_.path(), moved);
    RenameSave(moved + "/" + Rel(a), SpecText(a, "review"));  // an edit at the new place
    EXPECT_EQ(w->Wait(), 2) << w->output();
  }
  const std::string why = "the repository " + repo_.path() +
                          " was moved or renamed (it is no longer at that path); stopping: start specd watch "
                          "again where it is now";
  EXPECT_EQ(w->LinesWith(why).size(), 1u) << w->output();
  EXPECT_EQ(w->Count("removed"), 0u) << w->output();
  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Transitions(j.get(), a), std::vector<std::string>{" -> draft (specd: registered)"});
  Result<std::vector<WatchRecord>> log = j->WatchLog();
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ(log->back().kind, "stopped");
  EXPECT_EQ(log->back().detail, why);
}

TEST_F(WatchFollowTest, ADirectoryNamedLikeASpecIsSaidOnceAndNeverRetried) {
  fs::create_directories(Active() + "/x.yaml");
  auto w = Start({"--log-level", "debug", "--rescan-interval", "1"});
  // Two safety rescans, a second apart: time for retries every second to show.
  ASSERT_TRUE(w->WaitForCount("safety rescan: rescanned", 2));
  Stop(w.get());
  // Said once, by the first pass (the engine reads no directory as a spec),
  // and never again.
  EXPECT_EQ(
      w->LinesWith("x: invalid, left as it is: .agents/specs/active/x.yaml:1:1: error: a directory, not a "
                   "file; skipped")
          .size(),
      1u)
      << w->output();
  EXPECT_EQ(w->Count("trying again"), 0u) << w->output();
  EXPECT_EQ(w->Count("pass: "), 0u) << w->output();
}

TEST_F(WatchFollowTest, DeletingTheJournalStopsTheWatcherBeforeItWritesHistoryIntoIt) {
  const std::string a = Id(1);
  testing::Write(PathOf(a), SpecText(a));
  auto w = Start();
  const std::string journal = JournalPathFor(repo_.path());
  ASSERT_TRUE(fs::remove(journal));
  RenameSave(PathOf(a), SpecText(a, "review"));
  EXPECT_EQ(w->Wait(), 2) << w->output();
  EXPECT_EQ(w->LinesWith("the journal " + journal +
                         " was deleted or replaced while specd watch ran; stopping, so that no history is "
                         "written to a deleted file (start specd watch again: it rebuilds the journal from "
                         "the spec files)")
                .size(),
            1u)
      << w->output();
  EXPECT_EQ(w->Count("draft -> review"), 0u) << w->output();
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_EQ(ReadAll(PathOf(a)), SpecText(a, "review"));  // the author's edit, untouched
}

}  // namespace
}  // namespace specd
