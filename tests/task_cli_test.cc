// Tasks as a worker meets them: `specd next`, `claim`, `heartbeat`,
// `submit`, `fail` as real processes in a real git repository, with the
// settings file, real time for leases, and concurrent claimers. Exact exit
// codes, messages, file bytes, refs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/process_util.h"
#include "tests/task_cli_util.h"

namespace specd::testing {
namespace {

using TaskCliTest = TaskCliFixture;

TEST_F(TaskCliTest, PlanningToDiffSubmittedByNextAndSubmitAlone) {
  Start(Task(1, "src/a.c") + Task(2, "src/b.c", "TASK-001"));
  nlohmann::json first = Claim({"next", "--worker", "w1", "--json"});
  EXPECT_EQ(first["task"], "TASK-001");
  EXPECT_EQ(first["epoch"], 1);
  EXPECT_EQ(first["base"], tip_);  // nothing submitted yet: the tip itself
  EXPECT_EQ(first["files"], nlohmann::json::array({"src/a.c"}));
  EXPECT_EQ(Rev("refs/specd/spec-2026-11-29-001/TASK-001/1"), tip_);
  EXPECT_EQ(Specd({"next", "--worker", "w2"}).exit_code, 3);  // TASK-002 waits for TASK-001

  const std::string patch = DiffOf("src/a.c", "one\ntwo, changed\nthree\n");
  Output sub = Specd({"submit", kId, "TASK-001", "--lease", first["lease"], "--diff", "-"}, patch);
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, std::string(kId) + " TASK-001 diff-submitted: .agents/diffs/" + kId +
                         "/TASK-001.diff; the spec is in-progress\n");
  EXPECT_EQ(ReadAll(repo_ / ".agents/diffs/spec-2026-11-29-001/TASK-001.diff"), patch);
  EXPECT_NE(File().find("    status: diff-submitted\n    assignedTo: w1\n    files: [src/a.c]\n    diffPath: "
                        ".agents/diffs/spec-2026-11-29-001/TASK-001.diff\n"),
            std::string::npos)
      << File();
  // The same submit again (its reply lost) is answered as the first; another
  // diff under the same lease is refused: the lease has ended.
  Output again = Specd({"submit", kId, "TASK-001", "--lease", first["lease"], "--diff", "-"}, patch);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, sub.out);
  Output other = Specd({"submit", kId, "TASK-001", "--lease", first["lease"], "--diff", "-"}, patch + "\n");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.err,
            "specd submit: refused: spec-2026-11-29-001 TASK-001: stale lease: lease epoch 1 has "
            "already submitted its diff\n");

  // The dependent task starts from its dependency's work.
  nlohmann::json second = Claim({"next", "--worker", "w2", "--json"});
  EXPECT_EQ(second["task"], "TASK-002");
  EXPECT_NE(second["base"], tip_);
  EXPECT_EQ(GitOut({"show", second["base"].get<std::string>() + ":src/a.c"}), "one\ntwo, changed\nthree\n");
  Output sub2 = Specd({"submit", kId, "TASK-002", "--lease", second["lease"], "--diff", "-"},
                      DiffOf("src/b.c", "bee, changed\n"));
  ASSERT_EQ(sub2.exit_code, 0) << sub2.err;
  EXPECT_EQ(sub2.out, std::string(kId) + " TASK-002 diff-submitted: .agents/diffs/" + kId +
                          "/TASK-002.diff; the spec is diff-submitted\n");
  EXPECT_NE(File().find("status: diff-submitted\n"), std::string::npos);
  // Branches, HEAD and the index are git's alone.
  EXPECT_EQ(Rev("main"), tip_);
  EXPECT_EQ(GitOut({"diff", "--cached", "--name-only"}), "");
}

TEST_F(TaskCliTest, ABadDiffIsRefusedWithItsReasonAndNothingIsStored) {
  Start(Task(1, "src/a.c") + Task(2, "src/a.c"));
  nlohmann::json a = Claim({"claim", kId, "TASK-001", "--worker", "w1", "--json"});
  const std::string before = File();
  Output unified = Specd({"submit", kId, "TASK-001", "--lease", a["lease"], "--diff", "-"},
                         "--- src/a.c\n+++ src/a.c\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n");
  EXPECT_EQ(unified.exit_code, 1);
  EXPECT_EQ(
      unified.err.rfind("specd submit: refused: spec-2026-11-29-001 TASK-001: not a git-format patch", 0), 0u)
      << unified.err;
  Output scope = Specd({"submit", kId, "TASK-001", "--lease", a["lease"], "--diff", "-"},
                       DiffOf("src/b.c", "bee, not mine\n"));
  EXPECT_EQ(scope.exit_code, 1);
  EXPECT_EQ(scope.err,
            "specd submit: refused: spec-2026-11-29-001 TASK-001: the diff changes paths outside "
            "TASK-001's files: src/b.c\n");
  EXPECT_EQ(File(), before);
  EXPECT_FALSE(std::filesystem::exists(repo_ / ".agents/diffs"));
  // Two independent tasks on the same line: the second is refused, naming the first.
  nlohmann::json b = Claim({"claim", kId, "TASK-002", "--worker", "w2", "--json"});
  ASSERT_EQ(Specd({"submit", kId, "TASK-001", "--lease", a["lease"], "--diff", "-"},
                  DiffOf("src/a.c", "one\nTWO\nthree\n"))
                .exit_code,
            0);
  Output clash = Specd({"submit", kId, "TASK-002", "--lease", b["lease"], "--diff", "-"},
                       DiffOf("src/a.c", "one\ntoo\nthree\n"));
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_EQ(
      clash.err.rfind("specd submit: refused: spec-2026-11-29-001 TASK-002: the diff clashes with TASK-001's "
                      "submitted diff: src/a.c: hunk at line 1",
                      0),
      0u)
      << clash.err;
  EXPECT_FALSE(std::filesystem::exists(repo_ / ".agents/diffs/spec-2026-11-29-001/TASK-002.diff"));
  Output missing = Specd({"submit", kId, "TASK-002", "--lease", b["lease"]});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "specd submit: --diff FILE|- is required\n");
}

TEST_F(TaskCliTest, AStoppedWorkerIsFencedOffWhenItComesBack) {
  // The TTL leaves B's lease alive while A's two late commands and B's
  // submit run, even in a sanitizer build where each start is slow.
  Start(Task(1, "src/a.c"), "lease:\n  ttlSeconds: 6\n  heartbeatSeconds: 2\n");
  // Worker A: claims, is stopped (SIGSTOP) past the TTL, then tries its
  // heartbeat and its submit.
  const std::string patch_file = repo_ / "../a.patch";
  Write(patch_file, DiffOf("src/a.c", "one\nA was here\nthree\n"));
  const std::string script = std::string("set -u; S='") + SPECD_BINARY + "'; " + "lease=$($S claim " + kId +
                             " TASK-001 --worker A --json | sed -n 's/.*\"lease\": \"\\(.*\\)\".*/\\1/p'); "
                             "kill -STOP $$; "
                             "$S heartbeat " +
                             kId + " TASK-001 --lease \"$lease\" 2>hb.err; echo $? > hb.rc; " + "$S submit " +
                             kId + " TASK-001 --lease \"$lease\" --diff " + patch_file +
                             " 2>sub.err; echo $? > sub.rc";
  pid_t a = fork();
  if (a == 0) {
    ::setenv("HOME", home_.path().c_str(), 1);
    ::chdir(repo_.path().c_str());
    ::execl("/bin/bash", "bash", "-c", script.c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(a, &status, WUNTRACED), a);
  ASSERT_TRUE(WIFSTOPPED(status));
  std::this_thread::sleep_for(std::chrono::milliseconds(6300));
  nlohmann::json b = Claim({"claim", kId, "TASK-001", "--worker", "B", "--json"});
  EXPECT_EQ(b["epoch"], 3);  // epoch 1 expired (raised to 2), B's is above both
  const std::string after_b = File();
  ::kill(a, SIGCONT);
  ASSERT_EQ(::waitpid(a, &status, 0), a);
  EXPECT_EQ(ReadAll(repo_ / "hb.rc"), "1\n");
  EXPECT_EQ(ReadAll(repo_ / "sub.rc"), "1\n");
  EXPECT_NE(ReadAll(repo_ / "hb.err").find("stale lease: lease epoch 1 expired at "), std::string::npos);
  EXPECT_NE(ReadAll(repo_ / "sub.err").find("stale lease: lease epoch 1 expired at "), std::string::npos);
  EXPECT_EQ(File(), after_b);
  EXPECT_FALSE(std::filesystem::exists(repo_ / ".agents/diffs"));
  Output sub = Specd({"submit", kId, "TASK-001", "--lease", b["lease"], "--diff", patch_file});
  EXPECT_EQ(sub.exit_code, 0) << sub.err;
}

TEST_F(TaskCliTest, LeasesExpireIntoAttemptsAndAttemptsUsedUpFailTheSpec) {
  Start(Task(1, "src/a.c"), "lease:\n  ttlSeconds: 3\n  heartbeatSeconds: 1\n  maxAttempts: 2\n");
  Claim({"claim", kId, "TASK-001", "--worker", "w1", "--json"});
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  Output r = Specd({"reconcile"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("TASK-001: expired by specd, in-progress -> pending"), std::string::npos) << r.out;
  nlohmann::json shown = nlohmann::json::parse(Specd({"show", kId, "--json"}).out);
  EXPECT_EQ(shown["tasks"][0]["status"], "pending");
  EXPECT_EQ(shown["tasks"][0]["attempts"], 1);
  Claim({"next", "--worker", "w2", "--json"});
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  Output second = Specd({"next", "--worker", "w3"});  // sweeps first: nothing is ready then
  EXPECT_EQ(second.exit_code, 3);
  shown = nlohmann::json::parse(Specd({"show", kId, "--json"}).out);
  EXPECT_EQ(shown["status"], "failed");
  EXPECT_EQ(shown["tasks"][0]["status"], "failed");
  EXPECT_EQ(shown["tasks"][0]["attempts"], 2);
}

// 8 processes call `specd next --spec` until none is ready; every task is
// claimed exactly once, and every claim is in the journal as a held lease.
// Each round is a new spec of 40 ready tasks (SPECD_RACE_ROUNDS, default 2;
// bench/tasks runs more).
TEST_F(TaskCliTest, ConcurrentClaimersTakeEveryTaskExactlyOnce) {
  Start(Task(1, "src/a.c"));
  std::string tasks;
  for (int i = 1; i <= 40; ++i) tasks += Task(i, "src/a.c");
  const char* env_rounds = std::getenv("SPECD_RACE_ROUNDS");
  const int rounds = env_rounds ? std::atoi(env_rounds) : 2;
  for (int round = 0; round < rounds; ++round) {
    char id[32];
    std::snprintf(id, sizeof id, "spec-2026-11-29-%03d", 100 + round);
    std::string spec = Spec(tasks);
    spec.replace(spec.find(kId), std::strlen(kId), id);
    Write(repo_ / (std::string(".agents/specs/active/") + id + ".yaml"), spec);
    ASSERT_EQ(Specd({"reconcile"}).exit_code, 0);
    const std::string script = std::string("S='") + SPECD_BINARY + "'; while true; do " +
                               "out=$($S next --spec \"$2\" --worker \"$1\" --json); rc=$?; " +
                               "[ $rc = 3 ] && exit 0; [ $rc = 0 ] || exit $rc; echo \"$out\" | " +
                               "sed -n 's/.*\"task\": \"\\(.*\\)\".*/\\1/p'; done";
    std::vector<pid_t> pids;
    std::vector<std::string> outs;
    for (int w = 0; w < 8; ++w) {
      const std::string out = home_ / ("claims-" + std::to_string(w));
      outs.push_back(out);
      pid_t pid = fork();
      if (pid == 0) {
        ::setenv("HOME", home_.path().c_str(), 1);
        if (::chdir(repo_.path().c_str()) != 0 || !std::freopen(out.c_str(), "w", stdout)) _exit(126);
        const std::string worker = "w" + std::to_string(w);
        ::execl("/bin/bash", "bash", "-c", script.c_str(), "claimer", worker.c_str(), id, nullptr);
        _exit(127);
      }
      pids.push_back(pid);
    }
    for (pid_t pid : pids) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
    }
    std::multiset<std::string> claimed;
    for (const std::string& out : outs) {
      std::string text = ReadAll(out);
      for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
        claimed.insert(text.substr(at, nl - at));
      }
    }
    EXPECT_EQ(claimed.size(), 40u) << "round " << round;
    EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 40u) << "round " << round;
    // Seen from a fresh process: 40 tasks in progress, each under one lease.
    nlohmann::json shown = nlohmann::json::parse(Specd({"show", id, "--json"}).out);
    int held = 0;
    for (const auto& t : shown["tasks"]) held += t["status"] == "in-progress" && t.contains("leaseExpiresAt");
    EXPECT_EQ(held, 40) << "round " << round;
  }
}

}  // namespace
}  // namespace specd::testing
