// Specs stay git-clean (issue 9): a fresh clone of a repository with 300
// committed specs in several states is not modified by `specd reconcile`,
// by `specd watch` starting and stopping, or by pulling a teammate's
// approve; the teammate's transitions are journaled all the same. Real git,
// the real binary, real inotify.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "process_util.h"
#include "test_util.h"
#include "watch_util.h"

namespace specd::testing {
namespace {

constexpr int kSpecs = 300;

std::string SpecId(int i) {
  char id[32];
  std::snprintf(id, sizeof id, "spec-2026-03-%02d-%03d", 1 + i % 28, i);
  return id;
}

// Spec i in one of four states; planning and in-progress ones have tasks,
// every third one a stale progress block, none an updatedAt.
std::string SpecText(int i) {
  static const char* kStates[] = {"draft", "review", "planning", "in-progress"};
  const std::string status = kStates[i % 4];
  std::string text =
      Replace(Replace(kValidSpec, "spec-2026-01-01-001", SpecId(i)), "status: draft", "status: " + status);
  if (status == "planning" || status == "in-progress") {
    text +=
        "tasks:\n"
        "  - id: TASK-001\n"
        "    title: Do the first thing\n"
        "    type: feature\n"
        "    status: " +
        std::string(status == "in-progress" ? "in-progress" : "pending") +
        "\n"
        "    priority: high\n"
        "    assignedTo: " +
        std::string(status == "in-progress" ? "worker-1" : "null") +
        "\n"
        "    dependencies: []\n"
        "    files: [src/a.cc]\n";
  }
  if (i % 3 == 0) text += "progress:\n  total: 7\n  percent: 99\n";  // stale: shown, not rewritten
  return text;
}

class GitCleanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Git(tmp_.path(), {"init", "-q", "--bare", "-b", "main", "origin.git"}).exit_code, 0);
    ASSERT_EQ(Git(tmp_.path(), {"clone", "-q", "origin.git", "seed"}).exit_code, 0);
    for (int i = 0; i < kSpecs; ++i) {
      Write(tmp_ / ("seed/.agents/specs/active/" + SpecId(i) + ".yaml"), SpecText(i));
    }
    ASSERT_EQ(Git(tmp_ / "seed", {"add", "-A"}).exit_code, 0);
    ASSERT_EQ(Git(tmp_ / "seed", {"commit", "-q", "-m", "300 specs"}).exit_code, 0);
    ASSERT_EQ(Git(tmp_ / "seed", {"push", "-q", "origin", "main"}).exit_code, 0);
    ASSERT_EQ(Git(tmp_.path(), {"clone", "-q", "origin.git", "mine"}).exit_code, 0);
  }

  Output Git(const std::string& cwd, std::vector<std::string> args) {
    std::vector<std::string> all = {"-c", "user.name=t", "-c", "user.email=t@example.com"};
    all.insert(all.end(), args.begin(), args.end());
    return *RunProcess(cwd, "git", all, RunOptions{{{"HOME", tmp_.path()}, {"GIT_CONFIG_NOSYSTEM", "1"}}});
  }

  Output Specd(const std::string& repo, std::vector<std::string> args, const std::string& actor = "alice") {
    args.push_back("--repo");
    args.push_back(repo);
    return *RunProcess(repo, SPECD_BINARY, args, RunOptions{{{"SPECD_ACTOR", actor}}});
  }

  std::string Porcelain(const std::string& repo) { return Git(repo, {"status", "--porcelain"}).out; }

  TempDir tmp_{"specd-gitclean"};
};

TEST_F(GitCleanTest, AFreshCloneStaysCleanUnderReconcile) {
  const std::string mine = tmp_ / "mine";
  Output o = Specd(mine, {"reconcile"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(Porcelain(mine), "");
  Output status = Specd(mine, {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find(SpecId(299)), std::string::npos);
  // A second pass reads nothing and still writes nothing.
  ASSERT_EQ(Specd(mine, {"reconcile"}).exit_code, 0);
  EXPECT_EQ(Porcelain(mine), "");
}

TEST_F(GitCleanTest, AFreshCloneStaysCleanUnderWatch) {
  const std::string mine = tmp_ / "mine";
  {
    WatchProcess w(SPECD_BINARY, {"watch", "--repo", mine});
    ASSERT_NE(w.WaitForLine("ready in"), "");
    w.Signal(SIGTERM);
    EXPECT_EQ(w.Wait(), 0);
  }
  EXPECT_EQ(Porcelain(mine), "");
}

TEST_F(GitCleanTest, PullingATeammatesApproveKeepsTheCloneCleanAndJournalsIt) {
  const std::string mine = tmp_ / "mine";
  ASSERT_EQ(Specd(mine, {"reconcile"}).exit_code, 0);
  // The teammate approves spec 1 (review) in their clone and pushes.
  ASSERT_EQ(Git(tmp_.path(), {"clone", "-q", "origin.git", "bob"}).exit_code, 0);
  const std::string bob = tmp_ / "bob";
  Output approve = Specd(bob, {"approve", SpecId(1)}, "bob");
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_EQ(Porcelain(bob), " M .agents/specs/active/" + SpecId(1) + ".yaml\n");  // only what changed
  ASSERT_EQ(Git(bob, {"commit", "-q", "-am", "approve"}).exit_code, 0);
  ASSERT_EQ(Git(bob, {"push", "-q", "origin", "main"}).exit_code, 0);

  Output pull = Git(mine, {"pull", "-q", "--ff-only"});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  ASSERT_EQ(Specd(mine, {"reconcile"}).exit_code, 0);
  EXPECT_EQ(Porcelain(mine), "");
  Output log = Specd(mine, {"log", SpecId(1)});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find("review -> approved  by bob"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("approved -> planning  by specd"), std::string::npos) << log.out;
  Output events = Specd(mine, {"events", "--json"});
  EXPECT_NE(events.out.find("\"actor\":\"bob\""), std::string::npos);
}

}  // namespace
}  // namespace specd::testing
