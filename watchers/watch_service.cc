#include "watchers/watch_service.h"

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace specd {

namespace {

// After a pass over this many files (or a rescan), the heap is trimmed once
// the loop is idle again.
constexpr size_t kTrimAfterFiles = 256;

std::optional<struct stat> StatOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

}  // namespace

WatchService::WatchService(SpecEngine* engine, Journal* journal, WatchOptions options, SdNotifier* notifier)
    : engine_(engine),
      journal_(journal),
      options_(std::move(options)),
      notifier_(notifier),
      clock_(options_.clock ? options_.clock : MonotonicClock()),
      tail_(journal),
      settler_(options_.settle_ms),
      gate_(options_.git_dir) {
  if (!options_.git_engine) options_.git_engine = engine_;
}

WatchService::~WatchService() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

Status WatchService::Start() {
  if (options_.handle_signals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
      return Error{std::string("sigprocmask: ") + std::strerror(errno)};
    signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return Error{std::string("signalfd: ") + std::strerror(errno)};
  }
  // What the loop checks on every turn: the same repository folder and the
  // same journal file as now.
  std::optional<struct stat> root = StatOf(engine_->repo_root()), journal = StatOf(journal_->path());
  if (!root || !journal) return Error{"cannot stat " + (root ? journal_->path() : engine_->repo_root())};
  root_id_ = Identity{root->st_dev, root->st_ino};
  journal_id_ = Identity{journal->st_dev, journal->st_ino};
  if (!options_.new_watcher) return Error{"specd watch: no file watcher backend"};
  Result<std::unique_ptr<FileWatcher>> w = options_.new_watcher();
  if (!w.ok()) return w.error();
  watcher_ = std::move(*w);
  gate_.Refresh();
  return Status::Ok();
}

Status WatchService::Run() {
  if (Status s = StartUp(); !s.ok()) return s;
  for (;;) {
    Result<bool> go = Step(/*block=*/true);
    if (!go.ok()) {
      notifier_->Stopping();
      if (!journal_gone_) LogWatch("stopped", go.error().message);
      return go.error();
    }
    if (!*go) break;
  }
  Finish();
  return Status::Ok();
}

Status WatchService::StartUp() {
  const int64_t t0 = Now();
  if (Status s = tail_.Start(); !s.ok()) return s;
  std::string ready;
  if (gate_.busy()) {
    // The files may be half git's: the first pass waits for it to end, and
    // takes what it finds then as git's.
    git_what_ = gate_.Describe();
    gate_.HoldEverything();
    next_git_check_ = Now() + options_.git_check_ms;
    ready = "watching " + engine_->ActiveDir() + " (" + watcher_->name() + "; " + git_what_ +
            " under way: the first pass waits for it to end)";
  } else {
    Result<PassReport> first = engine_->ReconcileAll(options_.startup_progress, /*keep_events=*/false);
    if (!first.ok()) return first.error();
    stats_.events += first->event_count;
    RetryFailed(*first, false);
    ShowJournal();
    ready = "watching " + engine_->ActiveDir() + " (" + watcher_->name() + ", " +
            std::to_string(first->files) + " specs, " + std::to_string(first->files - first->unchanged) +
            " changed since last seen)";
  }
  ::malloc_trim(0);  // the first pass's buffers: give them back before settling in
  spdlog::info("{}; ready in {} ms", ready, Now() - t0);
  LogWatch("started", ready);
  notifier_->Ready(ready);

  const int64_t now = Now(), watchdog_ms = notifier_->watchdog_interval_ms();
  if (watcher_->fd() < 0) next_poll_ = now + watcher_->interval_ms();
  if (options_.rescan_ms > 0) next_rescan_ = now + options_.rescan_ms;
  if (options_.sweep_ms > 0) next_sweep_ = now + options_.sweep_ms;
  if (watchdog_ms > 0) next_watchdog_ = now + watchdog_ms;
  return Status::Ok();
}

int64_t WatchService::NextWake() const {
  const int64_t structure_max_ms = std::max<int64_t>(options_.settle_ms * 10, 1000);
  return std::min({next_poll_, next_rescan_, next_watchdog_, next_sweep_,
                   gate_.busy() ? next_git_check_ : INT64_MAX, settler_.NextDue().value_or(INT64_MAX),
                   structure_since_ ? *structure_since_ + structure_max_ms : INT64_MAX});
}

Result<bool> WatchService::Step(bool block) {
  int64_t now = Now();
  const int64_t wake = NextWake();
  int timeout = 0;
  if (block) timeout = wake == INT64_MAX ? -1 : static_cast<int>(std::clamp<int64_t>(wake - now, 0, 60'000));
  struct pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {watcher_->fd(), POLLIN, 0}};  // a -1 is passed over
  int n = ::poll(fds, 2, timeout);
  if (n < 0 && errno != EINTR) return Error{std::string("poll: ") + std::strerror(errno)};
  now = Now();
  rescan_kind_.clear();
  if (n > 0 && (fds[0].revents & POLLIN)) ReadSignals();
  if (stopping_) return false;
  if ((n > 0 && (fds[1].revents & POLLIN)) || now >= next_poll_) {
    if (watcher_->fd() < 0) next_poll_ = now + watcher_->interval_ms();
    if (Status s = ReadEvents(now); !s.ok()) return s.error();
  }
  // Before anything is journaled: still the same repository and journal?
  if (Status s = CheckIdentity(); !s.ok()) return s.error();
  // Asked to stop: nothing new is begun (a burst's pass could outlast the
  // service manager's patience). Looking again after reading the events
  // means no file written after the signal is judged; what is left is judged
  // at the next start, which compares every file with what the journal saw.
  ReadSignals();
  if (stopping_) return false;
  if (gate_.busy() && now >= next_git_check_) {
    // An event missed (a polling backend, an overflow) cannot keep it busy
    // forever. What the backend has queued goes first: it happened before.
    if (Status s = ReadEvents(now); !s.ok()) return s.error();
    gate_.Refresh();
    if (gate_.busy()) git_what_ = gate_.Describe();
    next_git_check_ = now + options_.git_check_ms;
  }
  if (!gate_.busy() && gate_.holding()) EndOfGitOperation(now);
  if (now >= next_rescan_) {
    next_rescan_ = now + options_.rescan_ms;
    // A git operation's index lock is no time for it: it comes again later.
    if (rescan_kind_.empty() && !gate_.busy()) AskRescan("safety-rescan", "safety rescan");
  }
  RescanIfAsked(now);
  if (now >= next_sweep_) {  // a lease with no heartbeat for its TTL: the task goes back
    next_sweep_ = now + options_.sweep_ms;
    if (!gate_.busy()) {
      Result<size_t> swept = engine_->SweepLeases();
      if (!swept.ok()) spdlog::error("lease sweep: {}", swept.error().message);
      if (swept.ok() && *swept > 0) ShowJournal();
    }
  }
  const size_t due = PassDue(now);
  StructureRescanIfSettled(now);
  if (n > 0) ShowJournal();  // what a verb or a hook journaled (its write woke us)
  Housekeeping(now, due);
  return !stopping_;
}

void WatchService::ReadSignals() {
  struct signalfd_siginfo si;
  while (::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGHUP) {
      AskRescan("rescan", "SIGHUP");
    } else {
      stopping_ = true;
      stop_signal_ = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
    }
  }
}

Status WatchService::ReadEvents(int64_t now) {
  Result<WatchBatch> batch = watcher_->Read();
  if (!batch.ok()) return batch.error();
  for (const std::string& note : batch->notes) spdlog::info("{}", note);
  for (const FsEvent& e : batch->events) NoteEvent(e, now);
  if (batch->rescan && batch->overflow) {
    ++stats_.overflows;
    spdlog::warn("{}: events were lost; rescanning everything", batch->rescan_reason);
    gate_.Refresh();  // its markers' events may be among the lost
    AskRescan("overflow", batch->rescan_reason);
  } else if (batch->rescan && !structure_since_) {
    structure_since_ = now;
    structure_why_ = batch->rescan_reason;
  }
  return Status::Ok();
}

// In the order the backend saw them: a spec file written while a git
// operation was under way is git's.
void WatchService::NoteEvent(const FsEvent& e, int64_t now) {
  if (gate_.IsMarker(e.path)) {
    const bool was_busy = gate_.busy();
    gate_.Note(e);
    if (!gate_.busy()) return;
    git_what_ = gate_.Describe();
    if (!was_busy) {
      next_git_check_ = now + options_.git_check_ms;
      spdlog::debug("{} under way: changed specs wait for it to end", git_what_);
    }
    return;
  }
  if (gate_.busy()) {
    gate_.Hold(e.path);
    return;
  }
  from_git_.erase(e.path);  // an edit of its own now
  settler_.Note(e, now);
}

Status WatchService::CheckIdentity() {
  std::optional<struct stat> root = StatOf(engine_->repo_root());
  if (!root || root->st_dev != root_id_.dev || root->st_ino != root_id_.ino) {
    return Error{"the repository " + engine_->repo_root() +
                 " was moved or renamed (it is no longer at that path); stopping: start specd watch again "
                 "where it is now"};
  }
  std::optional<struct stat> journal = StatOf(journal_->path());
  if (!journal || journal->st_dev != journal_id_.dev || journal->st_ino != journal_id_.ino) {
    journal_gone_ = true;
    return Error{"the journal " + journal_->path() +
                 " was deleted or replaced while specd watch ran; stopping, so that no history is written "
                 "to a deleted file (start specd watch again: it rebuilds the journal from the spec files)"};
  }
  return Status::Ok();
}

void WatchService::Housekeeping(int64_t now, size_t passed) {
  if (passed >= kTrimAfterFiles || !rescan_kind_.empty()) trim_when_idle_ = true;
  if (trim_when_idle_ && settler_.pending() == 0) {
    // A burst's buffers are freed but stay resident in the heap's holes:
    // give them back once it is over, so the steady state stays small.
    ::malloc_trim(0);
    trim_when_idle_ = false;
  }
  if (now >= next_watchdog_) {
    notifier_->Watchdog();
    next_watchdog_ = now + notifier_->watchdog_interval_ms();
  }
}

void WatchService::Finish() {
  notifier_->Stopping();
  const std::string bye =
      "stopped by " + stop_signal_ + " after " + std::to_string(stats_.passes) + " passes over " +
      std::to_string(stats_.examined) + " files (" + std::to_string(stats_.unchanged) + " unchanged), " +
      std::to_string(stats_.rescans) + " rescans, " + std::to_string(stats_.overflows) + " overflows";
  spdlog::info("{}", bye);
  LogWatch("stopped", bye);
}

}  // namespace specd
