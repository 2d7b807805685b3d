#include "pipeline/spec_gates.h"

#include <unistd.h>

#include "engine/gates.h"
#include "pipeline/candidate_worktree.h"
#include "pipeline/gate_runner.h"
#include "pipeline/squash_merge.h"

namespace specd::pipeline {

namespace {

constexpr int64_t kDefaultTimeoutSeconds = 1800;
constexpr int64_t kDefaultQuietSeconds = 600;

void Say(std::FILE* out, const std::string& line) {
  std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
}

// Whether every gate already passed on this candidate (the journal's runs).
Result<bool> AlreadyPassed(Journal& journal, const std::string& spec_id, const Candidate& c) {
  Result<std::vector<GateRunRecord>> runs = journal.GateRuns(spec_id, c.tree);
  if (!runs.ok()) return runs.error();
  std::vector<std::string> names;
  for (const RepoSettings::Gate& g : c.gates) names.push_back(g.name);
  return JudgeGates(names, *runs, spec_id, c.Where()).pass;
}

GateCommand CommandOf(const RepoSettings::Gate& g) {
  GateCommand command;
  command.name = g.name;
  command.run = g.run;
  command.timeout_ms = g.timeout_seconds.value_or(kDefaultTimeoutSeconds) * 1000;
  command.quiet_ms = g.quiet_seconds.value_or(kDefaultQuietSeconds) * 1000;
  return command;
}

}  // namespace

Result<SpecGatesReport> RunSpecGates(SpecEngine& engine, Journal& journal, GitWorkspace& workspace,
                                     const SpecRecord& record, const SpecGatesOptions& options) {
  const std::string& id = record.id;
  std::FILE* out = options.out;
  Result<std::vector<StackedPatch>> stack = engine.SpecStack(id);
  if (!stack.ok()) return stack.error();
  Result<Candidate> candidate = workspace.MakeCandidate(*stack);
  if (!candidate.ok()) return candidate.error();
  SpecGatesReport report;
  report.candidate = *candidate;
  const std::string where = candidate->Where();
  if (candidate->gates.empty()) {
    Say(out, "no gates are configured at " + where + " (.agents/specd.yaml `gates`); nothing to run");
    report.passed = true;
    return report;
  }
  if (options.if_needed) {
    Result<bool> already = AlreadyPassed(journal, id, *candidate);
    if (!already.ok()) return already.error();
    if (*already) {
      Say(out, "every gate already passed on " + where + " with the submitted diffs");
      report.passed = report.already = true;
      return report;
    }
  }
  std::vector<StackedDiff> diffs;
  for (const StackedPatch& p : *stack) diffs.push_back({p.task_id, p.patch});
  Result<std::string> commit = CandidateCommit(workspace.repo(), candidate->tip, diffs, id);
  if (!commit.ok()) return commit.error();
  report.commit = *commit;
  Result<std::unique_ptr<CandidateWorktree>> wt = CandidateWorktree::Create(workspace.repo(), id, *commit);
  if (!wt.ok()) return wt.error();
  Say(out, "candidate " + commit->substr(0, 7) + ": " + where + " with " + std::to_string(stack->size()) +
               " submitted diff(s), in " + (*wt)->path());
  const std::string logs = workspace.repo().common_dir() + "/specd/logs/" + id + "/" + record.trace_id;
  std::optional<GateResult> failed;
  for (const RepoSettings::Gate& g : candidate->gates) {
    GateRunOptions run;
    run.workdir = (*wt)->path();
    run.log_path = logs + "/" + g.name + ".log";
    run.env = {{"SPECD_SPEC", id}, {"SPECD_TRACE", record.trace_id}};
    run.stream_fd = ::fileno(out);
    run.stop = options.stop;
    std::fflush(out);
    Result<GateResult> r = RunGate(CommandOf(g), run);
    if (!r.ok()) return Error{"gate " + g.name + ": " + r.error().message, r.error().code};
    const std::string outcome = GateOutcomeName(r->outcome);
    JournalBatch batch;
    batch.gate_runs.push_back(GateRunRecord{0, id, record.trace_id, candidate->tip, candidate->tree, g.name,
                                            outcome, r->exit_code, r->duration_ms, r->log_path, r->why,
                                            Env::Default()->NowMillis()});
    if (Status s = journal.Apply(batch); !s.ok()) return s.error();
    Say(out, "gate " + g.name + ": " + outcome + (r->why.empty() ? "" : " (" + r->why + ")") + " in " +
                 std::to_string(r->duration_ms) + " ms; log " + r->log_path);
    report.gates.push_back({g.name, outcome, r->why, r->log_path, r->exit_code, r->duration_ms});
    if (r->outcome != GateOutcome::kPass) {
      failed = std::move(*r);
      break;
    }
  }
  if (Status s = (*wt)->Remove(); !s.ok()) Say(stderr, "specd: " + s.error().message);
  report.passed = !failed;
  if (report.passed) return report;
  // The failed gate sends the work back, its log's tail as the failure.
  report.failed_reason = "gate " + failed->name + " " + GateOutcomeName(failed->outcome) + " on " + where +
                         (failed->why.empty() ? "" : " (" + failed->why + ")");
  Result<Decision> d = engine.RequestTransition(id, SpecState::kInProgress, Actor{"specd", Role::kEngine},
                                                report.failed_reason, {}, failed->tail);
  if (!d.ok()) return d.error();
  report.sent_back = *d;
  return report;
}

}  // namespace specd::pipeline
