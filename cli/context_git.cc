// The context's git side, in specd-git only (specd has context_front.cc):
// the task verbs' workspace and the target branch HEAD names.
#include <filesystem>

#include "cli/context.h"
#include "cli/printable.h"
#include "pipeline/git_repo.h"
#include "pipeline/git_workspace.h"
#include "pipeline/landed.h"
#include "pipeline/worker.h"

namespace specd::cli {

namespace fs = std::filesystem;

std::unique_ptr<Context> OpenTaskContext(const RepoOptions& options, const char* verb) {
  std::optional<std::string> root = FindRoot(options);
  if (!root) return nullptr;
  Result<RepoSettings> settings = LoadRepoSettings(*root);
  if (!settings.ok()) {
    PrintLine(stderr, std::string("specd ") + verb + ": the settings are not usable:");
    std::fputs(Printable(settings.error().message, true).c_str(), stderr);
    return nullptr;
  }
  std::unique_ptr<Context> ctx = OpenContext(options, LeaseOptions(*settings));
  if (!ctx) return nullptr;
  if (Status s = AddGit(ctx.get(), *settings); !s.ok()) {
    PrintLine(stderr, std::string("specd ") + verb + ": " + s.error().message);
    return nullptr;
  }
  return ctx;
}

Status AddGit(Context* ctx, const RepoSettings& settings) {
  if (!fs::exists(fs::symlink_status(ctx->root + "/.git"))) return Status::Ok();
  Result<std::unique_ptr<pipeline::GitWorkspace>> ws =
      pipeline::GitWorkspace::Open(ctx->root, settings.target_branch);
  if (!ws.ok()) return ws.error();
  pipeline::GitWorkspace* git = ws->get();
  ctx->workspace = std::move(*ws);
  ctx->engine->SetWorkspace(git);
  ctx->landed = std::make_unique<pipeline::LandedFacts>(&git->repo(), [git] { return git->Branch(); });
  ctx->engine->AddFactSource(ctx->landed.get());
  return Status::Ok();
}

Status PruneDeadWorktrees(Context* ctx, std::FILE* out) {
  auto* git = dynamic_cast<pipeline::GitWorkspace*>(ctx->workspace.get());
  if (!git) return Status::Ok();
  Result<std::vector<std::string>> pruned = pipeline::PruneDeadWorktrees(git->repo(), *ctx->journal);
  if (!pruned.ok()) return pruned.error();
  for (const std::string& path : *pruned)
    PrintLine(out, "removed the worktree of a worker that is gone: " + path);
  return Status::Ok();
}

Result<RepoSettings> LoadSettings(const std::string& root) {
  Result<RepoSettings> settings = LoadRepoSettings(root);
  if (!settings.ok() || settings->target_branch) return settings;
  std::string& origin = settings->origin["targetBranch"];
  Result<std::unique_ptr<pipeline::GitRepo>> git = pipeline::GitRepo::Open(root, false);
  if (!git.ok()) {
    origin = "no git repository";
    return settings;
  }
  Result<std::optional<std::string>> branch = (*git)->HeadBranch();
  if (!branch.ok()) return branch.error();
  settings->target_branch = *branch;
  origin = *branch ? "HEAD" : "HEAD is detached";
  return settings;
}

}  // namespace specd::cli
