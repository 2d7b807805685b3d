#include "bus/remote_tasks.h"

#include <nats/nats.h>
#include <sys/random.h>

#include <chrono>
#include <thread>

#include "bus/event_message.h"

namespace specd {

namespace {

constexpr int64_t kRetryPauseMs = 250;
// What a submit's request adds to its base64 patch, at most (ids, token, names).
constexpr int64_t kEnvelopeBytes = 4096;

std::string NewRequestId() {
  unsigned char b[12];
  if (::getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>(now >> (8 * (i % 8)));
  }
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned char c : b) {
    id += hex[c >> 4];
    id += hex[c & 15];
  }
  return id;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string BriefKey(const LeaseRecord& l) {
  return l.spec_id + "/" + l.task_id + "/" + std::to_string(l.epoch);
}

TaskRequest LeaseRequest(const LeaseRecord& lease) {
  TaskRequest r;
  r.worker = lease.worker;
  r.spec = lease.spec_id;
  r.task = lease.task_id;
  r.token = lease.token;
  return r;
}

void OnEvent(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  static_cast<CallbackTarget<CoordinatorEvents>*>(closure)->With([](CoordinatorEvents& e) { e.Heard(); });
  natsMsg_Destroy(msg);
}

}  // namespace

Result<TaskAnswer> RemoteTaskBroker::Call(const std::string& subject, TaskRequest request, int64_t retry_ms) {
  request.id = NewRequestId();
  request.repo = options_.repo_id;
  const std::string data = EncodeRequest(request);
  const int64_t deadline = SteadyMs() + retry_ms;
  for (;;) {
    Result<std::string> raw = conn_->Request(subject, data, options_.request_timeout_ms);
    if (raw.ok()) {
      Result<TaskAnswer> answer = DecodeAnswer(*raw);
      if (!answer.ok()) return answer.error();
      if (answer->error) return *answer->error;
      return answer;
    }
    // No answer: the server or the coordinator is away (restarting). The
    // same request again, with the same id, until the deadline or a stop.
    const bool retry = raw.error().code == ErrorCode::kBusy || raw.error().code == ErrorCode::kNotFound;
    const bool stopping = options_.stop && *options_.stop;
    if (!retry || stopping || SteadyMs() + kRetryPauseMs > deadline) {
      Error e = raw.error();
      if (e.code == ErrorCode::kNotFound) {
        e.message = "no coordinator answers on " + subject + " (" + e.message + ")";
        e.code = ErrorCode::kBusy;
      }
      if (stopping) e.message += " (stopped: not asked again)";
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kRetryPauseMs));
  }
}

Result<TaskReply> RemoteTaskBroker::Verb(const std::string& verb, TaskRequest request) {
  Result<TaskAnswer> a = Call(TaskVerbSubject(options_.subject_prefix, options_.repo_id, verb),
                              std::move(request), options_.retry_ms);
  if (!a.ok()) return a.error();
  return std::move(a->reply);
}

Result<TaskReply> RemoteTaskBroker::Next(const std::string& worker, const std::string& spec_id) {
  TaskRequest r;
  r.worker = worker;
  r.spec = spec_id;
  Result<TaskAnswer> a = Call(TaskVerbSubject(options_.subject_prefix, options_.repo_id, "next"),
                              std::move(r), options_.retry_ms);
  if (!a.ok()) return a.error();
  const TaskReply& reply = a->reply;
  if (reply.refused.empty() && !reply.nothing_ready) {
    std::lock_guard<std::mutex> l(mu_);
    if (a->brief) {
      briefs_.insert_or_assign(BriefKey(reply.lease), Result<AttemptBrief>(std::move(*a->brief)));
    } else {
      briefs_.insert_or_assign(
          BriefKey(reply.lease),
          Result<AttemptBrief>(Error{"the coordinator could not brief the attempt: " +
                                     (a->brief_error.empty() ? "no reason given" : a->brief_error)}));
    }
  }
  return std::move(a->reply);
}

Result<TaskReply> RemoteTaskBroker::Heartbeat(const LeaseRecord& lease) {
  // One try: the worker's loop beats again at its next tick.
  Result<TaskAnswer> a =
      Call(HeartbeatSubject(options_.subject_prefix, lease.worker), LeaseRequest(lease), 0);
  if (!a.ok()) return a.error();
  return std::move(a->reply);
}

Result<TaskReply> RemoteTaskBroker::Submit(const LeaseRecord& lease, const std::string& patch) {
  const int64_t max = conn_->max_payload();
  // The patch travels as base64 (4 bytes for 3) in a JSON request.
  const int64_t size = (static_cast<int64_t>(patch.size()) + 2) / 3 * 4 + kEnvelopeBytes;
  if (max > 0 && size > max) {
    return Error{"the diff is " + std::to_string(patch.size()) + " bytes (" + std::to_string(size) +
                     " in its request); the NATS server at " + conn_->url() + " takes at most " +
                     std::to_string(max) + " bytes in a message (its max_payload)",
                 ErrorCode::kInvalid};
  }
  TaskRequest r = LeaseRequest(lease);
  r.patch = patch;
  return Verb("submit", std::move(r));
}

Result<TaskReply> RemoteTaskBroker::Fail(const LeaseRecord& lease, const std::string& reason,
                                         const std::string& tail) {
  TaskRequest r = LeaseRequest(lease);
  r.reason = reason;
  r.tail = tail;
  return Verb("fail", std::move(r));
}

Result<TaskReply> RemoteTaskBroker::Release(const LeaseRecord& lease, const std::string& reason) {
  TaskRequest r = LeaseRequest(lease);
  r.reason = reason;
  return Verb("release", std::move(r));
}

Result<AttemptBrief> RemoteTaskBroker::Brief(const TaskReply& claimed) {
  std::lock_guard<std::mutex> l(mu_);
  auto at = briefs_.find(BriefKey(claimed.lease));
  if (at == briefs_.end())
    return Error{"the coordinator sent no brief for " + BriefKey(claimed.lease), ErrorCode::kNotFound};
  Result<AttemptBrief> brief = std::move(at->second);
  briefs_.erase(at);
  return brief;
}

Result<std::unique_ptr<CoordinatorEvents>> CoordinatorEvents::Subscribe(NatsConn* conn,
                                                                        const std::string& prefix) {
  std::unique_ptr<CoordinatorEvents> events(new CoordinatorEvents());
  const std::string subject = BusSubject(prefix, "specs.>");
  events->target_ = CallbackTarget<CoordinatorEvents>::Make(events.get());
  SignalsBlocked quiet;  // the subscription's delivery thread
  natsStatus s =
      natsConnection_Subscribe(&events->sub_, conn->nc(), subject.c_str(), OnEvent, events->target_);
  if (s != NATS_OK) return NatsError(s, "cannot listen on " + subject + " at " + conn->url());
  return events;
}

CoordinatorEvents::~CoordinatorEvents() {
  if (target_) target_->Clear();  // waits for a call in hand
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
}

void CoordinatorEvents::Heard() {
  std::lock_guard<std::mutex> l(mu_);
  ++heard_;
  cv_.notify_all();
}

bool CoordinatorEvents::Wait(int64_t wait_ms) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::chrono::milliseconds(wait_ms), [&] { return heard_ != seen_; });
  const bool changed = heard_ != seen_;
  seen_ = heard_;
  return changed;
}

}  // namespace specd
