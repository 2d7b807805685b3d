// One connection to NATS (nats.c), RAII, with what specd asks of it: the
// JetStream stream of events made if absent, a batch of messages published
// with their Nats-Msg-Id and every ack awaited, a request and its reply.
//
// The connection is made in the background when the server is not there
// yet, and made again after it goes away (nats.c reconnects): a caller
// looks at connected() and retries, it never blocks on a server that is down.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/signals.h"  // nats.c starts its threads with the asking thread's mask
#include "schema/result.h"

struct __natsConnection;
struct __jsCtx;

namespace specd {

// What a nats.c callback reaches its owner through. nats.c runs a
// connection's and a subscription's callbacks on its own threads, and may
// run one after the owner is gone (a close queues DISCONNECTED; an
// unsubscribe does not wait for a handler in hand). The owner Clear()s the
// target on its way out, which waits for a call in hand; the holder itself
// is never freed (a few bytes per connection or subscription).
// Keeps `p` reachable for the process's life (from a global list: it is
// kept on purpose, and LeakSanitizer does not count it lost).
void KeepForLateCallbacks(const void* p);

template <typename T>
class CallbackTarget {
 public:
  static CallbackTarget* Make(T* target) {
    auto* t = new CallbackTarget(target);
    KeepForLateCallbacks(t);
    return t;
  }
  template <typename F>
  void With(F f) {
    std::lock_guard<std::mutex> l(mu_);
    if (target_) f(*target_);
  }
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    target_ = nullptr;
  }

 private:
  explicit CallbackTarget(T* target) : target_(target) {}
  std::mutex mu_;
  T* target_;
};

struct NatsConfig {
  std::string url;               // nats://host:port, several comma-separated
  std::string credentials_file;  // absolute, "" none
  std::string name;              // how the server lists this client
  int64_t reconnect_wait_ms = 250;
  // true: a server not there yet is tried again in the background (a
  // service); false: Connect fails with kBusy (a command run once).
  bool background_connect = true;
  // Called from nats.c's thread when the connection comes up (true) or goes
  // down (false); may be empty.
  std::function<void(bool up)> on_change;
};

struct OutMessage {
  std::string subject, data, msg_id;  // msg_id: the Nats-Msg-Id header ("" none)
};

class NatsConn {
 public:
  // Fails on a bad url or credentials file (kInvalid); a server that cannot
  // be reached now is tried again in the background (background_connect),
  // else kBusy.
  static Result<std::unique_ptr<NatsConn>> Connect(NatsConfig config);
  ~NatsConn();
  NatsConn(const NatsConn&) = delete;
  NatsConn& operator=(const NatsConn&) = delete;

  bool connected() const;
  const std::string& url() const { return config_.url; }
  int64_t max_payload() const;  // the server's max_payload (0 before the first connect)

  // The stream `name` exists (made, file storage, with `subjects`, when it
  // did not): kBusy while the server cannot be reached.
  Status EnsureStream(const std::string& name, const std::vector<std::string>& subjects);
  // Publishes every message, in order, to JetStream and waits up to
  // `wait_ms` for all their acks. An error (kBusy when the server is away)
  // means some may not have been stored: publish them again, the same ids
  // make the server drop the ones it has.
  Status PublishAll(const std::vector<OutMessage>& messages, int64_t wait_ms);
  // A request and its reply's bytes: kBusy when no one answers in time or
  // the server is away, kNotFound when no one serves `subject`.
  Result<std::string> Request(const std::string& subject, const std::string& data, int64_t timeout_ms);
  // A core (not JetStream) publish, buffered by nats.c while reconnecting.
  Status Publish(const std::string& subject, const std::string& data);

  __natsConnection* nc() const { return nc_; }
  __jsCtx* js() const { return js_; }

 private:
  explicit NatsConn(NatsConfig config) : config_(std::move(config)) {}
  NatsConfig config_;
  CallbackTarget<std::function<void(bool)>>* on_change_ = nullptr;
  std::atomic<int> publish_failed_{0};  // failed acks (a late one counts against the next batch: retried)
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
};

// "what: <nats.c's text for s>[: <its last error>]".
Error NatsError(int status, const std::string& what);

}  // namespace specd
