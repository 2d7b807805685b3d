// specd worker --exec CMD: a coding agent run on every ready task, each in
// a worktree of its own (issue 14; the loop is pipeline/worker.h). What it
// did is shown as lines (`S/T claimed by W (attempt A)`, the agent's output
// as `[S/T] line`, `S/T submitted`, `S/T failed: why`), as JSON lines with
// --json, or on a terminal as those lines above a live table of the slots.
// Exit 0 when stopped by a signal or, with --once, when nothing is left; 2
// on a usage or I/O error.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "bus/event_message.h"
#include "bus/remote_tasks.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "pipeline/git_workspace.h"
#include "pipeline/task_worktree.h"
#include "pipeline/worker.h"

namespace specd::cli {

namespace {

using pipeline::WorkerEvent;
using Kind = pipeline::WorkerEvent::Kind;

struct WorkerArgs {
  RepoOptions repo;
  pipeline::WorkerOptions options;
  int64_t timeout_s = 3600, quiet_s = 300;
  std::string nats_url, git_remote, repo_id;  // a remote worker (--nats)
};

std::string Label(const WorkerEvent& e) {
  return e.spec + "/" + e.task;
}

// The first line of a reason: what a one-line report shows.
std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// The plain lines: what a log file or a pipe gets.
std::string LineOf(const WorkerEvent& e) {
  switch (e.kind) {
    case Kind::kClaimed:
      return Label(e) + " claimed by " + e.worker + " (attempt " + std::to_string(e.attempt) + ")";
    case Kind::kLine:
      return "[" + Label(e) + "] " + e.text;
    case Kind::kSubmitted:
      return Label(e) + " submitted";
    case Kind::kFailed:
      return Label(e) + " failed: " + FirstLine(e.text);
    case Kind::kReleased:
      return Label(e) + " released: " + FirstLine(e.text);
    case Kind::kLost:
      return Label(e) + " lost its lease: " + FirstLine(e.text);
    case Kind::kPruned:
      return "removed the worktree of a worker that is gone: " + e.text;
    case Kind::kIdle:  // said only when the engine said why (a --spec not handing out tasks)
      return e.text.empty() ? "" : "waiting: " + FirstLine(e.text);
  }
  return "";
}

class LinesView : public pipeline::WorkerView {
 public:
  void On(const WorkerEvent& e) override {
    const std::string line = LineOf(e);
    if (!line.empty()) PrintLine(stdout, line);
    std::fflush(stdout);
  }
};

class JsonView : public pipeline::WorkerView {
 public:
  void On(const WorkerEvent& e) override {
    if (e.kind == Kind::kLine || e.kind == Kind::kIdle) return;
    nlohmann::ordered_json j{{"event", pipeline::WorkerEventName(e.kind)}};
    if (e.kind == Kind::kPruned) {
      j["worktree"] = e.text;
    } else {
      j.update({{"spec", e.spec},
                {"task", e.task},
                {"worker", e.worker},
                {"epoch", e.epoch},
                {"attempt", e.attempt}});
      if (e.kind == Kind::kSubmitted) j["diff"] = e.text;
      if (e.kind == Kind::kFailed || e.kind == Kind::kReleased || e.kind == Kind::kLost) j["reason"] = e.text;
    }
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stdout);
  }
};

// On a terminal: the lines scroll (as LinesView's) above a table with one
// row per slot (its task, how long it has run, its agent's last line),
// redrawn in place.
class TableView : public pipeline::WorkerView {
 public:
  explicit TableView(int slots) : rows_(static_cast<size_t>(slots)) {}
  ~TableView() override { Clear(); }

  void On(const WorkerEvent& e) override {
    Row& row = rows_[static_cast<size_t>(e.slot > 0 ? e.slot - 1 : 0)];
    switch (e.kind) {
      case Kind::kClaimed:
        row = Row{Label(e), Now(), ""};
        break;
      case Kind::kLine:
        row.last = e.text;
        break;
      case Kind::kIdle:
        row = Row{};
        if (e.text.empty()) return Draw();
        break;
      case Kind::kPruned:
        break;
      default:  // the attempt is over
        row = Row{};
        break;
    }
    Clear();
    PrintLine(stdout, LineOf(e));
    Draw();
  }
  void Tick() override { Draw(); }

 private:
  struct Row {
    std::string task;
    int64_t since = 0;
    std::string last;
  };
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void Clear() {
    if (drawn_ == 0) return;
    std::printf("\x1b[%dA\x1b[J", drawn_);  // up over the table, erase to the end
    drawn_ = 0;
  }
  void Draw() {
    Clear();
    for (size_t i = 0; i < rows_.size(); ++i) {
      const Row& r = rows_[i];
      std::string line = "  " + std::to_string(i + 1) + "  ";
      if (r.task.empty()) {
        line += "waiting for a ready task";
      } else {
        line += r.task + "  " + std::to_string(Now() - r.since) + "s  " + r.last;
      }
      std::string shown = Printable(line, false);
      if (shown.size() > 150) shown = shown.substr(0, 147) + "...";
      std::printf("%s\x1b[K\n", shown.c_str());
    }
    drawn_ = static_cast<int>(rows_.size());
    std::fflush(stdout);
  }

  std::vector<Row> rows_;
  int drawn_ = 0;
};

std::string DefaultName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "worker");
  return std::string(host) + "-" + std::to_string(::getpid());
}

// The view, the run and the summary line, whatever the tasks' source.
int RunAndReport(WorkerArgs& args, const pipeline::OpenWorkerSlot& open);

// A worker of a coordinator on another machine (--nats): its tasks over
// NATS (bus/remote_tasks.h), each lease's base fetched from --git-remote,
// the agent run in a worktree of this clone.
int RunRemoteWorker(WorkerArgs& args) {
  pipeline::WorkerOptions& options = args.options;
  std::optional<std::string> root = FindRoot(args.repo);
  if (!root) return kExitUsage;
  Result<RepoSettings> settings = LoadRepoSettings(*root);
  if (!settings.ok()) {
    PrintLine(stderr, "specd worker: the settings are not usable:");
    std::fputs(Printable(settings.error().message, true).c_str(), stderr);
    return kExitUsage;
  }
  if (args.git_remote.empty()) {
    PrintLine(stderr, "specd worker: --nats needs --git-remote (where each task's base is fetched from)");
    return kExitUsage;
  }
  std::optional<BusConfig> bus = BusConfigFor(*settings, *root, args.nats_url);
  if (!args.repo_id.empty()) bus->repo_id = args.repo_id;
  options.heartbeat_ms = settings->heartbeat_seconds * 1000;
  Result<std::unique_ptr<NatsConn>> conn =
      NatsConn::Connect(NatsConfigOf(*bus, "specd worker " + options.name));
  if (!conn.ok()) {
    PrintLine(stderr, "specd worker: " + conn.error().message);
    return kExitUsage;
  }
  Result<std::unique_ptr<CoordinatorEvents>> events =
      CoordinatorEvents::Subscribe(conn->get(), bus->subject_prefix);
  if (!events.ok()) {
    PrintLine(stderr, "specd worker: " + events.error().message);
    return kExitUsage;
  }
  CoordinatorEvents* heard = events->get();
  options.wait_for_change = [heard](int64_t ms) { return heard->Wait(ms); };
  RemoteTasksOptions remote{bus->repo_id, bus->subject_prefix};
  remote.stop = options.stop;  // a stopped worker does not ask again for minutes
  NatsConn* nats = conn->get();
  auto open = [&]() -> Result<pipeline::WorkerSlot> {
    Result<std::unique_ptr<pipeline::GitRepo>> git = pipeline::GitRepo::Open(*root, false);
    if (!git.ok()) return git.error();
    auto parts =
        std::make_shared<std::pair<std::shared_ptr<pipeline::GitRepo>, std::shared_ptr<RemoteTaskBroker>>>(
            std::shared_ptr<pipeline::GitRepo>(std::move(*git)),
            std::make_shared<RemoteTaskBroker>(nats, remote));
    pipeline::WorkerSlot slot;
    slot.git = parts->first.get();
    slot.broker = parts->second.get();
    slot.fetch_base = [repo = parts->first.get(), remote_url = args.git_remote](const LeaseRecord& l) {
      return pipeline::FetchLeaseBase(*repo, remote_url, l.spec_id, l.task_id, l.epoch, l.base);
    };
    slot.keep = parts;
    return slot;
  };
  return RunAndReport(args, open);
}

int RunWorkerCommand(WorkerArgs& args) {
  pipeline::WorkerOptions& options = args.options;
  if (options.name.empty()) options.name = DefaultName();
  options.timeout_ms = args.timeout_s * 1000;
  options.quiet_ms = args.quiet_s * 1000;
  options.stop = StopOnSignals();
  if (!args.nats_url.empty()) return RunRemoteWorker(args);
  // Opened first: in specd this hands the command over to specd-git.
  std::unique_ptr<Context> first = OpenTaskContext(args.repo, "worker");
  if (!first) return kExitUsage;
  Result<RepoSettings> settings = LoadRepoSettings(first->root);
  if (!settings.ok()) return kExitUsage;  // OpenTaskContext said why
  options.heartbeat_ms = settings->heartbeat_seconds * 1000;
  auto open = [&]() -> Result<pipeline::WorkerSlot> {
    std::unique_ptr<Context> ctx = first ? std::move(first) : OpenTaskContext(args.repo, "worker");
    if (!ctx) return Error{"cannot open the repository again for another slot"};
    pipeline::WorkerSlot slot;
    auto* git = dynamic_cast<pipeline::GitWorkspace*>(ctx->workspace.get());
    auto broker = std::make_shared<LocalTaskBroker>(ctx->engine.get(), ctx->journal.get());
    slot.broker = broker.get();
    slot.journal = ctx->journal.get();
    slot.git = git ? &git->repo() : nullptr;
    slot.keep = std::make_shared<std::pair<std::shared_ptr<Context>, std::shared_ptr<LocalTaskBroker>>>(
        std::shared_ptr<Context>(std::move(ctx)), std::move(broker));
    return slot;
  };
  return RunAndReport(args, open);
}

int RunAndReport(WorkerArgs& args, const pipeline::OpenWorkerSlot& open) {
  const pipeline::WorkerOptions& options = args.options;
  std::unique_ptr<pipeline::WorkerView> view;
  if (args.repo.json) {
    view = std::make_unique<JsonView>();
  } else if (::isatty(STDOUT_FILENO)) {
    view = std::make_unique<TableView>(options.workers);
  } else {
    view = std::make_unique<LinesView>();
  }
  Result<pipeline::WorkerStats> stats = pipeline::RunWorker(options, open, view.get());
  view.reset();  // a table is taken down before the last line
  if (!stats.ok()) {
    PrintLine(stderr, "specd worker: " + stats.error().message);
    return kExitUsage;
  }
  std::string summary = "worker " + options.name + ": " + std::to_string(stats->claimed) + " claimed, " +
                        std::to_string(stats->submitted) + " submitted, " + std::to_string(stats->failed) +
                        " failed";
  if (stats->released > 0) summary += ", " + std::to_string(stats->released) + " released";
  if (stats->lost > 0) summary += ", " + std::to_string(stats->lost) + " leases lost";
  PrintLine(args.repo.json ? stderr : stdout, summary);
  return kExitOk;
}

}  // namespace

Run SetupWorker(CLI::App* sub) {
  auto args = std::make_shared<WorkerArgs>();
  AddRepoOptions(sub, &args->repo, true);
  pipeline::WorkerOptions& o = args->options;
  sub->add_option("--exec", o.exec, "The agent: a shell command run in the task's worktree (required)")
      ->required();
  sub->add_option("--workers", o.workers, "Tasks worked on at once, each in its own worktree")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sub->add_option("--name", o.name, "The worker's name in leases (default: HOST-PID; slot k of N: NAME.k)");
  sub->add_option("--spec", o.spec, "Only this spec's tasks");
  sub->add_flag("--once", o.once, "Exit when nothing is ready and no agent of this worker runs");
  sub->add_option("--timeout", args->timeout_s, "Seconds an agent may run")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 7 * 24 * 3600));
  sub->add_option("--quiet", args->quiet_s, "Seconds without output before an agent is checked for a hang")
      ->capture_default_str()
      ->check(WholeNumberIn(1, 7 * 24 * 3600));
  sub->add_option("--nats", args->nats_url,
                  "Take the tasks of a coordinator (specd watch with NATS) at this URL, in place of this "
                  "repository's journal; run in a clone");
  sub->add_option("--git-remote", args->git_remote,
                  "With --nats: the coordinator's repository, where each task's base is fetched from");
  sub->add_option(
      "--repo-id", args->repo_id,
      "With --nats: the coordinator's repoId (default: this clone's settings, else its folder's name)");
  sub->footer(
      "The agent gets SPECD_SPEC, SPECD_TASK, SPECD_SPEC_FILE, SPECD_TASK_FILES, SPECD_ATTEMPT, SPECD_TRACE, "
      "SPECD_SIMILAR_FAILURES, SPECD_BASE and SPECD_WORKTREE; exit 0 submits the worktree's change. Exit "
      "status: 0 stopped by a signal or (--once) nothing left to do, 2 a usage or I/O error.");
  return [args] { return RunWorkerCommand(*args); };
}

}  // namespace specd::cli
