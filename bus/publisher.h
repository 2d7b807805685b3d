// The event log's publisher (the outbox pattern): every event the journal
// holds after the outbox's seq goes to the JetStream stream SPECD_EVENTS (event_message.h), in
// journal order, and the outbox's seq moves on only once JetStream has acked
// them. The events are written with the change they report (engine/apply.cc),
// so while NATS is down or slow the watcher journals at full speed, the
// outbox grows, and it drains in order when NATS is back. A batch published
// again after a crash carries the same Nats-Msg-Ids: the stream's duplicate
// window drops what it already has.
//
// It runs on a thread of its own, with a journal connection of its own, and
// wakes when the journal changes (any process's events, engine/
// journal_changes.h), when the connection comes back, or every second.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "bus/nats_conn.h"
#include "engine/journal.h"
#include "engine/journal_changes.h"

namespace specd {

struct PublisherOptions {
  std::string journal_path;
  std::string repo_id, subject_prefix;
  NatsConfig nats;
  int page = 512;               // events per batch of acks
  int64_t ack_wait_ms = 10000;  // for a batch's acks
  // One line for people: the server went away ("events wait in the
  // journal") and came back. Called from the publisher's thread.
  std::function<void(const std::string&)> say;
};

class EventPublisher {
 public:
  static Result<std::unique_ptr<EventPublisher>> Open(PublisherOptions options);
  ~EventPublisher();

  void Start();
  void Stop();  // after a last drain of what is journaled, when the server is there

  // Publishes every event waiting, in batches; how many it published (kBusy
  // when NATS is away: the rest wait). What the thread does on each wake.
  Result<int64_t> DrainOnce();
  // The outbox's name in the journal: "nats <url> <prefix>".
  const std::string& sink() const { return sink_; }

 private:
  explicit EventPublisher(PublisherOptions options);
  void Loop();
  void Wake();

  PublisherOptions options_;
  std::string sink_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<NatsConn> conn_;
  bool stream_ready_ = false;
  int wake_fd_ = -1;        // eventfd: Stop, the connection coming back
  JournalChanges changes_;  // the journal's folder
  std::atomic<bool> stopping_{false};
  bool flushing_ = false;  // the last drain, after Stop (the thread's own)
  std::thread thread_;
};

}  // namespace specd
