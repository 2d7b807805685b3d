// specd watch's git manager (issue 13): the gates run by themselves when a
// spec reaches diff-submitted, reviewed specs are merged in review order,
// and a spec a merge blocked (a dirty checkout) is looked at again until it
// can land. Each step is a child process, `specd gates ID --if-needed` or
// `specd merge`, the same commands a person runs: one at a time per
// repository, started from a thread of its own, so the watch loop goes on
// acting on saves within milliseconds while a gate runs for minutes.
//
// It hears the journal's events through the watch's live view (any
// process's transitions), and looks again every `retry_ms` while a merge
// waits. Stop() ends the child in hand (SIGTERM to its process group, SIGKILL
// after 10 s).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/events.h"

namespace specd::cli {

class GitManager : public EventSink {
 public:
  // `root`: the repository; `journal_path`: its journal (opened read-only
  // by the thread); `next`: told every event first (the watch's printer).
  GitManager(std::string root, std::string journal_path, EventSink* next, int64_t retry_ms = 30'000);
  ~GitManager() override;

  void Start();  // the thread; a first look at once
  void Stop();
  void OnEvent(const EngineEvent& e) override;

 private:
  void Loop();
  // One look: every diff-submitted spec's gates (when not already passed on
  // its candidate), then `specd merge` when a spec is queued. Whether a
  // merge still waits (look again later).
  bool Look();
  // Runs `specd ARGS --repo ROOT` to its end; its exit code (-1: killed, or
  // it could not start).
  int RunChild(const std::vector<std::string>& args);

  const std::string root_, journal_path_;
  EventSink* next_;
  const int64_t retry_ms_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool poked_ = true;
  bool stopping_ = false;
  pid_t child_ = 0;  // the child in hand (its process group), 0 when none
  std::thread thread_;
};

}  // namespace specd::cli
