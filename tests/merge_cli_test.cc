// The git manager's step through the CLI (issue 13, item 3): `specd merge`
// lands a reviewed spec as one squash commit on the target, re-gates on a
// moved tip, blocks on a conflict or a dirty checkout (nothing moves, the
// user's file untouched), and a SIGKILL at each step of the merge leaves no
// commit or the whole commit, brought into line by the next reconcile and
// merge. Real git, real processes, exact bytes and SHAs.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/process_util.h"
#include "tests/task_cli_util.h"
#include "tests/watch_util.h"

namespace specd::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kGate[] = "gates:\n  - name: unit\n    run: grep -q changed src/a.c\n";
constexpr char kNewA[] = "one\ntwo, changed\nthree\n";
constexpr char kNewB[] = "bee, changed\n";

class MergeCliTest : public TaskCliFixture {
 protected:
  // The spec with two tasks, both submitted, the gates passed, approved.
  void Reviewed() {
    Start(Task(1, "src/a.c") + Task(2, "src/b.c"), kGate);
    Submit("TASK-001", "src/a.c", kNewA);
    Submit("TASK-002", "src/b.c", kNewB);
    ASSERT_EQ(Specd({"gates", kId}).exit_code, 0);
    Output approve = Specd({"approve", kId});
    ASSERT_EQ(approve.exit_code, 0) << approve.err;
    ASSERT_EQ(Status(), "reviewed");
  }
  void Submit(const std::string& task, const std::string& file, const std::string& bytes) {
    nlohmann::json lease = Claim({"claim", kId, task, "--worker", "w-" + task, "--json"});
    Output o = Specd({"submit", kId, task, "--lease", lease["lease"], "--diff", "-"}, DiffOf(file, bytes));
    ASSERT_EQ(o.exit_code, 0) << o.err;
  }
  // The spec's status as `specd show --json` has it (active or archived).
  std::string Status() {
    Output o = Specd({"show", kId, "--json"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    return o.exit_code == 0 ? nlohmann::json::parse(o.out).value("status", "") : "";
  }
  std::string Trace() { return nlohmann::json::parse(Specd({"show", kId, "--json"}).out).value("trace", ""); }
  std::string Archived() {
    for (const auto& dir : fs::directory_iterator(repo_ / ".agents/specs/archive")) {
      if (fs::exists(dir.path() / (std::string(kId) + ".yaml"))) return dir.path().filename().string();
    }
    return "<not archived>";
  }
  std::string Message(const std::string& rev) { return GitOut({"log", "-1", "--format=%B", rev}); }
  std::string SpecRefs() { return GitOut({"for-each-ref", "refs/specd/"}); }
};

TEST_F(MergeCliTest, AReviewedSpecLandsAsOneSquashCommitAndIsCompleted) {
  Reviewed();
  const std::string trace = Trace();
  ASSERT_FALSE(trace.empty());
  EXPECT_NE(SpecRefs(), "");  // the tasks' bases

  Output m = Specd({"merge", kId});
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  const std::string landed = Rev("main");
  EXPECT_NE(m.out.find(std::string(kId) + " landed on main as " + landed.substr(0, 7) + "; completed"),
            std::string::npos)
      << m.out;
  EXPECT_EQ(Rev("main~1"), tip_);
  EXPECT_EQ(Message("main"), std::string(kId) + ": Tasks from the command line\n\nSpec-Id: " + kId +
                                 "\nTrace-Id: " + trace +
                                 "\nTasks: TASK-001, TASK-002\nReviewed-by: tester\n\n");
  EXPECT_EQ(GitOut({"show", "main:src/a.c"}), kNewA);
  EXPECT_EQ(GitOut({"show", "main:src/b.c"}), kNewB);
  EXPECT_EQ(GitOut({"diff", "--name-only", "main~1", "main"}), "src/a.c\nsrc/b.c\n");
  // main is checked out here and was clean: its files and index moved along.
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), kNewA);
  EXPECT_EQ(GitOut({"diff", "--cached", "--name-only"}), "");
  EXPECT_EQ(GitOut({"status", "--porcelain", "--", "src"}), "");
  // Completed, archived, its refs gone; nothing else changed in git.
  EXPECT_EQ(Status(), "completed");
  EXPECT_FALSE(fs::exists(repo_ / kRel));
  EXPECT_NE(Archived(), "<not archived>");
  EXPECT_EQ(SpecRefs(), "");
  EXPECT_EQ(GitOut({"for-each-ref", "--format=%(refname)", "refs/heads/"}), "refs/heads/main\n");
  Output log = Specd({"log", kId});
  EXPECT_NE(log.out.find("reviewed -> completed"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("the diffs are committed as " + landed + " on main"), std::string::npos) << log.out;

  Output again = Specd({"merge", kId});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(std::string(kId) + " had landed on main as " + landed.substr(0, 7)),
            std::string::npos)
      << again.out;
  EXPECT_EQ(Rev("main"), landed);
}

TEST_F(MergeCliTest, AMovedTipIsGatedAgainAndTheSquashGoesOnTopOfIt) {
  Reviewed();
  const std::string moved = Commit({{"src/c.c", "sea, a teammate's\n"}}, "a teammate's change");
  Output m = Specd({"merge", kId, "--json"});
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  nlohmann::json r = nlohmann::json::parse(m.out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["outcome"], "landed");
  EXPECT_EQ(r[0]["gateRuns"], 1);  // the candidate on the new tip was gated
  EXPECT_EQ(r[0]["commit"], Rev("main"));
  EXPECT_EQ(Rev("main~1"), moved);
  // The teammate's change is kept: never a silent revert.
  EXPECT_EQ(GitOut({"show", "main:src/c.c"}), "sea, a teammate's\n");
  EXPECT_EQ(GitOut({"diff", "--name-only", "main~1", "main"}), "src/a.c\nsrc/b.c\n");
  EXPECT_EQ(Status(), "completed");
}

TEST_F(MergeCliTest, AConflictingTipBlocksTheSpecAndLeavesTheTargetAsItWas) {
  Reviewed();
  const std::string moved = Commit({{"src/a.c", "one\ntwo, theirs\nthree\n"}}, "a conflicting change");
  const std::string tree = Rev("main^{tree}");
  Output m = Specd({"merge", kId});
  EXPECT_EQ(m.exit_code, 1) << m.out << m.err;
  EXPECT_NE(m.err.find("the merge into main conflicts"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("src/a.c"), std::string::npos) << m.err;
  EXPECT_EQ(Rev("main"), moved);
  EXPECT_EQ(Rev("main^{tree}"), tree);
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), "one\ntwo, theirs\nthree\n");
  EXPECT_EQ(Status(), "blocked");
  // Asked again: still blocked, nothing written, no second transition.
  const std::string spec = File();
  Output again = Specd({"merge"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("still blocked"), std::string::npos) << again.err;
  EXPECT_EQ(File(), spec);
  EXPECT_EQ(Rev("main"), moved);
}

TEST_F(MergeCliTest, ADirtyCheckoutMakesTheMergeWaitUntilItIsClean) {
  Reviewed();
  Write(repo_ / "src/a.c", "one\ntwo, my unsaved work\nthree\n");
  Output m = Specd({"merge", kId});
  EXPECT_EQ(m.exit_code, 1) << m.out << m.err;
  EXPECT_NE(m.err.find("the merge into main waits"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("src/a.c"), std::string::npos) << m.err;
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), "one\ntwo, my unsaved work\nthree\n");
  EXPECT_EQ(Rev("main"), tip_);
  EXPECT_EQ(Status(), "blocked");

  GitOut({"checkout", "--", "src/a.c"});  // the user puts the work away
  Output queue = Specd({"merge"});        // no id: the queue, blocked-by-merge included
  ASSERT_EQ(queue.exit_code, 0) << queue.out << queue.err;
  EXPECT_EQ(Rev("main~1"), tip_);
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), kNewA);
  EXPECT_EQ(Status(), "completed");
  Output log = Specd({"log", kId});
  EXPECT_NE(log.out.find("blocked -> reviewed"), std::string::npos) << log.out;
}

// specd watch does it by itself: the gates run when the spec reaches
// diff-submitted, on a thread of their own (a save is acted on while a gate
// is still running), and the approved spec is merged.
TEST_F(MergeCliTest, TheWatcherRunsTheGatesAndMergesByItself) {
  TempDir gate_io("specd-gate");
  const std::string release = gate_io / "release";
  Start(Task(1, "src/a.c") + Task(2, "src/b.c"), std::string(kGate) +
                                                     "  - name: slow\n    run: while [ ! -e " + release +
                                                     " ]; do sleep 0.05; done; echo released\n");
  WatchProcess w(SPECD_BINARY, {"watch", "--repo", repo_.path()});
  w.WaitForLine("ready in");
  Submit("TASK-001", "src/a.c", kNewA);
  Submit("TASK-002", "src/b.c", kNewB);
  w.WaitForLine(std::string(kId) + ": in-progress -> diff-submitted");
  w.WaitForLine("gate unit: pass");
  // The slow gate waits for the test; meanwhile a new spec is saved.
  std::string other = Spec("");
  other.replace(other.find("status: planning"), 16, "status: draft");
  other.replace(other.find(kId), std::string(kId).size(), "spec-2026-11-29-002");
  other.erase(other.find("tasks:\n"));
  Write(repo_ / ".agents/specs/active/spec-2026-11-29-002.yaml", other);
  w.WaitForLine("spec-2026-11-29-002: registered at draft");
  EXPECT_EQ(w.Count("gate slow:"), 0u) << w.output();
  Write(release, "");
  w.WaitForLine("gate slow: pass");
  w.WaitForLine("every gate passed on main " + tip_.substr(0, 7));

  Output approve = Specd({"approve", kId});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  w.WaitForLine(std::string(kId) + ": reviewed -> completed");
  EXPECT_EQ(Rev("main~1"), tip_);
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), kNewA);
  EXPECT_EQ(Message("main").substr(0, std::string(kId).size() + 2), std::string(kId) + ": ");
  w.Signal(SIGTERM);
  EXPECT_EQ(w.Wait(), 0) << w.output();
  // Each event is said once: by the watcher, from the journal, not by its children too.
  EXPECT_EQ(w.Count(std::string(kId) + ": reviewed -> completed"), 1u) << w.output();
  EXPECT_EQ(w.Count(std::string(kId) + ": in-progress -> diff-submitted"), 1u) << w.output();
}

// `specd gates` asked to stop (SIGTERM, as specd watch stops its child, or
// Ctrl-C) takes its gate down with it, although the gate runs in a session
// of its own; the work is not sent back for it.
TEST_F(MergeCliTest, StoppingSpecdGatesStopsTheGateItRuns) {
  TempDir gate_io("specd-gate");
  const std::string pid_file = gate_io / "pid";
  Start(Task(1, "src/a.c"), "gates:\n  - name: slow\n    run: echo $$ > " + pid_file + "; sleep 30\n");
  Submit("TASK-001", "src/a.c", kNewA);
  WatchProcess gates(SPECD_BINARY, {"gates", kId, "--repo", repo_.path()});
  gates.WaitForLine("candidate ");
  for (int i = 0; i < 6000 && ReadAll(pid_file).empty(); ++i) ::usleep(10'000);
  const std::string pid = ReadAll(pid_file).substr(0, ReadAll(pid_file).find('\n'));
  ASSERT_FALSE(pid.empty());
  ASSERT_TRUE(fs::exists("/proc/" + pid));
  gates.Signal(SIGTERM);
  EXPECT_EQ(gates.Wait(), 2) << gates.output();
  EXPECT_NE(gates.output().find("gate slow was stopped (its processes killed): specd was asked to stop"),
            std::string::npos)
      << gates.output();
  const std::string stat = ReadAll("/proc/" + pid + "/stat");  // gone, or a zombie waiting for init
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
  EXPECT_EQ(Status(), "diff-submitted");
  EXPECT_EQ(GitOut({"worktree", "list", "--porcelain"}).find("specd/worktrees"), std::string::npos);
}

// A SIGKILL at each step: before the commit object, before the ref moves,
// right after it moved (the checkout not updated), after the squash landed
// (nothing journaled). Each leaves no commit or the whole commit; reconcile
// completes a spec whose commit is there, and a second merge finishes.
class MergeKillTest : public MergeCliTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(MergeKillTest, LeavesNoCommitOrTheWholeCommit) {
  Reviewed();
  RunOptions o = GitEnv(home_.path());
  o.env.push_back({"SPECD_ACTOR", "tester"});
  o.env.push_back({"SPECD_FAIL_POINT", GetParam()});
  Output killed = *RunProcess(repo_.path(), SPECD_BINARY, {"merge", kId}, o);
  EXPECT_EQ(killed.exit_code, -1) << killed.out << killed.err;
  const bool landed =
      std::string(GetParam()) == "squash:after-ref" || std::string(GetParam()) == "merge:after-land";
  if (landed) {
    EXPECT_EQ(Rev("main~1"), tip_);
    EXPECT_EQ(GitOut({"show", "main:src/a.c"}), kNewA);
    EXPECT_EQ(GitOut({"show", "main:src/b.c"}), kNewB);
  } else {
    EXPECT_EQ(Rev("main"), tip_);
  }
  Output rec = Specd({"reconcile"});
  EXPECT_EQ(rec.exit_code, 0) << rec.err;
  EXPECT_EQ(Status(), landed ? "completed" : "reviewed");

  Output m = Specd({"merge", kId});
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_EQ(GitOut({"rev-list", "--count", tip_ + "..main"}), "1\n");
  EXPECT_EQ(ReadAll(repo_ / "src/a.c"), kNewA);
  EXPECT_EQ(ReadAll(repo_ / "src/b.c"), kNewB);
  EXPECT_EQ(GitOut({"status", "--porcelain", "--", "src"}), "");
  EXPECT_EQ(Status(), "completed");
  EXPECT_EQ(SpecRefs(), "");
  Output log = Specd({"log", kId});
  size_t completions = 0;
  for (size_t at = 0; (at = log.out.find("reviewed -> completed", at)) != std::string::npos; ++at)
    ++completions;
  EXPECT_EQ(completions, 1u) << log.out;
}

INSTANTIATE_TEST_SUITE_P(EachStep, MergeKillTest,
                         ::testing::Values("squash:before-commit", "squash:before-ref", "squash:after-ref",
                                           "merge:after-land"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string n = p.param;
                           for (char& c : n) {
                             if (c == ':' || c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace specd::testing
