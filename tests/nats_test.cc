// The event stream over NATS JetStream (issue 16), with a real nats-server
// on a free port and a temp store: the subjects and payloads (pure), the
// outbox publisher against a real journal, and `specd watch --nats` and
// `specd events` as processes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_message.h"
#include "bus/publisher.h"
#include "bus/task_service.h"
#include "bus/task_wire.h"
#include "engine/events.h"
#include "engine/settings.h"
#include "tests/journal_test_util.h"
#include "tests/nats_util.h"
#include "tests/process_util.h"
#include "tests/test_util.h"
#include "tests/watch_util.h"

namespace specd {
namespace {

using testing::NatsServer;
using testing::ReadStream;
using testing::StreamMessage;

EventRecord Event(const std::string& kind, const std::string& spec, const std::string& from,
                  const std::string& to, const std::string& task = "") {
  EventRecord e;
  e.at_ms = 1'780'000'000'000;
  e.kind = kind;
  e.spec_id = spec;
  e.task_id = task;
  e.path = ".agents/specs/active/" + spec + ".yaml";
  e.from = from;
  e.to = to;
  e.actor = "ana@example.com";
  e.trace_id = "00112233aabbccdd";
  return e;
}

TEST(BusMessageTest, EachEventKindHasItsSubject) {
  struct Row {
    EventRecord e;
    std::string tail;
  };
  const std::vector<Row> rows = {
      {Event("registered", "s", "", "draft"), "specs.created"},
      {Event("transition", "s", "draft", "review"), "specs.updated"},
      {Event("transition", "s", "in-progress", "diff-submitted"), "specs.diff-submitted"},
      {Event("transition", "s", "in-progress", "failed"), "specs.failed"},
      {Event("transition", "s", "reviewed", "completed"), "specs.completed"},
      {Event("claimed", "s", "pending", "in-progress", "t1"), "specs.task-assigned"},
      {Event("submitted", "s", "in-progress", "diff-submitted", "t1"), "specs.task-completed"},
      {Event("task-failed", "s", "in-progress", "pending", "t1"), "specs.failed"},
      {Event("refused", "s", "draft", "approved"), "specs.updated"},
      {Event("invalid", "s", "", ""), "specs.updated"},
      {Event("waiting", "s", "planning", ""), "specs.updated"},
      {Event("archived", "s", "", ""), "specs.updated"},
      {Event("removed", "s", "", ""), "specs.updated"},
      {Event("expired", "s", "in-progress", "pending", "t1"), "specs.updated"},
      {Event("released", "s", "in-progress", "pending", "t1"), "specs.updated"},
  };
  for (const Row& r : rows) EXPECT_EQ(EventSubjectTail(r.e), r.tail) << r.e.kind << " -> " << r.e.to;
  EXPECT_EQ(BusSubject("", "specs.created"), "specs.created");
  EXPECT_EQ(BusSubject("acme.prod", "specs.created"), "acme.prod.specs.created");
  EXPECT_EQ(EventStreamName(""), "SPECD_EVENTS");
  EXPECT_EQ(EventStreamName("acme.prod"), "SPECD_EVENTS_acme_prod");
  EXPECT_EQ(EventStreamSubjects("acme"), std::vector<std::string>{"acme.specs.>"});
}

TEST(BusMessageTest, PayloadCarriesTheEventAndReadsBack) {
  EventRecord e = Event("claimed", "spec-2026-01-01-001", "pending", "in-progress", "t1");
  e.seq = 42;
  e.reason = "lease 3";
  EXPECT_EQ(
      EventPayload(e, "shop"),
      R"({"repo":"shop","seq":42,"at":"2026-05-28T20:26:40Z","kind":"claimed",)"
      R"("spec":"spec-2026-01-01-001","task":"t1","path":".agents/specs/active/spec-2026-01-01-001.yaml",)"
      R"("from":"pending","to":"in-progress","actor":"ana@example.com","reason":"lease 3",)"
      R"("trace":"00112233aabbccdd"})");
  EXPECT_EQ(EventMsgId(e, "shop"), "shop/spec-2026-01-01-001/42");
  std::optional<BusEvent> back = ParseEventPayload(EventPayload(e, "shop"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->repo, "shop");
  EXPECT_EQ(back->event, e);
  EventRecord own = Event("registered", "s", "", "draft");
  EXPECT_NE(EventPayload(own, "shop").find(R"("task":null)"), std::string::npos);
  EXPECT_FALSE(ParseEventPayload("not json"));
  EXPECT_FALSE(ParseEventPayload(R"({"seq":1})"));
}

TEST(BusMessageTest, RepoIdAndBusConfigFromTheSettings) {
  EXPECT_EQ(RepoIdOf("/home/ana/shop"), "shop");
  EXPECT_EQ(RepoIdOf("/home/ana/my shop.git/"), "my-shop-git");
  EXPECT_EQ(RepoIdOf("/"), "repo");
  RepoSettings s;
  s.repo_id = "shop";
  EXPECT_FALSE(BusConfigFor(s, "/r", ""));
  std::optional<BusConfig> over = BusConfigFor(s, "/r", "nats://h:1");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->url, "nats://h:1");
  EXPECT_EQ(over->repo_id, "shop");
  s.nats = RepoSettings::Nats{"nats://a:4222", "acme", "ci/specd.creds"};
  std::optional<BusConfig> set = BusConfigFor(s, "/r", "");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->url, "nats://a:4222");
  EXPECT_EQ(set->subject_prefix, "acme");
  EXPECT_EQ(set->credentials_file, "/r/ci/specd.creds");
}

TEST(BusMessageTest, TaskRequestsAndAnswersReadBack) {
  // A diff of a Latin-1 file: not UTF-8, every byte kept.
  const std::string patch = "diff --git a/x b/x\n+caf\xe9 \xff\x00 end\n";
  TaskRequest r{"id1", "w1", "spec-1", "TASK-001", "tok", "", "", patch, ""};
  r.repo = "shop";
  for (size_t cut = 0; cut < 3; ++cut) {  // each base64 padding
    r.patch = patch.substr(0, patch.size() - cut);
    std::optional<TaskRequest> back = DecodeRequest(EncodeRequest(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->patch, r.patch);
  }
  std::optional<TaskRequest> back = DecodeRequest(EncodeRequest(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, "id1");
  EXPECT_EQ(back->token, "tok");
  EXPECT_EQ(back->repo, "shop");
  EXPECT_FALSE(DecodeRequest(R"({"patch64":"a"})"));
  EXPECT_FALSE(DecodeRequest("[1]"));
  EXPECT_EQ(TaskVerbSubject("acme", "shop", "next"), "acme.specd.shop.next");
  EXPECT_EQ(HeartbeatSubject("", "w1"), "heartbeat.w1");
  EXPECT_EQ(HeartbeatSubject("p", "box.example.com-42 *>"), "p.heartbeat.box.example.com-42___");

  TaskAnswer a;
  a.reply.lease = LeaseRecord{"spec-1", "TASK-001", 2, "w1", "tok", std::string(40, 'a'), 10, 20, 0, "", ""};
  a.reply.files = {"src/a.c"};
  a.reply.title = "Task one";
  a.brief = AttemptBrief{"id: spec-1\n", "trace", "none\n", 2};
  Result<TaskAnswer> read = DecodeAnswer(EncodeAnswer(a));
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->error);
  EXPECT_EQ(read->reply.lease, a.reply.lease);
  EXPECT_EQ(read->reply.files, a.reply.files);
  ASSERT_TRUE(read->brief);
  EXPECT_EQ(read->brief->spec_bytes, "id: spec-1\n");
  EXPECT_EQ(read->brief->attempt, 2);

  TaskAnswer refused;
  refused.error = Error{"the journal is busy", ErrorCode::kBusy};
  Result<TaskAnswer> err = DecodeAnswer(EncodeAnswer(refused));
  ASSERT_TRUE(err.ok());
  ASSERT_TRUE(err->error);
  EXPECT_EQ(err->error->code, ErrorCode::kBusy);
  EXPECT_EQ(err->error->message, "the journal is busy");
  EXPECT_FALSE(DecodeAnswer("{}").ok());
}

// A broker that hands out a new lease on each Next: how many claims the
// service made is what the test reads.
class CountingBroker : public TaskBroker {
 public:
  Result<TaskReply> Next(const std::string& worker, const std::string&) override {
    TaskReply r;
    r.lease = LeaseRecord{"spec-1", "TASK-001", ++claims, worker, "tok" + std::to_string(claims), "", 0,
                          0,        0,          "",       ""};
    return r;
  }
  Result<TaskReply> Heartbeat(const LeaseRecord&) override { return TaskReply{}; }
  Result<TaskReply> Submit(const LeaseRecord&, const std::string&) override { return TaskReply{}; }
  Result<TaskReply> Fail(const LeaseRecord&, const std::string&, const std::string&) override {
    return TaskReply{};
  }
  Result<TaskReply> Release(const LeaseRecord&, const std::string&) override { return TaskReply{}; }
  Result<AttemptBrief> Brief(const TaskReply&) override { return Error{"no spec file"}; }
  int64_t EarliestExpiry() override { return 0; }
  int claims = 0;
};

// A request made again with the same id (its reply lost) is answered as
// the first was, not claimed again; another repository's is not answered.
TEST(TaskServiceTest, ARepeatedRequestIdIsAnsweredAgainAndAnotherRepositorysIsLeft) {
  NatsServer server;
  NatsConfig config;
  config.url = server.url();
  config.background_connect = false;
  Result<std::unique_ptr<NatsConn>> conn = NatsConn::Connect(config);
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  CountingBroker broker;
  Result<std::unique_ptr<TaskService>> service = TaskService::Start(conn->get(), &broker, {"shop", ""});
  ASSERT_TRUE(service.ok()) << service.error().message;
  TaskRequest r;
  r.id = "req-1";
  r.worker = "w1";
  r.repo = "shop";
  const std::string first = (*service)->Answer("next", EncodeRequest(r));
  EXPECT_EQ((*service)->Answer("next", EncodeRequest(r)), first);
  EXPECT_EQ(broker.claims, 1);
  Result<TaskAnswer> a = DecodeAnswer(first);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->reply.lease.epoch, 1);
  EXPECT_EQ(a->brief_error, "no spec file");  // the claim stands; the worker hears why it cannot work on it
  r.id = "req-2";
  EXPECT_NE((*service)->Answer("next", EncodeRequest(r)), first);
  EXPECT_EQ(broker.claims, 2);
  r.id = "req-3";
  r.repo = "other";
  EXPECT_EQ((*service)->Answer("next", EncodeRequest(r)), "");
  EXPECT_EQ(broker.claims, 2);
  EXPECT_NE((*service)->Answer("next", "not json").find(R"("code":"invalid")"), std::string::npos);
}

// A journal with events in it, and a publisher of it to a real server.
class NatsPublisherTest : public ::testing::Test {
 protected:
  NatsPublisherTest() {
    Result<std::unique_ptr<specd::Journal>> j = specd::Journal::Open(dir_ / "journal.db");
    EXPECT_TRUE(j.ok()) << j.error().message;
    if (j.ok()) journal_ = std::move(*j);
  }

  // `n` events for specs a..: registered, then a transition each.
  void AddEvents(int n, int first = 0) {
    JournalBatch b;
    for (int i = first; i < first + n; ++i) {
      const std::string spec = "spec-" + std::to_string(i % 3);
      b.events.push_back(i % 2 == 0 ? Event("registered", spec, "", "draft")
                                    : Event("transition", spec, "draft", "review"));
    }
    ASSERT_TRUE(journal_->Apply(b).ok());
  }

  std::unique_ptr<EventPublisher> Publisher(const std::string& url) {
    PublisherOptions o;
    o.journal_path = dir_ / "journal.db";
    o.repo_id = "shop";
    o.nats.url = url;
    o.nats.reconnect_wait_ms = 100;
    o.page = 7;  // several batches
    o.ack_wait_ms = 2000;
    Result<std::unique_ptr<EventPublisher>> p = EventPublisher::Open(o);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? std::move(*p) : nullptr;
  }

  // The journal's events as the stream must hold them: msg id, subject.
  std::vector<std::string> Expected() {
    std::vector<std::string> out;
    Result<std::vector<EventRecord>> events = journal_->EventsAfter(0, 100000);
    for (const EventRecord& e : *events) out.push_back(EventMsgId(e, "shop") + " " + EventSubjectTail(e));
    return out;
  }
  static std::vector<std::string> Held(const std::vector<StreamMessage>& messages) {
    std::vector<std::string> out;
    for (const StreamMessage& m : messages) out.push_back(m.msg_id + " " + m.subject);
    return out;
  }

  static int64_t Drained(EventPublisher* p) {
    Result<int64_t> n = p->DrainOnce();
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n.ok() ? *n : -1;
  }

  // Waits (with a hang guard, not a timing assertion) until DrainOnce works.
  int64_t DrainWhenUp(EventPublisher* p) {
    for (int i = 0; i < 600; ++i) {
      Result<int64_t> n = p->DrainOnce();
      if (n.ok()) return *n;
      EXPECT_EQ(n.error().code, ErrorCode::kBusy) << n.error().message;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the publisher never reached the server";
    return -1;
  }

  testing::TempDir dir_{"specd-bus"};
  std::unique_ptr<specd::Journal> journal_;
};

TEST_F(NatsPublisherTest, EveryEventOnceInJournalOrderAndARepublishIsDropped) {
  NatsServer server;
  AddEvents(20);
  std::unique_ptr<EventPublisher> p = Publisher(server.url());
  ASSERT_TRUE(p);
  EXPECT_EQ(DrainWhenUp(p.get()), 20);
  EXPECT_EQ(*journal_->OutboxSeq(p->sink()), 20);
  EXPECT_EQ(Drained(p.get()), 0);  // nothing waits
  std::vector<StreamMessage> held = ReadStream(server.url(), "SPECD_EVENTS", "specs.>");
  EXPECT_EQ(Held(held), Expected());
  std::optional<BusEvent> first = ParseEventPayload(held.at(0).data);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->event, journal_->EventsAfter(0, 1)->at(0));

  // A crash after JetStream stored a batch and before the outbox moved: the
  // batch goes out again, and the server's duplicate window drops it.
  testing::RawDb(dir_ / "journal.db").Exec("UPDATE outbox SET seq = 5");
  AddEvents(3, 20);
  EXPECT_EQ(Drained(p.get()), 18);
  EXPECT_EQ(Held(ReadStream(server.url(), "SPECD_EVENTS", "specs.>")), Expected());
  EXPECT_EQ(Expected().size(), 23u);
}

TEST_F(NatsPublisherTest, AServerKilledAndRestartedOnItsStoreLosesAndDoublesNothing) {
  NatsServer server;
  std::unique_ptr<EventPublisher> p = Publisher(server.url());
  ASSERT_TRUE(p);
  AddEvents(10);
  EXPECT_EQ(DrainWhenUp(p.get()), 10);
  server.Kill();
  AddEvents(10, 10);  // journaled while the server is away: they wait
  for (int i = 0; i < 3; ++i) {
    Result<int64_t> down = p->DrainOnce();
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.error().code, ErrorCode::kBusy) << down.error().message;
  }
  EXPECT_EQ(*journal_->OutboxSeq(p->sink()), 10);
  server.Start();
  EXPECT_EQ(DrainWhenUp(p.get()), 10);
  EXPECT_EQ(Held(ReadStream(server.url(), "SPECD_EVENTS", "specs.>")), Expected());
}

TEST_F(NatsPublisherTest, TheThreadPublishesWhatAnyProcessJournals) {
  NatsServer server;
  std::unique_ptr<EventPublisher> p = Publisher(server.url());
  ASSERT_TRUE(p);
  p->Start();
  AddEvents(5);
  // Another connection to the journal, as a CLI verb would write.
  Result<std::unique_ptr<specd::Journal>> other = specd::Journal::Open(dir_ / "journal.db");
  ASSERT_TRUE(other.ok());
  JournalBatch b;
  b.events.push_back(Event("claimed", "spec-9", "pending", "in-progress", "t1"));
  ASSERT_TRUE((*other)->Apply(b).ok());
  for (int i = 0; i < 600 && *journal_->OutboxSeq(p->sink()) < 6; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  p->Stop();
  std::vector<StreamMessage> held = ReadStream(server.url(), "SPECD_EVENTS", "specs.>");
  EXPECT_EQ(Held(held), Expected());
  ASSERT_EQ(held.size(), 6u);
  EXPECT_EQ(held[5].subject, "specs.task-assigned");
}

}  // namespace
}  // namespace specd
