// The squash merge on real repositories made with the git CLI: the commit's
// exact bytes (its id against `git commit-tree`), its tree against `git
// apply --cached`, the branch as a compare-and-swap, and a checked-out target
// whose index and files move with it, never over a user's change.
#include "pipeline/squash_merge.h"

#include <git2.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/process_util.h"

namespace specd::pipeline {
namespace {

using specd::testing::ReadAll;
using specd::testing::Replace;
using specd::testing::RunOptions;
using specd::testing::TempDir;
using specd::testing::Write;

constexpr char kSpec[] = "spec-2026-01-01-001";
constexpr int64_t kWhen = 1767225600;  // 2026-01-01T00:00:00Z

std::string Lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += std::to_string(i) + "\n";
  return out;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class SquashMergeTest : public specd::testing::GitFixture {
 protected:
  SquashMergeTest() {
    // The commit's zone is the local one; UTC makes its bytes known.
    const char* tz = ::getenv("TZ");
    if (tz) saved_tz_ = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    tip_ = Commit({{"src/a.c", Lines(1, 10)}, {"src/b.c", "b\n"}, {"docs/y.md", "# y\n"}}, "first");
    Result<std::unique_ptr<GitRepo>> r = GitRepo::Open(repo_.path(), false);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (r.ok()) git_ = std::move(*r);
    stack_ = {{"TASK-001", PatchOver(tip_, {{"src/a.c", Replace(Lines(1, 10), "2\n", "two\n")}})},
              {"TASK-002", PatchOver(tip_, {{"src/new.c", "new\n"}})}};
  }
  ~SquashMergeTest() override {
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

  // git with its own index (GIT_INDEX_FILE): HEAD, the index and the working
  // tree are left alone.
  std::string GitWithIndex(const std::string& index, const std::vector<std::string>& args,
                           const std::string& stdin_text = "") {
    RunOptions options = specd::testing::GitEnv(home_.path());
    options.env.emplace_back("GIT_INDEX_FILE", index);
    options.stdin_text = stdin_text;
    specd::testing::Output o = *specd::testing::RunProcess(repo_.path(), "git", args, options);
    EXPECT_EQ(o.exit_code, 0) << "git " << args[0] << ": " << o.out << o.err;
    return Trimmed(o.out);
  }
  // The diff that writes `files` over `from`'s tree.
  std::string PatchOver(const std::string& from,
                        const std::vector<std::pair<std::string, std::string>>& files) {
    TempDir tmp("specd-index");
    const std::string index = tmp / "index";
    GitWithIndex(index, {"read-tree", from});
    for (const auto& [path, bytes] : files) {
      const std::string blob = GitWithIndex(index, {"hash-object", "-w", "--stdin"}, bytes);
      GitWithIndex(index, {"update-index", "--add", "--cacheinfo", "100644," + blob + "," + path});
    }
    return GitWithIndex(index, {"diff", "--cached", from}) + "\n";
  }
  // The tree `git apply --cached` makes of the stack on `from`.
  std::string GitTree(const std::string& from, const std::vector<StackedDiff>& stack) {
    TempDir tmp("specd-index");
    const std::string index = tmp / "index";
    GitWithIndex(index, {"read-tree", from});
    for (const StackedDiff& d : stack) {
      Write(tmp / "patch", d.patch);
      GitWithIndex(index, {"apply", "--cached", tmp / "patch"});
    }
    return GitWithIndex(index, {"write-tree"});
  }

  SquashRequest Request(const std::string& expected) {
    SquashRequest r;
    r.spec_id = kSpec;
    r.title = "Faster startup";
    r.trace_id = "4bf92f3577b34da6";
    r.reviewed_by = "Rita Reviewer <rita@example.com>";
    r.task_ids = {"TASK-001", "TASK-002"};
    r.stack = stack_;
    r.branch = "main";
    r.expected_tip = expected;
    r.author_name = "Ada Author";
    r.author_email = "ada@example.com";
    r.when_seconds = kWhen;
    return r;
  }
  SquashResult Merge(const SquashRequest& r) {
    Result<SquashResult> out = SquashMerge(*git_, r);
    EXPECT_TRUE(out.ok()) << out.error().message;
    return out.ok() ? *out : SquashResult{};
  }
  // Someone else's commit on main (HEAD detached first, then put back).
  std::string CommitOnMain(const std::string& path, const std::string& bytes) {
    const std::string head = Trimmed(Git({"symbolic-ref", "-q", "HEAD"}).out);
    GitOut({"checkout", "-q", "main"});
    const std::string made = Commit({{path, bytes}}, "meanwhile");
    if (head.empty()) GitOut({"checkout", "-q", "--detach"});
    return made;
  }
  static void ExpectConflict(const SquashResult& r, const std::string& tip,
                             const std::vector<std::string>& paths, const std::string& message) {
    EXPECT_EQ(r.outcome, SquashOutcome::kConflict) << r.message;
    EXPECT_EQ(r.tip, tip);
    EXPECT_EQ(r.paths, paths);
    EXPECT_EQ(r.message, message);
  }
  std::string Porcelain(const std::string& cwd = "") {
    return GitOut({"status", "--porcelain", "--untracked-files=all"}, cwd);
  }

  static constexpr char kMessage[] =
      "spec-2026-01-01-001: Faster startup\n\n"
      "Spec-Id: spec-2026-01-01-001\n"
      "Trace-Id: 4bf92f3577b34da6\n"
      "Tasks: TASK-001, TASK-002\n"
      "Reviewed-by: Rita Reviewer <rita@example.com>\n";

  std::optional<std::string> saved_tz_;
  std::string tip_;
  std::unique_ptr<GitRepo> git_;
  std::vector<StackedDiff> stack_;
};

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
