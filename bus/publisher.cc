#include "bus/publisher.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "bus/event_message.h"
#include "engine/env.h"

namespace specd {

EventPublisher::EventPublisher(PublisherOptions options) : options_(std::move(options)) {
  sink_ = "nats " + options_.nats.url + " " + options_.subject_prefix;
}

Result<std::unique_ptr<EventPublisher>> EventPublisher::Open(PublisherOptions options) {
  std::unique_ptr<EventPublisher> p(new EventPublisher(std::move(options)));
  Result<std::unique_ptr<Journal>> journal = Journal::Open(p->options_.journal_path);
  if (!journal.ok()) return journal.error();
  p->journal_ = std::move(*journal);
  p->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (Status s = p->changes_.Start(p->options_.journal_path); !s.ok()) return s.error();
  NatsConfig nats = p->options_.nats;
  EventPublisher* self = p.get();
  nats.on_change = [self](bool up) {
    if (up) self->Wake();
  };
  Result<std::unique_ptr<NatsConn>> conn = NatsConn::Connect(std::move(nats));
  if (!conn.ok()) return conn.error();
  p->conn_ = std::move(*conn);
  return p;
}

EventPublisher::~EventPublisher() {
  Stop();
  conn_.reset();  // its callbacks name this object: gone first
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void EventPublisher::Start() {
  sigset_t all, old;  // signals go to the thread that handles them, not this one
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { Loop(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void EventPublisher::Stop() {
  stopping_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
}

void EventPublisher::Wake() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0 && ::write(wake_fd_, &one, sizeof one) < 0) {
    // full: a wake is pending anyway
  }
}

Result<int64_t> EventPublisher::DrainOnce() {
  if (!stream_ready_) {
    if (Status s = conn_->EnsureStream(EventStreamName(options_.subject_prefix),
                                       EventStreamSubjects(options_.subject_prefix));
        !s.ok())
      return s.error();
    stream_ready_ = true;
  }
  Result<int64_t> cursor = journal_->OutboxSeq(sink_);
  if (!cursor.ok()) return cursor.error();
  int64_t published = 0;
  while (!stopping_ || flushing_) {
    Result<std::vector<EventRecord>> rows = journal_->EventsAfter(*cursor, options_.page);
    if (!rows.ok()) return rows.error();
    if (rows->empty()) break;
    std::vector<OutMessage> batch;
    batch.reserve(rows->size());
    for (const EventRecord& e : *rows) {
      batch.push_back(OutMessage{BusSubject(options_.subject_prefix, EventSubjectTail(e)),
                                 EventPayload(e, options_.repo_id), EventMsgId(e, options_.repo_id)});
    }
    if (Status s = conn_->PublishAll(batch, options_.ack_wait_ms); !s.ok()) {
      stream_ready_ = false;  // the server may have come back without it
      return s.error();
    }
    *cursor = rows->back().seq;
    if (Status s = journal_->SetOutboxSeq(sink_, *cursor, Env::Default()->NowMillis()); !s.ok())
      return s.error();
    published += static_cast<int64_t>(rows->size());
  }
  return published;
}

void EventPublisher::Loop() {
  bool told_away = false;  // said once per outage
  while (!stopping_) {
    Result<int64_t> done = DrainOnce();
    if (!done.ok() && !stopping_ && !told_away) {
      Result<int64_t> cursor = journal_->OutboxSeq(sink_);
      Result<int64_t> last = journal_->LastEventSeq();
      const int64_t waiting = cursor.ok() && last.ok() ? *last - *cursor : 0;
      if (options_.say)
        options_.say(done.error().message + "; " + std::to_string(waiting) +
                     " events wait in the journal and go out when it is back");
      told_away = true;
    } else if (done.ok() && told_away) {
      if (options_.say)
        options_.say("NATS at " + options_.nats.url + " is back: published " + std::to_string(*done) +
                     " waiting events");
      told_away = false;
    }
    if (done.ok()) changes_.Found(*done > 0);
    if (!changes_.Wait(1000, wake_fd_)) {
      uint64_t n;
      if (::read(wake_fd_, &n, sizeof n) < 0) {
        // nothing pending: the wait ran out
      }
    }
  }
  // Stopping: what is already journaled goes out now if the server is
  // there (else it waits in the journal for the next start).
  flushing_ = true;
  if (conn_->connected()) (void)DrainOnce();
}

}  // namespace specd
