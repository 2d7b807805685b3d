// specd watch when the spec tree changes shape under it: active/ deleted
// and made again, a tree moved in while a writer is at work, a new
// subdirectory with files already inside. The real binary on a real
// repository, synchronised on what it prints (see watch_test.cc).
#include <gtest/gtest.h>

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
using ::specd::testing::kActive;
using ::specd::testing::ReadAll;
using ::specd::testing::RenameSave;
using ::specd::testing::SpecText;
using ::specd::testing::WriteFile;
using WatchTest = ::specd::testing::WatchFixture;

using Lines = std::vector<std::string>;
using ::specd::testing::kEdited;
using ::specd::testing::kRegistered;

TEST_F(WatchTest, ActiveDeletedAndRecreatedIsWatchedAgain) {
  const std::string a = Id(1), b = Id(2);
  testing::Write(PathOf(a), SpecText(a));
  auto w = Start();
  fs::remove_all(Active());
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")), a + ": file removed (" + Rel(a) + "), history kept");
  fs::create_directory(Active());
  // Whole at once: the rescan that the new directory sets off may find the
  // file before its watch does, and a full pass holds nothing.
  RenameSave(PathOf(b), SpecText(b));
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": registered at draft");
  // And it stays watched: an edit of the new file.
  RenameSave(PathOf(b), SpecText(b, "review"));
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": " + kEdited);
  Stop(w.get());
  EXPECT_GE(w->Count("info specd watch: .agents/specs/active"), 1u) << w->output();

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].id, a);
  EXPECT_TRUE(specs[0].removed);
  EXPECT_EQ(specs[1].id, b);
  EXPECT_FALSE(specs[1].removed);
  EXPECT_EQ(specs[1].status, "review");
  EXPECT_EQ(Transitions(j.get(), a), Lines{" -> draft " + kRegistered});
  EXPECT_EQ(Transitions(j.get(), b), (Lines{" -> draft " + kRegistered, kEdited}));
  std::vector<std::string> kinds = WatchKinds(j.get());
  EXPECT_EQ(kinds.front(), "started");
  EXPECT_EQ(kinds.back(), "stopped");
  EXPECT_GE(std::count(kinds.begin(), kinds.end(), "structure"), 2) << ::testing::PrintToString(kinds);
}

// A tree moved in (a branch switch, an unpacked archive) while a writer is
// still filling a file in it: the watch on the new tree reports the file,
// which is held like any other, and the full pass that the new tree calls for
// waits until it has settled. (Run at once, that pass judged the half-written
// file and reported it invalid.)
TEST_F(WatchTest, AFileStillBeingWrittenInATreeThatAppearsIsHeldNotReported) {
  fs::remove_all(Active());
  auto w = Start({"--log-level", "debug", "--settle", "2000"});
  const std::string a = Id(1);
  const std::string bytes = SpecText(a);
  const size_t half = bytes.size() / 2;
  const std::string staging = repo_ / "staging";
  fs::create_directories(staging);
  int fd = ::open((staging + "/" + a + ".yaml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), half), static_cast<ssize_t>(half));
  ASSERT_EQ(::rename(staging.c_str(), Active().c_str()), 0);
  EXPECT_NE(
      w->WaitForLine("does not validate yet")
          .find("debug specd watch: " + Rel(a) + " does not validate yet; looking again once it is quiet"),
      std::string::npos);
  ASSERT_EQ(::write(fd, bytes.data() + half, bytes.size() - half), static_cast<ssize_t>(bytes.size() - half));
  ASSERT_EQ(::close(fd), 0);
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")), a + ": registered at draft");
  // The new tree's full pass, after the file settled: nothing left to do.
  EXPECT_NE(
      w->WaitForLine("rescanned")
          .find("info specd watch: .agents/specs/active appeared: rescanned 1 files, 0 changed, 0 events ("),
      std::string::npos)
      << w->output();
  EXPECT_EQ(Stop(w.get()), "2 passes over 2 files (0 unchanged), 1 rescans, 0 overflows");
  EXPECT_EQ(w->Count("invalid"), 0u) << w->output();

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Transitions(j.get(), a), Lines{" -> draft " + kRegistered});
  Result<std::optional<SpecRecord>> rec = j->GetSpec(a);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->errors, "");
  EXPECT_EQ((*rec)->generation, 0);
  Result<std::vector<FailureRecord>> failures = j->Failures(a);
  ASSERT_TRUE(failures.ok());
  EXPECT_TRUE(failures->empty());
  EXPECT_EQ(WatchKinds(j.get()), (Lines{"started", "structure", "stopped"}));
}

TEST_F(WatchTest, ANewSubdirectoryWithFilesAlreadyInsideIsPickedUp) {
  auto w = Start({"--settle", "1000"});
  // Made elsewhere, files and all, and moved in: no event for the files.
  const std::string staging = repo_ / "staging/team";
  fs::create_directories(staging);
  const std::vector<std::string> ids = {Id(1), Id(2), Id(3)};
  for (const std::string& id : ids) WriteFile(staging + "/" + id + ".yaml", SpecText(id));
  ASSERT_EQ(::rename(staging.c_str(), (Active() + "/team").c_str()), 0);
  ASSERT_TRUE(w->WaitForCount(": registered at draft", 3));
  // A directory made in place, with a file written at once (before or
  // after the watcher has put its watch on it).
  fs::create_directories(Active() + "/x/y");
  WriteFile(Active() + "/x/y/" + Id(4) + ".yaml", SpecText(Id(4)));
  EXPECT_EQ(EventText(w->WaitForLine(Id(4) + ": ")), Id(4) + ": registered at draft");
  // Both stay watched.
  RenameSave(Active() + "/team/" + Id(2) + ".yaml", SpecText(Id(2), "review"));
  EXPECT_EQ(EventText(w->WaitForLine(Id(2) + ": draft -> review")), Id(2) + ": " + kEdited);
  RenameSave(Active() + "/x/y/" + Id(4) + ".yaml", SpecText(Id(4), "review"));
  EXPECT_EQ(EventText(w->WaitForLine(Id(4) + ": draft -> review")), Id(4) + ": " + kEdited);
  Stop(w.get());

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs[0].path, std::string(kActive) + "/team/" + Id(1) + ".yaml");
  EXPECT_EQ(specs[1].path, std::string(kActive) + "/team/" + Id(2) + ".yaml");
  EXPECT_EQ(specs[2].path, std::string(kActive) + "/team/" + Id(3) + ".yaml");
  EXPECT_EQ(specs[3].path, std::string(kActive) + "/x/y/" + Id(4) + ".yaml");
  for (const std::string& id : {Id(1), Id(3)})
    EXPECT_EQ(Transitions(j.get(), id), Lines{" -> draft " + kRegistered});
  for (const std::string& id : {Id(2), Id(4)}) {
    EXPECT_EQ(Transitions(j.get(), id), (Lines{" -> draft " + kRegistered, kEdited}));
  }
}

}  // namespace
}  // namespace specd
