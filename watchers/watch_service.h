// specd watch: the loop that turns file-system events into engine passes.
//
//   start:   lock, watch (inotify, or polling where inotify cannot see),
//            one full pass (the journal's stamps skip unchanged files),
//            READY to systemd
//   loop:    wait for events, a signal, the next due path, the poll or
//            safety-rescan timer or the watchdog; note events in the
//            Settler; hand the due paths to SpecEngine::ReconcilePaths
//   rescan:  after a kernel queue overflow, a moved or deleted tree (once
//            the paths in hand have settled), SIGHUP
//            or every few minutes: SpecEngine::ReconcileAll, journaled
//   stop:    SIGINT/SIGTERM end the loop after the pass in hand
//
// Every change goes through the engine's reconcile, the same code path as
// `specd reconcile`; the watcher only decides when.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "engine/journal.h"
#include "watchers/file_watcher.h"
#include "watchers/journal_tail.h"
#include "watchers/sd_notify.h"
#include "watchers/settle.h"

namespace specd {

struct WatchOptions {
  int64_t settle_ms = 20;
  int64_t poll_ms = 0;             // > 0: poll at this interval instead of inotify
  int64_t auto_poll_ms = 1000;     // the interval when a remote file system makes polling necessary
  int64_t rescan_ms = 5 * 60'000;  // the safety rescan; 0: never
  int64_t retry_ms = 1000;         // a path the engine could not finish is tried again after this
  int64_t max_hold_ms = 60'000;    // an invalid file still open for writing is an error after this
  int64_t open_check_ms = 250;     // how often a held file still open for writing is looked at
  ProgressFn startup_progress;     // during the first pass
  // Told of every transition and refusal journaled while the service runs,
  // by any process (JournalTail), once it is committed.
  EventSink* live_view = nullptr;
};

struct WatchStats {
  size_t passes = 0;     // calls into the engine for due paths
  size_t examined = 0;   // paths handed to the engine
  size_t unchanged = 0;  // of those, skipped on their stamp (specd's own writes, touches)
  size_t held = 0;       // invalid on a first look, looked at again
  size_t rescans = 0;
  size_t overflows = 0;
  size_t events = 0;  // engine events (transitions, refusals, ...)
};

class WatchService {
 public:
  WatchService(SpecEngine* engine, Journal* journal, WatchOptions options, SdNotifier* notifier);
  ~WatchService();

  // Chooses and starts the backend; no events are missed from here on.
  Status Start();
  // The first full pass, then events until SIGINT or SIGTERM (blocked and
  // read through a signalfd, so a signal never interrupts a pass).
  Status Run();

  const WatchStats& stats() const { return stats_; }
  const char* backend() const { return watcher_ ? watcher_->name() : ""; }

 private:
  Status Rescan(const std::string& kind, const std::string& why);
  void LogWatch(const std::string& kind, const std::string& detail);  // a watch_log row
  void ShowJournal();
  void RetryFailed(const PassReport& report);
  int64_t Now() const;

  SpecEngine* engine_;
  Journal* journal_;
  WatchOptions options_;
  SdNotifier* notifier_;
  std::unique_ptr<FileWatcher> watcher_;
  JournalTail tail_;
  Settler settler_;
  WatchStats stats_;
  int signal_fd_ = -1;
};

}  // namespace specd
