#include "watchers/journal_tail.h"

#include <vector>

namespace specd {

namespace {

constexpr int kPage = 1000;

}  // namespace

bool IsJournaledKind(EngineEvent::Kind kind) {
  return kind == EngineEvent::Kind::kRegistered || kind == EngineEvent::Kind::kTransition ||
         kind == EngineEvent::Kind::kRefused;
}

Status JournalTail::Start() {
  Result<int64_t> t = journal_->LastSeq();
  if (!t.ok()) return t.error();
  Result<int64_t> r = journal_->LastRefusalSeq();
  if (!r.ok()) return r.error();
  transitions_ = *t;
  refusals_ = *r;
  return Status::Ok();
}

Status JournalTail::Drain(EventSink* sink) {
  for (;;) {
    Result<std::vector<TransitionRecord>> rows = journal_->TransitionsAfter(transitions_, kPage);
    if (!rows.ok()) return rows.error();
    for (const TransitionRecord& t : *rows) {
      transitions_ = t.seq;
      sink->OnEvent(
          EngineEvent{t.from.empty() ? EngineEvent::Kind::kRegistered : EngineEvent::Kind::kTransition,
                      t.spec_id, "", t.from, t.to, t.actor, t.reason});
    }
    if (rows->size() < static_cast<size_t>(kPage)) break;
  }
  for (;;) {
    Result<std::vector<RefusalRecord>> rows = journal_->RefusalsAfter(refusals_, kPage);
    if (!rows.ok()) return rows.error();
    for (const RefusalRecord& r : *rows) {
      refusals_ = r.seq;
      sink->OnEvent(
          EngineEvent{EngineEvent::Kind::kRefused, r.spec_id, "", r.from, r.requested, r.actor, r.reason});
    }
    if (rows->size() < static_cast<size_t>(kPage)) break;
  }
  return Status::Ok();
}

}  // namespace specd
