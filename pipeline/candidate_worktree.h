// A temporary worktree of a candidate commit (the target's tip with a
// spec's stack applied), where the gates run. Made with libgit2
// (git_worktree_add with an explicit ref, never the user's HEAD) under
// <common git dir>/specd/worktrees/<name>, its HEAD detached at the commit
// and the short-lived branch that carried it deleted; removed with its
// admin entry when the object goes. It is specd's own: removing it never
// touches a worktree or a file of the user.
#pragma once

#include <memory>
#include <string>

#include "pipeline/git_repo.h"
#include "schema/result.h"

namespace specd::pipeline {

// Adding, removing and pruning specd's worktrees (candidates and tasks)
// one at a time per repository, across threads and processes: an flock on
// <common>/specd/worktrees.lock (each Take opens the file anew, so two
// threads exclude each other too), released by the kernel if the process
// dies. Without it, libgit2 1.5 races with itself: git_worktree_add's "is
// the branch checked out" scan counts an entry it lists but then cannot
// read (one being pruned right now) as holding the branch (an operator
// precedence slip in git_repository_foreach_worktree) and refuses,
// "reference is already checked out"; and one branch's reflog folder is
// made while another branch's delete removes the same, empty, parent.
class WorktreesLock {
 public:
  static Result<WorktreesLock> Take(const GitRepo& repo);
  WorktreesLock(WorktreesLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  WorktreesLock(const WorktreesLock&) = delete;
  WorktreesLock& operator=(const WorktreesLock&) = delete;
  ~WorktreesLock();

 private:
  explicit WorktreesLock(int fd) : fd_(fd) {}
  int fd_;
};

class CandidateWorktree {
 public:
  // `name`: letters, digits, '-' (the spec id); `commit`: 40 hex digits.
  // A leftover worktree by that name (a killed run's) is removed first.
  static Result<std::unique_ptr<CandidateWorktree>> Create(GitRepo& repo, const std::string& name,
                                                           const std::string& commit);
  ~CandidateWorktree();
  CandidateWorktree(const CandidateWorktree&) = delete;
  CandidateWorktree& operator=(const CandidateWorktree&) = delete;

  const std::string& path() const { return path_; }
  // Removes the files and git's entry for it; also done by the destructor.
  Status Remove();

 private:
  CandidateWorktree(GitRepo& repo, std::string name, std::string path)
      : repo_(repo), name_(std::move(name)), path_(std::move(path)) {}
  GitRepo& repo_;
  std::string name_, path_;
  bool removed_ = false;
};

}  // namespace specd::pipeline
