// specd log ID: the spec's transitions and refused changes, oldest first.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"

namespace specd::cli {

Run SetupLog(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  auto id = std::make_shared<std::string>();
  AddRepoOptions(sub, repo.get(), true);
  sub->add_option("id", *id, "Spec id")->required();
  return [repo, id] {
    std::unique_ptr<Context> ctx = OpenReconciled(*repo, "log");
    if (!ctx) return kExitUsage;
    if (ctx->no_specs) {
      PrintLine(stderr, "specd log: no spec " + *id + " in the journal");
      return kExitUsage;
    }
    Result<std::vector<TransitionRecord>> ts = ctx->journal->Transitions(*id);
    Result<std::vector<RefusalRecord>> rs = ctx->journal->Refusals(*id);
    if (!ts.ok() || !rs.ok()) {
      PrintLine(stderr, "specd log: " + (!ts.ok() ? ts.error() : rs.error()).message);
      return kExitUsage;
    }
    if (ts->empty() && rs->empty()) {
      PrintLine(stderr, "specd log: no spec " + *id + " in the journal");
      return kExitUsage;
    }
    struct Row {
      int64_t at;
      int64_t seq;
      std::string text;
      nlohmann::ordered_json json;
    };
    std::vector<Row> rows;
    for (const TransitionRecord& t : *ts) {
      std::string arrow = t.from.empty() ? "registered at " + t.to : t.from + " -> " + t.to;
      std::string text = "#" + std::to_string(t.seq) + "  " + FormatTimestamp(t.at_ms) + "  " + arrow +
                         "  by " + t.actor + (t.reason.empty() ? "" : ": " + t.reason) + "  [trace " +
                         t.trace_id + "]";
      rows.push_back({t.at_ms,
                      t.seq,
                      text,
                      {{"kind", "transition"},
                       {"seq", t.seq},
                       {"at", FormatTimestamp(t.at_ms)},
                       {"actor", t.actor},
                       {"from", t.from},
                       {"to", t.to},
                       {"reason", t.reason},
                       {"trace", t.trace_id},
                       {"contentHash", t.content_hash}}});
    }
    for (const RefusalRecord& r : *rs) {
      std::string text = "    " + FormatTimestamp(r.at_ms) + "  refused " + r.from + " -> " + r.requested +
                         " by " + r.actor + ": " + r.reason;
      rows.push_back({r.at_ms,
                      INT64_MAX,
                      text,
                      {{"kind", "refused"},
                       {"at", FormatTimestamp(r.at_ms)},
                       {"actor", r.actor},
                       {"from", r.from},
                       {"requested", r.requested},
                       {"reason", r.reason}}});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.at < b.at; });
    if (repo->json) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const Row& r : rows) out.push_back(r.json);
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      for (const Row& r : rows) PrintLine(stdout, Printable(r.text));  // one row, one line
    }
    return kExitOk;
  };
}

}  // namespace specd::cli
