// The engine's TaskWorkspace (engine/task_workspace.h) over a real git
// repository: bases made and diffs checked by pipeline/task_stack.h against
// the settings' target branch. Opened by the CLI for the task verbs.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/task_workspace.h"
#include "pipeline/git_repo.h"

namespace specd::pipeline {

class GitWorkspace : public TaskWorkspace {
 public:
  // The repository at `root`; `branch` the target branch's short name
  // (nullopt: the branch HEAD names when a base is made or a diff checked;
  // a detached HEAD is then an error of that call).
  static Result<std::unique_ptr<GitWorkspace>> Open(const std::string& root,
                                                    const std::optional<std::string>& branch);

  Result<std::string> MakeBase(const std::string& spec, const std::string& task, int64_t epoch,
                               const std::vector<StackedPatch>& stack) override;
  Status CheckSubmission(const std::string& spec, const std::string& task, const std::string& base,
                         const std::string& patch, const std::vector<std::string>& files,
                         const std::vector<StackedPatch>& stack) override;
  Result<Candidate> MakeCandidate(const std::vector<StackedPatch>& stack) override;
  GitRepo& repo() { return *repo_; }
  // The target branch's short name: the settings', else the branch HEAD
  // names (kConflict when HEAD is detached).
  Result<std::string> Branch();

 private:
  GitWorkspace(std::unique_ptr<GitRepo> repo, std::string root, std::optional<std::string> branch)
      : repo_(std::move(repo)), root_(std::move(root)), branch_(std::move(branch)) {}
  std::unique_ptr<GitRepo> repo_;
  std::string root_;
  std::optional<std::string> branch_;
};

}  // namespace specd::pipeline
