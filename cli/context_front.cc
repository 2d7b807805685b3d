// The context's git side in specd, which does not link libgit2: what needs
// git hands the command over to specd-git (hand_over.h), which has
// context_git.cc instead. Nothing is printed before, so the command's output
// is specd-git's alone.
#include <filesystem>

#include "cli/context.h"
#include "cli/hand_over.h"

namespace specd::cli {

std::unique_ptr<Context> OpenTaskContext(const RepoOptions&, const char*) {
  HandOver();
  return nullptr;  // HandOver said why it could not
}

Status AddGit(Context* ctx, const RepoSettings&) {
  if (!std::filesystem::exists(std::filesystem::symlink_status(ctx->root + "/.git"))) return Status::Ok();
  HandOver();
  return Error{"specd-git could not be run", ErrorCode::kOther};
}

Status PruneDeadWorktrees(Context*, std::FILE*) {
  return Status::Ok();  // specd has handed a git repository over to specd-git in AddGit
}

Result<RepoSettings> LoadSettings(const std::string& root) {
  Result<RepoSettings> settings = LoadRepoSettings(root);
  if (!settings.ok() || settings->target_branch) return settings;
  HandOver();  // the branch HEAD names
  return Error{"specd-git could not be run", ErrorCode::kOther};
}

}  // namespace specd::cli
