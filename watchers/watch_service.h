// specd watch: the loop that turns file-system events into engine passes.
//
//   start:   lock, watch (the backend comes from WatchOptions::new_watcher:
//            inotify, or polling where inotify cannot see; a fake in
//            tests), one full pass (the journal's stamps skip unchanged
//            files), READY to systemd
//   loop:    wait for events, a signal, the next due path, the poll,
//            safety-rescan or git re-check timer or the watchdog; note
//            events in the Settler; hand the due paths to
//            SpecEngine::ReconcilePaths
//   git:     while a git operation is under way (GitGate), changed paths
//            are held, never judged; when it ends they are reconciled as
//            git changes by the git engine (changes_from_git)
//   rescan:  after a kernel queue overflow, a moved or deleted tree (once
//            the paths in hand have settled), SIGHUP
//            or every few minutes: SpecEngine::ReconcileAll, journaled
//   stop:    SIGINT/SIGTERM end the loop after the pass in hand; the
//            repository moved or the journal deleted under it stop it
//            with an Error (exit 2: a supervisor starts it again)
//
// Every change goes through the engine's reconcile, the same code path as
// `specd reconcile`; the watcher only decides when. Time comes from a Clock
// and events from a FileWatcher, both passed in, so tests drive the loop
// (Step) with a fake of each.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine/engine.h"
#include "engine/journal.h"
#include "watchers/clock.h"
#include "watchers/file_watcher.h"
#include "watchers/git_gate.h"
#include "watchers/journal_tail.h"
#include "watchers/sd_notify.h"
#include "watchers/settle.h"

namespace specd {

using WatcherFactory = std::function<Result<std::unique_ptr<FileWatcher>>()>;

struct WatchOptions {
  int64_t settle_ms = 20;
  int64_t rescan_ms = 5 * 60'000;  // the safety rescan; 0: never
  int64_t sweep_ms = 1000;         // leases past their expiry are swept this often; 0: never
  int64_t retry_ms = 1000;         // a path the engine could not finish is tried again after this
  int64_t max_hold_ms = 60'000;    // an invalid file still open for writing is an error after this
  int64_t open_check_ms = 250;     // how often a held file still open for writing is looked at
  int64_t git_check_ms = 1000;     // while a git operation is under way, its markers are looked at again
  ProgressFn startup_progress;     // during the first pass
  // Told of every transition and refusal journaled while the service runs,
  // by any process (JournalTail), once it is committed.
  EventSink* live_view = nullptr;
  // Makes the backend, started (Start calls it once). Required.
  WatcherFactory new_watcher;
  Clock* clock = nullptr;  // nullptr: MonotonicClock()
  // Block SIGINT, SIGTERM and SIGHUP and read them through a signalfd (the
  // binary); off in tests that drive the loop in process.
  bool handle_signals = true;
  // The repository's git dir (GitDirFor); "": no git, nothing is held.
  std::string git_dir;
  // Reconciles what a git operation changed (EngineOptions::changes_from_git);
  // nullptr: the ordinary engine.
  SpecEngine* git_engine = nullptr;
};

struct WatchStats {
  size_t passes = 0;     // calls into the engine for due paths
  size_t examined = 0;   // paths handed to the engine
  size_t unchanged = 0;  // of those, skipped on their stamp (specd's own writes, touches)
  size_t held = 0;       // invalid on a first look, looked at again
  size_t rescans = 0;
  size_t overflows = 0;
  size_t git_passes = 0;  // passes over what a git operation changed, once it ended
  size_t events = 0;      // engine events (transitions, refusals, ...)
};

class WatchService {
 public:
  WatchService(SpecEngine* engine, Journal* journal, WatchOptions options, SdNotifier* notifier);
  ~WatchService();

  // Makes the backend; no events are missed from here on.
  Status Start();
  // StartUp, then Step until SIGINT or SIGTERM, then Finish.
  Status Run();

  // Run's parts, for tests that drive the loop with a fake watcher and clock.
  // The first full pass (or, while a git operation is under way, the promise
  // of one when it ends), then READY.
  Status StartUp();
  // One turn of the loop: waits for an event, a signal or the next timer
  // (without `block`: not at all), then handles what is there. false once a
  // stop signal came; an Error when the watcher has to stop (its repository
  // moved, its journal deleted, the backend failed).
  Result<bool> Step(bool block);
  // STOPPING to systemd and the summary (said and journaled).
  void Finish();

  const WatchStats& stats() const { return stats_; }
  const char* backend() const { return watcher_ ? watcher_->name() : ""; }
  size_t pending() const { return settler_.pending(); }
  bool git_busy() const { return gate_.busy(); }

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
  };
  int64_t Now() const { return clock_->NowMs(); }
  int64_t NextWake() const;
  void ReadSignals();
  Status ReadEvents(int64_t now);
  void NoteEvent(const FsEvent& event, int64_t now);
  Status CheckIdentity();
  void AskRescan(const std::string& kind, const std::string& why);
  void RescanIfAsked(int64_t now);
  size_t PassDue(int64_t now);  // how many paths were due
  void Pass(const std::vector<std::string>& paths, bool hold, int64_t now);
  void PassWith(SpecEngine* engine, const std::vector<std::string>& paths, bool hold, int64_t now);
  void EndOfGitOperation(int64_t now);
  void StructureRescanIfSettled(int64_t now);
  void Housekeeping(int64_t now, size_t due);
  Status Rescan(const std::string& kind, const std::string& why);
  void LogWatch(const std::string& kind, const std::string& detail);  // a watch_log row
  void ShowJournal();
  void RetryFailed(const PassReport& report, bool from_git);
  std::string Absolute(const std::string& path) const;

  SpecEngine* engine_;
  Journal* journal_;
  WatchOptions options_;
  SdNotifier* notifier_;
  Clock* clock_;
  std::unique_ptr<FileWatcher> watcher_;
  JournalTail tail_;
  Settler settler_;
  GitGate gate_;
  WatchStats stats_;
  int signal_fd_ = -1;
  Identity root_id_, journal_id_;
  bool journal_gone_ = false;

  // The loop's timers and state, between Steps.
  int64_t next_poll_ = INT64_MAX, next_rescan_ = INT64_MAX, next_watchdog_ = INT64_MAX;
  int64_t next_sweep_ = INT64_MAX;
  int64_t next_git_check_ = INT64_MAX;
  bool stopping_ = false;
  std::string stop_signal_;
  bool trim_when_idle_ = true;            // the first pass's write-backs come back as events
  std::string rescan_kind_, rescan_why_;  // a full pass asked for in this turn
  // A tree that changed shape: its full pass waits until the paths in hand
  // have settled (see StructureRescanIfSettled).
  std::optional<int64_t> structure_since_;
  std::string structure_why_;
  std::string git_what_;                // the git operation under way, for the log
  std::set<std::string> from_git_;      // changed by git, still to be reconciled as such
  std::vector<Settler::Due> deferred_;  // due while git was at work, changed before it began
  std::set<std::string> not_specs_;     // directories with a spec's name, said once
};

}  // namespace specd
