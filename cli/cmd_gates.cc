// specd gates ID [--json]: the spec's submitted work checked the way it
// would land (issue 13). The candidate is the target branch's tip with the
// spec's stack applied, checked out in a temporary worktree; each gate
// configured at the tip (.agents/specd.yaml there, never a spec's or the
// candidate's) runs in it, in order, stopping at the first that does not
// pass. Every run is journaled with the tip and the candidate's tree, so
// `specd approve` knows whether the gates passed on what would land now. A
// gate that does not pass sends the spec's submitted tasks back to pending
// (an attempt counted, the log's tail as the failure): exit 1.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "engine/events.h"
#include "pipeline/candidate_worktree.h"
#include "pipeline/gate_runner.h"
#include "pipeline/git_workspace.h"
#include "pipeline/squash_merge.h"

namespace specd::cli {

namespace {

constexpr int64_t kDefaultTimeoutSeconds = 1800;
constexpr int64_t kDefaultQuietSeconds = 600;

struct GatesArgs {
  RepoOptions repo;
  std::string id;
};

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
  Result<std::vector<StackedPatch>> stack = ctx->engine->SpecStack(args.id);
  if (!stack.ok()) return Fail(stack.error().message);
  Result<Candidate> candidate = workspace->MakeCandidate(*stack);
  if (!candidate.ok()) return Fail(candidate.error().message);
  const std::string where = candidate->Where();
  FILE* out = args.repo.json ? stderr : stdout;
  nlohmann::ordered_json json{{"spec", args.id},
                              {"branch", candidate->branch},
                              {"tip", candidate->tip},
                              {"candidate", candidate->tree},
                              {"gates", nlohmann::ordered_json::array()}};
  bool passed = true;
  std::optional<pipeline::GateResult> failed;
  if (candidate->gates.empty()) {
    PrintLine(out, "no gates are configured at " + where + " (.agents/specd.yaml `gates`); nothing to run");
  } else {
    std::vector<pipeline::StackedDiff> diffs;
    for (const StackedPatch& p : *stack) diffs.push_back({p.task_id, p.patch});
    Result<std::string> commit = pipeline::CandidateCommit(workspace->repo(), candidate->tip, diffs, args.id);
    if (!commit.ok()) return Fail(commit.error().message);
    Result<std::unique_ptr<pipeline::CandidateWorktree>> wt =
        pipeline::CandidateWorktree::Create(workspace->repo(), args.id, *commit);
    if (!wt.ok()) return Fail(wt.error().message);
    PrintLine(out, "candidate " + commit->substr(0, 7) + ": " + where + " with " +
                       std::to_string(stack->size()) + " submitted diff(s), in " + (*wt)->path());
    const std::string logs =
        workspace->repo().common_dir() + "/specd/logs/" + args.id + "/" + record.trace_id;
    for (const RepoSettings::Gate& g : candidate->gates) {
      pipeline::GateCommand command;
      command.name = g.name;
      command.run = g.run;
      command.timeout_ms = g.timeout_seconds.value_or(kDefaultTimeoutSeconds) * 1000;
      command.quiet_ms = g.quiet_seconds.value_or(kDefaultQuietSeconds) * 1000;
      pipeline::GateRunOptions options;
      options.workdir = (*wt)->path();
      options.log_path = logs + "/" + g.name + ".log";
      options.env = {{"SPECD_SPEC", args.id}, {"SPECD_TRACE", record.trace_id}};
      options.stream_fd = ::fileno(out);
      std::fflush(out);
      Result<pipeline::GateResult> r = pipeline::RunGate(command, options);
      if (!r.ok()) return Fail("gate " + g.name + ": " + r.error().message);
      const std::string outcome = pipeline::GateOutcomeName(r->outcome);
      JournalBatch batch;
      batch.gate_runs.push_back(GateRunRecord{0, args.id, record.trace_id, candidate->tip, candidate->tree,
                                              g.name, outcome, r->exit_code, r->duration_ms, r->log_path,
                                              r->why, Env::Default()->NowMillis()});
      if (Status s = ctx->journal->Apply(batch); !s.ok()) return Fail(s.error().message);
      PrintLine(out, "gate " + g.name + ": " + outcome + (r->why.empty() ? "" : " (" + r->why + ")") +
                         " in " + std::to_string(r->duration_ms) + " ms; log " + r->log_path);
      json["gates"].push_back({{"name", g.name},
                               {"outcome", outcome},
                               {"exitCode", r->exit_code},
                               {"durationMs", r->duration_ms},
                               {"why", r->why},
                               {"log", r->log_path}});
      if (r->outcome != pipeline::GateOutcome::kPass) {
        passed = false;
        failed = std::move(*r);
        break;
      }
    }
    if (Status s = (*wt)->Remove(); !s.ok()) PrintLine(stderr, "specd gates: " + s.error().message);
  }
  json["passed"] = passed;
  if (passed) {
    PrintLine(out, "every gate passed on " + where + "; `specd approve " + args.id + "` may go ahead");
  } else {
    // The failed gate sends the work back, its log's tail as the failure.
    EventLines sink(out);
    ctx->engine->AddSink(&sink);
    const std::string reason = "gate " + failed->name + " " + pipeline::GateOutcomeName(failed->outcome) +
                               " on " + where + (failed->why.empty() ? "" : " (" + failed->why + ")");
    Result<Decision> d = ctx->engine->RequestTransition(
        args.id, SpecState::kInProgress, Actor{"specd", Role::kEngine}, reason, {}, failed->tail);
    if (!d.ok()) return Fail(d.error().message);
    if (!d->allowed) PrintLine(stderr, "specd gates: the work was not sent back: " + d->reason);
  }
  if (args.repo.json) {
    std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  return passed ? kExitOk : kExitInvalid;
}

}  // namespace

Run SetupGates(CLI::App* sub) {
  auto args = std::make_shared<GatesArgs>();
  AddRepoOptions(sub, &args->repo, true);
  sub->add_option("id", args->id, "Spec id (spec-YYYY-MM-DD-NNN), required");
  return [args] { return RunGates(*args); };
}

}  // namespace specd::cli
