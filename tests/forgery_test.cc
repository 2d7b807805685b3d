// Issue 15, item 3: an approval typed into a spec file cannot reach a commit
// through the hook. Real repositories and real `git commit`/`git merge`s: a
// forged approval (with a made-up trace) is stopped naming each entry; the
// same transitions made with specd's verbs are committed; a teammate's
// approval that arrives in a merge is evidence, but only as their commit has it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/hooks_util.h"
#include "tests/process_util.h"

namespace specd {
namespace {

constexpr const char* kId = testing::HookRepoFixture::kId;
constexpr const char* kRel = testing::HookRepoFixture::kRel;

using ::specd::testing::kValidSpec;
using ::specd::testing::Output;
using ::specd::testing::ReadAll;
using ::specd::testing::Replace;
using ::specd::testing::RunOptions;
using ::specd::testing::RunProcess;
using ::specd::testing::Stopped;
using ::specd::testing::TempDir;
using ::specd::testing::Write;

std::string Entry(const std::string& at, const std::string& actor, const std::string& from,
                  const std::string& to, const std::string& trace) {
  return "  - at: \"" + at + "\"\n    actor: " + actor + "\n    from: " + from + "\n    to: " + to +
         "\n    trace: " + trace + "\n";
}

// kValidSpec approved by entries typed into the file: what a hostile
// contributor writes (lines 15-19 and 20-24 hold the two entries).
const std::string kForged = Replace(kValidSpec, "status: draft\n", "status: approved\n") + "changeLog:\n" +
                            Entry("2026-01-02T10:00:00Z", "alice", "draft", "review", "1234abcd1234abcd") +
                            Entry("2026-01-02T11:00:00Z", "bob", "review", "approved", "1234abcd1234abcd");

std::string NotEvidence(int index, int line, const std::string& what) {
  return std::string(kRel) + ":" + std::to_string(line) + ":5: error: /changeLog/" + std::to_string(index) +
         ": " + what +
         " is new in this commit, but specd did not make it here and no commit being merged carries it: a "
         "changeLog entry typed into the file is not evidence of a transition (make it with the specd verb, "
         "or merge the commit that has it)\n";
}

class ForgeryTest : public testing::HookRepoFixture {
 protected:
  Output SpecdAs(const std::string& actor, const std::vector<std::string>& args,
                 const std::string& cwd = "") {
    RunOptions o = Env();
    o.env.emplace_back("SPECD_ACTOR", actor);
    return *RunProcess(cwd.empty() ? repo_.path() : cwd, SPECD_BINARY, args, o);
  }
};

TEST_F(ForgeryTest, AnApprovalTypedIntoTheFileIsStoppedNamingEachEntry) {
  Install();
  Write(repo_ / kRel, kForged);
  Output commit = Git({"commit", "-q", "-a", "-m", "approved, honest"});
  EXPECT_EQ(commit.exit_code, 1);
  EXPECT_EQ(commit.err, NotEvidence(0, 15, "draft -> review at 2026-01-02T10:00:00Z by alice") +
                            NotEvidence(1, 20, "review -> approved at 2026-01-02T11:00:00Z by bob") +
                            Stopped(1, 1));
  EXPECT_EQ(Committed(), kValidSpec);  // nothing committed
}

TEST_F(ForgeryTest, TheSameTransitionsMadeWithTheVerbsAreCommitted) {
  Install();
  ASSERT_EQ(SpecdAs("alice", {"request-review", kId}).exit_code, 0);
  Output approve = SpecdAs("bob", {"approve", kId});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  Output commit = Git({"commit", "-q", "-a", "-m", "approved by bob"});
  EXPECT_EQ(commit.exit_code, 0) << commit.err;
  EXPECT_EQ(Committed(), ReadAll(repo_ / kRel));
}

// The teammate approves in their clone (the origin), with specd; this clone
// merges their branch: the entries are in the commit being merged.
TEST_F(ForgeryTest, ATeammatesApprovalArrivingInAMergeIsCommittedAsTheirCommitHasIt) {
  TempDir clone_dir("specd-clone");
  const std::string mine = CloneWithHooks(clone_dir);
  ASSERT_EQ(SpecdAs("alice", {"request-review", kId}).exit_code, 0);
  ASSERT_EQ(SpecdAs("bob", {"approve", kId}).exit_code, 0);
  GitOk({"commit", "-q", "-a", "--no-verify", "-m", "approved by bob"});
  const std::string theirs = ReadAll(repo_ / kRel);
  Write(mine + "/README", "mine\n");  // so the merge makes a commit of its own
  GitOk({"add", "README"}, mine);
  GitOk({"commit", "-q", "-m", "mine"}, mine);

  Output merge = Git({"pull", "-q", "--no-rebase", "--no-edit"}, mine);
  EXPECT_EQ(merge.exit_code, 0) << merge.err;
  EXPECT_EQ(Git({"show", "HEAD:" + std::string(kRel)}, mine).out, theirs);
  EXPECT_EQ(Git({"rev-list", "--count", "--merges", "HEAD"}, mine).out, "1\n");

  // A merge whose result adds an entry their commit does not have is
  // stopped: the merge is evidence of their entries, not of anything else.
  GitOk({"reset", "-q", "--hard", "HEAD~1"}, mine);
  Output again = Git({"merge", "--no-commit", "--no-ff", "-q", "origin/main"}, mine);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const std::string extra =
      theirs + Entry("2026-01-03T09:00:00Z", "eve", "planning", "cancelled", "0000ffff0000ffff");
  Write(mine + "/" + kRel, Replace(extra, "status: planning\n", "status: cancelled\n"));
  GitOk({"add", kRel}, mine);
  Output commit = Git({"commit", "-q", "--no-edit"}, mine);
  EXPECT_EQ(commit.exit_code, 1);
  EXPECT_NE(commit.err.find("planning -> cancelled at 2026-01-03T09:00:00Z by eve is new in this commit"),
            std::string::npos)
      << commit.err;
  EXPECT_EQ(commit.err.find("by bob"), std::string::npos) << commit.err;  // theirs, carried by MERGE_HEAD
}

}  // namespace
}  // namespace specd
