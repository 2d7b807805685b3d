// specd watch as it runs: the real binary (SPECD_BINARY) watching a real
// temporary git repository, driven the way editors, scripts and signals
// drive it. Every test synchronises on what the watcher prints (an event
// line, "ready in", a rescan line) and then checks the journal's rows and
// the files' bytes exactly; where "nothing else happened" matters, a later
// positive event is the sync point. No sleeps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
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
using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::RenameSave;
using ::specd::testing::Replace;
using ::specd::testing::RunProcess;
using ::specd::testing::SpecText;
using ::specd::testing::TempDir;
using ::specd::testing::WatchProcess;
using ::specd::testing::WriteFile;
using WatchTest = ::specd::testing::WatchFixture;

using Lines = std::vector<std::string>;
using ::specd::testing::kEdited;
using ::specd::testing::kRegistered;

// ---------------------------------------------------------------------------
// Starting, stopping, one watcher per repository

TEST_F(WatchTest, StartsRegistersWhatIsThereAndStopsCleanlyOnSigterm) {
  const std::string a = Id(1);
  testing::Write(PathOf(a), SpecText(a));
  auto w = Start();
  EXPECT_NE(ready_.find(" info specd watch: watching " + Active() +
                        " (inotify, 1 specs, 1 changed since last seen); ready in "),
            std::string::npos)
      << ready_;
  EXPECT_EQ(w->LinesWith(": registered at").size(), 1u);
  EXPECT_EQ(EventText(w->LinesWith(": registered at")[0]), a + ": registered at draft");
  EXPECT_EQ(Stop(w.get()), "0 passes over 0 files (0 unchanged), 0 rescans, 0 overflows");

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Transitions(j.get(), a), Lines{" -> draft" + std::string(" ") + kRegistered});
  Result<std::vector<WatchRecord>> log = j->WatchLog();
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].kind, "started");
  EXPECT_EQ((*log)[0].detail, "watching " + Active() + " (inotify, 1 specs, 1 changed since last seen)");
  EXPECT_EQ((*log)[1].kind, "stopped");
  EXPECT_EQ((*log)[1].detail,
            "stopped by SIGTERM after 0 passes over 0 files (0 unchanged), 0 rescans, 0 overflows");

  // A restart knows the file: nothing changed since last seen.
  auto again = Start();
  EXPECT_NE(ready_.find("(inotify, 1 specs, 0 changed since last seen)"), std::string::npos) << ready_;
  EXPECT_EQ(Stop(again.get()), "0 passes over 0 files (0 unchanged), 0 rescans, 0 overflows");
  EXPECT_EQ(again->Count(": registered at"), 0u);
}

TEST_F(WatchTest, ASecondWatcherOnTheSameRepositoryExitsTwoNamingTheFirst) {
  auto first = Start();
  Output second = *RunProcess(repo_.path(), SPECD_BINARY, {"watch", "--repo", repo_.path()});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_EQ(second.out, "");
  EXPECT_EQ(second.err, "specd watch: another specd watch (pid " + std::to_string(first->pid()) +
                            ") is already watching this repository; stop it first (its lock is " +
                            repo_.path() + "/.git/specd/watch.lock)\n");
  // The first one goes on undisturbed.
  const std::string a = Id(1);
  RenameSave(PathOf(a), SpecText(a));  // one event, so one pass
  EXPECT_EQ(EventText(first->WaitForLine(a + ": ")), a + ": registered at draft");
  EXPECT_EQ(Stop(first.get()), "1 passes over 1 files (0 unchanged), 0 rescans, 0 overflows");
}

// ---------------------------------------------------------------------------
// Saves

TEST_F(WatchTest, RenameSaveIsOneEditWrittenBackOnce) {
  const std::string a = Id(1);
  testing::Write(PathOf(a), SpecText(a));
  auto w = Start();
  RenameSave(PathOf(a), SpecText(a, "review"));
  EXPECT_EQ(EventText(w->WaitForLine(a + ": draft -> review")), a + ": " + kEdited);
  // The sync point for "nothing else happened": a later, unrelated spec.
  const std::string b = Id(2);
  RenameSave(PathOf(b), SpecText(b));
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": registered at draft");
  Stop(w.get());

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Transitions(j.get(), a), (Lines{" -> draft " + kRegistered, kEdited}));
  Result<std::optional<SpecRecord>> rec = j->GetSpec(a);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->status, "review");
  EXPECT_EQ((*rec)->generation, 1);
  EXPECT_EQ((*rec)->errors, "");
  Result<std::vector<RefusalRecord>> refusals = j->Refusals(a);
  ASSERT_TRUE(refusals.ok());
  EXPECT_TRUE(refusals->empty());

  // The file: the author's bytes, updatedAt and one changeLog entry.
  const std::string bytes = ReadAll(PathOf(a));
  static const std::regex kTime("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z");
  std::string expected =
      Replace(SpecText(a, "review"), "  author: tester\n", "  author: tester\n  updatedAt: \"<at>\"\n");
  expected +=
      "changeLog:\n  - at: \"<at>\"\n    actor: tester\n    from: draft\n    to: review\n"
      "    reason: status edited in the file\n    trace: " +
      (*rec)->trace_id + "\n";
  EXPECT_EQ(std::regex_replace(bytes, kTime, "<at>"), expected);
  EXPECT_EQ(ContentHash(bytes), (*rec)->content_hash);
  EXPECT_FALSE(fs::exists(Active() + "/.goutputstream-ABC123"));
}

TEST_F(WatchTest, SelfWritesDoNotLoop) {
  const std::string a = Id(1), b = Id(2);
  testing::Write(PathOf(a), SpecText(a));
  auto w = Start({"--log-level", "debug"});
  RenameSave(PathOf(a), SpecText(a, "review"));
  EXPECT_EQ(EventText(w->WaitForLine(a + ": draft -> review")), a + ": " + kEdited);
  // The author's edit: one pass, one event.
  EXPECT_NE(w->WaitForLine("pass: ").find("debug specd watch: pass: 1 files, 0 unchanged, 1 events"),
            std::string::npos);
  // specd's own write-back (a rename onto the file) is seen, and skipped on
  // its stamp: no second look at the bytes, no second write.
  EXPECT_NE(w->WaitForLine("pass: ").find("debug specd watch: pass: 1 files, 1 unchanged, 0 events"),
            std::string::npos)
      << w->output();
  RenameSave(PathOf(b), SpecText(b));
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": registered at draft");
  EXPECT_NE(w->WaitForLine("pass: ").find("debug specd watch: pass: 1 files, 0 unchanged, 1 events"),
            std::string::npos);
  // Nothing between: the write-back's pass was the last one about `a`.
  EXPECT_EQ(Stop(w.get()), "3 passes over 3 files (1 unchanged), 0 rescans, 0 overflows");
  EXPECT_EQ(w->Count("pass: "), 3u) << w->output();
  EXPECT_EQ(w->Count("does not validate yet"), 0u);

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Transitions(j.get(), a), (Lines{" -> draft " + kRegistered, kEdited}));
  Result<std::optional<SpecRecord>> rec = j->GetSpec(a);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->generation, 1);  // one author edit; specd's write is not one
  const std::string bytes = ReadAll(PathOf(a));
  EXPECT_EQ((*rec)->written_hash, ContentHash(bytes));
  size_t entries = 0;
  for (size_t at = bytes.find("\n  - at: "); at != std::string::npos; at = bytes.find("\n  - at: ", at + 1))
    ++entries;
  EXPECT_EQ(entries, 1u) << bytes;
  EXPECT_EQ(bytes.find("changeLog:"), bytes.rfind("changeLog:"));
}

TEST_F(WatchTest, VimStyleSaveIsOneEditAndNoRemoval) {
  const std::string a = Id(1), b = Id(2);
  const std::string file = PathOf(a);
  testing::Write(file, SpecText(a));
  // The settle covers the moment between vim's rename of the file to its
  // backup and the write of the new one; a generous one, so that a slow
  // test machine cannot see the file "removed" in that gap. (A save is
  // looked at when it is closed, not after the settle: no test waits for it.)
  auto w = Start({"--settle", "10000"});
  const std::string swap = Active() + "/." + a + ".yaml.swp";
  WriteFile(swap, "vim swap bytes");
  WriteFile(Active() + "/4913", "");  // vim checks that it may create files here
  ASSERT_EQ(::unlink((Active() + "/4913").c_str()), 0);
  ASSERT_EQ(::rename(file.c_str(), (file + "~").c_str()), 0);  // the backup
  WriteFile(file, SpecText(a, "review"));
  ASSERT_EQ(::unlink((file + "~").c_str()), 0);
  ASSERT_EQ(::unlink(swap.c_str()), 0);  // :q
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")), a + ": " + kEdited);
  WriteFile(PathOf(b), SpecText(b));
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": registered at draft");
  Stop(w.get());
  EXPECT_EQ(w->Count("removed"), 0u) << w->output();
  EXPECT_EQ(w->Count("invalid"), 0u) << w->output();

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Transitions(j.get(), a), (Lines{" -> draft " + kRegistered, kEdited}));
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].id, a);
  EXPECT_EQ(specs[0].path, Rel(a));
  EXPECT_FALSE(specs[0].removed);
  EXPECT_EQ(specs[0].generation, 1);
  EXPECT_EQ(specs[1].id, b);
}

TEST_F(WatchTest, EditorTemporaryNamesNeverReachTheJournal) {
  auto w = Start({"--log-level", "debug"});
  const std::string a = Id(1);
  // Each with a whole, valid spec inside: were it looked at, it would show.
  for (const std::string& name :
       {"." + a + ".yaml.swp", a + ".yaml~", "#" + a + ".yaml#", ".#" + a + ".yaml", std::string("4913"),
        std::string(".subl1234.tmp"), ".specd-tmp-" + a + ".yaml"}) {
    WriteFile(Active() + "/" + name, SpecText(a));
    RenameSave(Active() + "/" + name, SpecText(a, "review"));
  }
  const std::string b = Id(2);
  RenameSave(PathOf(b), SpecText(b));  // one event, so one pass
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": registered at draft");
  // A full pass ignores them as well.
  w->Signal(SIGHUP);
  EXPECT_NE(
      w->WaitForLine("rescanned").find("info specd watch: SIGHUP: rescanned 1 files, 0 changed, 0 events ("),
      std::string::npos);
  EXPECT_EQ(Stop(w.get()), "1 passes over 1 files (0 unchanged), 1 rescans, 0 overflows");
  EXPECT_EQ(w->Count(a), 0u) << w->output();

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].id, b);
  EXPECT_TRUE(Transitions(j.get(), a).empty());
  EXPECT_EQ(WatchKinds(j.get()), (Lines{"started", "rescan", "stopped"}));
}

// ---------------------------------------------------------------------------
// Half-written and invalid files

TEST_F(WatchTest, AHalfWrittenFileIsHeldNotReportedAndActedOnWhenFinished) {
  // The settle is the writer's grace: long enough that this test's writer,
  // however slow the machine, comes back before it is over.
  auto w = Start({"--log-level", "debug", "--settle", "2000"});
  const std::string a = Id(1);
  const std::string bytes = SpecText(a);
  const size_t half = bytes.size() / 2;
  int fd = ::open(PathOf(a).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), half), static_cast<ssize_t>(half));
  // Quiet for the settle time: a first look, which holds it.
  EXPECT_NE(
      w->WaitForLine("does not validate yet")
          .find("debug specd watch: " + Rel(a) + " does not validate yet; looking again once it is quiet"),
      std::string::npos);
  ASSERT_EQ(::write(fd, bytes.data() + half, bytes.size() - half), static_cast<ssize_t>(bytes.size() - half));
  ASSERT_EQ(::close(fd), 0);
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")), a + ": registered at draft");
  EXPECT_EQ(Stop(w.get()), "2 passes over 2 files (0 unchanged), 0 rescans, 0 overflows");
  EXPECT_EQ(w->Count("invalid"), 0u) << w->output();

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Transitions(j.get(), a), Lines{" -> draft " + kRegistered});
  Result<std::optional<SpecRecord>> rec = j->GetSpec(a);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->errors, "");
  EXPECT_EQ((*rec)->content_hash, ContentHash(bytes));
  Result<std::vector<FailureRecord>> failures = j->Failures(a);
  ASSERT_TRUE(failures.ok());
  EXPECT_TRUE(failures->empty());
}

TEST_F(WatchTest, AFileStillInvalidAfterTheSettleIsReported) {
  auto w = Start({"--log-level", "debug"});
  const std::string a = Id(1);
  // Whole at once (no empty file for a look to find): a first look that
  // holds it, a last look that reports it.
  RenameSave(PathOf(a), Replace(SpecText(a), "title: A valid spec for the tests", "title: short"));
  const std::string held = w->WaitForLine("does not validate yet");
  EXPECT_NE(held.find(Rel(a) + " does not validate yet; looking again once it is quiet"), std::string::npos);
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")),
            a + ": invalid, left as it is: " + Rel(a) +
                ":5:10: error: /metadata/title: must be at least 10 characters long (it has 5)");
  EXPECT_EQ(Stop(w.get()), "2 passes over 2 files (0 unchanged), 0 rescans, 0 overflows");

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  Result<std::optional<SpecRecord>> rec = j->GetSpec(a);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->status, "");
  EXPECT_NE((*rec)->errors.find("must be at least 10 characters long"), std::string::npos) << (*rec)->errors;
  EXPECT_TRUE(Transitions(j.get(), a).empty());
  Result<std::vector<FailureRecord>> failures = j->Failures(a);
  ASSERT_TRUE(failures.ok());
  EXPECT_EQ(failures->size(), 1u);
}

// ---------------------------------------------------------------------------
// Many files at once
//
// The files here are written with open, write, close: a look between the
// open and the write finds an empty file, which is held, and only reported
// if the writer stays away for the settle time. --settle 1000 makes that
// grace wide enough for a loaded test machine; a closed file is looked at
// at once all the same, so no test waits for it.

TEST_F(WatchTest, AThousandFilesDroppedAtOnceAreEachRegisteredOnce) {
  auto w = Start({"--settle", "1000"});
  constexpr int kFiles = 1000;
  for (int i = 0; i < kFiles; ++i) WriteFile(PathOf(Id(i)), SpecText(Id(i)));
  ASSERT_TRUE(w->WaitForCount(": registered at draft", kFiles));
  Stop(w.get());
  EXPECT_EQ(w->Count(": registered at draft"), static_cast<size_t>(kFiles));
  EXPECT_EQ(w->Count("invalid"), 0u);

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), static_cast<size_t>(kFiles));
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_EQ(specs[i].id, Id(i));
    EXPECT_EQ(specs[i].status, "draft");
    ASSERT_EQ(Transitions(j.get(), Id(i)), Lines{" -> draft " + kRegistered}) << Id(i);
  }
}

TEST_F(WatchTest, AKernelQueueOverflowIsRescannedAndNothingIsLost) {
  int max_queued = 16384;
  {
    std::ifstream in("/proc/sys/fs/inotify/max_queued_events");
    ASSERT_TRUE(in >> max_queued);
  }
  const int files = max_queued + 1000;
  auto w = Start({"--log-level", "debug"});
  w->Signal(SIGSTOP);
  int status = 0;
  ASSERT_EQ(::waitpid(w->pid(), &status, WUNTRACED), w->pid());  // stopped for sure
  ASSERT_TRUE(WIFSTOPPED(status));
  for (int i = 0; i < files; ++i) WriteFile(PathOf(Id(i)), SpecText(Id(i)));
  w->Signal(SIGCONT);
  EXPECT_NE(w->WaitForLine("events were lost")
                .find("warning specd watch: the kernel's event queue overflowed "
                      "(fs.inotify.max_queued_events): events "
                      "were lost; rescanning everything"),
            std::string::npos);
  const std::string rescanned = w->WaitForLine("rescanned", 300'000);
  const std::string n = std::to_string(files);
  EXPECT_NE(
      rescanned.find("info specd watch: the kernel's event queue overflowed (fs.inotify.max_queued_events): "
                     "rescanned " +
                     n + " files, " + n + " changed, " + n + " events ("),
      std::string::npos)
      << rescanned;
  EXPECT_EQ(w->Count(": registered at draft"), static_cast<size_t>(files));
  EXPECT_EQ(Stop(w.get()), "0 passes over 0 files (0 unchanged), 1 rescans, 1 overflows");

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), static_cast<size_t>(files));
  for (int i = 0; i < files; ++i) ASSERT_EQ(specs[i].id, Id(i));
  EXPECT_EQ(WatchKinds(j.get()), (Lines{"started", "overflow", "stopped"}));
}

TEST_F(WatchTest, SigtermMidBurstThenARestartLosesNothing) {
  constexpr int kFiles = 2000;
  int i = 0;
  size_t first_run = 0;
  {
    auto w = Start({"--settle", "1000"});
    for (; i < kFiles; ++i) {
      WriteFile(PathOf(Id(i)), SpecText(Id(i)));
      if (i == 100) {
        w->WaitForLine(": registered at draft");  // it is at work
        w->Signal(SIGTERM);
      }
    }
    EXPECT_EQ(w->Wait(), 0) << w->output();
    EXPECT_EQ(w->Count("stopped by SIGTERM after "), 1u) << w->output();
    first_run = w->Count(": registered at draft");
  }
  // Files 0-100 were written before the SIGTERM: the watcher may finish
  // judging them, but begins nothing written after it.
  EXPECT_GE(first_run, 1u);
  EXPECT_LE(first_run, 101u);

  auto again = Start();
  EXPECT_NE(ready_.find("(inotify, " + std::to_string(kFiles) + " specs, " +
                        std::to_string(kFiles - first_run) + " changed since last seen)"),
            std::string::npos)
      << ready_;
  EXPECT_EQ(again->Count(": registered at draft"), kFiles - first_run);
  Stop(again.get());

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), static_cast<size_t>(kFiles));
  for (int k = 0; k < kFiles; ++k) {
    EXPECT_EQ(specs[k].id, Id(k));
    ASSERT_EQ(Transitions(j.get(), Id(k)), Lines{" -> draft " + kRegistered}) << Id(k);
  }
}

// ---------------------------------------------------------------------------
// Polling

// A verb writes the file back, then journals; the watcher sees the rename
// in between. Each engine pass holds the journal's write lock from its read
// to its commit, so the watcher waits and finds the verb's work journaled:
// every transition is recorded once, and the watcher shows the verb's
// transitions too (its live view of the journal).
TEST_F(WatchTest, VerbsWhileTheWatcherRunsAreJournaledOnceAndShown) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) {
    ids.push_back(Id(i));
    testing::Write(PathOf(ids.back()), SpecText(ids.back(), "review"));
  }
  auto w = Start();
  for (const std::string& id : ids) {
    testing::RunOptions as_bob;
    as_bob.env.emplace_back("SPECD_ACTOR", std::string("bob"));
    Output o = *RunProcess(repo_.path(), SPECD_BINARY, {"approve", id}, as_bob);
    EXPECT_EQ(o.exit_code, 0) << o.err;
    EXPECT_EQ(EventText(w->WaitForLine(id + ": approved -> planning")),
              id + ": approved -> planning (specd: approved: planning starts)");
  }
  Stop(w.get());
  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  for (const std::string& id : ids) {
    EXPECT_EQ(Transitions(j.get(), id), (Lines{" -> review " + kRegistered, "review -> approved (bob: )",
                                               "approved -> planning (specd: approved: planning starts)"}))
        << id;
    EXPECT_EQ(w->Count(id + ": review -> approved (bob)"), 1u) << w->output();
  }
}

TEST_F(WatchTest, PollingSeesANewFileAnEditAndADelete) {
  auto w = Start({"--poll", "50", "--settle", "1000"});
  EXPECT_NE(ready_.find("watching " + Active() + " (polling, 0 specs, 0 changed since last seen); ready in "),
            std::string::npos)
      << ready_;
  const std::string a = Id(1);
  WriteFile(PathOf(a), SpecText(a));
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")), a + ": registered at draft");
  RenameSave(PathOf(a), SpecText(a, "review"));
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")), a + ": " + kEdited);
  const std::string written = ReadAll(PathOf(a));
  ASSERT_EQ(::unlink(PathOf(a).c_str()), 0);
  EXPECT_EQ(EventText(w->WaitForLine(a + ": ")), a + ": file removed (" + Rel(a) + "), history kept");
  Stop(w.get());
  EXPECT_EQ(w->Count(a + ": "), 3u) << w->output();

  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  std::vector<SpecRecord> specs = Specs(j.get());
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_TRUE(specs[0].removed);
  EXPECT_EQ(specs[0].status, "review");
  EXPECT_EQ(specs[0].generation, 1);
  EXPECT_EQ(specs[0].written_hash, ContentHash(written));  // the write-back was seen as specd's own
  EXPECT_EQ(Transitions(j.get(), a), (Lines{" -> draft " + kRegistered, kEdited}));
}

}  // namespace
}  // namespace specd
