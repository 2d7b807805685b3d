// `specd hooks install|uninstall|status`: specd's hooks in the repository's
// hooks directory (core.hooksPath, as git reads it, else <common dir>/hooks,
// which linked worktrees share). A hook that is not specd's is never
// overwritten: it is renamed to NAME.specd-chained (bytes, mode and times
// kept) and specd's hook runs it first with the same arguments and stdin,
// its exit status counting; uninstall renames it back.
#pragma once

#include <string>
#include <vector>

#include "pipeline/git_repo.h"
#include "schema/result.h"

namespace specd::pipeline {

// The hooks specd installs, in the order status lists them.
// pre-commit, pre-merge-commit, post-merge, post-checkout, post-rewrite
const std::vector<std::string>& HookNames();

inline constexpr char kHookMarker[] = "# specd-hook:";
inline constexpr char kChainedSuffix[] = ".specd-chained";

Result<std::string> HooksDir(GitRepo* repo);

// The script installed as `name`, calling `specd` (an absolute path; `specd`
// on PATH when it is gone at hook time).
std::string HookScript(const std::string& name, const std::string& specd);

enum class HookState {
  kNotInstalled,  // no hook of that name
  kInstalled,     // specd's hook
  kChained,       // specd's hook, running the user's NAME.specd-chained first
  kForeign,       // someone else's hook (install chains to it)
};
const char* HookStateText(HookState s);

struct HookStatus {
  std::string name;
  HookState state = HookState::kNotInstalled;
};

Result<std::vector<HookStatus>> HookStatuses(const std::string& dir);

// One line per hook saying what was done. Re-installing rewrites only a
// script whose text changed (a new specd path).
Result<std::vector<std::string>> InstallHooks(const std::string& dir, const std::string& specd);
Result<std::vector<std::string>> UninstallHooks(const std::string& dir);

}  // namespace specd::pipeline
