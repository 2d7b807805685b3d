// `specd watch --nats` and `specd events` as processes, with a real
// nats-server that is not there at the start, then killed and started again
// on its store: the watcher journals all the while, says so once per
// outage, and the stream ends up holding every journaled event once, in
// journal order.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_message.h"
#include "engine/settings.h"
#include "tests/nats_util.h"
#include "tests/process_util.h"
#include "tests/watch_util.h"

namespace specd {
namespace {

using testing::NatsServer;
using testing::Output;
using testing::ReadStream;
using testing::RunProcess;
using testing::SpecText;
using testing::StreamMessage;
using testing::WatchFixture;

const std::string kRegistered = ": registered at draft";
const std::string kAway = "is not reachable; ";

class NatsWatchTest : public WatchFixture {
 protected:
  void AddSpecs(int from, int to) {
    for (int i = from; i < to; ++i) testing::WriteFile(PathOf(testing::Id(i)), SpecText(testing::Id(i)));
  }
  // The journal's events as msg ids, which the stream must hold in this order.
  std::vector<std::string> JournalIds() {
    std::unique_ptr<Journal> j = OpenJournal();
    Result<std::vector<EventRecord>> events = j->EventsAfter(0, 100000);
    std::vector<std::string> out;
    for (const EventRecord& e : *events) out.push_back(EventMsgId(e, RepoIdOf(repo_.path())));
    return out;
  }
  static std::vector<std::string> StreamIds(const std::vector<StreamMessage>& held) {
    std::vector<std::string> out;
    for (const StreamMessage& m : held) out.push_back(m.msg_id);
    return out;
  }
  Output Events(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"events", "--repo", repo_.path(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return *RunProcess(repo_.path(), SPECD_BINARY, args);
  }
};

TEST_F(NatsWatchTest, AServerAwayAtStartAndKilledMidwayLosesAndDoublesNothing) {
  NatsServer server(/*start=*/false);
  AddSpecs(0, 3);
  std::unique_ptr<testing::WatchProcess> w = Start({"--nats", server.url()});
  w->WaitForCount(kRegistered, 3);
  w->WaitForCount(kAway, 1);

  server.Start();
  w->WaitForLine("is back: published 3 waiting events");

  server.Kill();
  AddSpecs(3, 6);  // the watcher goes on journaling while the server is away
  w->WaitForCount(kRegistered, 6);
  w->WaitForCount(kAway, 2);
  std::this_thread::sleep_for(std::chrono::seconds(5));  // the outage the issue asks for
  AddSpecs(6, 8);
  w->WaitForCount(kRegistered, 8);
  server.Start();
  w->WaitForLine("is back: published 5 waiting events");
  Stop(w.get());
  EXPECT_EQ(w->Count(kAway), 2u) << w->output();  // once per outage

  std::vector<std::string> journaled = JournalIds();
  ASSERT_EQ(journaled.size(), 8u);
  EXPECT_EQ(StreamIds(ReadStream(server.url(), "SPECD_EVENTS", "specs.>")), journaled);

  // specd events reads the stream when NATS is configured; the same lines
  // as the journal's.
  Output from_journal = Events({"--journal"});
  ASSERT_EQ(from_journal.exit_code, 0) << from_journal.err;
  Output from_stream = Events({"--nats", server.url()});
  ASSERT_EQ(from_stream.exit_code, 0) << from_stream.err;
  EXPECT_EQ(from_stream.err, "");
  EXPECT_EQ(from_stream.out, from_journal.out);
  Output since = Events({"--nats", server.url(), "--since", "6"});
  EXPECT_EQ(std::count(since.out.begin(), since.out.end(), '\n'), 2) << since.out;

  // Without the server: the journal, and a line saying why.
  server.Kill();
  Output fallback = Events({"--nats", server.url()});
  ASSERT_EQ(fallback.exit_code, 0) << fallback.err;
  EXPECT_NE(fallback.err.find("; reading the journal"), std::string::npos) << fallback.err;
  EXPECT_EQ(fallback.out, from_journal.out);
}

}  // namespace
}  // namespace specd
