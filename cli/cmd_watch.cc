// specd watch: the background service, in the foreground. Events (a spec
// registered, moved on, refused) go to stdout as they happen, one line
// each; what the watcher itself does goes to the log (stderr, or a rotating
// file with --log-file).
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "bus/event_message.h"
#include "bus/publisher.h"
#include "bus/task_service.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/git_manager.h"
#include "cli/printable.h"
#include "cli/verb_server.h"
#include "watchers/git_gate.h"
#include "watchers/lock.h"
#include "watchers/watch_service.h"

namespace specd::cli {

namespace {

// The polling interval where a remote file system makes polling necessary.
constexpr int64_t kAutoPollMs = 1000;

struct WatchArgs {
  RepoOptions repo;
  int64_t poll_ms = 0;
  int64_t settle_ms = WatchOptions{}.settle_ms;
  int64_t rescan_s = WatchOptions{}.rescan_ms / 1000;
  std::string log_file;
  std::string log_level = "info";
  std::string nats_url;  // --nats: in place of the settings' nats.url
};

// Each event as a line on stdout, flushed: people watch it scroll by, and
// scripts (and the tests) read it as it comes. Every event comes from the
// journal's event log (JournalTail), whichever process made it.
class PrintingSink : public EventSink {
 public:
  explicit PrintingSink(bool to_log) : to_log_(to_log) {}
  void OnEvent(const EngineEvent& e) override { Print(e); }

 private:
  void Print(const EngineEvent& e) {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    ::localtime_r(&ts.tv_sec, &tm);
    const std::string text = Printable(DescribeEvent(e));
    std::printf("%02d:%02d:%02d.%03ld  %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1'000'000,
                text.c_str());
    std::fflush(stdout);
    if (to_log_) spdlog::info("{}", text);
  }

  bool to_log_;
};

bool SetUpLogging(const WatchArgs& args) {
  spdlog::level::level_enum level = spdlog::level::from_str(args.log_level);
  if (level == spdlog::level::off && args.log_level != "off") {
    std::fprintf(stderr, "specd watch: --log-level: %s is not one of trace, debug, info, warn, error, off\n",
                 args.log_level.c_str());
    return false;
  }
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (!args.log_file.empty()) {
      logger = spdlog::rotating_logger_mt("specd", args.log_file, 10 * 1024 * 1024, 3);
      logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
    } else {
      logger = spdlog::stderr_color_mt("specd");
      logger->set_pattern("%H:%M:%S.%e %^%l%$ specd watch: %v");
    }
  } catch (const spdlog::spdlog_ex& e) {
    std::fprintf(stderr, "specd watch: --log-file %s: %s\n", args.log_file.c_str(), e.what());
    return false;
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);  // a line is in the file when it happened
  spdlog::set_default_logger(logger);
  return true;
}

// "reading specs: 41000/100000" on a terminal, for a first pass over many.
ProgressFn ProgressBar() {
  if (!::isatty(STDERR_FILENO)) return nullptr;
  return [](size_t done, size_t total) {
    if (total < 1000) return;
    std::fprintf(stderr, "\rspecd watch: reading specs %zu/%zu (%zu%%)", done, total, done * 100 / total);
    if (done == total) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  };
}

// With `nats` in the settings (or --nats URL): the event log's publisher,
// on a thread of its own (bus/publisher.h). A server that is not there is
// no reason not to watch: the events wait in the journal.
Status StartPublisher(const BusConfig& bus, const std::string& journal_path,
                      std::unique_ptr<EventPublisher>* out) {
  PublisherOptions options;
  options.journal_path = journal_path;
  options.repo_id = bus.repo_id;
  options.subject_prefix = bus.subject_prefix;
  options.nats = NatsConfigOf(bus, "specd watch " + bus.repo_id);
  options.say = [](const std::string& line) { spdlog::warn("{}", Printable(line)); };
  Result<std::unique_ptr<EventPublisher>> p = EventPublisher::Open(std::move(options));
  if (!p.ok()) return p.error();
  spdlog::info("publishing events of {} to NATS at {} (stream {})", bus.repo_id, bus.url,
               EventStreamName(bus.subject_prefix));
  *out = std::move(*p);
  (*out)->Start();
  return Status::Ok();
}

// With NATS: the task verbs served to remote workers, each answered by an
// engine of its own (its own journal connection and git workspace).
struct Coordinator {
  std::unique_ptr<Context> ctx;
  std::unique_ptr<LocalTaskBroker> broker;
  std::unique_ptr<NatsConn> conn;
  std::unique_ptr<TaskService> service;
  ~Coordinator() {
    service.reset();  // no more requests taken
    conn.reset();     // nats.c's threads gone before what they called
  }
};

Status StartCoordinator(const WatchArgs& args, const BusConfig& bus, std::unique_ptr<Coordinator>* out) {
  auto c = std::make_unique<Coordinator>();
  c->ctx = OpenTaskContext(args.repo, "watch");
  if (!c->ctx) return Error{"cannot open the repository for remote workers"};
  c->broker = std::make_unique<LocalTaskBroker>(c->ctx->engine.get(), c->ctx->journal.get());
  Result<std::unique_ptr<NatsConn>> conn =
      NatsConn::Connect(NatsConfigOf(bus, "specd coordinator " + bus.repo_id));
  if (!conn.ok()) return conn.error();
  c->conn = std::move(*conn);
  TaskServiceOptions options;
  options.repo_id = bus.repo_id;
  options.subject_prefix = bus.subject_prefix;
  Journal* journal = c->ctx->journal.get();
  options.on_request = [journal](const std::string& worker, const std::string& verb) {
    if (Status s = journal->SawRemoteWorker(worker, verb, Env::Default()->NowMillis()); !s.ok())
      spdlog::warn("{}", s.error().message);
  };
  Result<std::unique_ptr<TaskService>> service = TaskService::Start(c->conn.get(), c->broker.get(), options);
  if (!service.ok()) return service.error();
  c->service = std::move(*service);
  spdlog::info("serving tasks to remote workers on {}",
               TaskVerbSubject(bus.subject_prefix, bus.repo_id, "*"));
  *out = std::move(c);
  return Status::Ok();
}

int RunWatch(const WatchArgs& args) {
  if (!SetUpLogging(args)) return kExitUsage;
  std::unique_ptr<Context> ctx = OpenTaskContext(args.repo, "watch");  // its sweep uses the lease settings
  if (!ctx) return kExitUsage;
  Result<std::unique_ptr<WatchLock>> lock = WatchLock::Acquire(WatchLockPathFor(ctx->journal->path()));
  if (!lock.ok()) {
    std::fprintf(stderr, "specd watch: %s\n", lock.error().message.c_str());
    return kExitUsage;
  }
  // The task verbs asked through the socket (verb_server.h), on an engine
  // of their own. Started before any other thread: it sets the umask.
  // Without it (a journal folder it cannot bind in, say) the verbs run in
  // specd-git as they would with no watcher: said once, the watch goes on.
  std::unique_ptr<Context> verbs_ctx = OpenTaskContext(args.repo, "watch");
  if (!verbs_ctx) return kExitUsage;
  // The settings as the verbs' context read them: when the file changes, the
  // context is opened again, so a verb here uses the settings specd-git would.
  // A verb that throws leaves its engine mid-group (the journal's write lock
  // held): that context goes too, its connection rolling back.
  auto settings_stamp = [path = ctx->root + "/.agents/specd.yaml"] {
    Result<FileStamp> stamp = Env::Default()->Stat(path);
    return stamp.ok() ? *stamp : FileStamp{};  // none: an empty stamp
  };
  FileStamp verbs_settings = settings_stamp();
  auto answer_verb = [&args, &verbs_ctx, &verbs_settings, settings_stamp](const VerbRequest& r) {
    VerbAnswer answer;
    try {
      if (FileStamp now = settings_stamp(); !(now == verbs_settings)) {
        verbs_ctx.reset();
        verbs_settings = now;
      }
      if (!verbs_ctx) verbs_ctx = OpenTaskContext(args.repo, "watch");
      if (verbs_ctx) return AnswerTaskVerb(verbs_ctx.get(), r);
      answer.err = "specd " + r.verb +
                   ": the watcher cannot open the repository now (see its log); stop it, " +
                   "and the verb runs without it\n";
    } catch (const std::exception& e) {
      verbs_ctx.reset();
      answer.err = "specd " + r.verb + ": internal error in the watcher: " + e.what() + "\n";
    }
    return answer;
  };
  Result<std::unique_ptr<VerbServer>> verbs = VerbServer::Start(ctx->root, answer_verb);
  if (!verbs.ok()) {
    PrintLine(stderr, "specd watch: the task verbs will not be answered here: " + verbs.error().message);
    verbs = std::unique_ptr<VerbServer>();
  }
  PrintingSink printer(!args.log_file.empty());
  // What a git operation changed is journaled as git's, as the post-* hooks do.
  EngineOptions git_options;
  git_options.changes_from_git = true;
  SpecEngine git_engine(Env::Default(), ctx->journal.get(), ctx->root, git_options);
  WatchOptions options;
  options.settle_ms = args.settle_ms;
  options.rescan_ms = args.rescan_s * 1000;
  options.startup_progress = ProgressBar();
  // Gates and merges, as child processes off the loop's thread (a git repository only).
  GitManager manager(ctx->root, ctx->journal->path(), &printer);
  options.live_view = ctx->workspace ? static_cast<EventSink*>(&manager) : &printer;
  options.git_dir = GitDirFor(ctx->root);
  options.git_engine = &git_engine;
  options.new_watcher = [root = ctx->root, git_dir = options.git_dir, poll_ms = args.poll_ms] {
    return NewFileWatcher(root, git_dir, poll_ms, kAutoPollMs);
  };
  // With `nats` in the settings (or --nats URL): the publisher and the
  // coordinator, each with a connection of its own.
  std::unique_ptr<EventPublisher> publisher;
  std::unique_ptr<Coordinator> coordinator;
  Result<RepoSettings> settings = LoadRepoSettings(ctx->root);
  if (!settings.ok()) {
    PrintLine(stderr, "specd watch: " + settings.error().message);
    return kExitUsage;
  }
  if (std::optional<BusConfig> bus = BusConfigFor(*settings, ctx->root, args.nats_url)) {
    Status started = StartPublisher(*bus, ctx->journal->path(), &publisher);
    if (started.ok()) started = StartCoordinator(args, *bus, &coordinator);
    if (!started.ok()) {
      PrintLine(stderr, "specd watch: " + started.error().message);
      return kExitUsage;
    }
  }
  SdNotifier notifier = SdNotifier::FromEnvironment();
  WatchService service(ctx->engine.get(), ctx->journal.get(), options, &notifier);
  Status s = service.Start();
  if (s.ok() && ctx->workspace) manager.Start();
  if (s.ok()) s = service.Run();
  verbs->reset();  // before verbs_ctx, which it answers with
  manager.Stop();
  coordinator.reset();
  if (publisher) publisher->Stop();
  if (!s.ok()) {
    spdlog::error("{}", Printable(s.error().message));
    if (!args.log_file.empty()) PrintLine(stderr, "specd watch: " + s.error().message);
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

Run SetupWatch(CLI::App* sub) {
  auto args = std::make_shared<WatchArgs>();
  AddRepoOptions(sub, &args->repo, false);
  sub->add_option(
         "--poll", args->poll_ms,
         "Poll every MS milliseconds instead of using inotify (for NFS, CIFS, FUSE; chosen by itself "
         "on such file systems)")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  sub->add_option(
         "--settle", args->settle_ms,
         "How long a path must be quiet after an event that does not end a write (create, modify, "
         "delete) before it is looked at; saves (close after write, rename into place) are looked at "
         "at once")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{60'000}));
  sub->add_option("--rescan-interval", args->rescan_s,
                  "Seconds between safety rescans, which catch what the kernel never reported (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{86'400}));
  sub->add_option("--log-file", args->log_file,
                  "Log to this file (rotated at 10 MiB, 3 kept) instead of stderr");
  sub->add_option("--log-level", args->log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  sub->add_option("--nats", args->nats_url,
                  "Publish every event to NATS JetStream at this URL (nats://host:4222), in place of the "
                  "settings' nats.url");
  sub->footer(
      "Runs until SIGINT or SIGTERM (finishing the change in hand); SIGHUP rescans everything. One watcher "
      "per "
      "repository. Exit status: 0 stopped by a signal, 2 could not start or had to stop.");
  return [args] { return RunWatch(*args); };
}

}  // namespace specd::cli
