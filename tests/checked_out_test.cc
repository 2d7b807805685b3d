// The squash merge and a checked-out target (pipeline/checked_out.cc): its
// index and files move with the branch only over clean paths, a user's
// change elsewhere is kept byte for byte, a merge or rebase under way stops
// everything, and FinishCheckout completes an update a crash cut short.
#include "tests/squash_merge_util.h"

namespace specd::pipeline {
namespace {

TEST_F(SquashMergeTest, CheckedOutCleanTargetGetsItsFilesAndIndexUpdated) {
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  EXPECT_TRUE(r.paths.empty());
  EXPECT_EQ(Rev("HEAD"), r.commit);
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), Replace(Lines(1, 10), "2\n", "two\n"));
  EXPECT_EQ(ReadAll(repo_ / "src/new.c"), "new\n");
  EXPECT_EQ(Porcelain(), "");
  EXPECT_EQ(GitOut({"diff", "--cached", "--name-only"}), "");
}

TEST_F(SquashMergeTest, AUserChangeTheStackDoesNotTouchIsKeptWhileTheMergeLands) {
  Write(repo_ / "docs/y.md", "# y, the user's unsaved thought\n");
  Write(repo_ / "notes.txt", "staged by the user\n");
  GitOut({"add", "notes.txt"});
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  EXPECT_EQ(ReadAll(repo_ / "docs/y.md"), "# y, the user's unsaved thought\n");
  EXPECT_EQ(ReadAll(repo_ / "src/new.c"), "new\n");
  EXPECT_EQ(Porcelain(), " M docs/y.md\nA  notes.txt\n");
}

TEST_F(SquashMergeTest, ADirtyTouchedPathInTheCheckoutStopsEverything) {
  const std::string edited = Replace(Lines(1, 10), "9\n", "nine, not saved in git\n");
  Write(repo_ / "src/a.c", edited);
  const std::string state = RepoState(), objects = GitOut({"for-each-ref"});
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kDirty) << r.message;
  EXPECT_EQ(r.paths, std::vector<std::string>{"src/a.c"});
  EXPECT_EQ(r.message, "main is checked out at " + repo_.path() +
                           " with uncommitted changes to src/a.c; the merge waits until they are committed "
                           "or stashed");
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), edited);
  EXPECT_EQ(Rev("main"), tip_);
  EXPECT_EQ(RepoState(), state);
  EXPECT_EQ(GitOut({"for-each-ref"}), objects);
}

TEST_F(SquashMergeTest, AStagedChangeOrAnUntrackedFileWhereTheStackWritesIsDirtyToo) {
  Write(repo_ / "src/a.c", Replace(Lines(1, 10), "9\n", "nine\n"));
  GitOut({"add", "src/a.c"});                            // index != tip, file == index
  Write(repo_ / "src/new.c", "the user's own new.c\n");  // untracked where TASK-002 adds one
  const std::string state = RepoState();
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kDirty) << r.message;
  EXPECT_EQ((r.paths), (std::vector<std::string>{"src/a.c", "src/new.c"}));
  EXPECT_EQ(ReadAll(repo_ / "src/new.c"), "the user's own new.c\n");
  EXPECT_EQ(RepoState(), state);
}

TEST_F(SquashMergeTest, AMergeUnderWayInTheCheckoutStopsEverything) {
  Write(repo_ / ".git/MERGE_HEAD", tip_ + "\n");
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kDirty) << r.message;
  EXPECT_TRUE(r.paths.empty());
  EXPECT_EQ(r.message, "main is checked out at " + repo_.path() +
                           " where a merge is under way; the merge waits until it ends");
  EXPECT_EQ(Rev("main"), tip_);
}

TEST_F(SquashMergeTest, ARebaseOfTheTargetUnderWayStopsEverything) {
  GitOut({"checkout", "-q", "--detach"});  // as a rebase leaves HEAD
  Write(repo_ / ".git/rebase-merge/head-name", "refs/heads/main\n");
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kDirty) << r.message;
  EXPECT_EQ(r.message, "main is checked out at " + repo_.path() +
                           " where a rebase is under way; the merge waits until it ends");
  EXPECT_EQ(Rev("main"), tip_);
}

TEST_F(SquashMergeTest, ModeChangesAndSymlinksReachTheCheckout) {
  GitOut({"update-index", "--chmod=+x", "src/b.c"});
  std::string patch = GitOut({"diff", "--cached"});
  GitOut({"update-index", "--chmod=-x", "src/b.c"});
  ::symlink("a.c", (repo_ / "src/link.c").c_str());
  GitOut({"add", "src/link.c"});
  patch += GitOut({"diff", "--cached", "--", "src/link.c"});
  GitOut({"rm", "-q", "--cached", "src/link.c"});
  ::unlink((repo_ / "src/link.c").c_str());
  ASSERT_EQ(Porcelain(), "");
  SquashRequest request = Request(tip_);
  request.stack.push_back({"TASK-003", patch});
  SquashResult r = Merge(request);
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  EXPECT_EQ(GitOut({"ls-tree", "--format=%(objectmode) %(path)", "main", "src/b.c", "src/link.c"}),
            "100755 src/b.c\n120000 src/link.c\n");
  EXPECT_TRUE(std::filesystem::is_symlink(repo_ / "src/link.c"));
  EXPECT_EQ(std::filesystem::read_symlink(repo_ / "src/link.c"), "a.c");
  EXPECT_NE(std::filesystem::status(repo_ / "src/b.c").permissions() & std::filesystem::perms::owner_exec,
            std::filesystem::perms::none);
  EXPECT_EQ(Porcelain(), "");
}

TEST_F(SquashMergeTest, ALinkedWorktreeWithTheTargetMovesWithIt) {
  GitOut({"checkout", "-q", "--detach"});
  TempDir linked("specd-linked");
  const std::string wt = linked / "wt";
  GitOut({"worktree", "add", "-q", wt, "main"});
  Write(wt + "/docs/y.md", "# y, edited in the linked worktree\n");
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  EXPECT_EQ(Rev("HEAD", wt), r.commit);
  EXPECT_EQ(ReadAll(wt + "/src/a.c"), Replace(Lines(1, 10), "2\n", "two\n"));
  EXPECT_EQ(Porcelain(wt), " M docs/y.md\n");
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), Lines(1, 10));  // the main worktree is detached: untouched
}

// The crash the order allows: the ref moved, the checkout not yet.
TEST_F(SquashMergeTest, FinishCheckoutCompletesAnUpdateACrashCutShort) {
  GitOut({"checkout", "-q", "--detach"});
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  GitOut({"symbolic-ref", "HEAD", "refs/heads/main"});  // main checked out at the parent's files
  Write(repo_ / "docs/y.md", "# y, the user's\n");
  // As git shows it: the index and files revert the commit.
  EXPECT_EQ(Porcelain(), " M docs/y.md\nM  src/a.c\nD  src/new.c\n");
  Result<CheckoutSync> done = FinishCheckout(*git_, "main", r.commit);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->updated, (std::vector<std::string>{"src/a.c", "src/new.c"}));
  EXPECT_TRUE(done->kept.empty());
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), Replace(Lines(1, 10), "2\n", "two\n"));
  EXPECT_EQ(Porcelain(), " M docs/y.md\n");
  Result<CheckoutSync> again = FinishCheckout(*git_, "main", r.commit);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->updated.empty());
  EXPECT_TRUE(again->kept.empty());
}

TEST_F(SquashMergeTest, FinishCheckoutKeepsWhatTheUserChangedAndFixesAHalfWrittenIndex) {
  GitOut({"checkout", "-q", "--detach"});
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  GitOut({"symbolic-ref", "HEAD", "refs/heads/main"});
  Write(repo_ / "src/a.c", "the user's a.c\n");  // changed after the crash: theirs
  Write(repo_ / "src/new.c", "new\n");           // written, the index not yet
  Result<CheckoutSync> done = FinishCheckout(*git_, "main", r.commit);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->updated, std::vector<std::string>{"src/new.c"});
  EXPECT_EQ(done->kept, std::vector<std::string>{"src/a.c"});
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), "the user's a.c\n");
  EXPECT_EQ(Porcelain(), "MM src/a.c\n");  // the index still at the parent's a.c
}

TEST_F(SquashMergeTest, FinishCheckoutRefusesWhenTheBranchMovedOn) {
  GitOut({"checkout", "-q", "--detach"});
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  const std::string later = CommitOnMain("docs/y.md", "# later\n");
  Result<CheckoutSync> done = FinishCheckout(*git_, "main", r.commit);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, ErrorCode::kConflict);
  EXPECT_EQ(done.error().message, "main is at " + later.substr(0, 7) + ", not " + r.commit.substr(0, 7) +
                                      ": its checkout is not " + r.commit.substr(0, 7) + "'s to finish");
}

}  // namespace
}  // namespace specd::pipeline
