// specd watch serving the task verbs to remote workers (issue 16): request
// and reply on <prefix.>specd.<repo>.<verb> and <prefix.>heartbeat.<worker>
// (bus/task_wire.h), each answered by this machine's TaskBroker: the
// coordinator's journal is the one authority for leases and fencing
// (JetStream's redelivery accepts a stale ack, nats-server #4786, so it
// must not be). Requests are taken one at a time.
//
// A request made again with the same id by the same worker (its reply was
// lost) gets the first answer again, not a second claim.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bus/nats_conn.h"
#include "bus/task_wire.h"
#include "engine/task_broker.h"

struct __natsSubscription;

namespace specd {

struct TaskServiceOptions {
  std::string repo_id, subject_prefix;
  // Called (under the service's lock) after each request: who asked, when.
  std::function<void(const std::string& worker, const std::string& verb)> on_request;
};

class TaskService {
 public:
  static Result<std::unique_ptr<TaskService>> Start(NatsConn* conn, TaskBroker* broker,
                                                    TaskServiceOptions options);
  ~TaskService();
  TaskService(const TaskService&) = delete;
  TaskService& operator=(const TaskService&) = delete;

  // One request's answer (what the subscriptions call); "" when the request
  // names another repository (its coordinator answers).
  std::string Answer(const std::string& verb, std::string_view data);

 private:
  TaskService(TaskBroker* broker, TaskServiceOptions options)
      : broker_(broker), options_(std::move(options)) {}
  TaskAnswer Handle(const std::string& verb, const TaskRequest& r);

  TaskBroker* broker_;
  TaskServiceOptions options_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> last_;  // worker -> (request id, answer)
  std::vector<__natsSubscription*> subs_;
  CallbackTarget<TaskService>* target_ = nullptr;  // the subscriptions' way here
};

}  // namespace specd
