// The git worktree one attempt at a task runs in (`specd worker`), and the
// patch taken from it. Made with libgit2 under <common git dir>/specd/
// worktrees/<spec>-<task>-<epoch>, on its own branch specd/<spec>/<task>/
// <epoch> created at the lease's base with an explicit ref: the user's
// checkout, HEAD and index never change. Everything here opens its own
// libgit2 handles and uses no process-global state, so several threads may
// call it at once, each with its own GitRepo, as long as no two of them use
// the same spec, task and epoch. Add, Remove and Prune take turns (an
// flock on <common>/specd/worktrees.lock), across threads and processes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/git_repo.h"
#include "schema/result.h"

namespace specd::pipeline {

struct TaskWorktree {
  std::string spec, task;
  int64_t epoch = 0;
  std::string path;    // <common git dir>/specd/worktrees/<spec>-<task>-<epoch>
  std::string branch;  // "specd/<spec>/<task>/<epoch>" (refs/heads/...)
  std::string base;    // 40 hex: the lease's base commit
};

// A fresh worktree for one attempt, its branch created at `base` with an
// explicit ref (git_worktree_add with opts.ref: never from the user's HEAD;
// the user's checkout, HEAD and index never change). A leftover of the same
// name (a killed worker's) is removed first. kInvalid: a spec or task id that
// is not [A-Za-z0-9-]+, a negative epoch, a base that is not 40 hex digits;
// kNotFound: a base the repository does not have; kAlreadyExists: git's
// entry <common>/worktrees/<name> belongs to a worktree elsewhere (a user's).
Result<TaskWorktree> AddTaskWorktree(GitRepo& repo, const std::string& spec, const std::string& task,
                                     int64_t epoch, const std::string& base);

// A remote worker's clone has not the lease's base (the coordinator made it:
// its tip with the spec's stack, at refs/specd/<spec>/<task>/<epoch>):
// `git fetch REMOTE` of that ref, when the commit is missing (stdin
// /dev/null, no prompt, in a session of its own, 10 minutes at most).
Status FetchLeaseBase(GitRepo& repo, const std::string& remote, const std::string& spec,
                      const std::string& task, int64_t epoch, const std::string& base);

// Everything the agent changed in the worktree against `base`, as one
// git-format patch that pipeline's ReadPatch accepts and git_apply applies
// to `base`: modified, new (untracked and not ignored; new folders recursed),
// deleted, mode changes, binary files (GIT binary patch, full index). Whether
// the agent committed in the worktree or not makes no difference (diff base
// tree -> working directory). Empty string: no change. Index lines carry
// full object ids, as `git diff --full-index` prints them.
Result<std::string> WorktreePatch(GitRepo& repo, const TaskWorktree& wt);

// Files, git's admin entry (.git/worktrees/<name>) and the branch
// (git_reference_delete, not git_branch_delete: libgit2 1.5 leaks under LSan
// there). Idempotent: a missing piece is not an error. The path and branch
// are the ones `wt.spec`, `wt.task` and `wt.epoch` name (wt.path and
// wt.branch are not trusted to point anywhere else).
Status RemoveTaskWorktree(GitRepo& repo, const TaskWorktree& wt);

// specd's task worktrees (only those under <common>/specd/worktrees whose
// HEAD is a branch specd/<spec>/<task>/<epoch>; never a candidate worktree,
// never anything else) for which `live(spec, task, epoch)` is false: removed.
// Returns those removed (for a log line). Also prunes a branch
// specd/<spec>/<task>/<epoch> left without its worktree when `live` is false
// for it (one with a live lease may be a worktree being added right now); such
// a branch comes back with an empty `path`. `live` is called while the lock
// that Add and Remove also take is held: it must not call them.
Result<std::vector<TaskWorktree>> PruneTaskWorktrees(
    GitRepo& repo,
    const std::function<bool(const std::string& spec, const std::string& task, int64_t epoch)>& live);

}  // namespace specd::pipeline
