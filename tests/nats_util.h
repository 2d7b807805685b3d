// A real nats-server with JetStream for a test: a free port, a store in a
// temp dir, killed and started again on the same port and store; and an
// independent reader of a stream (nats.c directly, not specd's bus/), so a
// test sees what a dashboard would.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/test_util.h"
#include "tests/watch_util.h"

namespace specd::testing {

// A port nothing listens on now (the kernel's pick, then released).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

class NatsServer {
 public:
  // `start` false: the port is chosen, nothing listens yet.
  explicit NatsServer(bool start = true) : port_(FreePort()) {
    if (start) Start();
  }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::string& store() const { return store_.path(); }

  // Starts it (again, on the same port and store) and waits until it serves.
  void Start() {
    process_ = std::make_unique<WatchProcess>(
        "nats-server", std::vector<std::string>{"-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd",
                                                store_.path()});
    process_->WaitForLine("Server is ready");
  }
  // SIGKILL: no goodbye to its clients.
  void Kill() { process_.reset(); }

 private:
  TempDir store_{"specd-nats"};
  int port_;
  std::unique_ptr<WatchProcess> process_;
};

// One message of a stream as a subscriber gets it.
struct StreamMessage {
  std::string subject, data, msg_id;
};

// Every message `stream` holds on `subject`, in stream order: an ordered
// consumer of its own, read up to the stream's last sequence.
inline std::vector<StreamMessage> ReadStream(const std::string& url, const std::string& stream,
                                             const std::string& subject) {
  std::vector<StreamMessage> out;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  jsStreamInfo* si = nullptr;
  jsErrCode code;
  EXPECT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK) << url;
  if (nc && natsConnection_JetStream(&js, nc, nullptr) == NATS_OK &&
      js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &code) == NATS_OK) {
    const uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Ordered = true;
    if (last > 0 && js_SubscribeSync(&sub, js, subject.c_str(), nullptr, &so, &code) == NATS_OK) {
      for (;;) {
        natsMsg* m = nullptr;
        if (natsSubscription_NextMsg(&m, sub, 10'000) != NATS_OK) {
          ADD_FAILURE() << "stream " << stream << " stopped before its last message " << last;
          break;
        }
        const char* id = nullptr;
        natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
        out.push_back(
            {natsMsg_GetSubject(m), std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)), id ? id : ""});
        jsMsgMetaData* meta = nullptr;
        uint64_t seq = 0;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
          seq = meta->Sequence.Stream;
          jsMsgMetaData_Destroy(meta);
        }
        natsMsg_Destroy(m);
        if (seq >= last) break;
      }
    }
  }
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return out;
}

}  // namespace specd::testing
