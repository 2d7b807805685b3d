#include "watchers/journal_tail.h"

#include <vector>

namespace specd {

namespace {

constexpr int kPage = 1000;

}  // namespace

Status JournalTail::Start() {
  Result<int64_t> seq = journal_->LastEventSeq();
  if (!seq.ok()) return seq.error();
  seq_ = *seq;
  return Status::Ok();
}

Status JournalTail::Drain(EventSink* sink) {
  for (;;) {
    Result<std::vector<EventRecord>> rows = journal_->EventsAfter(seq_, kPage);
    if (!rows.ok()) return rows.error();
    for (const EventRecord& e : *rows) {
      seq_ = e.seq;
      sink->OnEvent(FromEventRecord(e));
    }
    if (rows->size() < static_cast<size_t>(kPage)) return Status::Ok();
  }
}

}  // namespace specd
