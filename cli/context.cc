#include "cli/context.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/repo.h"

namespace specd::cli {

namespace fs = std::filesystem;

std::optional<std::string> FindRoot(const RepoOptions& options) {
  std::optional<std::string> root;
  std::error_code ec;
  if (!options.repo.empty()) {
    if (!fs::is_directory(options.repo, ec)) {
      std::fprintf(stderr, "specd: --repo %s: not a directory\n", options.repo.c_str());
      return std::nullopt;
    }
    root = fs::canonical(options.repo, ec).string();
  } else {
    root = FindRepoRoot(".");
  }
  if (!root) {
    std::fprintf(stderr, "specd: not inside a repository with .agents/specs/ (use --repo DIR)\n");
  }
  return root;
}

std::unique_ptr<Context> OpenContext(const RepoOptions& options) {
  std::optional<std::string> root = FindRoot(options);
  if (!root) return nullptr;
  auto ctx = std::make_unique<Context>();
  ctx->root = *root;
  std::string path = JournalPathFor(ctx->root);
  if (Status s = Env::Default()->MakeDirs(fs::path(path).parent_path().string()); !s.ok()) {
    std::fprintf(stderr, "specd: %s\n", s.error().message.c_str());
    return nullptr;
  }
  Result<std::unique_ptr<Journal>> journal = Journal::Open(path);
  if (!journal.ok()) {
    std::fprintf(stderr, "specd: %s\n", journal.error().message.c_str());
    return nullptr;
  }
  ctx->journal = std::move(*journal);
  ctx->engine = std::make_unique<SpecEngine>(Env::Default(), ctx->journal.get(), ctx->root);
  return ctx;
}

std::unique_ptr<Context> OpenReconciled(const RepoOptions& options, const char* verb) {
  std::unique_ptr<Context> ctx = OpenContext(options);
  if (!ctx) return nullptr;
  Result<PassReport> pass = ctx->engine->ReconcileAll();
  if (!pass.ok()) {
    std::fprintf(stderr, "specd %s: %s\n", verb, pass.error().message.c_str());
    return nullptr;
  }
  // Another file that could not be read is said, not a reason to refuse.
  for (const PassReport::Failed& f : pass->failed)
    std::fprintf(stderr, "specd %s: %s\n", verb, f.message.c_str());
  return ctx;
}

void AddRepoOptions(CLI::App* sub, RepoOptions* options, bool json) {
  sub->add_option("--repo", options->repo, "Repository root (default: found from the current directory)");
  if (json) sub->add_flag("--json", options->json, "Print JSON");
}

std::string ActorName(const RepoOptions& options) {
  if (!options.actor.empty()) return options.actor;
  for (const char* var : {"SPECD_ACTOR", "USER"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  return "someone";
}

}  // namespace specd::cli
