// Review as a reviewer and the gates meet it (issue 13, items 1-2): `specd
// gates` on the candidate (the target's tip with the submitted diffs, in a
// temporary worktree), `specd approve` refused until every gate configured
// at the tip passed there, a failed gate and `specd reject --task` sending
// work back with an attempt counted. Real git, real processes, exact
// messages and file bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/process_util.h"
#include "tests/task_cli_util.h"

namespace specd::testing {
namespace {

namespace fs = std::filesystem;

using ReviewCliTest = TaskCliFixture;

// The gate every test here configures at the tip: src/a.c must say "fixed".
constexpr char kGateSettings[] =
    "gates:\n  - name: unit\n    run: grep -q fixed src/a.c && echo looks fixed\n";

std::string TaskStatus(const std::string& spec, const std::string& task) {
  size_t at = spec.find("- id: " + task + "\n");
  if (at == std::string::npos) return "";
  at = spec.find("    status: ", at);
  return spec.substr(at + 12, spec.find_first_of(" \n", at + 12) - at - 12);
}

std::string SpecStatus(const std::string& spec) {
  size_t at = spec.find("\nstatus: ");
  return spec.substr(at + 9, spec.find('\n', at + 1) - at - 9);
}

// The one log a gate run left under .git/specd/logs/ID/<trace>/.
std::string GateLog(const fs::path& repo, const std::string& gate) {
  for (const auto& trace : fs::directory_iterator(repo / ".git/specd/logs" / kId)) {
    if (fs::exists(trace.path() / (gate + ".log"))) return ReadAll(trace.path() / (gate + ".log"));
  }
  return "<no log>";
}

TEST_F(ReviewCliTest, ApproveWaitsForTheGatesAndAFailedGateSendsTheWorkBack) {
  Start(Task(1, "src/a.c"), kGateSettings);
  const std::string tip7 = tip_.substr(0, 7);
  // A gate in the working tree's settings is not the tip's: never run.
  Write(repo_ / ".agents/specd.yaml", std::string(kGateSettings) + "  - name: local\n    run: exit 9\n");

  nlohmann::json lease = Claim({"claim", kId, "TASK-001", "--worker", "w1", "--json"});
  ASSERT_EQ(Specd({"submit", kId, "TASK-001", "--lease", lease["lease"], "--diff", "-"},
                  DiffOf("src/a.c", "one\ntwo, still broken\nthree\n"))
                .exit_code,
            0);
  EXPECT_EQ(SpecStatus(File()), "diff-submitted");

  Output early = Specd({"approve", kId});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_EQ(early.err,
            std::string("specd approve: refused: diff-submitted -> reviewed must wait: gate unit has "
                        "not run on main ") +
                tip7 + " with the submitted diffs; run `specd gates " + kId + "`\n");

  Output failed = Specd({"gates", kId});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.out.find("gate unit: fail (exit 1)"), std::string::npos) << failed.out;
  EXPECT_EQ(failed.out.find("gate local"), std::string::npos) << failed.out;
  EXPECT_EQ(SpecStatus(File()), "in-progress");
  EXPECT_EQ(TaskStatus(File(), "TASK-001"), "pending");
  EXPECT_EQ(GateLog(repo_.path(), "unit"), "");  // grep found nothing, echo never ran
  // The candidate worktree and its branch are gone; the user's branch did not move.
  EXPECT_EQ(GitOut({"worktree", "list", "--porcelain"}).find("specd/worktrees"), std::string::npos);
  EXPECT_EQ(GitOut({"branch", "--list", "specd-candidate-*"}), "");
  EXPECT_EQ(Rev("main"), tip_);
  // The attempt is counted and the failure is findable.
  Output failures = Specd({"failures", "--like", "gate unit"});
  EXPECT_NE(failures.out.find("TASK-001"), std::string::npos) << failures.out << failures.err;

  // The second attempt fixes it: the gate passes, approve goes through.
  nlohmann::json again = Claim({"claim", kId, "TASK-001", "--worker", "w1", "--json"});
  ASSERT_EQ(Specd({"submit", kId, "TASK-001", "--lease", again["lease"], "--diff", "-"},
                  DiffOf("src/a.c", "one\ntwo, fixed\nthree\n"))
                .exit_code,
            0);
  Output passed = Specd({"gates", kId, "--json"});
  ASSERT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  nlohmann::json report = nlohmann::json::parse(passed.out);
  EXPECT_EQ(report["passed"], true);
  EXPECT_EQ(report["tip"], tip_);
  ASSERT_EQ(report["gates"].size(), 1u);
  EXPECT_EQ(report["gates"][0]["name"], "unit");
  EXPECT_EQ(report["gates"][0]["outcome"], "pass");
  EXPECT_EQ(GateLog(repo_.path(), "unit"), "looks fixed\n");
  Output approve = Specd({"approve", kId});
  EXPECT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_EQ(SpecStatus(File()), "reviewed");
}

TEST_F(ReviewCliTest, AMovedTipIsANewCandidateSoTheGatesRunAgain) {
  Start(Task(1, "src/a.c"), kGateSettings);
  nlohmann::json lease = Claim({"claim", kId, "TASK-001", "--worker", "w1", "--json"});
  ASSERT_EQ(Specd({"submit", kId, "TASK-001", "--lease", lease["lease"], "--diff", "-"},
                  DiffOf("src/a.c", "one\ntwo, fixed\nthree\n"))
                .exit_code,
            0);
  ASSERT_EQ(Specd({"gates", kId}).exit_code, 0);
  const std::string moved = Commit({{"src/c.c", "sea, changed by a teammate\n"}}, "a teammate's change");
  Output approve = Specd({"approve", kId});
  EXPECT_EQ(approve.exit_code, 1);
  EXPECT_EQ(approve.err,
            std::string("specd approve: refused: diff-submitted -> reviewed must wait: gate unit has "
                        "not run on main ") +
                moved.substr(0, 7) + " with the submitted diffs; run `specd gates " + kId + "`\n");
  ASSERT_EQ(Specd({"gates", kId}).exit_code, 0);
  EXPECT_EQ(Specd({"approve", kId}).exit_code, 0);
}

TEST_F(ReviewCliTest, RejectSendsTheNamedTaskBackWithAnAttemptCounted) {
  Start(Task(1, "src/a.c") + Task(2, "src/b.c"));
  nlohmann::json a = Claim({"claim", kId, "TASK-001", "--worker", "w1", "--json"});
  nlohmann::json b = Claim({"claim", kId, "TASK-002", "--worker", "w2", "--json"});
  ASSERT_EQ(Specd({"submit", kId, "TASK-001", "--lease", a["lease"], "--diff", "-"},
                  DiffOf("src/a.c", "one\ntwo, changed\nthree\n"))
                .exit_code,
            0);
  ASSERT_EQ(Specd({"submit", kId, "TASK-002", "--lease", b["lease"], "--diff", "-"},
                  DiffOf("src/b.c", "bee, changed\n"))
                .exit_code,
            0);
  EXPECT_EQ(SpecStatus(File()), "diff-submitted");
  Output unknown = Specd({"reject", kId, "--reason", "no", "--task", "TASK-009"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "specd reject: refused: the spec has no task TASK-009\n");

  Output r = Specd({"reject", kId, "--reason", "b is wrong", "--task", "TASK-002"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SpecStatus(File()), "in-progress");
  EXPECT_EQ(TaskStatus(File(), "TASK-001"), "diff-submitted");
  EXPECT_EQ(TaskStatus(File(), "TASK-002"), "pending");
  Output show = Specd({"show", kId});
  EXPECT_NE(show.out.find("attempts 1"), std::string::npos) << show.out;
  // Claimed again, it starts from TASK-001's work: its own old diff left the stack.
  nlohmann::json again = Claim({"claim", kId, "TASK-002", "--worker", "w2", "--json"});
  EXPECT_EQ(GitOut({"show", again["base"].get<std::string>() + ":src/b.c"}), "bee\n");
  EXPECT_EQ(GitOut({"show", again["base"].get<std::string>() + ":src/a.c"}), "one\ntwo, changed\nthree\n");
}

}  // namespace
}  // namespace specd::testing
