// specd watch while git works in the repository: the real binary watching a
// real repository while real `git merge`, `git commit` and `git pull` run.
// What git changes is never judged as an author's edit (no refusal, nothing
// put back); when the operation ends it is journaled as git's, and the
// files stay exactly as git and the author left them.
#include <gtest/gtest.h>
#include <signal.h>

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
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::RenameSave;
using ::specd::testing::Replace;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::SpecText;
using ::specd::testing::TempDir;
using ::specd::testing::Write;
using ::specd::testing::WriteFile;

class WatchGitTest : public ::specd::testing::WatchFixture {
 protected:
  WatchGitTest() { GitOk({"symbolic-ref", "HEAD", "refs/heads/main"}); }

  // A verb run by `actor` in `root`.
  Output Specd(const std::string& root, const std::vector<std::string>& args, const std::string& actor) {
    RunOptions o;
    o.env = {{"SPECD_ACTOR", actor}};
    return *RunProcess(root, SPECD_BINARY, args, o);
  }
  std::string Porcelain(const std::string& cwd = "") { return Git({"status", "--porcelain"}, cwd).out; }
  size_t Refusals(Journal* j, const std::string& id) {
    Result<std::vector<RefusalRecord>> r = j->Refusals(id);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->size() : 0;
  }
};

const std::string kOldTitle = "title: A valid spec for the tests";

TEST_F(WatchGitTest, AMergeWithAConflictIsLeftAloneAndJournaledAsGitsWhenCommitted) {
  const std::string a = Id(1), b = Id(2);
  testing::Write(PathOf(a), SpecText(a));
  GitOk({"add", "-A"});
  GitOk({"commit", "-q", "-m", "a spec"});
  // Their branch asks for review and retitles; ours retitles too.
  GitOk({"checkout", "-q", "-b", "other"});
  WriteFile(PathOf(a), Replace(SpecText(a, "review"), kOldTitle, "title: The title on their branch"));
  GitOk({"commit", "-q", "-a", "-m", "theirs"});
  GitOk({"checkout", "-q", "main"});
  WriteFile(PathOf(a), Replace(SpecText(a), kOldTitle, "title: The title on our branch"));
  GitOk({"commit", "-q", "-a", "-m", "ours"});

  auto w = Start();
  ASSERT_EQ(Porcelain(), "");
  Output merge = Git({"merge", "-q", "other"});
  ASSERT_EQ(merge.exit_code, 1) << merge.out << merge.err;  // the conflict is the author's to resolve
  EXPECT_NE(ReadAll(PathOf(a)).find("<<<<<<< HEAD\n"), std::string::npos);
  // Resolved by hand while the merge is under way: their status, our title.
  const std::string resolved = Replace(SpecText(a, "review"), kOldTitle, "title: The title on our branch");
  WriteFile(PathOf(a), resolved);
  GitOk({"add", PathOf(a)});
  GitOk({"commit", "-q", "--no-edit"});

  const std::string merged = w->WaitForLine(a + ": draft -> review");
  EXPECT_EQ(EventText(merged).rfind(a + ": draft -> review (git: ", 0), 0u) << merged;
  RenameSave(PathOf(b), SpecText(b));  // the sync point for "nothing else happened"
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": registered at draft");
  Stop(w.get());

  EXPECT_EQ(ReadAll(PathOf(a)), resolved);  // nothing put back, nothing written
  EXPECT_EQ(w->Count("refused"), 0u) << w->output();
  std::unique_ptr<Journal> j = OpenJournal();
  ASSERT_TRUE(j);
  EXPECT_EQ(Refusals(j.get(), a), 0u);
  std::vector<std::string> ts = Transitions(j.get(), a);
  ASSERT_EQ(ts.size(), 2u) << ::testing::PrintToString(ts);
  EXPECT_EQ(ts[0], " -> draft (specd: registered)");
  EXPECT_EQ(ts[1].rfind("draft -> review (git: ", 0), 0u) << ts[1];
  Result<std::optional<SpecRecord>> rec = j->GetSpec(a);
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->status, "review");
  std::vector<std::string> kinds = WatchKinds(j.get());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "git"), kinds.end()) << ::testing::PrintToString(kinds);
  EXPECT_EQ(Porcelain(), "?? .agents/specs/active/" + b + ".yaml\n");
}

TEST_F(WatchGitTest, APullOfATeammatesApproveWhileTheWatcherRunsLeavesTheCloneClean) {
  const std::string a = Id(1), b = Id(2);
  testing::Write(PathOf(a), SpecText(a));
  GitOk({"add", "-A"});
  GitOk({"commit", "-q", "-m", "a spec"});
  TempDir clones("specd-clone");
  const std::string mine = clones / "mine";
  GitOk({"clone", "-q", repo_.path(), mine});

  auto w = Start({}, mine);
  EXPECT_EQ(Porcelain(mine), "");
  // The teammates, in the origin: alice asks for review, rex approves.
  Output review = Specd(repo_.path(), {"request-review", a}, "alice");
  ASSERT_EQ(review.exit_code, 0) << review.err;
  Output approve = Specd(repo_.path(), {"approve", a}, "rex");
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  GitOk({"add", "-A"});
  GitOk({"commit", "-q", "-m", "approved"});
  const std::string theirs = ReadAll(PathOf(a));

  GitOk({"pull", "-q", "--ff-only"}, mine);
  const std::string approved = w->WaitForLine(a + ": review -> ");
  EXPECT_NE(approved.find(" (git: "), std::string::npos) << approved;
  RenameSave(mine + "/" + Rel(b), SpecText(b));  // the sync point
  EXPECT_EQ(EventText(w->WaitForLine(b + ": ")), b + ": registered at draft");
  ASSERT_TRUE(fs::remove(mine + "/" + Rel(b)));
  EXPECT_EQ(Porcelain(mine), "");
  EXPECT_EQ(ReadAll(mine + "/" + Rel(a)), theirs);
  EXPECT_EQ(w->Count("refused"), 0u) << w->output();
  Stop(w.get());
  EXPECT_EQ(Porcelain(mine), "");
}

}  // namespace
}  // namespace specd
