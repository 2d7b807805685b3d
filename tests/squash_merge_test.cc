// The squash merge on real repositories made with the git CLI: the commit's
// exact bytes (its id against `git commit-tree`), its tree against `git
// apply --cached`, the branch as a compare-and-swap, refs and races, the
// author, the candidate. A checked-out target: checked_out_test.cc.
#include "tests/squash_merge_util.h"

namespace specd::pipeline {
namespace {

TEST_F(SquashMergeTest, LandsOneCommitWithTheMessageTrailersAndTheStacksTree) {
  GitOut({"checkout", "-q", "--detach"});
  const std::string state = GitOut({"status", "--porcelain"});
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  EXPECT_EQ(r.tip, tip_);
  EXPECT_TRUE(r.paths.empty());
  EXPECT_EQ(r.message, std::string(kSpec) + " landed on main as " + r.commit.substr(0, 7));
  EXPECT_EQ(Rev("main"), r.commit);
  // The same bytes as git makes them: tree, parent, author, committer, message.
  const std::string tree = GitTree(tip_, stack_);
  RunOptions env = specd::testing::GitEnv(home_.path());
  for (const char* who : {"AUTHOR", "COMMITTER"}) {
    env.env.emplace_back(std::string("GIT_") + who + "_NAME", "Ada Author");
    env.env.emplace_back(std::string("GIT_") + who + "_EMAIL", "ada@example.com");
    env.env.emplace_back(std::string("GIT_") + who + "_DATE", std::to_string(kWhen) + " +0000");
  }
  env.stdin_text = kMessage;
  specd::testing::Output expected =
      *specd::testing::RunProcess(repo_.path(), "git", {"commit-tree", tree, "-p", tip_}, env);
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  EXPECT_EQ(r.commit, Trimmed(expected.out));
  EXPECT_EQ(GitOut({"log", "-1", "--format=%B", "main"}), std::string(kMessage) + "\n");
  EXPECT_EQ(GitOut({"log", "-1", "--format=%P", "main"}), tip_ + "\n");
  EXPECT_EQ(GitOut({"show", "main:src/new.c"}), "new\n");
  EXPECT_EQ(GitOut({"diff", "--name-status", tip_, "main"}), "M\tsrc/a.c\nA\tsrc/new.c\n");
  // HEAD was detached: nothing checked out moved.
  EXPECT_EQ(Rev("HEAD"), tip_);
  EXPECT_EQ(GitOut({"status", "--porcelain"}), state);
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), Lines(1, 10));
}

TEST_F(SquashMergeTest, TipMovedWithoutConflictAsksForGatesOnTheNewTipThenLands) {
  GitOut({"checkout", "-q", "--detach"});
  const std::string moved = CommitOnMain("docs/y.md", "# y, edited\n");
  const std::string objects = ObjectCount();
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kTipMoved) << r.message;
  EXPECT_EQ(r.tip, moved);
  EXPECT_EQ(r.message, "main moved from " + tip_.substr(0, 7) + " to " + moved.substr(0, 7) +
                           " since the gates ran; they run again on the new tip");
  EXPECT_EQ(Rev("main"), moved);
  EXPECT_EQ(ObjectCount(), objects);  // nothing written, not even an object

  SquashResult again = Merge(Request(r.tip));
  ASSERT_EQ(again.outcome, SquashOutcome::kLanded) << again.message;
  EXPECT_EQ(Rev("main"), again.commit);
  EXPECT_EQ(GitOut({"log", "-1", "--format=%P", "main"}), moved + "\n");
  EXPECT_EQ(GitOut({"show", "main:docs/y.md"}), "# y, edited\n");  // the newer commit kept
  EXPECT_EQ(GitOut({"show", "main:src/a.c"}), Replace(Lines(1, 10), "2\n", "two\n"));
}

TEST_F(SquashMergeTest, TipMovedWithAConflictNamesThePathsAndLeavesTheTargetAlone) {
  GitOut({"checkout", "-q", "--detach"});
  const std::string moved = CommitOnMain("src/a.c", Replace(Lines(1, 10), "2\n", "TWO\n"));
  const std::string refs = GitOut({"for-each-ref"}), tree = GitOut({"ls-tree", "-r", "main"});
  ExpectConflict(Merge(Request(tip_)), moved, {"src/a.c"},
                 "TASK-001's submitted diff no longer applies to main (tip " + moved.substr(0, 7) +
                     "): src/a.c: hunk at line 1 did not apply (@@ -1,5 +1,5 @@)");
  EXPECT_EQ(Rev("main"), moved);
  EXPECT_EQ(GitOut({"for-each-ref"}), refs);
  EXPECT_EQ(GitOut({"ls-tree", "-r", "main"}), tree);
}

TEST_F(SquashMergeTest, AConflictNamesOnlyThePathsThatDoNotApply) {
  GitOut({"checkout", "-q", "--detach"});
  SquashRequest request = Request(tip_);
  // TASK-003 adds src/new.c too (a clash with TASK-002) and changes src/b.c (fine).
  request.stack.push_back({"TASK-003", PatchOver(tip_, {{"src/b.c", "B\n"}, {"src/new.c", "other\n"}})});
  ExpectConflict(Merge(request), tip_, {"src/new.c"},
                 "TASK-003's submitted diff no longer applies to main (tip " + tip_.substr(0, 7) +
                     "): src/new.c: already exists");
  EXPECT_EQ(Rev("main"), tip_);
}

TEST_F(SquashMergeTest, NoRemoteRefChangesAndNothingIsPushed) {
  TempDir remote("specd-remote");
  GitOut({"init", "-q", "--bare", remote.path()});
  GitOut({"remote", "add", "origin", remote.path()});
  GitOut({"push", "-q", "origin", "main"});
  GitOut({"fetch", "-q", "origin"});
  const std::string remotes = GitOut({"for-each-ref", "refs/remotes", "refs/tags"});
  const std::string all = GitOut({"for-each-ref"});
  SquashResult r = Merge(Request(tip_));
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  EXPECT_EQ(GitOut({"for-each-ref", "refs/remotes", "refs/tags"}), remotes);
  EXPECT_EQ(GitOut({"for-each-ref"}),
            Replace(all, tip_ + " commit\trefs/heads/main", r.commit + " commit\trefs/heads/main"));
  EXPECT_EQ(GitOut({"rev-parse", "main"}, remote.path()), tip_ + "\n");
}

// Whatever the interleaving (the tip read late, or the compare-and-swap
// lost), one lands and the other is told to re-gate on the winner's commit.
TEST_F(SquashMergeTest, TwoMergesOnOneTipLandOneAndTheOtherIsToldTheTipMoved) {
  GitOut({"checkout", "-q", "--detach"});
  SquashRequest first = Request(tip_), second = Request(tip_);
  second.spec_id = "spec-2026-01-01-002";
  second.stack = {{"TASK-001", PatchOver(tip_, {{"docs/z.md", "# z\n"}})}};
  SquashResult results[2];
  std::thread racer([&] {
    Result<std::unique_ptr<GitRepo>> own = GitRepo::Open(repo_.path(), false);
    Result<SquashResult> r = own.ok() ? SquashMerge(**own, second) : Result<SquashResult>(own.error());
    if (r.ok()) results[1] = *r;
  });
  results[0] = Merge(first);
  racer.join();
  const int landed =
      (results[0].outcome == SquashOutcome::kLanded) + (results[1].outcome == SquashOutcome::kLanded);
  ASSERT_EQ(landed, 1) << results[0].message << " / " << results[1].message;
  const SquashResult& won = results[0].outcome == SquashOutcome::kLanded ? results[0] : results[1];
  const SquashResult& lost = results[0].outcome == SquashOutcome::kLanded ? results[1] : results[0];
  EXPECT_EQ(lost.outcome, SquashOutcome::kTipMoved) << lost.message;
  EXPECT_EQ(lost.tip, won.commit);
  EXPECT_EQ(Rev("main"), won.commit);
  EXPECT_EQ(GitOut({"log", "-1", "--format=%P", "main"}), tip_ + "\n");
}

TEST_F(SquashMergeTest, ALockedBranchIsBusyAndNothingMoves) {
  GitOut({"checkout", "-q", "--detach"});
  Write(repo_ / ".git/refs/heads/main.lock", "");
  Result<SquashResult> r = SquashMerge(*git_, Request(tip_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBusy) << r.error().message;
  EXPECT_EQ(r.error().message.rfind("cannot move main: ", 0), 0u) << r.error().message;
  EXPECT_EQ(Rev("main"), tip_);
}

TEST_F(SquashMergeTest, AuthorFromGitConfigElseSpecdActor) {
  GitOut({"checkout", "-q", "--detach"});
  GitOut({"config", "user.name", "Con Fig"});
  GitOut({"config", "user.email", "config@example.com"});
  SquashRequest request = Request(tip_);
  request.author_name.clear();
  request.author_email.clear();
  SquashResult r = Merge(request);
  ASSERT_EQ(r.outcome, SquashOutcome::kLanded) << r.message;
  EXPECT_EQ(GitOut({"log", "-1", "--format=%an <%ae> %at|%cn <%ce>", "main"}),
            "Con Fig <config@example.com> " + std::to_string(kWhen) + "|Con Fig <config@example.com>\n");

  // No user.name anywhere libgit2 looks: SPECD_ACTOR.
  GitOut({"config", "--unset", "user.name"});
  GitOut({"config", "--unset", "user.email"});
  TempDir empty("specd-noconfig");
  for (git_config_level_t level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL})
    ASSERT_EQ(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, empty.path().c_str()), 0);
  ::setenv("SPECD_ACTOR", "agent-7", 1);
  request.expected_tip = r.commit;
  request.stack = {{"TASK-003", PatchOver(r.commit, {{"src/b.c", "B\n"}})}};
  SquashResult second = Merge(request);
  ::unsetenv("SPECD_ACTOR");
  for (git_config_level_t level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL})
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, nullptr);  // back to the defaults
  ASSERT_EQ(second.outcome, SquashOutcome::kLanded) << second.message;
  EXPECT_EQ(GitOut({"log", "-1", "--format=%an <%ae>|%cn <%ce>", "main"}),
            "agent-7 <agent-7@localhost>|agent-7 <agent-7@localhost>\n");
}

TEST_F(SquashMergeTest, CandidateIsTheSameTreeOnNoBranchAndDeterministic) {
  const std::string refs = GitOut({"for-each-ref"});
  Result<std::string> a = CandidateCommit(*git_, tip_, stack_, kSpec);
  ASSERT_TRUE(a.ok()) << a.error().message;
  Result<std::string> b = CandidateCommit(*git_, tip_, stack_, kSpec);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(GitOut({"rev-parse", *a + "^{tree}"}), GitTree(tip_, stack_) + "\n");
  EXPECT_EQ(GitOut({"log", "-1", "--format=%P|%an <%ae>|%B", *a}),
            tip_ + "|specd <specd@localhost>|specd: candidate for " + std::string(kSpec) +
                "\n\nstack: TASK-001 TASK-002\n\n");
  EXPECT_EQ(GitOut({"for-each-ref"}), refs);
  EXPECT_EQ(Porcelain(), "");

  std::vector<StackedDiff> clash = stack_;
  clash.push_back({"TASK-003", stack_[1].patch});
  Result<std::string> refused = CandidateCommit(*git_, tip_, clash, kSpec);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().message, "TASK-003's submitted diff no longer applies to the tip (tip " +
                                         tip_.substr(0, 7) + "): src/new.c: already exists");
}

TEST_F(SquashMergeTest, MessageLeavesOutEmptyTrailersAndFlattensTheTitle) {
  SquashRequest r;
  r.spec_id = kSpec;
  r.title = "Two\nlines";
  r.task_ids = {"TASK-001"};
  EXPECT_EQ(SquashMessage(r),
            std::string(kSpec) + ": Two lines\n\nSpec-Id: " + kSpec + "\nTasks: TASK-001\n");
}

}  // namespace
}  // namespace specd::pipeline
