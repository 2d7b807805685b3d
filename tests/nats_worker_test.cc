// Remote workers over NATS (issue 16): one coordinator (`specd watch
// --nats`) and workers each in a clone of their own, fetching each lease's
// base from the coordinator's repository, with a real nats-server. Asserted:
// every task claimed once and submitted, the stream holding every journaled
// event once in journal order, and a late worker fenced off by its epoch.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_message.h"
#include "engine/settings.h"
#include "tests/nats_util.h"
#include "tests/worker_util.h"

namespace specd::testing {
namespace {

class NatsWorkerTest : public WorkerFixture {
 protected:
  std::unique_ptr<WatchProcess> Coordinator() {
    std::unique_ptr<WatchProcess> w = StartSpecd({"watch", "--repo", repo_.path(), "--nats", server_.url()});
    w->WaitForLine("ready in");
    return w;
  }
  // A clone of the coordinator's repository, and a worker in it.
  std::string Clone(const std::string& name) {
    const std::string path = clones_ / name;
    Output o = *RunProcess(clones_.path(), "git", {"clone", "-q", repo_.path(), path}, GitEnv(home_.path()));
    EXPECT_EQ(o.exit_code, 0) << o.err;
    return path;
  }
  // `exec`: a fixtures/agents name, or a shell command when it has a space.
  std::unique_ptr<WatchProcess> RemoteWorker(const std::string& clone, const std::string& name,
                                             const std::string& exec,
                                             const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"worker",
                                     "--repo",
                                     clone,
                                     "--nats",
                                     server_.url(),
                                     "--git-remote",
                                     repo_.path(),
                                     "--repo-id",
                                     RepoIdOf(repo_.path()),
                                     "--exec",
                                     exec.find(' ') == std::string::npos ? Agent(exec) : exec,
                                     "--name",
                                     name};
    args.insert(args.end(), extra.begin(), extra.end());
    return StartSpecd(args);
  }

  NatsServer server_;
  TempDir clones_{"specd-clones"};
};

// nats-server is killed for 5 s in the middle and started again on its
// store: the workers' requests are made again, the coordinator journals
// on and publishes what waited.
TEST_F(NatsWorkerTest, ThreeRemoteWorkersTakeThirtyTasksEachOnceThroughAServerRestart) {
  std::vector<std::pair<std::string, std::string>> specs, files;
  for (int s = 1; s <= 3; ++s) {
    const std::string id = "spec-2026-11-30-00" + std::to_string(s);
    std::string tasks;
    for (int t = 1; t <= 10; ++t) {
      const std::string file = "s" + std::to_string(s) + "/f" + std::to_string(t) + ".c";
      tasks += Task(t, file);
      files.push_back({file, "start\n"});
    }
    specs.push_back({id, tasks});
  }
  StartSpecs(specs, files);
  std::unique_ptr<WatchProcess> coordinator = Coordinator();
  std::vector<std::unique_ptr<WatchProcess>> workers;
  for (int k = 1; k <= 3; ++k) {
    const std::string clone = Clone("clone" + std::to_string(k));
    workers.push_back(
        RemoteWorker(clone, "r" + std::to_string(k), "sleep 0.2; sh " + Agent("correct"), {"--once"}));
  }
  coordinator->WaitForCount(": submitted by worker:r", 6);
  server_.Kill();
  std::this_thread::sleep_for(std::chrono::seconds(5));
  server_.Start();
  int claimed_total = 0;
  for (auto& w : workers) {
    EXPECT_EQ(w->Wait(), 0) << w->output();
    const std::string summary = LastLineWith(w->output(), "worker r");
    const int claimed = std::stoi(summary.substr(summary.find(": ") + 2));
    EXPECT_NE(summary.find(": " + std::to_string(claimed) + " claimed, " + std::to_string(claimed) +
                           " submitted, 0 failed"),
              std::string::npos)
        << summary;
    claimed_total += claimed;
  }
  EXPECT_EQ(claimed_total, 30);
  // The coordinator heard them: specd status lists them.
  Output status = Specd({"status"});
  EXPECT_NE(status.out.find("\nremote workers (3)\n"), std::string::npos) << status.out;
  for (const char* name : {"r1", "r2", "r3"})
    EXPECT_EQ(LinesWith(status.out, std::string("  ") + name + "  last heard ").size(), 1u) << status.out;

  std::map<std::string, int> claimed, sent;
  for (const nlohmann::json& e : Events()) {
    if (e["task"] == "") continue;
    const std::string key = e["spec"].get<std::string>() + "/" + e["task"].get<std::string>();
    if (e["kind"] == "claimed") ++claimed[key];
    if (e["kind"] == "submitted") ++sent[key];
  }
  EXPECT_EQ(claimed.size(), 30u);
  EXPECT_EQ(sent.size(), 30u);
  for (const auto& [key, n] : claimed) EXPECT_EQ(n, 1) << key << " claimed " << n << " times";
  for (const auto& [id, tasks] : specs)
    EXPECT_EQ(TaskStates(id), (std::map<std::string, int>{{"diff-submitted", 10}}));

  // An independent subscriber: every journaled event once, in journal order.
  coordinator->Signal(SIGTERM);
  EXPECT_EQ(coordinator->Wait(), 0) << coordinator->output();
  std::vector<std::string> journaled;
  for (const nlohmann::json& e : Events()) {
    EventRecord r;
    r.spec_id = e["spec"];
    r.seq = e["seq"];
    journaled.push_back(EventMsgId(r, RepoIdOf(repo_.path())));
  }
  std::vector<std::string> held;
  for (const StreamMessage& m : ReadStream(server_.url(), "SPECD_EVENTS", "specs.>"))
    held.push_back(m.msg_id);
  EXPECT_EQ(held, journaled);
}

// A worker stopped (SIGSTOP) while it holds a lease: the lease expires on
// the coordinator, another remote worker takes the task under a higher
// epoch and submits it; the first, continued, is refused by its epoch and
// changes nothing.
TEST_F(NatsWorkerTest, AStoppedRemoteWorkerIsFencedOffByItsEpoch) {
  StartSpecs({{kId, Task(1, "src/a.c")}}, {{"src/a.c", "one\n"}},
             "lease:\n  ttlSeconds: 3\n  heartbeatSeconds: 1\n");
  std::unique_ptr<WatchProcess> coordinator = Coordinator();
  std::unique_ptr<WatchProcess> a =
      RemoteWorker(Clone("a"), "A", "sleep 2; sh " + Agent("correct"), {"--json"});
  a->WaitForLine("\"event\":\"claimed\"");
  a->Signal(SIGSTOP);
  std::unique_ptr<WatchProcess> b = RemoteWorker(Clone("b"), "B", "correct", {"--json"});
  const std::string b_sent = b->WaitForLine("\"event\":\"submitted\"");
  EXPECT_NE(b_sent.find("\"worker\":\"B\""), std::string::npos) << b_sent;
  const std::string diff = ReadAll(repo_ / (std::string(".agents/diffs/") + kId + "/TASK-001.diff"));
  a->Signal(SIGCONT);
  const std::string a_lost = a->WaitForLine("\"event\":\"lost\"");
  EXPECT_NE(a_lost.find("stale lease: lease epoch 1 "), std::string::npos) << a_lost;
  EXPECT_EQ(ReadAll(repo_ / (std::string(".agents/diffs/") + kId + "/TASK-001.diff")), diff);
  for (auto* w : {a.get(), b.get(), coordinator.get()}) {
    w->Signal(SIGTERM);
    EXPECT_EQ(w->Wait(), 0) << w->output();
  }
  std::vector<std::string> kinds;
  for (const nlohmann::json& e : Events()) {
    if (e["task"] == "TASK-001")
      kinds.push_back(e["kind"].get<std::string>() + " " + e["actor"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"claimed worker:A", "expired specd", "claimed worker:B",
                                             "submitted worker:B"}));
  EXPECT_EQ(TaskStates(kId), (std::map<std::string, int>{{"diff-submitted", 1}}));
}

}  // namespace
}  // namespace specd::testing
