#include "cli/commands.h"

// specd (built with SPECD_FRONT) links neither libgit2 nor the watcher's
// libraries: the commands marked GIT have no setup there and run in
// specd-git (hand_over.h); their names and help are listed all the same.
// specd-hook (SPECD_HOOK), what the installed hooks run, has `hook` and
// `audit` (whose report pre-receive prints) and the engine's commands.
#if defined(SPECD_FRONT)
#define GIT(setup) nullptr
#define HOOK(setup) nullptr
#elif defined(SPECD_HOOK)
#define GIT(setup) nullptr
#define HOOK(setup) setup
#else
#define GIT(setup) setup
#define HOOK(setup) setup
#endif

namespace specd::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"watch", "Watch the spec folder and act on every change as it happens", GIT(SetupWatch)},
      {"validate", "Check spec files against the schema and the spec rules", SetupValidate},
      {"new", "Create a spec from a template under the next free id", SetupNew},
      {"status", "Specs by state, with errors, and where the journal is", SetupStatus},
      {"show", "One spec: status, tasks, errors", SetupShow},
      {"log", "A spec's transitions and refused changes", SetupLog},
      {"events", "The event log of every spec, in order (from NATS when configured); --follow keeps printing",
       GIT(SetupEvents)},
      {"reconcile", "Bring journal and files into line once, then exit", SetupReconcile},
      {"failures", "Recorded failures most like a description", SetupFailures},
      {"service", "Install, remove or inspect the systemd user unit running specd watch", GIT(SetupService)},
      {"hooks", "Install, remove or show specd's git hooks", GIT(SetupHooks)},
      {"hook", "Run as a git hook: check staged specs, journal what git brought in", HOOK(SetupHook)},
      {"audit", "Check that every approval in the history was committed by a person holding the role",
       HOOK(SetupAudit)},
      {"gates", "Run the gates on a spec's submitted work as it would land on the target branch",
       GIT(SetupGates)},
      {"merge", "Land reviewed specs on the target branch, one squash commit each, in review order",
       GIT(SetupMerge)},
      {"worker", "Run a coding agent on each ready task, each in a worktree of its own", GIT(SetupWorker)},
      {"config", "The repository's settings (.agents/specd.yaml) and where each came from", SetupConfig},
      {"schema", "Print the JSON Schema built into specd", SetupSchema},
  };
  return commands;
}

#ifdef SPECD_FRONT
bool IsFront() {
  return true;
}
#else
bool IsFront() {
  return false;
}
#endif

}  // namespace specd::cli
