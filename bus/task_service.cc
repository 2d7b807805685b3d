#include "bus/task_service.h"

#include <nats/nats.h>

#include <atomic>

#include "bus/event_message.h"

namespace specd {

namespace {

struct Binding {
  std::atomic<TaskService*> service;
  std::string verb;  // "" : the subject's last token
};

std::string LastToken(const char* subject) {
  std::string s(subject);
  return s.substr(s.find_last_of('.') + 1);
}

void OnRequest(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  auto* b = static_cast<Binding*>(closure);
  TaskService* service = b->service.load();
  if (!service) return natsMsg_Destroy(msg);  // stopping: the worker asks again
  const std::string verb = b->verb.empty() ? LastToken(natsMsg_GetSubject(msg)) : b->verb;
  const std::string answer = service->Answer(
      verb, std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
  if (const char* reply = natsMsg_GetReply(msg); reply && *reply)
    natsConnection_Publish(nc, reply, answer.data(), static_cast<int>(answer.size()));
  natsMsg_Destroy(msg);
}

// The bindings outlive every subscription: kept for the process's life
// (a few per coordinator), since nats.c may call a handler while the
// subscription is being taken down.
std::vector<std::unique_ptr<Binding>>& Bindings() {
  static auto* all = new std::vector<std::unique_ptr<Binding>>();
  return *all;
}

}  // namespace

Result<std::unique_ptr<TaskService>> TaskService::Start(NatsConn* conn, TaskBroker* broker,
                                                        TaskServiceOptions options) {
  std::unique_ptr<TaskService> service(new TaskService(broker, std::move(options)));
  const std::string verbs = TaskVerbSubject(service->options_.subject_prefix, service->options_.repo_id, "*");
  const std::string beats =
      BusSubject(service->options_.subject_prefix, "heartbeat.>");  // a name may hold dots
  for (const auto& [subject, verb] : {std::pair{verbs, std::string()}, {beats, std::string("heartbeat")}}) {
    auto binding = std::make_unique<Binding>();
    binding->service = service.get();
    binding->verb = verb;
    Bindings().push_back(std::move(binding));
    natsSubscription* sub = nullptr;
    SignalsBlocked quiet;  // the subscription's delivery thread
    natsStatus s = natsConnection_QueueSubscribe(&sub, conn->nc(), subject.c_str(), "specd-coordinator",
                                                 OnRequest, Bindings().back().get());
    if (s != NATS_OK) return NatsError(s, "cannot serve " + subject + " at " + conn->url());
    service->subs_.push_back(sub);
  }
  return service;
}

TaskService::~TaskService() {
  for (auto& b : Bindings())
    if (b->service.load() == this) b->service = nullptr;
  for (natsSubscription* s : subs_) {
    natsSubscription_Unsubscribe(s);
    natsSubscription_Destroy(s);
  }
  std::lock_guard<std::mutex> l(mu_);  // a handler in hand finishes first
}

std::string TaskService::Answer(const std::string& verb, std::string_view data) {
  std::optional<TaskRequest> r = DecodeRequest(data);
  std::lock_guard<std::mutex> l(mu_);
  if (!r || r->worker.empty()) {
    TaskAnswer bad;
    bad.error = Error{"a " + verb + " request names no worker or is not JSON", ErrorCode::kInvalid};
    return EncodeAnswer(bad);
  }
  auto last = last_.find(r->worker);
  if (!r->id.empty() && last != last_.end() && last->second.first == r->id) return last->second.second;
  std::string answer = EncodeAnswer(Handle(verb, *r));
  last_[r->worker] = {r->id, answer};
  if (options_.on_request) options_.on_request(r->worker, verb);
  return answer;
}

TaskAnswer TaskService::Handle(const std::string& verb, const TaskRequest& r) {
  TaskAnswer a;
  LeaseRecord lease;
  lease.spec_id = r.spec;
  lease.task_id = r.task;
  lease.token = r.token;
  lease.worker = r.worker;
  Result<TaskReply> reply = Error{"no such verb: " + verb, ErrorCode::kInvalid};
  if (verb == "next") {
    reply = broker_->Next(r.worker, r.spec);
  } else if (verb == "heartbeat") {
    reply = broker_->Heartbeat(lease);
  } else if (verb == "submit") {
    reply = broker_->Submit(lease, r.patch);
  } else if (verb == "fail") {
    reply = broker_->Fail(lease, r.reason, r.tail);
  } else if (verb == "release") {
    reply = broker_->Release(lease, r.reason);
  }
  if (!reply.ok()) {
    a.error = reply.error();
    return a;
  }
  a.reply = std::move(*reply);
  if (verb == "next" && a.reply.refused.empty() && !a.reply.nothing_ready) {
    Result<AttemptBrief> brief = broker_->Brief(a.reply);
    if (brief.ok()) a.brief = std::move(*brief);
  }
  return a;
}

}  // namespace specd
