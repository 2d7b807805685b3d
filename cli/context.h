// What the engine verbs share: the repository found from --repo or the
// current directory, its journal opened, an engine over both.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "engine/journal.h"

namespace specd::cli {

struct RepoOptions {
  std::string repo;   // --repo
  bool json = false;  // --json
  std::string actor;  // --actor
};

struct Context {
  std::string root;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<SpecEngine> engine;
};

// The repository: --repo made canonical, else found from the current
// directory (FindRepoRoot). Prints the reason to stderr and returns nullopt
// when there is none.
std::optional<std::string> FindRoot(const RepoOptions& options);

// Prints the reason to stderr and returns nullptr when there is no
// repository or the journal cannot be opened.
std::unique_ptr<Context> OpenContext(const RepoOptions& options);

// OpenContext, then one reconcile pass so the verb sees the files as they are
// now. Errors are printed as "specd VERB: ..."; nullptr then.
std::unique_ptr<Context> OpenReconciled(const RepoOptions& options, const char* verb);

// Adds --repo (and --json when `json`) to a subcommand.
void AddRepoOptions(CLI::App* sub, RepoOptions* options, bool json);

// Who is acting: --actor, else $SPECD_ACTOR, else $USER, else "someone".
std::string ActorName(const RepoOptions& options);

}  // namespace specd::cli
