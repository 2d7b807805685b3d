// Tasks' bases and the submit check on real repositories made with the git
// CLI: exact messages, and HEAD, branches, index and working tree (and, for
// the check, the object database) unchanged by every call.
#include "pipeline/task_stack.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/process_util.h"

namespace specd::pipeline {
namespace {

using specd::testing::TempDir;
using specd::testing::Write;

constexpr char kSpec[] = "spec-2026-01-01-001";

std::string Lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += std::to_string(i) + "\n";
  return out;
}

// src/a.c's ten lines with line `n` replaced.
std::string WithLine(int n, const std::string& text) {
  return Lines(1, n - 1) + text + "\n" + Lines(n + 1, 10);
}

class TaskStackTest : public specd::testing::GitFixture {
 protected:
  TaskStackTest() {
    first_ = Commit({{"src/a.c", Lines(1, 10)}, {"src/b.c", "b\n"}, {"docs/y.md", "# y\n"}}, "first");
    Open();
  }
  void Open() {
    Result<std::unique_ptr<GitRepo>> r = GitRepo::Open(repo_.path(), false);
    ASSERT_TRUE(r.ok()) << r.error().message;
    git_ = std::move(*r);
  }

  // The diff of the working tree after writing `files` over `from`'s
  // checkout; main and the working tree are put back afterwards.
  std::string DiffFrom(const std::string& from, const std::vector<std::pair<std::string, std::string>>& files,
                       const std::vector<std::string>& args = {}) {
    GitOut({"checkout", "-q", "--detach", from});
    for (const auto& [path, bytes] : files) Write(repo_ / path, bytes);
    GitOut({"add", "-A"});
    std::vector<std::string> diff = {"diff", "--cached"};
    diff.insert(diff.end(), args.begin(), args.end());
    std::string patch = GitOut(diff);
    GitOut({"reset", "-q", "--hard"});
    GitOut({"checkout", "-q", "main"});
    return patch;
  }

  SubmitCheck Check(const std::string& task, const std::string& base, const std::string& patch,
                    std::vector<StackedDiff> stack = {}) {
    return SubmitCheck{
        kSpec, task, base, "main", patch, {"src/a.c", "src/b.c", "src/new.c", "img/"}, std::move(stack)};
  }
  // CheckSubmission's refusal; a test failure if it accepts, or if it
  // changes the repository or writes an object.
  Error Refused(const SubmitCheck& check, ErrorCode code = ErrorCode::kConflict) {
    const std::string state = RepoState(), objects = ObjectCount();
    Result<std::vector<PatchDelta>> r = CheckSubmission(*git_, check);
    EXPECT_EQ(RepoState(), state);
    EXPECT_EQ(ObjectCount(), objects);
    EXPECT_FALSE(r.ok()) << "accepted";
    if (r.ok()) return Error{};
    EXPECT_EQ(r.error().code, code) << r.error().message;
    return r.error();
  }
  void Accepted(const SubmitCheck& check) {
    const std::string state = RepoState(), objects = ObjectCount();
    Result<std::vector<PatchDelta>> r = CheckSubmission(*git_, check);
    EXPECT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(RepoState(), state);
    EXPECT_EQ(ObjectCount(), objects);
  }
  std::string Short(const std::string& commit) { return commit.substr(0, 7); }

  std::string first_;
  std::unique_ptr<GitRepo> git_;
};

TEST_F(TaskStackTest, BranchTipIsTheBranchsCommit) {
  Result<std::string> tip = BranchTip(*git_, "main");
  ASSERT_TRUE(tip.ok()) << tip.error().message;
  EXPECT_EQ(*tip, first_);
  Result<std::string> none = BranchTip(*git_, "release");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(none.error().message, "no branch named 'release'");
}

TEST_F(TaskStackTest, AValidPatchIsAcceptedAndNothingIsWritten) {
  std::string patch = DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}});
  const std::string state = RepoState(), objects = ObjectCount();
  Result<std::vector<PatchDelta>> r = CheckSubmission(*git_, Check("TASK-001", first_, patch));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].new_path, "src/a.c");
  EXPECT_EQ(RepoState(), state);
  EXPECT_EQ(ObjectCount(), objects);
  EXPECT_EQ(GitOut({"for-each-ref", "refs/specd"}), "");
}

TEST_F(TaskStackTest, DiffUIsRefusedFirst) {
  std::string plain = "--- a.c\n+++ a.c\n@@ -1 +1 @@\n-1\n+one\n";
  EXPECT_EQ(Refused(Check("TASK-001", first_, plain), ErrorCode::kInvalid).message,
            "not a git-format patch: make it with `git diff` or `git format-patch` (this looks like `diff "
            "-u` output)");
  EXPECT_EQ(Refused(Check("TASK-001", first_, ""), ErrorCode::kInvalid).message, "the diff is empty");
}

TEST_F(TaskStackTest, AHunkOneLineOffNamesTheFileAndTheLine) {
  std::string patch = DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}});
  std::string off = specd::testing::Replace(patch, "@@ -2,7 +2,7 @@", "@@ -3,7 +3,7 @@");
  EXPECT_EQ(Refused(Check("TASK-001", first_, off)).message,
            "the diff does not apply to its base " + Short(first_) +
                ": src/a.c: hunk at line 3 did not apply (@@ -3,7 +3,7 @@)");
}

TEST_F(TaskStackTest, PathsOutOfScopeAreAllListed) {
  Commit({{".agents/specs/active/spec-2026-01-01-001.yaml", specd::testing::kValidSpec}}, "a spec");
  const std::string tip = Rev("main");
  std::string patch = DiffFrom(tip, {{"src/a.c", WithLine(5, "five")},
                                     {"docs/y.md", "# why\n"},
                                     {".agents/specs/active/spec-2026-01-01-001.yaml", "id: x\n"},
                                     {"docs/z.md", "z\n"}});
  SubmitCheck check = Check("TASK-001", tip, patch);
  EXPECT_EQ(Refused(check, ErrorCode::kInvalid).message,
            "the diff changes paths outside TASK-001's files: docs/y.md, docs/z.md; and paths that are never "
            "allowed "
            "in a diff: .agents/specs/active/spec-2026-01-01-001.yaml");
  check.files.push_back("docs/");
  check.files.push_back(".agents/");
  EXPECT_EQ(Refused(check, ErrorCode::kInvalid).message,
            "the diff changes paths that are never allowed in a diff: "
            ".agents/specs/active/spec-2026-01-01-001.yaml");
}

TEST_F(TaskStackTest, ABinaryFileWithAndWithoutItsData) {
  const std::vector<std::pair<std::string, std::string>> logo = {{"img/logo.bin", std::string("a\0b\0c", 5)}};
  Accepted(Check("TASK-001", first_, DiffFrom(first_, logo, {"--binary"})));
  EXPECT_EQ(Refused(Check("TASK-001", first_, DiffFrom(first_, logo)), ErrorCode::kInvalid).message,
            "binary change to img/logo.bin without its data: make the diff with `git diff --binary`");
}

TEST_F(TaskStackTest, APatchAgainstAnOlderTipStillAppliesToTheMovedTip) {
  std::string patch = DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}});
  Commit({{"src/b.c", "b changed on main\n"}, {"src/a.c", Lines(1, 10) + "11\n"}}, "main moves on");
  Accepted(Check("TASK-001", first_, patch));
}

TEST_F(TaskStackTest, APatchThatNoLongerAppliesToTheMovedTip) {
  std::string patch = DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}});
  const std::string tip = Commit({{"src/a.c", WithLine(6, "six")}}, "main changes line 6");
  EXPECT_EQ(Refused(Check("TASK-001", first_, patch)).message,
            "the diff no longer applies to main (tip " + Short(tip) +
                "): src/a.c: hunk at line 2 did not apply (@@ -2,7 +2,7 @@)");
}

TEST_F(TaskStackTest, ADependentTasksBaseHoldsItsDependencysChange) {
  const std::vector<StackedDiff> stack = {{"TASK-001", DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}})}};
  const std::string state = RepoState();
  Result<Base> base = MakeBase(*git_, kSpec, "TASK-002", 1, "main", stack);
  ASSERT_TRUE(base.ok()) << base.error().message;
  EXPECT_EQ(RepoState(), state);
  EXPECT_EQ(base->ref, "refs/specd/spec-2026-01-01-001/TASK-002/1");
  EXPECT_EQ(Rev(base->ref), base->commit);
  EXPECT_EQ(GitOut({"show", base->commit + ":src/a.c"}), WithLine(5, "five"));
  EXPECT_EQ(Rev(base->commit + "^"), first_);
  std::string when = GitOut({"log", "-1", "--format=%ct %cz", first_});
  when.pop_back();  // the tip's committer time: the same in every clone
  EXPECT_EQ(GitOut({"log", "-1", "--format=%an <%ae>|%cn <%ce>|%ct %cz|%B", base->commit}),
            "specd <specd@localhost>|specd <specd@localhost>|" + when +
                "|specd: base for spec-2026-01-01-001 TASK-002\n\nstack: TASK-001\n\n");
  Result<std::string> tree = ApplyStack(*git_, first_, stack, "main");
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  EXPECT_EQ(*tree, Rev(base->commit + "^{tree}"));

  Result<Base> again = MakeBase(*git_, kSpec, "TASK-002", 1, "main", stack);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->commit, base->commit);

  TempDir other("specd-clone");
  GitOut({"clone", "-q", repo_.path(), other / "clone"}, other.path());
  Result<std::unique_ptr<GitRepo>> clone = GitRepo::Open(other / "clone", false);
  ASSERT_TRUE(clone.ok()) << clone.error().message;
  Result<Base> cloned = MakeBase(**clone, kSpec, "TASK-002", 7, "main", stack);
  ASSERT_TRUE(cloned.ok()) << cloned.error().message;
  EXPECT_EQ(cloned->commit, base->commit);

  // The dependent task's work, made on its base, is accepted with the stack.
  std::string patch = DiffFrom(base->commit, {{"src/a.c", WithLine(5, "five and a half")}});
  Accepted(Check("TASK-002", base->commit, patch, stack));
}

TEST_F(TaskStackTest, WithAnEmptyStackTheBaseIsTheTip) {
  Result<Base> base = MakeBase(*git_, kSpec, "TASK-001", 3, "main", {});
  ASSERT_TRUE(base.ok()) << base.error().message;
  EXPECT_EQ(base->commit, first_);
  EXPECT_EQ(Rev("refs/specd/spec-2026-01-01-001/TASK-001/3"), first_);
}

TEST_F(TaskStackTest, ABaseMadeInALinkedWorktreeIsSharedWithTheRepository) {
  TempDir other("specd-linked");
  GitOut({"worktree", "add", "-q", "--detach", other / "wt"});
  Result<std::unique_ptr<GitRepo>> linked = GitRepo::Open(other / "wt", false);
  ASSERT_TRUE(linked.ok()) << linked.error().message;
  const std::vector<StackedDiff> stack = {{"TASK-001", DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}})}};
  const std::string state = RepoState(other / "wt");
  Result<Base> base = MakeBase(**linked, kSpec, "TASK-002", 1, "main", stack);
  ASSERT_TRUE(base.ok()) << base.error().message;
  EXPECT_EQ(RepoState(other / "wt"), state);
  EXPECT_EQ(Rev(base->ref), base->commit);
  EXPECT_EQ(GitOut({"show", base->ref + ":src/a.c"}), WithLine(5, "five"));
}

TEST_F(TaskStackTest, AnEpochsRefIsNeverMovedToAnotherBase) {
  ASSERT_TRUE(MakeBase(*git_, kSpec, "TASK-002", 1, "main", {}).ok());
  const std::vector<StackedDiff> stack = {{"TASK-001", DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}})}};
  Result<Base> moved = MakeBase(*git_, kSpec, "TASK-002", 1, "main", stack);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, ErrorCode::kConflict);
  Result<Base> next = MakeBase(*git_, kSpec, "TASK-002", 2, "main", stack);
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(moved.error().message, "refs/specd/spec-2026-01-01-001/TASK-002/1 already points at " +
                                       Short(first_) + ", not " + Short(next->commit));
  EXPECT_EQ(Rev("refs/specd/spec-2026-01-01-001/TASK-002/1"), first_);
}

TEST_F(TaskStackTest, TwoIndependentTasksEditingTheSameLine) {
  std::string one = DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}});
  std::string two = DiffFrom(first_, {{"src/a.c", WithLine(5, "FIVE")}});
  Accepted(Check("TASK-001", first_, one));
  EXPECT_EQ(
      Refused(Check("TASK-002", first_, two, {{"TASK-001", one}})).message,
      "the diff clashes with TASK-001's submitted diff: src/a.c: hunk at line 2 did not apply (@@ -2,7 +2,7 "
      "@@); claim the task again to start from a new base");
}

TEST_F(TaskStackTest, TwoIndependentTasksAddingTheSameFile) {
  std::string one = DiffFrom(first_, {{"src/new.c", "one\n"}});
  std::string two = DiffFrom(first_, {{"src/new.c", "two\n"}});
  std::string other = DiffFrom(first_, {{"src/b.c", "b from task 3\n"}});
  EXPECT_EQ(
      Refused(Check("TASK-002", first_, two, {{"TASK-003", other}, {"TASK-001", one}})).message,
      "the diff clashes with TASK-001's submitted diff: src/new.c: already exists; claim the task again to "
      "start from a new base");
}

TEST_F(TaskStackTest, ADependentPatchThatNoLongerAppliesNamesTheStackUnderIt) {
  const std::vector<StackedDiff> stack = {{"TASK-001", DiffFrom(first_, {{"src/new.c", "one\n"}})}};
  Result<Base> base = MakeBase(*git_, kSpec, "TASK-002", 1, "main", stack);
  ASSERT_TRUE(base.ok()) << base.error().message;
  std::string two = DiffFrom(base->commit, {{"src/a.c", WithLine(5, "five")}, {"src/new.c", "one\ntwo\n"}});
  Accepted(Check("TASK-002", base->commit, two, stack));
  const std::string tip = Commit({{"src/a.c", WithLine(6, "six")}}, "main changes line 6");
  EXPECT_EQ(
      Refused(Check("TASK-002", base->commit, two, stack)).message,
      "the diff no longer applies to main (tip " + Short(tip) +
          ") with the submitted diffs of TASK-001: src/a.c: hunk at line 2 did not apply (@@ -2,7 +2,7 @@)");
}

TEST_F(TaskStackTest, AStackEntryThatNoLongerApplies) {
  std::string one = DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}});
  const std::string tip = Commit({{"src/a.c", WithLine(5, "5 on main")}}, "main edits line 5");
  const std::string message = "TASK-001's submitted diff no longer applies to main (tip " + Short(tip) +
                              "): src/a.c: hunk at line 2 did not apply (@@ -2,7 +2,7 @@)";
  Result<std::string> tree = ApplyStack(*git_, tip, {{"TASK-001", one}}, "main");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.error().code, ErrorCode::kConflict);
  EXPECT_EQ(tree.error().message, message);
  std::string two = DiffFrom(first_, {{"src/b.c", "b from task 2\n"}});
  EXPECT_EQ(Refused(Check("TASK-002", first_, two, {{"TASK-001", one}})).message, message);
  Result<Base> base = MakeBase(*git_, kSpec, "TASK-002", 2, "main", {{"TASK-001", one}});
  ASSERT_FALSE(base.ok());
  EXPECT_EQ(base.error().message, message);
}

TEST_F(TaskStackTest, ABaseThatIsNotInTheRepository) {
  std::string patch = DiffFrom(first_, {{"src/a.c", WithLine(5, "five")}});
  EXPECT_EQ(Refused(Check("TASK-001", std::string(40, 'a'), patch), ErrorCode::kNotFound).message,
            "base aaaaaaa is not in the repository");
  EXPECT_EQ(Refused(Check("TASK-001", "main", patch), ErrorCode::kInvalid).message,
            "base 'main' is not a commit id (40 hex digits)");
}

}  // namespace
}  // namespace specd::pipeline
