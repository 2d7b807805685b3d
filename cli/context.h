// What the engine verbs share: the repository found from --repo or the
// current directory, its journal opened, an engine over both.
#pragma once

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "engine/events.h"
#include "engine/journal.h"
#include "engine/settings.h"

namespace specd::cli {

// Each event the engine makes, as one line (DescribeEvent) on `out`;
// nothing when `out` is null (--json keeps its output to the JSON).
class EventLines : public EventSink {
 public:
  explicit EventLines(std::FILE* out) : out_(out) {}
  void OnEvent(const EngineEvent& e) override;

 private:
  std::FILE* out_;
};

struct RepoOptions {
  std::string repo;   // --repo
  bool json = false;  // --json
  std::string actor;  // --actor
};

struct Context {
  std::string root;
  std::string pass_error;  // OpenReconciled's pass failed: the journal is shown as it was
  // OpenForLooking only: no .agents/specs/ and no journal yet, and nothing
  // was created (`journal` and `engine` are null); the caller says so.
  bool no_specs = false;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<TaskWorkspace> workspace;  // the task verbs' git side (before the engine that uses it)
  std::unique_ptr<FactSource> landed;        // is a reviewed spec's squash commit on the target?
  std::unique_ptr<SpecEngine> engine;
};

// The repository, found as git finds it (FindRepoRoot) from --repo or the
// current directory, its spec tree checked (CheckSpecTree). Prints the
// reason to stderr and returns nullopt when there is none, when --repo is
// not a readable directory, or when the tree leads outside the repository.
std::optional<std::string> FindRoot(const RepoOptions& options);

// The engine's lease options (TTL, attempts) from the repository's settings.
EngineOptions LeaseOptions(const RepoSettings& settings);

// Prints the reason to stderr and returns nullptr when there is no
// repository or the journal cannot be opened.
std::unique_ptr<Context> OpenContext(const RepoOptions& options, const EngineOptions& engine_options = {});

// For the task verbs (next, claim, submit, ...): the repository's settings
// (.agents/specd.yaml: the lease TTL, the attempts) in the engine's options,
// and, in a git repository, the workspace that makes bases and checks diffs
// against the target branch. Prints the reason and returns nullptr when the
// settings are invalid or the target branch cannot be known. In specd, which
// has no git (hand_over.h), it hands the command over to specd-git: call it
// before reading standard input or printing anything.
std::unique_ptr<Context> OpenTaskContext(const RepoOptions& options, const char* verb);

// In a git repository: the workspace (bases, diffs, candidates on the
// settings' target branch) and the fact that a reviewed spec's squash commit
// has landed there (pipeline/landed.h), so a pass completes it. Nothing in
// a folder that is not a git repository. In specd, a git repository hands the
// command over to specd-git, as OpenTaskContext does.
Status AddGit(Context* ctx, const RepoSettings& settings);

// specd worker's task worktrees whose lease is not live (their worker was
// killed), removed, each named on `out` (pipeline/worker.h). Nothing where
// AddGit added no git.
Status PruneDeadWorktrees(Context* ctx, std::FILE* out);

// For the commands that only look (status, show, log, events, failures):
// OpenContext, then (when `reconcile`) one pass so they show the files as
// they are now. A pass that cannot write (a full disk) is said as "specd
// VERB: ..." and the journal is shown as it was. A journal that cannot be
// written at all (a read-only folder or file) is opened read-only, with no
// pass, and said once: "specd VERB: note: journal is read-only here; showing
// it as last written". No .agents/specs/ and no journal: Context::no_specs,
// nothing created. nullptr (the reason printed) only when there is no
// repository, or no journal can be read.
std::unique_ptr<Context> OpenForLooking(const RepoOptions& options, const char* verb, bool reconcile);
inline std::unique_ptr<Context> OpenReconciled(const RepoOptions& options, const char* verb) {
  return OpenForLooking(options, verb, true);
}

// The repository's settings (.agents/specd.yaml, LoadRepoSettings) with
// targetBranch resolved: when the file does not set it, the branch HEAD names
// (origin "HEAD"); nullopt when HEAD is detached or there is no git
// repository (the origin says which). In specd, the branch HEAD names is
// found by handing the command over to specd-git, as OpenTaskContext does.
Result<RepoSettings> LoadSettings(const std::string& root);

// SIGTERM, SIGINT and SIGHUP set the flag returned, through a handler
// without SA_RESTART (a wait returns EINTR and looks at it): what a long
// command (specd gates, specd merge) hands down, so a gate it runs is killed
// with it (the gate runs in a session of its own, out of reach of the
// signal sent to the command's group).
const volatile std::sig_atomic_t* StopOnSignals();

// Adds --repo (and --json when `json`) to a subcommand.
void AddRepoOptions(CLI::App* sub, RepoOptions* options, bool json);

// A CLI11 check: the text is a whole number from `lo` to `hi` (no sign, no
// wrap-around past 2^64), else "must be a whole number from LO to HI".
CLI::Validator WholeNumberIn(uint64_t lo, uint64_t hi);

// Who is acting: --actor, else $SPECD_ACTOR, else $USER, else "someone".
std::string ActorName(const RepoOptions& options);

}  // namespace specd::cli
