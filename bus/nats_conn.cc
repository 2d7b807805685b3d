#include "bus/nats_conn.h"

#include <nats/nats.h>
#include <signal.h>

#include <atomic>
#include <utility>

namespace specd {

namespace {

bool Unreachable(natsStatus s) {
  return s == NATS_TIMEOUT || s == NATS_NOT_YET_CONNECTED || s == NATS_NO_SERVER || s == NATS_IO_ERROR ||
         s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION;
}

// nats.c keeps each failed call's text per thread: with it, an error says
// which server and why, not only "timeout".
Error Fail(natsStatus s, const std::string& what) {
  Error e = NatsError(s, what);
  if (Unreachable(s) || s == NATS_NO_RESPONDERS)
    e.code = s == NATS_NO_RESPONDERS ? ErrorCode::kNotFound : ErrorCode::kBusy;
  return e;
}

using ChangeTarget = CallbackTarget<std::function<void(bool)>>;

void OnUp(natsConnection*, void* closure) {
  static_cast<ChangeTarget*>(closure)->With([](std::function<void(bool)>& f) {
    if (f) f(true);
  });
}

void OnDown(natsConnection*, void* closure) {
  static_cast<ChangeTarget*>(closure)->With([](std::function<void(bool)>& f) {
    if (f) f(false);
  });
}

// A failed ack of an async publish: counted, the batch is then published again.
void OnPublishError(jsCtx*, jsPubAckErr*, void* closure) {
  static_cast<std::atomic<int>*>(closure)->fetch_add(1);
}

struct Options {
  natsOptions* o = nullptr;
  ~Options() { natsOptions_Destroy(o); }
};

}  // namespace

void KeepForLateCallbacks(const void* p) {
  static std::mutex mu;
  static auto* kept = new std::vector<const void*>();
  std::lock_guard<std::mutex> l(mu);
  kept->push_back(p);
}

Error NatsError(int status, const std::string& what) {
  const natsStatus s = static_cast<natsStatus>(status);
  std::string text = what + ": " + natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last);
      detail && *detail && text.find(detail) == std::string::npos)
    text += std::string(" (") + detail + ")";
  return Error{text,
               s == NATS_INVALID_ARG || s == NATS_ADDRESS_MISSING ? ErrorCode::kInvalid : ErrorCode::kOther};
}

Result<std::unique_ptr<NatsConn>> NatsConn::Connect(NatsConfig config) {
  std::unique_ptr<NatsConn> conn(new NatsConn(std::move(config)));
  const NatsConfig& c = conn->config_;
  SignalsBlocked quiet;  // natsOptions_Create starts the library's threads, the connect the rest
  Options opts;
  natsStatus s = natsOptions_Create(&opts.o);
  if (s == NATS_OK) s = natsOptions_SetURL(opts.o, c.url.c_str());
  if (s != NATS_OK) return Error{"NATS url '" + c.url + "' is not one nats.c can use", ErrorCode::kInvalid};
  if (!c.credentials_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(opts.o, c.credentials_file.c_str(), nullptr);
    if (s != NATS_OK) {
      Error e = NatsError(s, "NATS credentials file " + c.credentials_file);
      e.code = ErrorCode::kInvalid;
      return e;
    }
  }
  conn->on_change_ = ChangeTarget::Make(&conn->config_.on_change);
  ChangeTarget* on_change = conn->on_change_;
  if (!c.name.empty()) natsOptions_SetName(opts.o, c.name.c_str());
  natsOptions_SetTimeout(opts.o, 2000);
  natsOptions_SetMaxReconnect(opts.o, -1);  // for ever: a coordinator outlives its server's restarts
  natsOptions_SetReconnectWait(opts.o, c.reconnect_wait_ms);
  natsOptions_SetDisconnectedCB(opts.o, OnDown, on_change);
  natsOptions_SetReconnectedCB(opts.o, OnUp, on_change);
  if (c.background_connect) natsOptions_SetRetryOnFailedConnect(opts.o, true, OnUp, on_change);
  s = natsConnection_Connect(&conn->nc_, opts.o);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) return Fail(s, "cannot connect to NATS at " + c.url);
  if (s == NATS_OK && c.on_change) c.on_change(true);
  s = natsConnection_JetStream(&conn->js_, conn->nc_, nullptr);
  if (s != NATS_OK) return NatsError(s, "cannot use JetStream at " + c.url);
  return conn;
}

NatsConn::~NatsConn() {
  if (on_change_) on_change_->Clear();  // a late DISCONNECTED finds no one
  if (js_) jsCtx_Destroy(js_);
  if (nc_) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
  nats_ReleaseThreadMemory();
}

bool NatsConn::connected() const {
  return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

int64_t NatsConn::max_payload() const {
  return natsConnection_GetMaxPayload(nc_);
}

Status NatsConn::EnsureStream(const std::string& name, const std::vector<std::string>& subjects) {
  if (!connected()) return Error{"NATS at " + config_.url + " is not reachable", ErrorCode::kBusy};
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return Status::Ok();
  }
  if (s != NATS_NOT_FOUND) return Fail(s, "cannot look up stream " + name + " at " + config_.url);
  std::vector<const char*> subs;
  for (const std::string& x : subjects) subs.push_back(x.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subs.data();
  cfg.SubjectsLen = static_cast<int>(subs.size());
  cfg.Storage = js_FileStorage;
  s = js_AddStream(&si, js_, &cfg, nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return Status::Ok();
  }
  // Made meanwhile by another coordinator: as good.
  if (js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &code) == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return Status::Ok();
  }
  return Fail(s, "cannot make stream " + name + " at " + config_.url);
}

Status NatsConn::PublishAll(const std::vector<OutMessage>& messages, int64_t wait_ms) {
  if (!connected()) return Error{"NATS at " + config_.url + " is not reachable", ErrorCode::kBusy};
  std::atomic<int>& failed = publish_failed_;
  failed = 0;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.ErrHandler = OnPublishError;
  jo.PublishAsync.ErrHandlerClosure = &publish_failed_;
  jo.PublishAsync.MaxPending = 1024;
  jsCtx* js = nullptr;  // a context of its own: its error count is this batch's
  natsStatus s = natsConnection_JetStream(&js, nc_, &jo);
  if (s != NATS_OK) return Fail(s, "cannot use JetStream at " + config_.url);
  for (const OutMessage& m : messages) {
    natsMsg* msg = nullptr;
    s = natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.data.data(), static_cast<int>(m.data.size()));
    if (s == NATS_OK && !m.msg_id.empty()) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", m.msg_id.c_str());
    if (s == NATS_OK) s = js_PublishMsgAsync(js, &msg, nullptr);
    natsMsg_Destroy(msg);  // null once the library owns it
    if (s != NATS_OK) break;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = wait_ms;
  if (s == NATS_OK) s = js_PublishAsyncComplete(js, &po);
  if (s != NATS_OK) {
    natsMsgList pending = {nullptr, 0};  // acks that never came: dropped, published again later
    if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) natsMsgList_Destroy(&pending);
  }
  jsCtx_Destroy(js);
  if (s != NATS_OK) return Fail(s, "cannot publish to JetStream at " + config_.url);
  if (failed.load() > 0)
    return Error{std::to_string(failed.load()) + " of " + std::to_string(messages.size()) +
                     " events were not stored by JetStream at " + config_.url,
                 ErrorCode::kBusy};
  return Status::Ok();
}

Result<std::string> NatsConn::Request(const std::string& subject, const std::string& data,
                                      int64_t timeout_ms) {
  if (!connected()) return Error{"NATS at " + config_.url + " is not reachable", ErrorCode::kBusy};
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, nc_, subject.c_str(), data.data(),
                                        static_cast<int>(data.size()), timeout_ms);
  if (s != NATS_OK) return Fail(s, "no reply on " + subject + " from NATS at " + config_.url);
  std::string out(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

Status NatsConn::Publish(const std::string& subject, const std::string& data) {
  natsStatus s = natsConnection_Publish(nc_, subject.c_str(), data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) return Fail(s, "cannot publish on " + subject + " to NATS at " + config_.url);
  return Status::Ok();
}

}  // namespace specd
