// specd events: the journal's event log, every spec, in order. With
// --follow it keeps printing as any process (the watcher, a verb, a hook)
// journals more, like `tail -f`; --since SEQ resumes after a seq a script
// saw last. With NATS configured (the settings' `nats`, or --nats URL) it
// reads the stream SPECD_EVENTS instead, as a machine without the journal
// would; --journal reads the journal all the same.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bus/event_message.h"
#include "bus/stream_reader.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "engine/journal_changes.h"

namespace specd::cli {

namespace {

constexpr int kPage = 1000;
volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) {
  g_stop = 1;
}

void Print(const EventRecord& e, bool json) {
  if (json) {
    nlohmann::ordered_json j = {{"seq", e.seq},       {"at", FormatTimestamp(e.at_ms)},
                                {"kind", e.kind},     {"spec", e.spec_id},
                                {"task", e.task_id},  {"path", e.path},
                                {"from", e.from},     {"to", e.to},
                                {"actor", e.actor},   {"reason", e.reason},
                                {"trace", e.trace_id}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    std::cout << '#' << e.seq << "  " << FormatTimestamp(e.at_ms) << "  " << DescribeEvent(FromEventRecord(e))
              << '\n';
  }
}

// Prints every event after *seq; false when the journal cannot be read.
bool Drain(Journal* journal, int64_t* seq, bool json) {
  for (;;) {
    Result<std::vector<EventRecord>> rows = journal->EventsAfter(*seq, kPage);
    if (!rows.ok()) {
      std::fprintf(stderr, "specd events: %s\n", rows.error().message.c_str());
      return false;
    }
    for (const EventRecord& e : *rows) {
      Print(e, json);
      *seq = e.seq;
    }
    std::cout.flush();
    if (rows->size() < static_cast<size_t>(kPage)) return true;
  }
}

// Reads the stream; false (having said why) when it cannot, and the
// journal is read instead, after the last event printed (*since moves on):
// nothing published yet, or the server away.
bool FromStream(const BusConfig& bus, int64_t* since, bool follow, bool json) {
  NatsConfig config = NatsConfigOf(bus, "specd events " + bus.repo_id);
  config.background_connect = false;
  Result<std::unique_ptr<NatsConn>> conn = NatsConn::Connect(config);
  Status s = conn.ok() ? Status::Ok() : Status(conn.error());
  if (s.ok()) {
    StreamReadOptions options;
    options.repo_id = bus.repo_id;
    options.subject_prefix = bus.subject_prefix;
    options.since = *since;
    options.follow = follow;
    options.stop = [] { return g_stop != 0; };
    s = ReadEventStream(conn->get(), options, [&](const EventRecord& e) {
      Print(e, json);
      std::cout.flush();
      *since = std::max(*since, e.seq);
    });
    if (s.ok()) return true;
  }
  std::fprintf(stderr, "specd events: %s; reading the journal\n", s.error().message.c_str());
  return false;
}

}  // namespace

Run SetupEvents(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  auto since = std::make_shared<int64_t>(0);
  auto follow = std::make_shared<bool>(false);
  auto nats_url = std::make_shared<std::string>();
  auto journal_only = std::make_shared<bool>(false);
  AddRepoOptions(sub, repo.get(), true);
  sub->add_option("--nats", *nats_url,
                  "Read the event stream at this NATS URL, in place of the settings' nats.url");
  sub->add_flag("--journal", *journal_only, "Read the journal even when NATS is configured");
  sub->add_option("--since", *since, "Only events after this seq")->check(CLI::NonNegativeNumber);
  sub->add_flag("-f,--follow", *follow, "Keep printing events as they are journaled (until interrupted)");
  return [repo, since, follow, nats_url, journal_only] {
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    if (!*journal_only) {
      std::optional<std::string> root = FindRoot(*repo);
      if (!root) return kExitUsage;
      Result<RepoSettings> settings = LoadRepoSettings(*root);
      if (!settings.ok()) {
        std::fprintf(stderr, "specd events: %s\n", settings.error().message.c_str());
        return kExitUsage;
      }
      std::optional<BusConfig> bus = BusConfigFor(*settings, *root, *nats_url);
      if (bus && FromStream(*bus, since.get(), *follow, repo->json)) return kExitOk;
    }
    std::unique_ptr<Context> ctx = OpenForLooking(*repo, "events", false);
    if (!ctx) return kExitUsage;
    if (ctx->no_specs && !*follow) return kExitOk;  // no journal: no events, and none made
    if (ctx->no_specs && !(ctx = OpenContext(*repo))) return kExitUsage;  // to follow, one to watch
    int64_t seq = *since;
    if (!Drain(ctx->journal.get(), &seq, repo->json)) return kExitUsage;
    if (!*follow) return kExitOk;
    // Woken when the journal changes (a commit's WAL write, then short
    // re-looks until the commit shows), or every second where inotify is
    // not to be had.
    JournalChanges changes;
    const bool watching = changes.Start(ctx->journal->path()).ok();
    while (!g_stop) {
      if (watching) {
        changes.Wait(1000);
      } else {
        ::poll(nullptr, 0, 1000);
      }
      const int64_t before = seq;
      if (!g_stop && !Drain(ctx->journal.get(), &seq, repo->json)) break;
      changes.Found(seq != before);
    }
    return g_stop ? kExitOk : kExitUsage;
  };
}

}  // namespace specd::cli
