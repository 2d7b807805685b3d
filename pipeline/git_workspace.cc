#include "pipeline/git_workspace.h"

#include "pipeline/task_stack.h"

namespace specd::pipeline {

namespace {

std::vector<StackedDiff> ToStack(const std::vector<StackedPatch>& stack) {
  std::vector<StackedDiff> out;
  out.reserve(stack.size());
  for (const StackedPatch& p : stack) out.push_back(StackedDiff{p.task_id, p.patch});
  return out;
}

}  // namespace

Result<std::unique_ptr<GitWorkspace>> GitWorkspace::Open(const std::string& root,
                                                         const std::optional<std::string>& branch) {
  Result<std::unique_ptr<GitRepo>> repo = GitRepo::Open(root, /*from_env=*/false);
  if (!repo.ok()) return repo.error();
  return std::unique_ptr<GitWorkspace>(new GitWorkspace(std::move(*repo), root, branch));
}

Result<std::string> GitWorkspace::Branch() {
  if (branch_) return *branch_;
  Result<std::optional<std::string>> head = repo_->HeadBranch();
  if (!head.ok()) return head.error();
  if (!*head) {
    return Error{"HEAD is detached, so there is no target branch to take; name one as targetBranch in " +
                     root_ + "/.agents/specd.yaml",
                 ErrorCode::kConflict};
  }
  return **head;
}

Result<std::string> GitWorkspace::MakeBase(const std::string& spec, const std::string& task, int64_t epoch,
                                           const std::vector<StackedPatch>& stack) {
  Result<std::string> branch = Branch();
  if (!branch.ok()) return branch.error();
  Result<Base> base = pipeline::MakeBase(*repo_, spec, task, epoch, *branch, ToStack(stack));
  if (!base.ok()) return base.error();
  return base->commit;
}

Status GitWorkspace::CheckSubmission(const std::string& spec, const std::string& task,
                                     const std::string& base, const std::string& patch,
                                     const std::vector<std::string>& files,
                                     const std::vector<StackedPatch>& stack) {
  Result<std::string> branch = Branch();
  if (!branch.ok()) return branch.error();
  SubmitCheck check;
  check.spec = spec;
  check.task = task;
  check.base_commit = base;
  check.branch = *branch;
  check.patch = patch;
  check.files = files;
  check.stack = ToStack(stack);
  Result<std::vector<PatchDelta>> deltas = pipeline::CheckSubmission(*repo_, check);
  if (!deltas.ok()) return deltas.error();
  return Status::Ok();
}

}  // namespace specd::pipeline
