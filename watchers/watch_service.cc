#include "watchers/watch_service.h"

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "watchers/settle.h"

namespace specd {

namespace {

// After a pass over this many files (or a rescan), the heap is trimmed once
// the loop is idle again.
constexpr size_t kTrimAfterFiles = 256;

int64_t MonotonicMs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

WatchService::WatchService(SpecEngine* engine, Journal* journal, WatchOptions options, SdNotifier* notifier)
    : engine_(engine),
      journal_(journal),
      options_(std::move(options)),
      notifier_(notifier),
      tail_(journal),
      settler_(options_.settle_ms) {}

WatchService::~WatchService() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

int64_t WatchService::Now() const {
  return MonotonicMs();
}

void WatchService::LogWatch(const std::string& kind, const std::string& detail) {
  JournalBatch batch;
  batch.watch.push_back(WatchRecord{0, Env::Default()->NowMillis(), kind, detail});
  if (Status s = journal_->Apply(batch); !s.ok()) spdlog::error("{}", s.error().message);
}

void WatchService::ShowJournal() {
  if (!options_.live_view) return;
  if (Status s = tail_.Drain(options_.live_view); !s.ok()) spdlog::error("{}", s.error().message);
}

Status WatchService::Start() {
  const std::string& root = engine_->repo_root();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
    return Error{std::string("sigprocmask: ") + std::strerror(errno)};
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return Error{std::string("signalfd: ") + std::strerror(errno)};

  int64_t poll_ms = options_.poll_ms;
  if (poll_ms <= 0) {
    std::string remote = RemoteFileSystemAt(engine_->ActiveDir());
    if (!remote.empty()) {
      poll_ms = options_.auto_poll_ms;
      spdlog::info(
          "{} is on {}, where inotify does not see writes made by other machines: polling every {} ms "
          "(--poll MS to choose the interval)",
          engine_->ActiveDir(), remote, poll_ms);
    }
  }
  Result<std::unique_ptr<FileWatcher>> w =
      poll_ms > 0 ? NewPollingWatcher(root, poll_ms) : NewInotifyWatcher(root);
  if (!w.ok()) return w.error();
  watcher_ = std::move(*w);
  return Status::Ok();
}

void WatchService::RetryFailed(const PassReport& report) {
  for (const PassReport::Failed& f : report.failed) {
    spdlog::error("{} (trying again in {} ms)", f.message, options_.retry_ms);
    settler_.Retry(f.path, Now() + options_.retry_ms);
  }
}

Status WatchService::Rescan(const std::string& kind, const std::string& why) {
  ++stats_.rescans;
  const int64_t start = Now();
  Result<PassReport> r = engine_->ReconcileAll(nullptr, /*keep_events=*/false);
  ShowJournal();
  if (!r.ok()) {
    spdlog::error("rescan ({}): {}", why, r.error().message);
    return r.error();
  }
  // The full pass covered every pending path (and held none: what it found
  // invalid is journaled, which is right after a loss); what it could not
  // finish is tried again.
  settler_ = Settler(options_.settle_ms);
  RetryFailed(*r);
  stats_.events += r->event_count;
  const size_t changed = r->files - r->unchanged;
  const std::string detail = why + ": rescanned " + std::to_string(r->files) + " files, " +
                             std::to_string(changed) + " changed, " + std::to_string(r->event_count) +
                             " events";
  if (kind == "safety-rescan" && r->event_count == 0) {
    spdlog::debug("{} ({} ms)", detail, Now() - start);
  } else {
    spdlog::info("{} ({} ms)", detail, Now() - start);
    LogWatch(kind, detail);
  }
  return Status::Ok();
}

Status WatchService::Run() {
  const int64_t t0 = Now();
  if (Status s = tail_.Start(); !s.ok()) return s;
  std::string ready;
  {
    Result<PassReport> first = engine_->ReconcileAll(options_.startup_progress, /*keep_events=*/false);
    if (!first.ok()) return first.error();
    stats_.events += first->event_count;
    RetryFailed(*first);
    ShowJournal();
    ready = "watching " + engine_->ActiveDir() + " (" + watcher_->name() + ", " +
            std::to_string(first->files) + " specs, " + std::to_string(first->files - first->unchanged) +
            " changed since last seen)";
  }
  ::malloc_trim(0);  // the first pass's buffers: give them back before settling in
  spdlog::info("{}; ready in {} ms", ready, Now() - t0);
  LogWatch("started", ready);
  notifier_->Ready(ready);

  const int64_t watchdog_ms = notifier_->watchdog_interval_ms();
  int64_t next_poll = watcher_->fd() < 0 ? Now() + watcher_->interval_ms() : INT64_MAX;
  int64_t next_rescan = options_.rescan_ms > 0 ? Now() + options_.rescan_ms : INT64_MAX;
  int64_t next_watchdog = watchdog_ms > 0 ? Now() + watchdog_ms : INT64_MAX;
  bool stopping = false;
  bool trim_when_idle = true;  // the first pass's write-backs come back as events
  std::string stop_signal;
  // A tree that changed shape (deleted and made again, moved in: a branch
  // switch, an unpacked archive) is watched again at once (Read does that,
  // and reports the files already inside), but the full pass that finds what
  // left without an event waits until the paths in hand have settled: run at
  // once, it judged a file that a writer had only just created, and reported
  // it invalid with none of the settle's grace (a full pass holds nothing).
  // A tree that never goes quiet gets its pass after structure_max_ms.
  std::optional<int64_t> structure_since;
  std::string structure_why;
  const int64_t structure_max_ms = std::max<int64_t>(options_.settle_ms * 10, 1000);
  while (!stopping) {
    int64_t now = Now();
    int64_t wake = std::min({next_poll, next_rescan, next_watchdog, settler_.NextDue().value_or(INT64_MAX),
                             structure_since ? *structure_since + structure_max_ms : INT64_MAX});
    int timeout = wake == INT64_MAX ? -1 : static_cast<int>(std::clamp<int64_t>(wake - now, 0, 60'000));
    struct pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {watcher_->fd(), POLLIN, 0}};
    int n = ::poll(fds, watcher_->fd() >= 0 ? 2 : 1, timeout);
    if (n < 0 && errno != EINTR) return Error{std::string("poll: ") + std::strerror(errno)};
    now = Now();

    bool rescan = false;
    std::string rescan_kind, rescan_why;
    if (n > 0 && (fds[0].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGHUP) {
          rescan = true, rescan_kind = "rescan", rescan_why = "SIGHUP";
        } else {
          stopping = true;
          stop_signal = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
        }
      }
    }
    if ((n > 0 && watcher_->fd() >= 0 && (fds[1].revents & POLLIN)) || now >= next_poll) {
      if (watcher_->fd() < 0) next_poll = now + watcher_->interval_ms();
      Result<WatchBatch> batch = watcher_->Read();
      if (!batch.ok()) return batch.error();
      for (const std::string& note : batch->notes) spdlog::info("{}", note);
      for (const FsEvent& e : batch->events) settler_.Note(e, now);
      if (batch->rescan && batch->overflow) {
        rescan = true;
        rescan_kind = "overflow";
        rescan_why = batch->rescan_reason;
        ++stats_.overflows;
        spdlog::warn("{}: events were lost; rescanning everything", batch->rescan_reason);
      } else if (batch->rescan && !structure_since) {
        structure_since = now;
        structure_why = batch->rescan_reason;
      }
    }
    if (now >= next_rescan) {
      next_rescan = now + options_.rescan_ms;
      if (!rescan) rescan = true, rescan_kind = "safety-rescan", rescan_why = "safety rescan";
    }
    if (rescan) {
      // A full pass covers every pending path too (and holds none: what it
      // finds invalid now is journaled, which is right after a loss).
      Rescan(rescan_kind, rescan_why);
      structure_since.reset();  // covered
    }

    std::vector<Settler::Due> due = settler_.Take(now);
    if (!due.empty()) {
      std::vector<std::string> first_look, last_look, held;
      std::vector<int64_t> held_since;
      for (Settler::Due& d : due) {
        if (!d.last_look) {
          first_look.push_back(std::move(d.path));
        } else if (now - d.held_since_ms < options_.max_hold_ms) {
          held.push_back(std::move(d.path));
          held_since.push_back(d.held_since_ms);
        } else {
          last_look.push_back(std::move(d.path));
        }
      }
      if (!held.empty()) {
        std::vector<bool> open = OpenForWriting(held);
        for (size_t i = 0; i < held.size(); ++i) {
          if (open[i]) {  // its writer is not done
            settler_.Hold(held[i], now, held_since[i], std::max(options_.settle_ms, options_.open_check_ms));
          } else {
            last_look.push_back(std::move(held[i]));
          }
        }
      }
      for (auto* group : {&first_look, &last_look}) {
        if (group->empty()) continue;
        const bool hold = group == &first_look;
        Result<PassReport> r = engine_->ReconcilePaths(*group, hold);
        ShowJournal();
        ++stats_.passes;
        stats_.examined += group->size();
        if (!r.ok()) {  // the journal could not commit: try them all again
          spdlog::error("{}", r.error().message);
          for (const std::string& p : *group) settler_.Retry(p, now + options_.retry_ms);
          continue;
        }
        stats_.unchanged += r->unchanged;
        stats_.events += r->event_count;
        for (const std::string& p : r->held) {
          ++stats_.held;
          spdlog::debug("{} does not validate yet; looking again once it is quiet", p);
          settler_.Hold(engine_->repo_root() + "/" + p, now, now);
        }
        RetryFailed(*r);
        spdlog::debug("pass: {} files, {} unchanged, {} events", group->size(), r->unchanged, r->event_count);
      }
    }
    if (structure_since && (settler_.pending() == 0 || now >= *structure_since + structure_max_ms)) {
      Rescan("structure", structure_why);
      structure_since.reset();
    }
    if (n > 0) ShowJournal();  // what a verb or a hook journaled (its write woke us)
    if (due.size() >= kTrimAfterFiles || rescan) trim_when_idle = true;
    if (trim_when_idle && settler_.pending() == 0) {
      // A burst's buffers are freed but stay resident in the heap's holes:
      // give them back once it is over, so the steady state stays small.
      ::malloc_trim(0);
      trim_when_idle = false;
    }
    if (now >= next_watchdog) {
      notifier_->Watchdog();
      next_watchdog = now + watchdog_ms;
    }
  }
  notifier_->Stopping();
  const std::string bye =
      "stopped by " + stop_signal + " after " + std::to_string(stats_.passes) + " passes over " +
      std::to_string(stats_.examined) + " files (" + std::to_string(stats_.unchanged) + " unchanged), " +
      std::to_string(stats_.rescans) + " rescans, " + std::to_string(stats_.overflows) + " overflows";
  spdlog::info("{}", bye);
  LogWatch("stopped", bye);
  return Status::Ok();
}

}  // namespace specd
