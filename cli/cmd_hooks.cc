// specd hooks install|uninstall|status [--repo DIR]: specd's git hooks in
// the repository's hooks directory, chained to any hook already there.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/hand_over.h"
#include "pipeline/git_repo.h"
#include "pipeline/hook_install.h"

namespace specd::cli {

namespace {

struct HooksArgs {
  std::string action;
  std::string repo;
};

int RunHooks(const HooksArgs& a) {
  Result<std::unique_ptr<pipeline::GitRepo>> repo =
      pipeline::GitRepo::Open(a.repo.empty() ? "." : a.repo, a.repo.empty());
  if (!repo.ok()) {
    std::fprintf(stderr, "specd hooks: %s\n", repo.error().message.c_str());
    return kExitUsage;
  }
  Result<std::string> dir = pipeline::HooksDir(repo->get());
  if (!dir.ok()) {
    std::fprintf(stderr, "specd hooks: %s\n", dir.error().message.c_str());
    return kExitUsage;
  }
  std::vector<std::string> lines;
  if (a.action == "status") {
    Result<std::vector<pipeline::HookStatus>> st = pipeline::HookStatuses(*dir);
    if (!st.ok()) {
      std::fprintf(stderr, "specd hooks: %s\n", st.error().message.c_str());
      return kExitUsage;
    }
    for (const pipeline::HookStatus& h : *st)
      lines.push_back(h.name + ": " + pipeline::HookStateText(h.state));
  } else {
    Result<std::vector<std::string>> done = a.action == "install"
                                                ? pipeline::InstallHooks(*dir, SpecdPath().value_or("specd"))
                                                : pipeline::UninstallHooks(*dir);
    if (!done.ok()) {
      std::fprintf(stderr, "specd hooks %s: %s\n", a.action.c_str(), done.error().message.c_str());
      return kExitUsage;
    }
    lines = *done;
  }
  std::printf("hooks directory: %s\n", dir->c_str());
  for (const std::string& l : lines) std::printf("%s\n", l.c_str());
  return kExitOk;
}

}  // namespace

Run SetupHooks(CLI::App* sub) {
  auto a = std::make_shared<HooksArgs>();
  sub->description(
      "Install, remove or show specd's git hooks (pre-commit, pre-merge-commit, post-merge,\n"
      "post-checkout, post-rewrite) in the hooks directory: core.hooksPath if set, else .git/hooks (shared "
      "by\n"
      "linked worktrees). A hook already there is kept and run first (NAME.specd-chained);\n"
      "uninstall puts it back exactly.");
  sub->add_option("action", a->action, "install, uninstall or status")
      ->required()
      ->check(CLI::IsMember({"install", "uninstall", "status"}));
  sub->add_option("--repo", a->repo, "Repository (default: found from the current directory)");
  return [a] { return RunHooks(*a); };
}

}  // namespace specd::cli
