// Internal to pipeline/squash_merge.cc: the worktrees that have a branch
// checked out, whether the paths a commit touches are clean there, and
// bringing those paths from the parent's version to the commit's (index and
// files), never over a change someone made since.
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <vector>

#include "pipeline/squash_merge.h"
#include "schema/result.h"

namespace specd::pipeline {

struct RepoFree {
  void operator()(git_repository* p) const { git_repository_free(p); }
};
using RepoPtr = std::unique_ptr<git_repository, RepoFree>;

struct CheckedOut {
  std::string dir;   // the worktree's top directory, no trailing '/'
  std::string busy;  // "a merge is under way" and the like; "" when none
  RepoPtr repo;      // opened on that worktree
};

// Every worktree of `repo`'s repository (the main one first, then the linked
// ones) whose HEAD is refs/heads/<branch>, or which is rebasing that branch.
Result<std::vector<CheckedOut>> CheckedOutWorktrees(git_repository* repo, const std::string& branch);

// The paths that differ between two trees (both names of a rename), sorted,
// each once.
Result<std::vector<std::string>> ChangedPaths(git_repository* repo, git_tree* from, git_tree* to);

// Of `paths`, those not clean in `wt` against `tree`: the index's entry
// (stage 0; any conflict stage counts) differs from the tree's, or the
// file (hashed as git would add it) differs from it, or a file is where the
// tree has none.
Result<std::vector<std::string>> DirtyPaths(CheckedOut& wt, git_tree* tree,
                                            const std::vector<std::string>& paths);

// Each of `paths` that `wt` has at `from`'s version (index at `from`'s,
// file at `from`'s or already `to`'s) brought to `to`'s version: files
// through git_checkout_tree (SAFE, `from` as the baseline, only these paths),
// index entries of files already right by re-adding them. A path already at
// `to`'s version in both is left out; any other path is kept as it is.
// kBusy when the index is locked.
Result<CheckoutSync> SyncCheckout(CheckedOut& wt, git_tree* from, git_tree* to,
                                  const std::vector<std::string>& paths);

}  // namespace specd::pipeline
