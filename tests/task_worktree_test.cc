// Task worktrees on real repositories made with the git CLI: added at a base
// that is not the user's HEAD while the user has uncommitted work, the patch
// taken from them checked with `git apply` and with pipeline's own apply,
// removed to the last piece, and pruned without touching anything that is
// not specd's task worktree.
#include "pipeline/task_worktree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/candidate_worktree.h"
#include "pipeline/patch.h"
#include "pipeline/task_stack.h"
#include "tests/process_util.h"

namespace specd::pipeline {
namespace {

namespace fs = std::filesystem;
using specd::testing::ReadAll;
using specd::testing::TempDir;
using specd::testing::Write;

constexpr char kSpec[] = "spec-2026-11-29-001";
const std::string kBinary("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\x01\xff", 18);

std::string Lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += std::to_string(i) + "\n";
  return out;
}

std::string Chomp(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class TaskWorktreeTest : public specd::testing::GitFixture {
 protected:
  TaskWorktreeTest() {
    base_ = Commit({{"src/a.c", Lines(1, 10)},
                    {"src/b.c", "b\n"},
                    {"docs/y.md", "# y\n"},
                    {"img/logo.bin", kBinary},
                    {".gitignore", "*.log\nbuild/\n"}},
                   "first");
    head_ = Commit({{"src/a.c", Lines(1, 12)}}, "second");  // the user moved on: HEAD is not the base
    Write(repo_ / "docs/y.md", "# y, the user's unsaved edit\n");
    Write(repo_ / "src/b.c", "b, staged by the user\n");
    GitOut({"add", "src/b.c"});
    Write(repo_ / "notes.txt", "the user's untracked notes\n");
    Result<std::unique_ptr<GitRepo>> r = GitRepo::Open(repo_.path(), false);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (r.ok()) git_ = std::move(*r);
  }

  TaskWorktree Add(const std::string& task = "TASK-001", int64_t epoch = 3, const std::string& spec = kSpec) {
    Result<TaskWorktree> wt = AddTaskWorktree(*git_, spec, task, epoch, base_);
    EXPECT_TRUE(wt.ok()) << wt.error().message;
    return wt.ok() ? *wt : TaskWorktree{};
  }
  std::string Patch(const TaskWorktree& wt) {
    Result<std::string> p = WorktreePatch(*git_, wt);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? *p : "";
  }
  std::string Common() { return repo_ / ".git"; }
  bool BranchExists(const std::string& branch) {
    return Git({"rev-parse", "--verify", "-q", "refs/heads/" + branch}).exit_code == 0;
  }

  // The user's side: HEAD, the index's bytes, git status and the bytes of
  // every file they touched.
  std::string UserState() {
    return Git({"symbolic-ref", "-q", "HEAD"}).out + GitOut({"rev-parse", "HEAD"}) +
           ReadAll(repo_ / ".git/index") + GitOut({"status", "--porcelain", "--untracked-files=all"}) +
           ReadAll(repo_ / "src/a.c") + ReadAll(repo_ / "src/b.c") + ReadAll(repo_ / "docs/y.md") +
           ReadAll(repo_ / "notes.txt");
  }

  // The tree `git add -A && git write-tree` makes in the worktree.
  std::string AgentTree(const TaskWorktree& wt) {
    GitOut({"add", "-A"}, wt.path);
    return Chomp(GitOut({"write-tree"}, wt.path));
  }

  // `patch` applied by git to a fresh clone checked out at the base: `git
  // apply --check` passes, and the tree git then writes.
  std::string GitAppliedTree(const std::string& patch) {
    TempDir clone("specd-clone");
    GitOut({"clone", "-q", "--no-checkout", repo_.path(), clone / "r"});
    GitOut({"checkout", "-q", "--detach", base_}, clone / "r");
    Write(clone / "p.diff", patch);
    GitOut({"apply", "--check", clone / "p.diff"}, clone / "r");
    GitOut({"apply", clone / "p.diff"}, clone / "r");
    GitOut({"add", "-A"}, clone / "r");
    return Chomp(GitOut({"write-tree"}, clone / "r"));
  }

  std::unique_ptr<GitRepo> git_;
  std::string base_, head_;
};

TEST_F(TaskWorktreeTest, AddsAtTheBaseAndLeavesTheUsersCheckoutAlone) {
  const std::string user = UserState(), repo = RepoState();
  TaskWorktree wt = Add();
  EXPECT_EQ(wt.path, Common() + "/specd/worktrees/spec-2026-11-29-001-TASK-001-3");
  EXPECT_EQ(wt.branch, "specd/spec-2026-11-29-001/TASK-001/3");
  EXPECT_EQ(wt.base, base_);
  EXPECT_EQ(wt.spec, kSpec);
  EXPECT_EQ(wt.task, "TASK-001");
  EXPECT_EQ(wt.epoch, 3);
  EXPECT_EQ(UserState(), user);
  // The worktree has the base's files, clean, on its own branch at the base.
  EXPECT_EQ(ReadAll(wt.path + "/src/a.c"), Lines(1, 10));
  EXPECT_EQ(ReadAll(wt.path + "/src/b.c"), "b\n");
  EXPECT_EQ(ReadAll(wt.path + "/img/logo.bin"), kBinary);
  EXPECT_FALSE(fs::exists(wt.path + "/notes.txt"));
  EXPECT_EQ(GitOut({"status", "--porcelain", "--untracked-files=all"}, wt.path), "");
  EXPECT_EQ(GitOut({"symbolic-ref", "HEAD"}, wt.path), "refs/heads/" + wt.branch + "\n");
  EXPECT_EQ(Rev("HEAD", wt.path), base_);
  EXPECT_EQ(Rev("HEAD"), head_);

  Write(wt.path + "/src/a.c", Lines(1, 9) + "ten\n");
  EXPECT_NE(Patch(wt), "");
  EXPECT_EQ(UserState(), user);
  ASSERT_TRUE(RemoveTaskWorktree(*git_, wt).ok());
  EXPECT_EQ(UserState(), user);
  EXPECT_EQ(RepoState(), repo);
}

TEST_F(TaskWorktreeTest, PatchCarriesEveryKindOfChangeAndAppliesToTheBase) {
  TaskWorktree wt = Add();
  Write(wt.path + "/src/a.c", Lines(1, 4) + "five\n" + Lines(6, 10));  // edited
  Write(wt.path + "/src/new/deep/c.c", "int c;\n");                    // new, in new folders
  Write(wt.path + "/src/empty.h", "");                                 // new and empty
  fs::remove(wt.path + "/docs/y.md");                                  // deleted
  ASSERT_EQ(::chmod((wt.path + "/src/b.c").c_str(), 0755), 0);         // only the mode
  const std::string changed = kBinary + std::string("\0\x02\x03", 3);
  Write(wt.path + "/img/logo.bin", changed);                        // binary, modified
  Write(wt.path + "/img/new.bin", std::string("\0\x01\0\x02", 4));  // binary, new
  Write(wt.path + "/out.log", "ignored\n");                         // ignored
  Write(wt.path + "/build/x.o", std::string("\0obj", 4));           // in an ignored folder

  const std::string patch = Patch(wt);
  Result<std::vector<PatchDelta>> deltas = ReadPatch(patch);
  ASSERT_TRUE(deltas.ok()) << deltas.error().message << "\n" << patch;
  std::vector<std::string> seen;
  for (const PatchDelta& d : *deltas) {
    seen.push_back(std::string(1, d.status) + " " + (d.new_path.empty() ? d.old_path : d.new_path) +
                   (d.mode_change ? " mode" : "") + (d.binary ? " binary" : ""));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"D docs/y.md", "M img/logo.bin binary", "A img/new.bin binary",
                                      "M src/a.c", "M src/b.c mode", "A src/empty.h", "A src/new/deep/c.c"}))
      << patch;
  EXPECT_EQ(patch.find("out.log"), std::string::npos) << patch;
  EXPECT_EQ(patch.find("build/"), std::string::npos) << patch;
  // The binary change with its data and both full ids, as git apply needs.
  const std::string old_id = Rev(base_ + ":img/logo.bin");
  const std::string new_id = Chomp(GitOut({"hash-object", "img/logo.bin"}, wt.path));
  EXPECT_NE(patch.find("index " + old_id + ".." + new_id + " 100644\nGIT binary patch\n"), std::string::npos)
      << patch;
  EXPECT_NE(patch.find("old mode 100644\nnew mode 100755\n"), std::string::npos) << patch;

  const std::string tree = AgentTree(wt);
  EXPECT_EQ(GitAppliedTree(patch), tree);
  Result<std::string> applied = ApplyStack(*git_, base_, {StackedDiff{"TASK-001", patch}}, "main");
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(*applied, tree);

  // The agent commits its work (and then some more on top): the same patch.
  GitOut({"commit", "-q", "-m", "agent's work"}, wt.path);
  EXPECT_NE(Rev("HEAD", wt.path), base_);
  EXPECT_EQ(Patch(wt), patch);
  EXPECT_EQ(Rev("HEAD"), head_);
}

TEST_F(TaskWorktreeTest, TextPatchIsWhatGitDiffFullIndexPrints) {
  TaskWorktree wt = Add();
  Write(wt.path + "/src/a.c", Lines(1, 2) + "three\n" + Lines(4, 10));
  Write(wt.path + "/src/n.c", "new\nfile\n");
  fs::remove(wt.path + "/docs/y.md");
  const std::string patch = Patch(wt);
  GitOut({"add", "-A"}, wt.path);
  EXPECT_EQ(patch, GitOut({"diff", "--cached", "--full-index", base_}, wt.path));
}

TEST_F(TaskWorktreeTest, NoChangeIsAnEmptyPatch) {
  TaskWorktree wt = Add();
  EXPECT_EQ(Patch(wt), "");
  Write(wt.path + "/src/a.c", Lines(1, 10));  // rewritten with the same bytes
  Write(wt.path + "/debug.log", "ignored\n");
  EXPECT_EQ(Patch(wt), "");
  GitOut({"commit", "-q", "--allow-empty", "-m", "nothing"}, wt.path);
  EXPECT_EQ(Patch(wt), "");
}

TEST_F(TaskWorktreeTest, RemoveTakesTheFilesGitsEntryAndTheBranch) {
  const std::string repo = RepoState();
  TaskWorktree wt = Add();
  const std::string admin = Common() + "/worktrees/spec-2026-11-29-001-TASK-001-3";
  ASSERT_TRUE(fs::exists(admin));
  ASSERT_NE(GitOut({"worktree", "list"}).find(wt.path), std::string::npos);
  Write(wt.path + "/src/new.c", "the agent's\n");

  ASSERT_TRUE(RemoveTaskWorktree(*git_, wt).ok());
  EXPECT_FALSE(fs::exists(wt.path));
  EXPECT_FALSE(fs::exists(admin));
  EXPECT_FALSE(BranchExists(wt.branch));
  EXPECT_NE(Git({"reflog", "exists", "refs/heads/" + wt.branch}).exit_code, 0);
  EXPECT_EQ(GitOut({"worktree", "list"}).find("TASK-001"), std::string::npos);
  EXPECT_EQ(RepoState(), repo);
  Status again = RemoveTaskWorktree(*git_, wt);
  EXPECT_TRUE(again.ok()) << again.error().message;
  // Only spec, task and epoch count; the rest of the struct is not trusted.
  TaskWorktree named{kSpec, "TASK-002", 1, "/tmp", "main", base_};
  TaskWorktree other = Add("TASK-002", 1);
  ASSERT_TRUE(RemoveTaskWorktree(*git_, named).ok());
  EXPECT_FALSE(fs::exists(other.path));
  EXPECT_TRUE(BranchExists("main"));
  EXPECT_EQ(RepoState(), repo);
}

TEST_F(TaskWorktreeTest, AKilledWorkersLeftoverIsReplacedByAFreshWorktree) {
  TaskWorktree first = Add();
  Write(first.path + "/src/a.c", "half done\n");
  Write(first.path + "/junk.txt", "junk\n");
  GitOut({"commit", "-q", "-am", "half"}, first.path);
  TaskWorktree second = Add();
  EXPECT_EQ(second.path, first.path);
  EXPECT_EQ(GitOut({"status", "--porcelain", "--untracked-files=all"}, second.path), "");
  EXPECT_FALSE(fs::exists(second.path + "/junk.txt"));
  EXPECT_EQ(Rev("HEAD", second.path), base_);
  EXPECT_EQ(Patch(second), "");

  // Killed inside git_worktree_add: git's entry is there but unreadable.
  fs::remove(Common() + "/worktrees/spec-2026-11-29-001-TASK-001-3/gitdir");
  TaskWorktree third = Add();
  EXPECT_EQ(Rev("HEAD", third.path), base_);
  std::string list = GitOut({"worktree", "list", "--porcelain"});
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n'), 2 * 4) << list;  // the user's and this one
}

TEST_F(TaskWorktreeTest, RefusesIdsThatAreNotIdsAndBasesTheRepositoryLacks) {
  Result<TaskWorktree> r = AddTaskWorktree(*git_, "../x", "TASK-001", 1, base_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(r.error().message, "spec id '../x' is not letters, digits and '-'");
  r = AddTaskWorktree(*git_, kSpec, "TASK/1", 1, base_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "task id 'TASK/1' is not letters, digits and '-'");
  r = AddTaskWorktree(*git_, kSpec, "TASK-1", 1, std::string(40, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "base aaaaaaa is not in the repository");
  Result<std::string> patch = WorktreePatch(*git_, TaskWorktree{kSpec, "TASK-1", 1, "", "", base_});
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.error().code, ErrorCode::kNotFound) << patch.error().message;
  Status s = RemoveTaskWorktree(*git_, TaskWorktree{"..", "..", 0});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalid);
  EXPECT_FALSE(fs::exists(Common() + "/worktrees"));
}

// git names a worktree's entry after its folder: a user's worktree in a
// folder named like ours owns that entry, and it is left alone.
TEST_F(TaskWorktreeTest, AUsersWorktreeHoldingTheEntrysNameIsNeverTaken) {
  TempDir elsewhere("specd-user-wt");
  const std::string user = elsewhere / "spec-2026-11-29-001-TASK-009-1";
  GitOut({"worktree", "add", "-q", "--detach", user, base_});
  Write(user + "/mine.txt", "the user's\n");
  Result<TaskWorktree> r = AddTaskWorktree(*git_, kSpec, "TASK-009", 1, base_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(r.error().message, "git's worktree entry " + Common() +
                                   "/worktrees/spec-2026-11-29-001-TASK-009-1 is for " + user + ", not " +
                                   Common() + "/specd/worktrees/spec-2026-11-29-001-TASK-009-1");
  EXPECT_EQ(ReadAll(user + "/mine.txt"), "the user's\n");
  EXPECT_EQ(Rev("HEAD", user), base_);
  EXPECT_NE(GitOut({"worktree", "list"}).find(user), std::string::npos);
}

TEST_F(TaskWorktreeTest, PruneRemovesOnlyDeadTaskWorktreesAndOrphanBranches) {
  constexpr char kOther[] = "spec-2026-11-29-002";
  TaskWorktree dead1 = Add("TASK-001", 1), live = Add("TASK-002", 1), dead2 = Add("TASK-001", 4, kOther);
  Result<std::unique_ptr<CandidateWorktree>> candidate = CandidateWorktree::Create(*git_, kSpec, base_);
  ASSERT_TRUE(candidate.ok()) << candidate.error().message;
  TempDir elsewhere("specd-user-wt");
  GitOut({"worktree", "add", "-q", "-b", "feature", elsewhere / "feature", base_});
  // The user's own worktree on a branch that looks like ours.
  GitOut({"worktree", "add", "-q", "-b", "specd/S/T/9", elsewhere / "lookalike", base_});
  GitOut({"branch", "specd/S/T/3", base_});  // orphan, dead
  GitOut({"branch", "specd/S/T/4", base_});  // orphan, live: maybe a worktree being added
  GitOut({"branch", "specd/not-a-task", base_});
  Write(live.path + "/src/a.c", "work in progress\n");

  std::vector<std::string> asked;
  Result<std::vector<TaskWorktree>> pruned =
      PruneTaskWorktrees(*git_, [&](const std::string& spec, const std::string& task, int64_t epoch) {
        asked.push_back(spec + " " + task + " " + std::to_string(epoch));
        return (spec == kSpec && task == "TASK-002" && epoch == 1) || (spec == "S" && epoch == 4);
      });
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  std::vector<std::string> removed;
  for (const TaskWorktree& wt : *pruned) removed.push_back(wt.branch + " at " + wt.path);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{"specd/S/T/3 at ", dead1.branch + " at " + dead1.path,
                                               dead2.branch + " at " + dead2.path}));
  EXPECT_EQ(dead1.branch, "specd/spec-2026-11-29-001/TASK-001/1");
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked,
            (std::vector<std::string>{"S T 3", "S T 4", "spec-2026-11-29-001 TASK-001 1",
                                      "spec-2026-11-29-001 TASK-002 1", "spec-2026-11-29-002 TASK-001 4"}));

  for (const TaskWorktree& dead : {dead1, dead2}) {
    EXPECT_FALSE(fs::exists(dead.path));
    EXPECT_FALSE(fs::exists(Common() + "/worktrees/" + fs::path(dead.path).filename().string()));
    EXPECT_FALSE(BranchExists(dead.branch));
  }
  EXPECT_EQ(ReadAll(live.path + "/src/a.c"), "work in progress\n");
  EXPECT_EQ(GitOut({"status", "--porcelain"}, live.path), " M src/a.c\n");
  EXPECT_TRUE(BranchExists(live.branch));
  EXPECT_EQ(Rev("HEAD", (*candidate)->path()), base_);
  EXPECT_EQ(Rev("HEAD", elsewhere / "feature"), base_);
  EXPECT_EQ(Rev("HEAD", elsewhere / "lookalike"), base_);
  EXPECT_TRUE(BranchExists("feature"));
  EXPECT_TRUE(BranchExists("specd/S/T/9"));
  EXPECT_FALSE(BranchExists("specd/S/T/3"));
  EXPECT_TRUE(BranchExists("specd/S/T/4"));
  EXPECT_TRUE(BranchExists("specd/not-a-task"));
  const std::string list = GitOut({"worktree", "list"});
  for (const std::string& path :
       {live.path, (*candidate)->path(), elsewhere / "feature", elsewhere / "lookalike"})
    EXPECT_NE(list.find(path), std::string::npos) << path << "\n" << list;

  // Nothing dead left: a second prune removes nothing.
  Result<std::vector<TaskWorktree>> again = PruneTaskWorktrees(
      *git_, [](const std::string&, const std::string&, int64_t epoch) { return epoch != 9; });
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->empty());
  ASSERT_TRUE((*candidate)->Remove().ok());
  ASSERT_TRUE(RemoveTaskWorktree(*git_, live).ok());
}

// The worker's threads: each with its own GitRepo, each its own task.
TEST_F(TaskWorktreeTest, SeveralThreadsAddPatchAndRemoveAtOnce) {
  constexpr int kThreads = 4, kRounds = 3;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Result<std::unique_ptr<GitRepo>> repo = GitRepo::Open(repo_.path(), false);
      if (!repo.ok()) return void(failures[t] = repo.error().message);
      for (int round = 0; round < kRounds; ++round) {
        const std::string task = "TASK-00" + std::to_string(t);
        Result<TaskWorktree> wt = AddTaskWorktree(**repo, kSpec, task, round, base_);
        if (!wt.ok()) return void(failures[t] = "add: " + wt.error().message);
        Write(wt->path + "/src/" + task + ".c", task + "\n");
        Result<std::string> patch = WorktreePatch(**repo, *wt);
        if (!patch.ok()) return void(failures[t] = "patch: " + patch.error().message);
        if (patch->find("+++ b/src/" + task + ".c\n@@ -0,0 +1 @@\n+" + task + "\n") == std::string::npos)
          return void(failures[t] = "patch: " + *patch);
        if (Status s = RemoveTaskWorktree(**repo, *wt); !s.ok()) return void(failures[t] = s.error().message);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, std::vector<std::string>(kThreads));
  EXPECT_EQ(GitOut({"worktree", "list", "--porcelain"}).find("/specd/worktrees/"), std::string::npos);
  EXPECT_EQ(GitOut({"for-each-ref", "refs/heads/specd"}), "");
}

}  // namespace
}  // namespace specd::pipeline
