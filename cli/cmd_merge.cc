// specd merge [ID] [--json]: the git manager's step (issue 13). A reviewed
// spec's stack lands on the target branch as one squash commit (message
// "ID: title", trailers Spec-Id, Trace-Id, Tasks, Reviewed-by); the spec is
// completed and archived. Without an id, every reviewed spec (and every one
// a merge blocked) is taken in the order they were reviewed. The work is
// pipeline/spec_merge.h's: gates re-run on a moved tip, a conflict or a
// dirty checkout blocks, nothing is ever pushed.
//
// Exit 0: every spec asked for landed (or had); 1: one did not (blocked,
// sent back, waiting, not reviewed); 2: usage and I/O errors.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "pipeline/git_workspace.h"
#include "pipeline/spec_merge.h"

namespace specd::cli {

namespace {

struct MergeArgs {
  RepoOptions repo;
  std::string id;
  bool no_events = false;  // specd watch's children: the watch prints the events from the journal
};

int RunMerge(const MergeArgs& args) {
  std::unique_ptr<Context> ctx = OpenTaskContext(args.repo, "merge");
  if (!ctx) return kExitUsage;
  auto* workspace = dynamic_cast<pipeline::GitWorkspace*>(ctx->workspace.get());
  if (!workspace) {
    PrintLine(stderr, "specd merge: " + ctx->root + " is not a git repository; a merge makes a git commit");
    return kExitUsage;
  }
  std::FILE* out = args.repo.json ? stderr : stdout;
  EventLines sink(args.no_events ? nullptr : out);
  ctx->engine->AddSink(&sink);
  std::vector<std::string> ids{args.id};
  if (args.id.empty()) {
    if (Result<PassReport> pass = ctx->engine->ReconcileAll(); !pass.ok()) {
      PrintLine(stderr, "specd merge: " + pass.error().message);
      return kExitUsage;
    }
    Result<std::vector<std::string>> queue = pipeline::MergeQueue(*ctx->journal);
    if (!queue.ok()) {
      PrintLine(stderr, "specd merge: " + queue.error().message);
      return kExitUsage;
    }
    ids = *queue;
    if (ids.empty()) PrintLine(out, "nothing to merge: no spec is reviewed");
  }
  nlohmann::ordered_json json = nlohmann::ordered_json::array();
  int exit_code = kExitOk;
  pipeline::MergeOptions options;
  options.out = out;
  options.stop = StopOnSignals();
  for (const std::string& id : ids) {
    Result<pipeline::MergeReport> r =
        pipeline::MergeSpec(*ctx->engine, *ctx->journal, *workspace, id, options);
    if (!r.ok()) {
      PrintLine(stderr, "specd merge: " + id + ": " + r.error().message);
      return kExitUsage;
    }
    const bool landed =
        r->outcome == pipeline::MergeOutcome::kLanded || r->outcome == pipeline::MergeOutcome::kAlreadyLanded;
    PrintLine(landed ? out : stderr, (landed ? "" : "specd merge: ") + r->message);
    if (!landed) exit_code = kExitInvalid;
    json.push_back({{"spec", id},
                    {"outcome", pipeline::MergeOutcomeName(r->outcome)},
                    {"branch", r->branch},
                    {"commit", r->commit},
                    {"paths", r->paths},
                    {"gateRuns", r->gate_runs},
                    {"message", r->message}});
  }
  if (args.repo.json) std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  return exit_code;
}

}  // namespace

Run SetupMerge(CLI::App* sub) {
  auto args = std::make_shared<MergeArgs>();
  AddRepoOptions(sub, &args->repo, true);
  sub->add_option("id", args->id,
                  "Spec id (spec-YYYY-MM-DD-NNN); none: every reviewed spec, in review order");
  sub->add_flag("--no-events", args->no_events)->group("");  // for specd watch's git manager
  return [args] { return RunMerge(*args); };
}

}  // namespace specd::cli
