#include "pipeline/git_workspace.h"

#include <git2.h>

#include "pipeline/git_apply.h"
#include "pipeline/task_stack.h"

namespace specd::pipeline {

namespace {

std::vector<StackedDiff> ToStack(const std::vector<StackedPatch>& stack) {
  std::vector<StackedDiff> out;
  out.reserve(stack.size());
  for (const StackedPatch& p : stack) out.push_back(StackedDiff{p.task_id, p.patch});
  return out;
}

// The bytes of `path` in `commit`'s tree; nullopt when it has no such file.
Result<std::optional<std::string>> FileAt(GitRepo& repo, const std::string& commit, const std::string& path) {
  Result<std::unique_ptr<ScratchRepo>> s = ScratchRepo::Open(repo, /*in_memory=*/true);
  if (!s.ok()) return s.error();
  Result<CommitPtr> c = (*s)->LookupCommit(commit, "commit");
  if (!c.ok()) return c.error();
  Result<TreePtr> tree = (*s)->TreeOf(c->get());
  if (!tree.ok()) return tree.error();
  git_tree_entry* entry = nullptr;
  int rc = git_tree_entry_bypath(&entry, tree->get(), path.c_str());
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();
  if (rc < 0) return GitError("cannot look up " + path + " in " + commit);
  git_blob* blob = nullptr;
  rc = git_tree_entry_type(entry) == GIT_OBJECT_BLOB
           ? git_blob_lookup(&blob, (*s)->get(), git_tree_entry_id(entry))
           : GIT_ENOTFOUND;
  git_tree_entry_free(entry);
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();
  if (rc < 0) return GitError("cannot read " + path + " in " + commit);
  std::string bytes(static_cast<const char*>(git_blob_rawcontent(blob)), git_blob_rawsize(blob));
  git_blob_free(blob);
  return std::optional<std::string>(std::move(bytes));
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

Result<Candidate> GitWorkspace::MakeCandidate(const std::vector<StackedPatch>& stack) {
  Candidate c;
  Result<std::string> branch = Branch();
  if (!branch.ok()) return branch.error();
  c.branch = *branch;
  Result<std::string> tip = BranchTip(*repo_, c.branch);
  if (!tip.ok()) return tip.error();
  c.tip = *tip;
  Result<std::string> tree = ApplyStack(*repo_, c.tip, ToStack(stack), c.branch);
  if (!tree.ok()) return tree.error();
  c.tree = *tree;
  Result<std::optional<std::string>> settings = FileAt(*repo_, c.tip, kSettingsPath);
  if (!settings.ok()) return settings.error();
  if (*settings) {
    const std::string where = c.branch + ":" + kSettingsPath;
    SettingsCheck check = CheckSettingsText(**settings, where);
    std::string message;
    for (const Diagnostic& d : check.diagnostics) {
      if (d.severity == Severity::kError) message += (message.empty() ? "" : "\n") + FormatText(d);
    }
    if (!message.empty()) {
      return Error{"the settings at " + c.branch + "'s tip are not usable:\n" + message, ErrorCode::kInvalid};
    }
    c.gates = std::move(check.settings.gates);
  }
  return c;
}

}  // namespace specd::pipeline
