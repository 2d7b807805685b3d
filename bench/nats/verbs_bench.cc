// specd_nats_bench: the remote worker's side of bench/nats's second part
// (bench/nats/nats_bench.py --verbs N): a claim, a heartbeat and a submit
// over NATS, through RemoteTaskBroker (what `specd worker --nats` uses),
// against a coordinator (`specd watch --repo R --nats URL`).
//
//   specd_nats_bench --url URL --repo-id ID --worker NAME --patches DIR --count N
//                    [--subject-prefix P] [--connect-ms MS]
//
// Connects once (waits up to --connect-ms, default 10000, for the
// connection), then N times: Next(worker, "") -> Heartbeat(lease) ->
// Submit(lease, DIR/<task id>), the three timed together on a monotonic
// clock. Every reply is checked: an error, a refusal or "nothing ready" ends
// the run with exit status 2 and the reason on stderr.
//
// Prints one JSON object on stdout: {"count": N, "ms": [per triple],
// "next_ms": [...], "heartbeat_ms": [...], "submit_ms": [...], "tasks": [ids]}.
// Exit status: 0 every triple done, 2 usage, setup or a reply not as expected.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bus/nats_conn.h"
#include "bus/remote_tasks.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "specd_nats_bench: %s\n", message.c_str());
  std::exit(2);
}

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// An error or a refusal: the verb's name, the task and why, then exit 2.
void Check(const char* verb, int i, const specd::Result<specd::TaskReply>& r) {
  const std::string where = std::string(verb) + " (triple " + std::to_string(i + 1) + ")";
  if (!r.ok()) Die(where + ": " + r.error().message);
  if (!r->refused.empty())
    Die(where + " of " + r->lease.spec_id + " " + r->lease.task_id + ": refused: " + r->refused);
  if (r->nothing_ready) Die(where + ": nothing is ready");
}

std::string JsonArray(const std::vector<double>& xs) {
  std::string s = "[";
  char buf[32];
  for (size_t i = 0; i < xs.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.3f", i ? ", " : "", xs[i]);
    s += buf;
  }
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, repo_id, worker, patches, prefix;
  long count = 0, connect_ms = 10'000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Die("usage: " + arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--url")
      url = value;
    else if (arg == "--repo-id")
      repo_id = value;
    else if (arg == "--worker")
      worker = value;
    else if (arg == "--patches")
      patches = value;
    else if (arg == "--subject-prefix")
      prefix = value;
    else if (arg == "--count")
      count = std::strtol(value.c_str(), nullptr, 10);
    else if (arg == "--connect-ms")
      connect_ms = std::strtol(value.c_str(), nullptr, 10);
    else
      Die("usage: unknown option " + arg);
  }
  if (url.empty() || repo_id.empty() || worker.empty() || patches.empty() || count < 1)
    Die("usage: specd_nats_bench --url URL --repo-id ID --worker NAME --patches DIR --count N");

  specd::NatsConfig config;
  config.url = url;
  config.name = "specd_nats_bench " + worker;
  specd::Result<std::unique_ptr<specd::NatsConn>> conn = [&] {
    specd::SignalsBlocked quiet;  // nats.c's threads leave SIGINT/SIGTERM to this one
    return specd::NatsConn::Connect(config);
  }();
  if (!conn.ok()) Die("cannot connect to " + url + ": " + conn.error().message);
  const auto connect_until = Clock::now() + std::chrono::milliseconds(connect_ms);
  while (!(*conn)->connected()) {
    if (Clock::now() >= connect_until)
      Die("not connected to " + url + " after " + std::to_string(connect_ms) + " ms");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  specd::RemoteTaskBroker broker(conn->get(), specd::RemoteTasksOptions{repo_id, prefix});

  std::vector<double> total, next_ms, beat_ms, submit_ms;
  std::vector<std::string> tasks;
  for (int i = 0; i < count; ++i) {
    // Only the three calls are timed: the patch is read between Next and
    // Heartbeat, but from the page cache (each file was read once before).
    const auto t0 = Clock::now();
    specd::Result<specd::TaskReply> claimed = broker.Next(worker, "");
    const double t_next = MsSince(t0);
    Check("next", i, claimed);
    specd::LeaseRecord lease = claimed->lease;
    if (lease.token.empty() || lease.task_id.empty())
      Die("next (triple " + std::to_string(i + 1) + "): no lease in the reply");
    if (lease.worker.empty()) lease.worker = worker;
    const auto t_read = Clock::now();
    const std::string patch = ReadFile(patches + "/" + lease.task_id);
    const double read_ms = MsSince(t_read);

    const auto t1 = Clock::now();
    specd::Result<specd::TaskReply> beat = broker.Heartbeat(lease);
    const double t_beat = MsSince(t1);
    Check("heartbeat", i, beat);

    const auto t2 = Clock::now();
    specd::Result<specd::TaskReply> submitted = broker.Submit(lease, patch);
    const double t_submit = MsSince(t2);
    Check("submit", i, submitted);
    if (submitted->diff_path.empty())
      Die("submit (triple " + std::to_string(i + 1) + ") of " + lease.task_id +
          ": no diff path in the reply");

    total.push_back(MsSince(t0) - read_ms);
    next_ms.push_back(t_next);
    beat_ms.push_back(t_beat);
    submit_ms.push_back(t_submit);
    tasks.push_back(lease.task_id);
  }

  std::string ids = "[";
  for (size_t i = 0; i < tasks.size(); ++i) ids += (i ? ", \"" : "\"") + tasks[i] + "\"";
  ids += "]";
  std::printf(
      "{\"count\": %ld, \"ms\": %s, \"next_ms\": %s, \"heartbeat_ms\": %s, \"submit_ms\": %s, \"tasks\": "
      "%s}\n",
      count, JsonArray(total).c_str(), JsonArray(next_ms).c_str(), JsonArray(beat_ms).c_str(),
      JsonArray(submit_ms).c_str(), ids.c_str());
  return 0;
}
