// `specd worker --exec` as a user runs it (issue 14): the stand-in agents of
// fixtures/agents on real specs in a real git repository, each attempt in a
// worktree of its own. Asserted: the worker's lines, the event log (claims,
// submits, failures, releases in order), the stored diffs, the agent's logs,
// what is left of worktrees and branches, and the user's checkout, HEAD and
// index, untouched while the user keeps editing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/process_util.h"
#include "tests/worker_util.h"

namespace specd::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kS1[] = "spec-2026-11-30-001";
constexpr char kS2[] = "spec-2026-11-30-002";
constexpr char kS3[] = "spec-2026-11-30-003";
constexpr char kOneShot[] = "lease:\n  maxAttempts: 1\n";  // a failed attempt fails the task

class WorkerCliTest : public WorkerFixture {
 protected:
  // Three specs, twelve tasks: a diamond, a chain with a new file, three
  // independent tasks and one that waits for all three.
  void TwelveTasks() {
    StartSpecs({{kS1, Task(1, "s1/a.c") + Task(2, "s1/a.c", "TASK-001") + Task(3, "s1/b.c", "TASK-001") +
                          Task(4, "s1/a.c, s1/b.c", "TASK-002, TASK-003")},
                {kS2, Task(1, "s2/one.c") + Task(2, "s2/one.c", "TASK-001") +
                          Task(3, "s2/one.c, s2/new.c", "TASK-002") + Task(4, "s2/two.c")},
                {kS3, Task(1, "s3/a.c") + Task(2, "s3/b.c") + Task(3, "s3/c.c") +
                          Task(4, "s3/d.c", "TASK-001, TASK-002, TASK-003")}},
               {{"s1/a.c", "a1\n"},
                {"s1/b.c", "b1\n"},
                {"s2/one.c", "one\n"},
                {"s2/two.c", "two\n"},
                {"s3/a.c", "a3\n"},
                {"s3/b.c", "b3\n"},
                {"s3/c.c", "c3\n"}});
  }
};

// Each task of TwelveTasks: its dependencies and how many files it declares.
struct Planned {
  std::vector<std::string> deps;
  int files = 1;
};
const std::map<std::string, std::map<std::string, Planned>> kGraph = {
    {kS1,
     {{"TASK-001", {}},
      {"TASK-002", {{"TASK-001"}}},
      {"TASK-003", {{"TASK-001"}}},
      {"TASK-004", {{"TASK-002", "TASK-003"}, 2}}}},
    {kS2,
     {{"TASK-001", {}}, {"TASK-002", {{"TASK-001"}}}, {"TASK-003", {{"TASK-002"}, 2}}, {"TASK-004", {}}}},
    {kS3,
     {{"TASK-001", {}},
      {"TASK-002", {}},
      {"TASK-003", {}},
      {"TASK-004", {{"TASK-001", "TASK-002", "TASK-003"}}}}}};

// The user keeps editing a file (one a task also changes) while the worker
// runs, and HEAD and main are watched throughout.
class UserAtWork {
 public:
  UserAtWork(std::string file, std::string git_dir)
      : file_(std::move(file)), git_dir_(std::move(git_dir)), head_(Head()), thread_([this] { Run(); }) {}
  ~UserAtWork() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // The bytes of the user's last save.
  std::string Last() const { return last_; }
  int Saves() const { return saves_; }
  int HeadChanges() const { return head_changes_; }

 private:
  std::string Head() const { return ReadAll(git_dir_ + "/HEAD") + ReadAll(git_dir_ + "/refs/heads/main"); }
  void Run() {
    while (!stop_) {
      last_ = "the user's edit number " + std::to_string(++saves_) + "\n";
      std::ofstream(file_, std::ios::binary | std::ios::trunc) << last_;
      if (Head() != head_) ++head_changes_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  const std::string file_, git_dir_, head_;
  std::atomic<bool> stop_{false};
  std::string last_;
  int saves_ = 0;
  int head_changes_ = 0;
  std::thread thread_;
};

TEST_F(WorkerCliTest, FourWorkersTakeTwelveTasksThroughTheirDependenciesWhileTheUserEdits) {
  TwelveTasks();
  // The user's checkout: a staged change, an untracked file, and (below) a
  // file being edited the whole time.
  Write(repo_ / "s3/b.c", "b3, staged by the user\n");
  GitOut({"add", "s3/b.c"});
  Write(repo_ / "notes.txt", "the user's notes\n");
  const std::string index_path = repo_ / ".git/index";
  const std::string staged_before = GitOut({"--no-optional-locks", "diff", "--cached"});
  const std::string index_before = ReadAll(index_path);
  const std::string head_before = Rev("HEAD");

  UserAtWork user(repo_ / "s1/a.c", repo_ / ".git");
  Output w = Worker({"--exec", Agent("correct"), "--workers", "4", "--name", "w", "--once"});
  user.Stop();
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  EXPECT_EQ(LastLineWith(w.out, "worker w: "), "worker w: 12 claimed, 12 submitted, 0 failed") << w.out;

  // Every task claimed exactly once, by one of the four slots, and submitted;
  // each claim after its dependencies' submits.
  std::map<std::string, int64_t> claimed_at, submitted_at;
  std::set<std::string> workers;
  for (const nlohmann::json& e : Events()) {
    if (e["task"] == "") continue;
    const std::string key = e["spec"].get<std::string>() + "/" + e["task"].get<std::string>();
    EXPECT_TRUE(e["kind"] == "claimed" || e["kind"] == "submitted") << e.dump();
    if (e["kind"] == "claimed") {
      EXPECT_EQ(claimed_at.count(key), 0u) << key << " claimed twice";
      claimed_at[key] = e["seq"];
      workers.insert(e["actor"].get<std::string>());
    } else if (e["kind"] == "submitted") {
      submitted_at[key] = e["seq"];
    }
  }
  EXPECT_EQ(claimed_at.size(), 12u);
  EXPECT_EQ(submitted_at.size(), 12u);
  for (const std::string& worker : workers) {  // the event log names a worker worker:NAME (issue 15)
    EXPECT_TRUE(worker == "worker:w.1" || worker == "worker:w.2" || worker == "worker:w.3" ||
                worker == "worker:w.4")
        << worker;
  }
  for (const auto& [spec, tasks] : kGraph) {
    for (const auto& [task, planned] : tasks) {
      const std::string key = spec + "/" + task;
      ASSERT_TRUE(claimed_at.count(key) && submitted_at.count(key)) << key;
      EXPECT_LT(claimed_at[key], submitted_at[key]) << key;
      for (const std::string& dep : planned.deps) {
        EXPECT_GT(claimed_at[key], submitted_at[spec + "/" + dep]) << key << " started before " << dep;
      }
      // The worker's own lines: one claim on attempt 1, one submit.
      EXPECT_EQ(LinesWith(w.out, key + " claimed by w.").size(), 1u) << w.out;
      EXPECT_EQ(LinesWith(w.out, key + " submitted").size(), 1u) << w.out;
      const std::vector<std::string> claim = LinesWith(w.out, key + " claimed by ");
      if (!claim.empty()) {
        EXPECT_EQ(claim[0].substr(claim[0].size() - 12), " (attempt 1)") << claim[0];
      }
      const std::string edited = task + ": edited " + std::to_string(planned.files) + " file(s) (attempt 1)";
      EXPECT_EQ(LinesWith(w.out, "[" + key + "] " + edited).size(), 1u) << w.out;
      EXPECT_NE(ReadAll(LogPath(spec, task, 1)).find(task + ": edited"), std::string::npos) << key;
    }
    nlohmann::json shown = Show(spec);
    EXPECT_EQ(shown["status"], "diff-submitted") << spec;
    for (const nlohmann::json& t : shown["tasks"])
      EXPECT_EQ(t["status"], "diff-submitted") << spec << t.dump();
  }
  // The diffs: from each task's base, which holds its dependencies' work.
  const std::string d = repo_ / ".agents/diffs/";
  EXPECT_NE(ReadAll(d + kS1 + "/TASK-004.diff")
                .find(" a1\n TASK-001 was here\n TASK-002 was here\n+TASK-004 was here\n"),
            std::string::npos)
      << ReadAll(d + kS1 + "/TASK-004.diff");
  EXPECT_NE(ReadAll(d + kS1 + "/TASK-004.diff").find(" b1\n TASK-003 was here\n+TASK-004 was here\n"),
            std::string::npos);
  const std::string chain = ReadAll(d + kS2 + "/TASK-003.diff");
  EXPECT_NE(chain.find(" one\n TASK-001 was here\n TASK-002 was here\n+TASK-003 was here\n"),
            std::string::npos)
      << chain;
  EXPECT_NE(chain.find("diff --git a/s2/new.c b/s2/new.c\nnew file mode 100644\n"), std::string::npos)
      << chain;
  EXPECT_NE(ReadAll(d + kS3 + "/TASK-004.diff").find("new file mode 100644"), std::string::npos);
  EXPECT_EQ(ReadAll(d + kS3 + "/TASK-002.diff").find("staged by the user"), std::string::npos);

  // The user's checkout: the last save, the staged change, the untracked
  // file, the index's bytes, HEAD and the branches as they were.
  EXPECT_GT(user.Saves(), 1);
  EXPECT_EQ(user.HeadChanges(), 0);
  EXPECT_EQ(ReadAll(repo_ / "s1/a.c"), user.Last());
  EXPECT_EQ(ReadAll(repo_ / "s3/b.c"), "b3, staged by the user\n");
  EXPECT_EQ(ReadAll(repo_ / "notes.txt"), "the user's notes\n");
  EXPECT_EQ(ReadAll(repo_ / "s2/one.c"), "one\n");
  EXPECT_FALSE(fs::exists(repo_ / "s2/new.c"));
  EXPECT_EQ(ReadAll(index_path), index_before);
  EXPECT_EQ(GitOut({"--no-optional-locks", "diff", "--cached"}), staged_before);
  EXPECT_EQ(Rev("HEAD"), head_before);
  EXPECT_EQ(GitOut({"symbolic-ref", "HEAD"}), "refs/heads/main\n");
  // Nothing of the attempts is left in git.
  EXPECT_EQ(Branches(), "refs/heads/main\n");
  EXPECT_EQ(GitWorktrees(), std::vector<std::string>{"worktree " + repo_.path()});
  EXPECT_EQ(TaskWorktreeDirs(), std::vector<std::string>{});
}

TEST_F(WorkerCliTest, TheAgentRunsInItsWorktreeWithTheContractsEnvironment) {
  StartSpecs({{kS1, Task(1, "s1/a.c, s1/new.c")}}, {{"s1/a.c", "a1\n"}});
  const std::string script = home_ / "env-agent.sh";
  Write(script,
        "echo \"worktree=$SPECD_WORKTREE\"\n"
        "[ \"$(pwd -P)\" = \"$SPECD_WORKTREE\" ] && echo cwd=worktree\n"
        "echo \"branch=$(git symbolic-ref HEAD) base=$(git rev-parse HEAD)\"\n"
        "echo \"spec=$SPECD_SPEC task=$SPECD_TASK attempt=$SPECD_ATTEMPT trace=$SPECD_TRACE\"\n"
        "echo \"spec-file=$SPECD_SPEC_FILE\"\n"
        "echo \"spec-file-mode=$(stat -c %a \"$SPECD_SPEC_FILE\") tasks=$(grep -c 'id: TASK-001' "
        "\"$SPECD_SPEC_FILE\")\"\n"
        "echo \"files=$(tr '\\n' ' ' <\"$SPECD_TASK_FILES\")\"\n"
        "[ -f \"$SPECD_SIMILAR_FAILURES\" ] && [ ! -s \"$SPECD_SIMILAR_FAILURES\" ] && echo similar=empty\n"
        "echo \"prompt=$GIT_TERMINAL_PROMPT editor=$GIT_EDITOR\"\n"
        "echo \"stdin=$(readlink /proc/$$/fd/0)\"\n"
        "echo \"session=$(cut -d' ' -f6 /proc/$$/stat)\"\n"
        "exec " +
            Agent("correct") + "\n");
  Output w = Worker({"--exec", "sh " + script, "--name", "solo", "--once"});
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  const std::string key = std::string(kS1) + "/TASK-001";
  const std::string p = "[" + key + "] ";
  const std::string trace = Show(kS1)["trace"];
  const std::string expected = key + " claimed by solo (attempt 1)\n" + p +
                               "worktree=" + WorktreePath(kS1, "TASK-001", 1) + "\n" + p + "cwd=worktree\n" +
                               p + "branch=refs/heads/specd/" + kS1 + "/TASK-001/1 base=" + tip_ + "\n" + p +
                               "spec=" + kS1 + " task=TASK-001 attempt=1 trace=" + trace + "\n";
  EXPECT_EQ(w.out.substr(0, expected.size()), expected) << w.out;
  // A copy of the spec (not the file in the checkout), read-only.
  const std::vector<std::string> copy = LinesWith(w.out, p + "spec-file=");
  ASSERT_EQ(copy.size(), 1u) << w.out;
  EXPECT_EQ(copy[0].find(repo_ / ".agents"), std::string::npos) << copy[0];
  const std::vector<std::string> mode = LinesWith(w.out, p + "spec-file-mode=");
  ASSERT_EQ(mode.size(), 1u) << w.out;
  const std::string bits = mode[0].substr((p + "spec-file-mode=").size());
  EXPECT_EQ(std::stoi(bits.substr(0, bits.find(' ')), nullptr, 8) & 0222, 0) << mode[0];
  EXPECT_EQ(bits.substr(bits.find(' ')), " tasks=1") << mode[0];
  EXPECT_EQ(LinesWith(w.out, p + "files=s1/a.c s1/new.c ").size(), 1u) << w.out;
  EXPECT_EQ(LinesWith(w.out, p + "similar=empty").size(), 1u) << w.out;
  EXPECT_EQ(LinesWith(w.out, p + "prompt=0 editor=true").size(), 1u) << w.out;
  EXPECT_EQ(LinesWith(w.out, p + "stdin=/dev/null").size(), 1u) << w.out;
  // A session of its own: not the worker's (which is this test's).
  const std::vector<std::string> session = LinesWith(w.out, p + "session=");
  ASSERT_EQ(session.size(), 1u) << w.out;
  EXPECT_NE(std::stol(session[0].substr((p + "session=").size())), static_cast<long>(::getsid(0)))
      << session[0];
  EXPECT_EQ(LinesWith(w.out, key + " submitted").size(), 1u) << w.out;
  EXPECT_EQ(LastLineWith(w.out, "worker solo: "), "worker solo: 1 claimed, 1 submitted, 0 failed");
  // The log holds the agent's output whole, unprefixed.
  EXPECT_NE(ReadAll(LogPath(kS1, "TASK-001", 1)).find("\ncwd=worktree\n"), std::string::npos);
  EXPECT_EQ(ShowTask(kS1, "TASK-001")["status"], "diff-submitted");
}

TEST_F(WorkerCliTest, AFailedAttemptIsToldToTheRetryThroughSimilarFailures) {
  StartSpecs({{kS1, Task(1, "s1/widget.c")}}, {{"s1/widget.c", "int main() {\n  return 0\n}\n"}});
  Output w = Worker({"--exec", Agent("fails-once"), "--name", "w", "--once", "--json"});
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  std::vector<nlohmann::json> events;
  for (const std::string& line : LinesWith(w.out, "")) {
    if (line.empty()) continue;
    ASSERT_EQ(line[0], '{') << "not an event: " << line;  // --json: no agent lines
    events.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(events.size(), 4u) << w.out;
  std::vector<std::string> kinds;
  for (const nlohmann::json& e : events) {
    kinds.push_back(e["event"]);
    EXPECT_EQ(e["spec"], kS1);
    EXPECT_EQ(e["task"], "TASK-001");
    EXPECT_EQ(e["worker"], "w");
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"claimed", "failed", "claimed", "submitted"}));
  EXPECT_EQ(events[0]["attempt"], 1);
  EXPECT_EQ(events[2]["attempt"], 2);
  EXPECT_TRUE(events[1].contains("reason")) << events[1].dump();
  const int64_t first = events[0]["epoch"], second = events[2]["epoch"];
  EXPECT_LT(first, second);
  EXPECT_EQ(events[3]["epoch"], second);

  // Attempt 1's log has its own error; attempt 2 printed it from
  // SPECD_SIMILAR_FAILURES before doing the task.
  const std::string error = "error: widget.c:3: expected ';'";
  EXPECT_NE(ReadAll(LogPath(kS1, "TASK-001", first)).find(error), std::string::npos);
  const std::string retry = ReadAll(LogPath(kS1, "TASK-001", second));
  const size_t told = retry.find("attempt 2; similar failures:\n");
  ASSERT_NE(told, std::string::npos) << retry;
  EXPECT_NE(retry.find(error, told), std::string::npos) << retry;
  EXPECT_NE(retry.find("TASK-001: edited 1 file(s) (attempt 2)"), std::string::npos) << retry;

  nlohmann::json task = ShowTask(kS1, "TASK-001");
  EXPECT_EQ(task["status"], "diff-submitted");
  EXPECT_EQ(task["attempts"], 1);
  EXPECT_NE(ReadAll(repo_ / ".agents/diffs/" + kS1 + "/TASK-001.diff").find("+TASK-001 was here\n"),
            std::string::npos);
  EXPECT_EQ(TaskEvents("task-failed", kS1, "TASK-001").size(), 1u);
}

TEST_F(WorkerCliTest, AnAgentWaitingForInputIsKilledAsBlockedLongBeforeItsTimeout) {
  StartSpecs({{kS1, Task(1, "s1/a.c")}}, {{"s1/a.c", "a1\n"}}, kOneShot);
  const auto start = std::chrono::steady_clock::now();
  Output w = Worker(
      {"--exec", Agent("waits-for-input"), "--name", "w", "--once", "--quiet", "2", "--timeout", "300"});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  const std::string key = std::string(kS1) + "/TASK-001";
  EXPECT_EQ(LinesWith(w.out, "[" + key + "] Proceed with the change? [y/N]").size(), 1u) << w.out;
  const std::vector<std::string> failed = LinesWith(w.out, key + " failed: ");
  ASSERT_EQ(failed.size(), 1u) << w.out;
  EXPECT_EQ(failed[0].rfind(key + " failed: blocked: waiting for input (", 0), 0u) << failed[0];
  EXPECT_LT(took, std::chrono::seconds(300)) << "ran to its timeout instead";
  EXPECT_EQ(LastLineWith(w.out, "worker w: "), "worker w: 1 claimed, 0 submitted, 1 failed");
  std::vector<nlohmann::json> fails = TaskEvents("task-failed", kS1, "TASK-001");
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_EQ(fails[0]["reason"].get<std::string>().rfind("blocked: waiting for input (", 0), 0u)
      << fails[0].dump();
  EXPECT_EQ(ShowTask(kS1, "TASK-001")["status"], "failed");
  EXPECT_EQ(TaskWorktreeDirs(), std::vector<std::string>{});
  EXPECT_EQ(Branches(), "refs/heads/main\n");
}

TEST_F(WorkerCliTest, AnAgentPrintingForeverRunsToItsTimeoutAndIsNotCalledBlocked) {
  StartSpecs({{kS1, Task(1, "s1/a.c")}}, {{"s1/a.c", "a1\n"}}, kOneShot);
  Output w =
      Worker({"--exec", Agent("prints-forever"), "--name", "w", "--once", "--timeout", "4", "--quiet", "1"});
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  const std::string key = std::string(kS1) + "/TASK-001";
  EXPECT_GT(LinesWith(w.out, "[" + key + "] still working (").size(), 1u) << w.out;
  EXPECT_EQ(LinesWith(w.out, key + " failed: "),
            std::vector<std::string>{key + " failed: ran past its 4 s timeout"})
      << w.out;
  EXPECT_EQ(LinesWith(w.out, "blocked"), std::vector<std::string>{}) << w.out;
  std::vector<nlohmann::json> fails = TaskEvents("task-failed", kS1, "TASK-001");
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_EQ(fails[0]["reason"].get<std::string>().rfind("ran past its 4 s timeout", 0), 0u)
      << fails[0].dump();
  EXPECT_EQ(ShowTask(kS1, "TASK-001")["status"], "failed");
  EXPECT_EQ(TaskWorktreeDirs(), std::vector<std::string>{});
}

TEST_F(WorkerCliTest, AChangeOutsideTheTasksFilesIsAFailedAttemptNamingThePath) {
  StartSpecs({{kS1, Task(1, "s1/a.c")}}, {{"s1/a.c", "a1\n"}}, kOneShot);
  Output w = Worker({"--exec", Agent("out-of-scope"), "--name", "w", "--once"});
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  const std::string key = std::string(kS1) + "/TASK-001";
  const std::vector<std::string> failed = LinesWith(w.out, key + " failed: ");
  ASSERT_EQ(failed.size(), 1u) << w.out;
  EXPECT_NE(failed[0].find("README.stray"), std::string::npos) << failed[0];
  EXPECT_EQ(failed[0].find("s1/a.c"), std::string::npos) << failed[0];  // its own file is no offence
  EXPECT_EQ(LinesWith(w.out, key + " submitted"), std::vector<std::string>{});
  std::vector<nlohmann::json> fails = TaskEvents("task-failed", kS1, "TASK-001");
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_NE(fails[0]["reason"].get<std::string>().find("README.stray"), std::string::npos) << fails[0].dump();
  EXPECT_EQ(ShowTask(kS1, "TASK-001")["status"], "failed");
  EXPECT_FALSE(fs::exists(repo_ / ".agents/diffs"));
  EXPECT_FALSE(fs::exists(repo_ / "README.stray"));
  // The next attempt (of this task or another) is told why.
  Output like = Specd({"failures", "--like", "README.stray"});
  EXPECT_NE(like.out.find("README.stray"), std::string::npos) << like.out << like.err;
}

TEST_F(WorkerCliTest, AKilledWorkersTaskIsFinishedByTheNextAfterTheTtlAndItsWorktreePruned) {
  StartSpecs({{kS1, Task(1, "s1/a.c") + Task(2, "s1/b.c", "TASK-001") + Task(3, "s1/c.c", "TASK-001")}},
             {{"s1/a.c", "a1\n"}, {"s1/b.c", "b1\n"}, {"s1/c.c", "c1\n"}}, "lease:\n  ttlSeconds: 3\n");
  const std::string key = std::string(kS1) + "/TASK-001";
  std::unique_ptr<WatchProcess> first = StartWorker({"--exec", SleepingAgent(), "--name", "first"});
  ASSERT_NE(first->WaitForLine(key + " claimed by first (attempt 1)"), "");
  const pid_t agent = AgentPid(first->WaitForLine("agent started "));
  ASSERT_GT(agent, 0) << first->output();
  EXPECT_EQ(TaskStates(kS1), (std::map<std::string, int>{{"in-progress", 1}, {"pending", 2}}));
  const std::string orphan = WorktreePath(kS1, "TASK-001", 1);
  ASSERT_TRUE(fs::is_directory(orphan));

  first->Signal(SIGKILL);
  EXPECT_EQ(first->Wait(), -1);
  ::kill(-agent, SIGKILL);  // the agent outlives its worker (own session): gone too, as after a reboot
  ::kill(agent, SIGKILL);
  EXPECT_TRUE(fs::is_directory(orphan));  // nobody cleaned up
  EXPECT_EQ(TaskStates(kS1), (std::map<std::string, int>{{"in-progress", 1}, {"pending", 2}}));
  // Past the TTL (heartbeats came every second until the kill).
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));

  Output second = Worker({"--exec", Agent("correct"), "--name", "second", "--once"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(LinesWith(second.out, key + " claimed by second (attempt 2)").size(), 1u) << second.out;
  EXPECT_EQ(LastLineWith(second.out, "worker second: "), "worker second: 3 claimed, 3 submitted, 0 failed");
  EXPECT_EQ(TaskEvents("expired", kS1, "TASK-001").size(), 1u);
  EXPECT_EQ(TaskStates(kS1), (std::map<std::string, int>{{"diff-submitted", 3}}));
  EXPECT_EQ(ShowTask(kS1, "TASK-001")["attempts"], 1);
  // The orphan is pruned: its folder, git's record of it, its branch.
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_EQ(TaskWorktreeDirs(), std::vector<std::string>{});
  EXPECT_EQ(GitWorktrees(), std::vector<std::string>{"worktree " + repo_.path()});
  EXPECT_EQ(Branches(), "refs/heads/main\n");
}

TEST_F(WorkerCliTest, ASigtermReleasesTheLeaseAtOnceAndRemovesTheWorktree) {
  StartSpecs({{kS1, Task(1, "s1/a.c") + Task(2, "s1/b.c", "TASK-001")}},
             {{"s1/a.c", "a1\n"}, {"s1/b.c", "b1\n"}});
  const std::string key = std::string(kS1) + "/TASK-001";
  std::unique_ptr<WatchProcess> w = StartWorker({"--exec", SleepingAgent(), "--name", "w"});
  ASSERT_NE(w->WaitForLine(key + " claimed by w (attempt 1)"), "");
  const pid_t agent = AgentPid(w->WaitForLine("agent started "));
  ASSERT_GT(agent, 0) << w->output();
  ASSERT_TRUE(fs::is_directory(WorktreePath(kS1, "TASK-001", 1)));

  w->Signal(SIGTERM);
  EXPECT_EQ(w->Wait(), 0) << w->output();
  EXPECT_EQ(w->LinesWith(key + " released: "),
            std::vector<std::string>{key + " released: the worker was stopped"})
      << w->output();
  EXPECT_EQ(w->LinesWith("worker w: "),
            std::vector<std::string>{"worker w: 1 claimed, 0 submitted, 0 failed, 1 released"});
  // At once: released in the journal, not left to expire; no attempt counted.
  std::vector<nlohmann::json> released = TaskEvents("released", kS1, "TASK-001");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_NE(released[0]["reason"].get<std::string>().find("the worker was stopped"), std::string::npos);
  nlohmann::json task = ShowTask(kS1, "TASK-001");
  EXPECT_EQ(task["status"], "pending");
  EXPECT_FALSE(task.contains("leaseExpiresAt")) << task.dump();
  EXPECT_EQ(task["attempts"], 0);
  EXPECT_EQ(TaskStates(kS1), (std::map<std::string, int>{{"pending", 2}}));
  EXPECT_FALSE(Alive(agent)) << "the agent outlived its worker";
  EXPECT_EQ(TaskWorktreeDirs(), std::vector<std::string>{});
  EXPECT_EQ(GitWorktrees(), std::vector<std::string>{"worktree " + repo_.path()});
  EXPECT_EQ(Branches(), "refs/heads/main\n");
}

TEST_F(WorkerCliTest, WithoutAnAgentCommandItIsAUsageError) {
  StartSpecs({{kS1, Task(1, "s1/a.c")}}, {{"s1/a.c", "a1\n"}});
  Output w = Worker({"--once"});
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_NE(w.err.find("--exec"), std::string::npos) << w.err;
  EXPECT_EQ(w.out, "");
  EXPECT_EQ(TaskStates(kS1), (std::map<std::string, int>{{"pending", 1}}));
}

}  // namespace
}  // namespace specd::testing
