#include "bus/stream_reader.h"

#include <nats/nats.h>

#include "bus/event_message.h"

namespace specd {

namespace {

// How long a catch-up read waits for a message the stream said it holds.
constexpr int64_t kCatchUpWaitMs = 3000;

struct Sub {
  natsSubscription* s = nullptr;
  ~Sub() { natsSubscription_Destroy(s); }
};

}  // namespace

Status ReadEventStream(NatsConn* conn, const StreamReadOptions& options,
                       const std::function<void(const EventRecord&)>& each) {
  const std::string stream = EventStreamName(options.subject_prefix);
  if (!conn->connected()) return Error{"NATS at " + conn->url() + " is not reachable", ErrorCode::kBusy};
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, conn->js(), stream.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND)
    return Error{"stream " + stream + " does not exist at " + conn->url() + " yet", ErrorCode::kNotFound};
  if (s != NATS_OK) return NatsError(s, "cannot look up stream " + stream + " at " + conn->url());
  const uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  if (last == 0 && !options.follow) return Status::Ok();

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverAll;
  Sub sub;
  const std::string subject = EventStreamSubjects(options.subject_prefix).front();
  s = js_SubscribeSync(&sub.s, conn->js(), subject.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) return NatsError(s, "cannot read stream " + stream + " at " + conn->url());
  for (;;) {
    if (options.stop && options.stop()) return Status::Ok();
    natsMsg* msg = nullptr;
    s = natsSubscription_NextMsg(&msg, sub.s, options.follow ? 500 : kCatchUpWaitMs);
    if (s == NATS_TIMEOUT) {
      if (options.follow) continue;
      return Error{"stream " + stream + " at " + conn->url() + " stopped before its last message (" +
                       std::to_string(last) + ")",
                   ErrorCode::kBusy};
    }
    if (s != NATS_OK) return NatsError(s, "cannot read stream " + stream + " at " + conn->url());
    uint64_t stream_seq = 0;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      stream_seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    std::optional<BusEvent> e = ParseEventPayload(
        std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))));
    natsMsg_Destroy(msg);
    if (e && e->repo == options.repo_id && e->event.seq > options.since) each(e->event);
    if (!options.follow && stream_seq >= last) return Status::Ok();
  }
}

}  // namespace specd
