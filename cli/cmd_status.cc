// specd status: every spec by state, with errors, and where the journal is.
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "engine/events.h"

namespace specd::cli {

namespace {

nlohmann::ordered_json LeasesJson(const std::vector<LeaseRecord>& leases) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const LeaseRecord& l : leases) {
    out.push_back({{"task", l.task_id},
                   {"worker", l.worker},
                   {"epoch", l.epoch},
                   {"expiresAt", FormatTimestamp(l.expires_ms)}});
  }
  return out;
}

}  // namespace

Run SetupStatus(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  AddRepoOptions(sub, repo.get(), true);
  return [repo] {
    std::unique_ptr<Context> ctx = OpenReconciled(*repo, "status");
    if (!ctx) return kExitUsage;
    if (ctx->no_specs) {
      if (repo->json) {
        nlohmann::ordered_json out = {
            {"repository", ctx->root}, {"journal", nullptr}, {"specs", nlohmann::ordered_json::array()}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      } else {
        PrintLine(stdout, "repository: " + ctx->root + "\nno specs here (.agents/specs/ does not exist)");
      }
      return kExitOk;
    }
    Result<std::vector<SpecRecord>> specs = ctx->journal->ListSpecs();
    if (!specs.ok()) {
      PrintLine(stderr, "specd status: " + specs.error().message);
      return kExitUsage;
    }
    // Tasks held under a lease, by spec (the journal's: the file says only who).
    std::map<std::string, std::vector<LeaseRecord>> leases;
    if (Result<std::vector<LeaseRecord>> held = ctx->journal->HeldLeases(""); held.ok()) {
      for (LeaseRecord& l : *held) leases[l.spec_id].push_back(std::move(l));
    }
    // Workers on other machines (specd watch with NATS heard from them).
    std::vector<RemoteWorkerRecord> remote;
    if (Result<std::vector<RemoteWorkerRecord>> r = ctx->journal->RemoteWorkers(); r.ok())
      remote = std::move(*r);
    std::map<std::string, std::vector<LeaseRecord>> held_by;
    for (const auto& [spec, list] : leases)
      for (const LeaseRecord& l : list) held_by[l.worker].push_back(l);
    std::map<std::string, std::vector<const SpecRecord*>> by_state;
    for (const SpecRecord& s : *specs) by_state[s.errors.empty() ? s.status : "invalid"].push_back(&s);
    if (repo->json) {
      nlohmann::ordered_json out = {{"repository", ctx->root}, {"journal", ctx->journal->path()}};
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const SpecRecord& s : *specs) {
        list.push_back({{"id", s.id},
                        {"status", s.status},
                        {"path", s.path},
                        {"generation", s.generation},
                        {"valid", s.errors.empty()},
                        {"errors", s.errors},
                        {"leases", LeasesJson(leases[s.id])}});
      }
      out["specs"] = list;
      if (!remote.empty()) {
        nlohmann::ordered_json workers = nlohmann::ordered_json::array();
        for (const RemoteWorkerRecord& w : remote) {
          workers.push_back({{"name", w.name},
                             {"lastSeen", FormatTimestamp(w.last_seen_ms)},
                             {"lastRequest", w.last_verb},
                             {"leases", LeasesJson(held_by[w.name])}});
        }
        out["remoteWorkers"] = workers;
      }
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      return kExitOk;
    }
    PrintLine(stdout, "repository: " + ctx->root + "\njournal: " + ctx->journal->path());
    if (specs->empty() && ctx->pass_error.empty())
      std::printf("no specs yet (create one with `specd new`)\n");
    // Life-cycle order, then invalid last.
    for (int i = 0; i <= kSpecStateCount; ++i) {
      std::string state = i < kSpecStateCount ? StateName(static_cast<SpecState>(i)) : "invalid";
      auto it = by_state.find(state);
      if (it == by_state.end()) continue;
      std::printf("\n%s (%zu)\n", state.c_str(), it->second.size());
      for (const SpecRecord* s : it->second) {
        PrintLine(stdout, "  " + s->id + "  " + s->path);
        for (const LeaseRecord& l : leases[s->id]) {
          PrintLine(stdout, "    " + l.task_id + "  claimed by " + l.worker + ", lease epoch " +
                                std::to_string(l.epoch) + " until " + FormatTimestamp(l.expires_ms));
        }
        if (!s->errors.empty()) {
          std::string e = s->errors;
          size_t pos = 0;
          while (pos < e.size()) {
            size_t nl = e.find('\n', pos);
            if (nl == std::string::npos) nl = e.size();
            PrintLine(stdout, "    " + e.substr(pos, nl - pos));
            pos = nl + 1;
          }
        }
      }
    }
    if (!remote.empty()) std::printf("\nremote workers (%zu)\n", remote.size());
    for (const RemoteWorkerRecord& w : remote) {
      std::string line = "  " + w.name + "  last heard " + FormatTimestamp(w.last_seen_ms) + " (" +
                         w.last_verb + "), " + std::to_string(held_by[w.name].size()) + " task(s) held";
      for (const LeaseRecord& l : held_by[w.name]) line += "  " + l.spec_id + "/" + l.task_id;
      PrintLine(stdout, line);
    }
    return kExitOk;
  };
}

}  // namespace specd::cli
