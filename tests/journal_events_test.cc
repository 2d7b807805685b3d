// The event log (journal schema v5): one sequence for every event of every
// spec, written with the batch that reports it, read back in order and in
// pages, and never left behind by a batch that failed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "tests/journal_test_util.h"

namespace specd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using ::specd::testing::FullSpec;
using ::specd::testing::JournalTest;
using ::specd::testing::Transition;

constexpr char kA[] = "spec-2026-02-18-001";
constexpr char kB[] = "spec-2026-02-18-002";

// An event with every field set to something of its own.
EventRecord Event(const std::string& kind, const std::string& spec_id, int n) {
  EventRecord e;
  e.at_ms = 1'771'400'000'000 + n;
  e.kind = kind;
  e.spec_id = spec_id;
  e.task_id = "TASK-00" + std::to_string(n);
  e.path = ".agents/specs/active/" + spec_id + ".yaml";
  e.from = "from-" + std::to_string(n);
  e.to = "to-" + std::to_string(n);
  e.actor = "actor-" + std::to_string(n);
  e.reason = "reason " + std::to_string(n) + ": \"quoted\", 'single', ünïcode";
  e.trace_id = "trace-" + spec_id;
  return e;
}

// `sent` as the journal returns them: with the seqs it assigned.
std::vector<EventRecord> WithSeqs(std::vector<EventRecord> sent, const std::vector<int64_t>& seqs) {
  EXPECT_EQ(sent.size(), seqs.size());
  for (size_t i = 0; i < sent.size() && i < seqs.size(); ++i) sent[i].seq = seqs[i];
  return sent;
}

class JournalEventsTest : public JournalTest {
 protected:
  std::vector<EventRecord> After(int64_t seq, int limit = 1000) {
    Result<std::vector<EventRecord>> got = journal_->EventsAfter(seq, limit);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? *got : std::vector<EventRecord>();
  }
  std::vector<EventRecord> Of(const std::string& spec_id) {
    Result<std::vector<EventRecord>> got = journal_->SpecEvents(spec_id);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? *got : std::vector<EventRecord>();
  }
  int64_t Last() {
    Result<int64_t> last = journal_->LastEventSeq();
    EXPECT_TRUE(last.ok()) << last.error().message;
    return last.ok() ? *last : -1;
  }
};

TEST_F(JournalEventsTest, EmptyLogHasNoEventsAndLastSeqZero) {
  EXPECT_EQ(Last(), 0);
  EXPECT_THAT(After(0), IsEmpty());
  EXPECT_THAT(Of(kA), IsEmpty());
}

TEST_F(JournalEventsTest, ABatchWritesItsEventsInBatchOrderWithEveryField) {
  std::vector<EventRecord> sent = {Event("registered", kA, 1), Event("transition", kA, 2),
                                   Event("waiting", kA, 3)};
  AppliedIds applied;
  Status s = journal_->Apply(
      {.upserts = {FullSpec(kA)}, .transitions = {Transition(kA, "", "draft")}, .events = sent}, &applied);
  ASSERT_TRUE(s.ok()) << s.error().message;

  EXPECT_THAT(applied.event_seqs, ElementsAre(1, 2, 3));
  EXPECT_THAT(applied.transition_seqs, ElementsAre(1));  // the tables keep their own sequences
  EXPECT_EQ(Of(kA), WithSeqs(sent, {1, 2, 3}));
  EXPECT_EQ(After(0), WithSeqs(sent, {1, 2, 3}));
  EXPECT_EQ(Last(), 3);
}

// One sequence for every kind and every spec, across batches and across two
// connections to the same file (two processes, as a verb and the watcher).
TEST_F(JournalEventsTest, OneSequenceAcrossKindsSpecsAndConnections) {
  Result<std::unique_ptr<Journal>> other = Journal::Open(path_);
  ASSERT_TRUE(other.ok()) << other.error().message;
  AppliedIds first, second, third;
  ASSERT_TRUE(
      journal_->Apply({.events = {Event("registered", kA, 1), Event("refused", kA, 2)}}, &first).ok());
  ASSERT_TRUE((*other)->Apply({.events = {Event("invalid", kB, 3), Event("archived", kA, 4)}}, &second).ok());
  ASSERT_TRUE(journal_->Apply({.events = {Event("removed", kB, 5)}}, &third).ok());

  EXPECT_THAT(first.event_seqs, ElementsAre(1, 2));
  EXPECT_THAT(second.event_seqs, ElementsAre(3, 4));
  EXPECT_THAT(third.event_seqs, ElementsAre(5));
  std::vector<std::string> kinds;
  std::vector<int64_t> seqs;
  for (const EventRecord& e : After(0)) {
    kinds.push_back(e.kind + " " + e.spec_id);
    seqs.push_back(e.seq);
  }
  EXPECT_THAT(kinds, ElementsAre("registered spec-2026-02-18-001", "refused spec-2026-02-18-001",
                                 "invalid spec-2026-02-18-002", "archived spec-2026-02-18-001",
                                 "removed spec-2026-02-18-002"));
  EXPECT_THAT(seqs, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(Of(kB), WithSeqs({Event("invalid", kB, 3), Event("removed", kB, 5)}, {3, 5}));
  EXPECT_EQ(*(*other)->LastEventSeq(), 5);
}

// An event may concern a file whose id is unknown (an invalid file): no spec
// row is needed, and "" is a spec id like any other.
TEST_F(JournalEventsTest, AnEventNeedsNoSpecRow) {
  EventRecord e = Event("invalid", "", 1);
  MustApply({.events = {e}});
  e.seq = 1;
  EXPECT_THAT(After(0), ElementsAre(e));
  EXPECT_THAT(List(true), IsEmpty());
}

TEST_F(JournalEventsTest, AFailedBatchLeavesNoEventRowAndUsesNoSeq) {
  // The events come last: the batch fails at its transition for an unknown spec.
  Status s = journal_->Apply({.upserts = {FullSpec(kA)},
                              .transitions = {Transition("spec-2026-02-18-404", "", "draft")},
                              .events = {Event("registered", kA, 1)}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(After(0), IsEmpty());
  EXPECT_EQ(Last(), 0);

  AppliedIds applied;
  ASSERT_TRUE(journal_->Apply({.events = {Event("registered", kA, 2)}}, &applied).ok());
  EXPECT_THAT(applied.event_seqs, ElementsAre(1));  // the failed batch used up no seq
}

// In a group each batch is a savepoint: a failed batch takes its events with
// it and leaves the others; rolling the group back leaves none.
TEST_F(JournalEventsTest, InAGroupAFailedBatchTakesOnlyItsOwnEvents) {
  ASSERT_TRUE(journal_->BeginGroup().ok());
  MustApply({.upserts = {FullSpec(kA)}, .events = {Event("registered", kA, 1)}});
  SpecRecord bad = FullSpec(kB);
  bad.id = "";  // violates CHECK (id <> '')
  Status s = journal_->Apply({.upserts = {bad}, .events = {Event("registered", kB, 2)}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalid);
  MustApply({.events = {Event("waiting", kA, 3)}});
  ASSERT_TRUE(journal_->EndGroup().ok());
  std::vector<std::string> kinds;
  for (const EventRecord& e : After(0)) kinds.push_back(e.kind + " " + std::to_string(e.at_ms % 10));
  EXPECT_THAT(kinds, ElementsAre("registered 1", "waiting 3"));

  int64_t before = Last();
  ASSERT_TRUE(journal_->BeginGroup().ok());
  MustApply({.events = {Event("edited", kA, 4)}});
  ASSERT_TRUE(journal_->EndGroup(false).ok());
  EXPECT_EQ(Last(), before);
  EXPECT_EQ(After(0).size(), 2u);
}

TEST_F(JournalEventsTest, EventsAfterPagesThroughTheLogOldestFirst) {
  std::vector<EventRecord> sent;
  for (int i = 0; i < 25; ++i) sent.push_back(Event(i % 2 ? "transition" : "refused", i % 3 ? kA : kB, i));
  AppliedIds applied;
  ASSERT_TRUE(journal_->Apply({.events = sent}, &applied).ok());

  std::vector<EventRecord> read;
  std::vector<size_t> page_sizes;
  for (int64_t cursor = 0;;) {
    std::vector<EventRecord> page = After(cursor, 10);
    page_sizes.push_back(page.size());
    if (page.empty()) break;
    read.insert(read.end(), page.begin(), page.end());
    cursor = page.back().seq;
  }
  EXPECT_THAT(page_sizes, ElementsAre(10u, 10u, 5u, 0u));
  EXPECT_EQ(read, WithSeqs(sent, applied.event_seqs));
  EXPECT_EQ(After(applied.event_seqs[23]), WithSeqs({sent[24]}, {applied.event_seqs[24]}));
  EXPECT_THAT(After(Last()), IsEmpty());
  EXPECT_THAT(After(0, 0), IsEmpty());
}

}  // namespace
}  // namespace specd
