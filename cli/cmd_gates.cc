// specd gates ID [--json] [--if-needed]: the spec's submitted work checked
// the way it would land (issue 13): the candidate (the target branch's tip
// with the spec's stack applied, in a temporary worktree) and each gate
// configured at the tip, run by pipeline/spec_gates.h. A gate that does not
// pass sends the submitted tasks back to pending (an attempt counted, the
// log's tail as the failure): exit 1. `--if-needed` (what specd watch runs)
// runs nothing when every gate already passed on this candidate.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "engine/events.h"
#include "pipeline/git_workspace.h"
#include "pipeline/spec_gates.h"

namespace specd::cli {

namespace {

struct GatesArgs {
  RepoOptions repo;
  std::string id;
  bool no_events = false;  // specd watch's children: the watch prints the events from the journal
  bool if_needed = false;
};

std::FILE* out_for(const GatesArgs& args) {
  return args.repo.json ? stderr : stdout;
}

int Fail(const std::string& message) {
  PrintLine(stderr, "specd gates: " + message);
  return kExitUsage;
}

int RunGates(const GatesArgs& args) {
  if (args.id.empty()) {
    std::fprintf(stderr, "specd gates: a spec id is required (spec-YYYY-MM-DD-NNN)\n");
    return kExitUsage;
  }
  std::unique_ptr<Context> ctx = OpenTaskContext(args.repo, "gates");
  if (!ctx) return kExitUsage;
  auto* workspace = dynamic_cast<pipeline::GitWorkspace*>(ctx->workspace.get());
  if (!workspace) return Fail(ctx->root + " is not a git repository; gates run on git commits");
  if (Result<PassReport> pass = ctx->engine->ReconcileSpec(args.id); !pass.ok())
    return Fail(pass.error().message);
  Result<std::optional<SpecRecord>> rec = ctx->journal->GetSpec(args.id);
  if (!rec.ok()) return Fail(rec.error().message);
  if (!*rec || (*rec)->removed) return Fail("no spec " + args.id + " in " + ctx->root + "/.agents/specs/");
  const SpecRecord record = **rec;
  if (record.status != "diff-submitted" && record.status != "reviewed") {
    PrintLine(stderr, "specd gates: " + args.id + " is " +
                          (record.status.empty() ? "invalid" : record.status) +
                          "; gates run on a spec whose work is submitted (diff-submitted or reviewed)");
    return kExitInvalid;
  }
  EventLines sink(args.no_events ? nullptr : out_for(args));
  ctx->engine->AddSink(&sink);
  pipeline::SpecGatesOptions options;
  options.out = out_for(args);
  options.if_needed = args.if_needed;
  options.stop = StopOnSignals();
  Result<pipeline::SpecGatesReport> r =
      pipeline::RunSpecGates(*ctx->engine, *ctx->journal, *workspace, record, options);
  if (!r.ok()) return Fail(r.error().message);
  const std::string where = r->candidate.Where();
  nlohmann::ordered_json json{{"spec", args.id},
                              {"branch", r->candidate.branch},
                              {"tip", r->candidate.tip},
                              {"candidate", r->candidate.tree},
                              {"gates", nlohmann::ordered_json::array()},
                              {"passed", r->passed}};
  for (const pipeline::GateReport& g : r->gates) {
    json["gates"].push_back({{"name", g.name},
                             {"outcome", g.outcome},
                             {"exitCode", g.exit_code},
                             {"durationMs", g.duration_ms},
                             {"why", g.why},
                             {"log", g.log}});
  }
  if (r->passed) {
    PrintLine(options.out,
              "every gate passed on " + where + "; `specd approve " + args.id + "` may go ahead");
  } else if (r->sent_back && !r->sent_back->allowed) {
    PrintLine(stderr, "specd gates: the work was not sent back: " + r->sent_back->reason);
  }
  if (args.repo.json) {
    std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  return r->passed ? kExitOk : kExitInvalid;
}

}  // namespace

Run SetupGates(CLI::App* sub) {
  auto args = std::make_shared<GatesArgs>();
  AddRepoOptions(sub, &args->repo, true);
  sub->add_option("id", args->id, "Spec id (spec-YYYY-MM-DD-NNN), required");
  sub->add_flag("--no-events", args->no_events)->group("");  // for specd watch's git manager
  sub->add_flag("--if-needed", args->if_needed,
                "Run nothing when every gate already passed on this candidate (what specd watch asks)");
  return [args] { return RunGates(*args); };
}

}  // namespace specd::cli
