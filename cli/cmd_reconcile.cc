// specd reconcile: one pass bringing journal and files into line, then exit.
#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"

namespace specd::cli {

Run SetupReconcile(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  AddRepoOptions(sub, repo.get(), false);
  return [repo] {
    std::optional<std::string> root = FindRoot(*repo);
    if (!root) return kExitUsage;
    // The sweep of expired leases counts attempts against the settings'.
    // Unusable settings are said by the commands that need them; this pass
    // goes on with the defaults and without git.
    Result<RepoSettings> settings = LoadRepoSettings(*root);
    std::unique_ptr<Context> ctx =
        OpenContext(*repo, settings.ok() ? LeaseOptions(*settings) : EngineOptions());
    if (!ctx) return kExitUsage;
    // A reviewed spec whose squash commit is on the target is completed (a
    // merge killed after its commit landed).
    if (settings.ok()) {
      if (Status s = AddGit(ctx.get(), *settings); !s.ok())
        PrintLine(stderr, "specd reconcile: " + s.error().message);
    }
    Result<PassReport> pass = ctx->engine->ReconcileAll();
    if (!pass.ok()) {
      PrintLine(stderr, "specd reconcile: " + pass.error().message);
      return kExitUsage;
    }
    for (const EngineEvent& e : pass->events) PrintLine(stdout, DescribeEvent(e));
    // Leases past their expiry: the tasks go back to pending (or fail).
    EventLines printer(stdout);
    ctx->engine->AddSink(&printer);
    if (Result<size_t> swept = ctx->engine->SweepLeases(); !swept.ok()) {
      PrintLine(stderr, "specd reconcile: " + swept.error().message);
      return kExitUsage;
    }
    if (Status s = PruneDeadWorktrees(ctx.get(), stdout); !s.ok()) {
      PrintLine(stderr, "specd reconcile: " + s.error().message);
      return kExitUsage;
    }
    std::printf("%zu specs: %zu unchanged, %zu events\n", pass->files, pass->unchanged, pass->events.size());
    // One file that could not be reconciled does not stop the others.
    for (const PassReport::Failed& f : pass->failed) PrintLine(stderr, "specd reconcile: " + f.message);
    return pass->failed.empty() ? kExitOk : kExitUsage;
  };
}

}  // namespace specd::cli
