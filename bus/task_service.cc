#include "bus/task_service.h"

#include <nats/nats.h>

#include "bus/event_message.h"

namespace specd {

namespace {

// One subscription's handler: the service (through a CallbackTarget, so a
// handler nats.c runs late finds no one), the verb ("": the subject's last
// token).
struct Binding {
  CallbackTarget<TaskService>* service;
  std::string verb;
};

std::string LastToken(const char* subject) {
  std::string s(subject);
  return s.substr(s.find_last_of('.') + 1);
}

void OnRequest(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  auto* b = static_cast<Binding*>(closure);
  const std::string verb = b->verb.empty() ? LastToken(natsMsg_GetSubject(msg)) : b->verb;
  b->service->With([&](TaskService& service) {
    const std::string answer = service.Answer(
        verb, std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
    const char* reply = natsMsg_GetReply(msg);
    if (answer.empty() || !reply || !*reply) return;  // another repository's, or no one waits
    if (natsConnection_Publish(nc, reply, answer.data(), static_cast<int>(answer.size())) != NATS_OK)
      natsConnection_Publish(nc, reply, answer.data(),
                             static_cast<int>(answer.size()));  // once more; then the worker asks again
  });
  natsMsg_Destroy(msg);
}

}  // namespace

Result<std::unique_ptr<TaskService>> TaskService::Start(NatsConn* conn, TaskBroker* broker,
                                                        TaskServiceOptions options) {
  std::unique_ptr<TaskService> service(new TaskService(broker, std::move(options)));
  const std::string verbs = TaskVerbSubject(service->options_.subject_prefix, service->options_.repo_id, "*");
  const std::string beats =
      BusSubject(service->options_.subject_prefix, "heartbeat.>");  // a name may hold dots
  // One queue group per repository: every repository's coordinator hears a
  // heartbeat (its subject names only the worker), and only the one whose
  // repository the request names answers.
  const std::string group = "specd-" + service->options_.repo_id;
  service->target_ = CallbackTarget<TaskService>::Make(service.get());
  for (const auto& [subject, verb] : {std::pair{verbs, std::string()}, {beats, std::string("heartbeat")}}) {
    auto* binding = new Binding{service->target_, verb};  // kept, as the target is: nats.c may call late
    KeepForLateCallbacks(binding);
    natsSubscription* sub = nullptr;
    SignalsBlocked quiet;  // the subscription's delivery thread
    natsStatus s =
        natsConnection_QueueSubscribe(&sub, conn->nc(), subject.c_str(), group.c_str(), OnRequest, binding);
    if (s != NATS_OK) return NatsError(s, "cannot serve " + subject + " at " + conn->url());
    service->subs_.push_back(sub);
  }
  return service;
}

TaskService::~TaskService() {
  if (target_) target_->Clear();  // waits for a request in hand
  for (natsSubscription* s : subs_) {
    natsSubscription_Unsubscribe(s);
    natsSubscription_Destroy(s);
  }
}

std::string TaskService::Answer(const std::string& verb, std::string_view data) {
  std::optional<TaskRequest> r = DecodeRequest(data);
  std::lock_guard<std::mutex> l(mu_);
  if (r && !r->repo.empty() && r->repo != options_.repo_id) return "";  // another coordinator's
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
    if (brief.ok()) {
      a.brief = std::move(*brief);
    } else {
      a.brief_error = brief.error().message;  // the worker gives the lease back, saying why
    }
  }
  return a;
}

}  // namespace specd
