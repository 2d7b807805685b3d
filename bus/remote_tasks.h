// A remote worker's side (specd worker --nats): the TaskBroker that asks a
// coordinator (specd watch with NATS, bus/task_service.h) over request and
// reply, and what wakes its idle slots (the coordinator's events).
//
// A request that gets no answer (the server or the coordinator restarting)
// is made again with the same id, and a submit with the same lease token,
// for up to `retry_ms`: the coordinator answers a repeated request as it
// did the first, so nothing is claimed or submitted twice.
#pragma once

#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "bus/nats_conn.h"
#include "bus/task_wire.h"
#include "engine/task_broker.h"

struct __natsSubscription;

namespace specd {

struct RemoteTasksOptions {
  std::string repo_id, subject_prefix;
  int64_t request_timeout_ms = 10'000;               // one try
  int64_t retry_ms = 120'000;                        // all tries of one request
  const volatile std::sig_atomic_t* stop = nullptr;  // set: no more tries (kBusy "stopped")
};

class RemoteTaskBroker : public TaskBroker {
 public:
  RemoteTaskBroker(NatsConn* conn, RemoteTasksOptions options) : conn_(conn), options_(std::move(options)) {}
  Result<TaskReply> Next(const std::string& worker, const std::string& spec_id) override;
  Result<TaskReply> Heartbeat(const LeaseRecord& lease) override;
  Result<TaskReply> Submit(const LeaseRecord& lease, const std::string& patch) override;
  Result<TaskReply> Fail(const LeaseRecord& lease, const std::string& reason,
                         const std::string& tail) override;
  Result<TaskReply> Release(const LeaseRecord& lease, const std::string& reason) override;
  Result<AttemptBrief> Brief(const TaskReply& claimed) override;
  int64_t EarliestExpiry() override { return 0; }  // the coordinator's events wake us

 private:
  Result<TaskAnswer> Call(const std::string& subject, TaskRequest request, int64_t retry_ms);
  Result<TaskReply> Verb(const std::string& verb, TaskRequest request);

  NatsConn* conn_;
  RemoteTasksOptions options_;
  std::mutex mu_;
  std::map<std::string, Result<AttemptBrief>> briefs_;  // "spec/task/epoch" -> what next said
};

// The coordinator's events (any repository's under the prefix), as a wake-up: what
// an idle remote worker waits on instead of the journal it does not have.
class CoordinatorEvents {
 public:
  static Result<std::unique_ptr<CoordinatorEvents>> Subscribe(NatsConn* conn, const std::string& prefix);
  ~CoordinatorEvents();
  // True when an event came since the last call, or within `wait_ms`.
  bool Wait(int64_t wait_ms);
  void Heard();  // from nats.c's thread

 private:
  CoordinatorEvents() = default;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t heard_ = 0, seen_ = 0;
  __natsSubscription* sub_ = nullptr;
  CallbackTarget<CoordinatorEvents>* target_ = nullptr;  // the subscription's way here
};

}  // namespace specd
